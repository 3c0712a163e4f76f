/*
 * Shared by the parts of user/vdevtest (the harness in vdevtest.c, one
 * file per group of devices): the checks, the fake bus and the clock.
 *
 * Invariants: a failed check panics naming its file, line and values;
 * accesses go only to a device that claims the address (else panic).
 */
#ifndef JOS_USER_VDEVTEST_H
#define JOS_USER_VDEVTEST_H

#include <inc/lib.h>
#include <vmmdev/dev.h>
#include <vmmdev/devices.h>

#define CHECK(c)                                                        \
	do {                                                            \
		if (!(c))                                               \
			panic("vdevtest: check failed: %s", #c);        \
	} while (0)

#define CHECK_EQ(a, b)                                                  \
	do {                                                            \
		long _a = (long)(a), _b = (long)(b);                    \
		if (_a != _b)                                           \
			panic("vdevtest: %s is 0x%lx, expected 0x%lx",  \
			      #a, _a, _b);                              \
	} while (0)

/* The bus: port I/O and 32-bit MMIO through the devices' functions. */
uint64_t io_in(uint64_t port, unsigned size);
void io_out(uint64_t port, unsigned size, uint64_t v);
uint32_t mmio_rd(uint64_t gpa);
void mmio_wr(uint64_t gpa, uint32_t v);
void poll_all(void);
static inline uint8_t inb8(uint64_t port) { return io_in(port, 1); }
static inline void outb8(uint64_t port, uint8_t v) { io_out(port, 1, v); }

/* The clock: vdev_now_ns() moves only here. */
void advance_to(uint64_t ns);
uint64_t now_ns(void);

/* vdevtest.c */
extern int resets;
void pic_setup(uint8_t master_icw4);
uint8_t pic_reg(uint16_t port, uint8_t ocw3);

#define FUZZ_ACCESSES 20000
void fuzz_devices(void);

/* The groups of checks. */
void test_apic(void);
void test_lapic_timer(void);
void test_pit(void);
void test_rtc(uint64_t ram_bytes);
void test_kbc_vga(void);
void test_ide(void);

#endif /* !JOS_USER_VDEVTEST_H */
