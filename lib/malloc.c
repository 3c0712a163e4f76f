/*
 * malloc and free: a first-fit free list over a heap that grows upward
 * from HEAP_START, a page at a time, as needed. Freed blocks are kept on
 * the list (merged with a neighbour that directly follows them) and
 * reused; the heap never shrinks. Not safe for sfork'd envs sharing it.
 */
#include <inc/lib.h>

/* Well above any program image, well below FDTABLE. */
#define HEAP_START 0x10000000UL
#define HEAP_END 0x80000000UL
/* Every block starts at a multiple of this, as malloc(3) promises. */
#define ALIGNMENT 16

struct Block {
	size_t size;        /* bytes after this header */
	struct Block *next; /* next free block (by address), when free */
};

static_assert(sizeof(struct Block) == ALIGNMENT);
/* The heap stays clear of the descriptor table (inc/memlayout.h). */
static_assert(HEAP_END <= FDTABLE);

static struct Block *freelist; /* sorted by address */
static uintptr_t brk = HEAP_START;    /* end of the heap handed out */
static uintptr_t mapped_end = HEAP_START; /* end of the pages mapped */

/* Grow the heap by n bytes (a multiple of ALIGNMENT); NULL if we can't. */
static void *grow(size_t n)
{
	uintptr_t start = brk;

	if (n > HEAP_END - brk)
		return NULL;
	while (mapped_end < brk + n) {
		if (sys_page_alloc(0, (void *)mapped_end,
				   PTE_P | PTE_U | PTE_W) < 0)
			return NULL;
		mapped_end += PGSIZE;
	}
	brk += n;
	return (void *)start;
}

void *malloc(size_t size)
{
	struct Block **pp, *b, *rest;

	if (size == 0 || size > HEAP_END - HEAP_START)
		return NULL;
	size = ROUNDUP(size, (size_t)ALIGNMENT);
	for (pp = &freelist; (b = *pp) != NULL; pp = &b->next) {
		if (b->size < size)
			continue;
		/* Split off the tail if it can hold a block of its own. */
		if (b->size >= size + 2 * sizeof(struct Block)) {
			rest = (struct Block *)((char *)(b + 1) + size);
			rest->size = b->size - size - sizeof(struct Block);
			rest->next = b->next;
			b->size = size;
			*pp = rest;
		} else {
			*pp = b->next;
		}
		return b + 1;
	}
	if ((b = grow(sizeof(struct Block) + size)) == NULL)
		return NULL;
	b->size = size;
	return b + 1;
}

void free(void *ptr)
{
	struct Block *b, **pp, *next;

	if (ptr == NULL)
		return;
	b = (struct Block *)ptr - 1;
	assert((uintptr_t)b >= HEAP_START && (uintptr_t)ptr < brk);
	for (pp = &freelist; *pp && *pp < b; pp = &(*pp)->next)
		;
	b->next = *pp;
	*pp = b;
	/* Merge with the block right after, if that one is free too. */
	next = b->next;
	if (next && (char *)(b + 1) + b->size == (char *)next) {
		b->size += sizeof(struct Block) + next->size;
		b->next = next->next;
	}
}
