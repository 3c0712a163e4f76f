/*
 * Internal to the pmap files (kern/pmap.c, kern/pmap_phys.c,
 * kern/pmap_kern.c): the steps mem_init takes in the other files, and the
 * linker symbols they share. Everything else uses kern/pmap.h.
 *
 * Invariant: the functions declared here run only during mem_init, on the
 * boot CPU, before any other CPU or environment exists.
 */
#ifndef JOS_KERN_PMAP_INTERNAL_H
#define JOS_KERN_PMAP_INTERNAL_H
#ifndef JOS_KERNEL
#error "This is a JOS kernel header; user programs should not #include it"
#endif

#include <inc/types.h>

/* From kern/kernel.ld: sdata is page-aligned, the first writable byte. */
extern char end[], sdata[];

/* kern/pmap_phys.c: the boot memory map, and allocation before page_init. */
void read_boot_mmap(uint32_t magic, physaddr_t mbinfo_pa);
void detect_memory(void);
void *boot_alloc(size_t n);

/* Self-checks mem_init runs: the allocator (kern/pmap_phys.c) and the
 * page_* operations (kern/pmap.c). They panic on failure. */
void check_page_free_list(void);
void check_page_alloc(void);
void check_page(void);

#endif /* !JOS_KERN_PMAP_INTERNAL_H */
