/*
 * Replaced by insn.c (H6's MMIO instruction decoder, vmm/insn.h): until
 * it is merged, no instruction decodes, so a PC guest's MMIO access
 * stops it with a clear line (vmm/devexit.c). Weak: insn.c's strong
 * definitions win when both are linked.
 *
 * Invariants:
 * - mmio_decode always fails; mmio_complete_read is never reached.
 */
#include <inc/error.h>
#include <vmm/insn.h>

__attribute__((weak)) int mmio_decode(struct Env *e, struct mmio_insn *mi)
{
	return -E_NOT_SUPP;
}

__attribute__((weak)) void mmio_complete_read(struct Env *e,
					      const struct mmio_insn *mi,
					      uint64_t val)
{
}
