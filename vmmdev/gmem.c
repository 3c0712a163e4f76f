/*
 * Guest memory staged in the vmm program before the guest starts
 * (gmem_ptr, vmmdev/dev.h): firmware tables, boot stub, kernel image and
 * modules are written here, each guest page a page of ours at
 * GMEM_VA + gpa, and handed to the guest at start (sys_ept_map, then
 * unmapped here). Pages never staged are filled with zeroes by the
 * kernel when the guest first touches them.
 *
 * Invariants:
 * - staged[] has a bit for each page of [0, gsize) mapped at
 *   GMEM_VA + its gpa; no page of the legacy hole
 *   [GUEST_LOWMEM_END, GUEST_HIGHMEM_START) is ever staged.
 * - After gmem_handover nothing is staged and gmem_ptr returns NULL.
 */
#include <inc/lib.h>
#include <inc/vmx.h>
#include <vmmdev/dev.h>
#include <vmmdev/pc.h>

#define GMEM_VA 0x80000000UL
#define GMEM_PAGES (GUEST_MEM_MAX / PGSIZE)
#define WORD_BITS 64
#define PERM_RW (PTE_P | PTE_U | PTE_W)

static_assert(GMEM_VA + GUEST_MEM_MAX <= UTOP);

static uint64_t staged[GMEM_PAGES / WORD_BITS];
static uint64_t gsize;
static bool handed_over;

int gmem_init(uint64_t gphysz)
{
	if (gphysz > GUEST_MEM_MAX || gphysz % PGSIZE)
		return -E_INVAL;
	gsize = gphysz;
	return 0;
}

uint64_t gmem_size(void)
{
	return gsize;
}

static bool is_staged(uint64_t pn)
{
	return staged[pn / WORD_BITS] & (1ULL << (pn % WORD_BITS));
}

/* Guest RAM the loader may stage: below gsize, outside the hole. */
static bool ram_range(uint64_t gpa, size_t n)
{
	if (n == 0 || gpa + n < gpa || gpa + n > gsize)
		return false;
	return gpa + n <= GUEST_LOWMEM_END || gpa >= GUEST_HIGHMEM_START;
}

void *gmem_ptr(uint64_t gpa, size_t n)
{
	uint64_t pn;

	if (handed_over || !ram_range(gpa, n))
		return NULL;
	for (pn = gpa / PGSIZE; pn <= (gpa + n - 1) / PGSIZE; pn++) {
		if (is_staged(pn))
			continue;
		if (sys_page_alloc(0, (void *)(GMEM_VA + pn * PGSIZE),
				   PERM_RW) < 0)
			return NULL;
		staged[pn / WORD_BITS] |= 1ULL << (pn % WORD_BITS);
	}
	return (void *)(GMEM_VA + gpa);
}

/* Every staged page into the guest, and out of our address space. */
int gmem_handover(int32_t guest)
{
	uint64_t pn;
	void *va;
	int r;

	handed_over = true;
	for (pn = 0; pn < gsize / PGSIZE; pn++) {
		if (!is_staged(pn))
			continue;
		va = (void *)(GMEM_VA + pn * PGSIZE);
		r = sys_ept_map(0, va, guest, (void *)(pn * PGSIZE),
				__EPTE_FULL);
		sys_page_unmap(0, va);
		staged[pn / WORD_BITS] &= ~(1ULL << (pn % WORD_BITS));
		if (r < 0) {
			printf("vmm: guest page 0x%lx: sys_ept_map: %e\n",
			       (unsigned long)(pn * PGSIZE), r);
			return r;
		}
	}
	return 0;
}
