/*
 * The guest-physical to host-physical map of one guest: extended page
 * tables on VT-x (SDM Vol. 3C 28.3), nested page tables on AMD-V (APM
 * Vol. 2 15.25). The course's names (ept_*, sys_ept_map, EPTE_R/W/X
 * permissions) serve both; struct nested_format says how the entries of
 * each are encoded, and the walk is the host's pt_walk() (kern/pmap.c).
 */
#ifndef JOS_VMM_EPT_H
#define JOS_VMM_EPT_H

#include <inc/types.h>
#include <inc/vmx.h>
#include <kern/pmap.h>
#include <vmm/vcpu.h>
#include <vmm/vm.h>

/* EPT entry bits (SDM Vol. 3C 28.3.2, Tables 28-1 .. 28-6). */
#define EPTE_R 0x1              /* read access */
#define EPTE_W 0x2              /* write access */
#define EPTE_X 0x4              /* execute access */
#define EPTE_PERM (EPTE_R | EPTE_W | EPTE_X)
#define EPTE_MT_SHIFT 3         /* leaf: memory type, bits 5:3 */
#define EPTE_MT_WB (6UL << EPTE_MT_SHIFT)  /* write-back */
#define EPTE_MT_MASK (7UL << EPTE_MT_SHIFT)
#define EPTE_IGNORE_PAT 0x40    /* leaf: ignore guest PAT */
#define EPTE_LARGE 0x80         /* a 2 MiB / 1 GiB leaf */
#define EPTE_ADDR(e) PTE_ADDR(e)

/*
 * One nested page-table entry encoding. Callers always speak EPTE_R/W/X;
 * a leaf gets `read` for R, `write` for W, `exec` for X or `noexec`
 * without it, and always `leaf_attr`.
 */
struct nested_format {
	struct ptfmt walk;      /* presence, table entries, large-page bit */
	uint64_t read, write, exec, noexec, leaf_attr;
	bool exec_only;         /* may a leaf execute without read? */
};
/* EPT: R/W/X are bits 2:0 of every entry; leaves are write-back. */
extern const struct nested_format ept_format;
/* NPT: ordinary x86-64 entries; the guest's accesses are user accesses,
 * so every level needs P, RW and US; NX (bit 63) denies execution. */
extern const struct nested_format npt_format;
/* The format of this machine's vendor (vmm_init chooses it). */
extern const struct nested_format *nested_fmt;

struct Env;

int ept_lookup_gpa(epte_t *eptrt, void *gpa, int create, epte_t **epte_out);
int ept_map_hva2gpa(epte_t *eptrt, void *hva, void *gpa, int perm,
		    int overwrite);
int ept_page_insert(epte_t *eptrt, struct PageInfo *pp, void *gpa, int perm);
int guest_page_insert(struct Vm *vm, struct PageInfo *pp, uint64_t gpa,
		      int perm);
struct PageInfo *ept_page_lookup(epte_t *eptrt, uint64_t gpa, int *perm_store);
void ept_free(epte_t *eptrt);

bool guest_ram(const struct Vm *vm, uint64_t gpa);
int guest_populate(struct Vm *vm, uint64_t gpa);
void *guest_gpa2kva(struct Vm *vm, uint64_t gpa, size_t len, int perm);
/* A VM's empty nested tables (vm_create), and their teardown with the
 * guest's memory (vm_put, after every vCPU's vendor teardown). */
int ept_vm_init(struct Vm *vm, uint64_t gphysz);
void ept_vm_free(struct Vm *vm);
int ept_map_from_env(struct Env *src, uintptr_t srcva, struct Env *guest,
		     uint64_t gpa, int perm);

#endif /* !JOS_VMM_EPT_H */
