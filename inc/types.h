/* Basic fixed-width types and helpers shared by every part of the tree. */
#ifndef JOS_INC_TYPES_H
#define JOS_INC_TYPES_H

#ifndef NULL
#define NULL ((void *)0)
#endif

typedef _Bool bool;
enum { false, true };

typedef __signed char int8_t;
typedef unsigned char uint8_t;
typedef short int16_t;
typedef unsigned short uint16_t;
typedef int int32_t;
typedef unsigned int uint32_t;
#ifdef __x86_64__
/* As in the x86-64 System V ABI: printf's %lx and %ld fit 64-bit values. */
typedef long int64_t;
typedef unsigned long uint64_t;
#else
/* The boot sector is 32-bit code. */
typedef long long int64_t;
typedef unsigned long long uint64_t;
#endif

/* Pointers and addresses are 64 bits wide on x86-64. */
typedef int64_t intptr_t;
typedef uint64_t uintptr_t;
typedef uint64_t physaddr_t;

typedef uint64_t size_t;
typedef int64_t ssize_t;
typedef int64_t off_t;

/* Page numbers are 64 bits: physical memory may lie above 4 GiB. */
typedef uint64_t ppn_t;

#define MIN(_a, _b)                                                           \
	({                                                                    \
		typeof(_a) __a = (_a);                                        \
		typeof(_b) __b = (_b);                                        \
		__a <= __b ? __a : __b;                                       \
	})
#define MAX(_a, _b)                                                           \
	({                                                                    \
		typeof(_a) __a = (_a);                                        \
		typeof(_b) __b = (_b);                                        \
		__a >= __b ? __a : __b;                                       \
	})

/* Round down to the nearest multiple of n (n need not be a power of 2). */
#define ROUNDDOWN(a, n)                                                       \
	({                                                                    \
		uint64_t __a = (uint64_t)(a);                                 \
		(typeof(a))(__a - __a % (n));                                 \
	})
/* Round up to the nearest multiple of n. */
#define ROUNDUP(a, n)                                                         \
	({                                                                    \
		uint64_t __n = (uint64_t)(n);                                 \
		(typeof(a))(ROUNDDOWN((uint64_t)(a) + __n - 1, __n));         \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Byte offset of a member within a struct type. */
#define offsetof(type, member) ((size_t)(&((type *)0)->member))

#endif /* !JOS_INC_TYPES_H */
