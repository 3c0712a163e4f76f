/*
 * The virtual address space, shared by the kernel and every environment.
 *
 * x86-64 with 4-level paging has 48-bit canonical addresses: the lower half
 * 0x0000000000000000..0x00007FFFFFFFFFFF and the upper (kernel) half
 * 0xFFFF800000000000..0xFFFFFFFFFFFFFFFF. Every environment's PML4 shares
 * the kernel's entries for the upper half, so the kernel is mapped
 * identically in every address space.
 *
 *                                                  Permissions
 *                                                  kernel/user
 *  0xFFFFFFFFFFFFFFFF ----> +------------------------------+
 *                           | Kernel image: physical       | RW/--
 *                           | [0, KLINKSIZE) linked here   |
 *  KERNLINK --------------> +------------------------------+ 0xFFFFFFFF80000000
 *                           :              .               :
 *  KSTACKTOP -------------> +------------------------------+ 0xFFFFFF8000000000
 *                           | CPU0's kernel stack          | RW/--  KSTKSIZE
 *                           | - - - - - - - - - - - - - - -|
 *                           | invalid memory (guard)       | --/--  KSTKGAP
 *                           +------------------------------+
 *                           | CPU1's kernel stack ...      |
 *                           :              .               :
 *  MMIOLIM ---------------> +------------------------------+ 0xFFFFFF0040000000
 *                           | memory-mapped I/O (uncached) | RW/--  1 GiB
 *  MMIOBASE --------------> +------------------------------+ 0xFFFFFF0000000000
 *                           :              .               :
 *                           | Remapped physical memory     | RW/--
 *                           | [0, maxpa), 2 MiB pages      |
 *  KERNBASE --------------> +------------------------------+ 0xFFFF800000000000
 *                           :   non-canonical hole         :
 *  ULIM ------------------> +------------------------------+ 0x0000800000000000
 *                           | Cur. page tables (recursive) | R-/R-  PML4SIZE
 *  UVPT ------------------> +------------------------------+ 0x00007F8000000000
 *                           | RO PAGES (struct PageInfo[]) | R-/R-
 *  UPAGES ----------------> +------------------------------+ 0x00007F0000000000
 *                           | RO ENVS (struct Env[])       | R-/R-
 *  UENVS -----------------> +------------------------------+ 0x00007E8000000000
 *                           :   unmapped                   :
 *  UTOP, UXSTACKTOP ------> +------------------------------+ 0x00000000EF800000
 *                           | User exception stack         | RW/RW  PGSIZE
 *                           +------------------------------+ 0x00000000EF7FF000
 *                           | Empty memory (guard)         | --/--  PGSIZE
 *  USTACKTOP  ------------> +------------------------------+ 0x00000000EF7FE000
 *                           | Normal user stack            | RW/RW  PGSIZE
 *                           +------------------------------+ 0x00000000EF7FD000
 *                           :              .               :
 *                           | FS server only: the Fd pages | RW/RW
 *                           | of its open files (fs/serv.c)|
 *                           +------------------------------+ 0x00000000E0000000
 *                           :              .               :
 *                           | FILEDATA: 4 MiB per fd       | RW/RW
 *                           +------------------------------+
 *                           | FDTABLE: one page per fd     | RW/RW
 *                           +------------------------------+ 0x00000000D0000000
 *                           :              .               :
 *                           | malloc heap, up to 0x80000000| RW/RW
 *                           | (FS server: its disk map,    |
 *                           |  up to 0xD0000000, fs/fs.h)  |
 *                           +------------------------------+ 0x0000000010000000
 *                           :              .               :
 *                           +------------------------------+
 *                           | Program text, data and bss   |
 *  UTEXT ----------------> +------------------------------+ 0x0000000000800000
 *  PFTEMP --------------->  | Scratch page for fork        | 0x00000000007FF000
 *  UTEMP ----------------> +------------------------------+ 0x0000000000400000
 *                           | Empty memory; page 0 unmapped|
 *  0 ---------------------> +------------------------------+
 *
 * Physical memory below 1 MiB: the BIOS data area, the boot loader's
 * scratch area and the AP start-up page (MPENTRY_PADDR) are reused by the
 * kernel once it has copied the boot memory map; [IOPHYSMEM, EXTPHYSMEM)
 * (VGA memory, option ROMs, BIOS) is never handed out.
 */
#ifndef JOS_INC_MEMLAYOUT_H
#define JOS_INC_MEMLAYOUT_H

#ifndef __ASSEMBLER__
#include <inc/types.h>
#endif
#include <inc/mmu.h>

/* 64-bit constants, usable from C and from assembly. */
#ifdef __ASSEMBLER__
#define _UL(x) x
#else
#define _UL(x) x##UL
#endif

/* Global descriptor numbers (see kern/gdt.c). */
#define GD_KT 0x08   /* kernel text */
#define GD_KD 0x10   /* kernel data */
#define GD_UT 0x18   /* user text */
#define GD_UD 0x20   /* user data */
#define GD_TSS0 0x28 /* CPU 0's TSS; CPU i's is at GD_TSS0 + 16*i */

/* Direct map of all physical memory. */
#define KERNBASE _UL(0xFFFF800000000000)
/* Where the kernel image is linked; -mcmodel=kernel needs the top 2 GiB. */
#define KERNLINK _UL(0xFFFFFFFF80000000)
/* How much physical memory the KERNLINK window maps. */
#define KLINKSIZE _UL(0x40000000)
/* Physical address the boot loader loads the kernel at. */
#define KERNLOAD 0x100000

/* Uncached device mappings (LAPIC, IOAPIC, ...). */
#define MMIOBASE _UL(0xFFFFFF0000000000)
#define MMIOLIM (MMIOBASE + PDPSIZE)

/* Kernel stacks: one per CPU, each below an unmapped guard gap. */
#define KSTACKTOP _UL(0xFFFFFF8000000000)
#define KSTKSIZE (8 * PGSIZE)
#define KSTKGAP (8 * PGSIZE)

/* End of the user half. */
#define ULIM _UL(0x0000800000000000)

/* The recursive slot: PML4 entry UVPT_INDEX points at the PML4 itself. */
#define UVPT_INDEX 255
#define UVPT ((uintptr_t)UVPT_INDEX << PML4XSHIFT)
#define UVPD (UVPT + ((uintptr_t)UVPT_INDEX << PDPXSHIFT))
#define UVPDE (UVPD + ((uintptr_t)UVPT_INDEX << PDXSHIFT))
#define UVPML4E (UVPDE + ((uintptr_t)UVPT_INDEX << PTXSHIFT))

/* Read-only copies of the page structures and the environments. */
#define UPAGES _UL(0x00007F0000000000)
#define UENVS _UL(0x00007E8000000000)

/*
 * Top of user-mappable memory, and of the one-page user exception stack.
 * The classic 64-bit JOS value: programs and graders expect a fault on
 * the exception stack to report va ef7ff... (docs/jos-api.md).
 */
#define UTOP _UL(0xEF800000)
#define UXSTACKTOP UTOP
/* Top of normal user stack; a guard page lies between the two stacks. */
#define USTACKTOP (UTOP - 2 * PGSIZE)

/* Where user programs generally begin */
#define UTEXT 0x800000
/* Used for temporary page mappings (4 MiB below UTEXT). */
#define UTEMP ((void *)0x400000)
/* Used for temporary page mappings for the user page-fault handler. */
#define PFTEMP ((void *)(UTEXT - PGSIZE))

/* Physical memory regions below 1 MiB. */
#define IOPHYSMEM 0x0A0000
#define EXTPHYSMEM 0x100000
/* Where application processors start (real mode, page-aligned < 1 MiB). */
#define MPENTRY_PADDR 0x7000

#ifndef __ASSEMBLER__

typedef uint64_t pte_t;
typedef uint64_t pde_t;
typedef uint64_t pdpe_t;
typedef uint64_t pml4e_t;

#if JOS_USER
/*
 * The page directory entry corresponding to the virtual address range
 * [UVPT, ULIM) points to the PML4 itself, so its entries reach every
 * level of the current environment's page tables:
 *   uvpt[PGNUM(va)]   is the PTE mapping va,
 *   uvpd[va >> 21]    the PDE, uvpde[va >> 30] the PDPTE,
 *   uvpml4e[va >> 39] the PML4E.
 * They are constant pointers, not extern arrays: user code is built with
 * -mcmodel=small, which addresses a symbol with a 32-bit field, and these
 * tables lie far above 4 GiB. (lib/entry.S still defines absolute symbols
 * of the same names, for the debugger.)
 */
#define uvpt ((volatile pte_t *)UVPT)
#define uvpd ((volatile pde_t *)UVPD)
#define uvpde ((volatile pdpe_t *)UVPDE)
#define uvpml4e ((volatile pml4e_t *)UVPML4E)
#endif

/*
 * Page descriptor structures, mapped at UPAGES. Read/write to the kernel,
 * read-only to user programs.
 *
 * Each struct PageInfo stores metadata for one physical page. It is NOT the
 * physical page itself; page2pa() converts one to the other.
 */
struct PageInfo {
	/* Next page on the free list. */
	struct PageInfo *pp_link;

	/* pp_ref is the count of pointers (usually in page table entries)
	 * to this page, for pages allocated with page_alloc. Pages reserved at
	 * boot time with boot_alloc do not have valid reference counts. */
	uint16_t pp_ref;
};

#endif /* !__ASSEMBLER__ */
#endif /* !JOS_INC_MEMLAYOUT_H */
