/*
 * The VT-x instructions (Intel SDM Vol. 3C 30.3) as inline functions, for
 * the files of vmm/vtx/ alone. VMXON, VMCLEAR and VMPTRLD return 0, or -1
 * when the instruction failed (CF or ZF set); VMREAD and VMWRITE work on
 * the VMCS current on this CPU.
 */
#ifndef JOS_VMM_VTX_INSN_H
#define JOS_VMM_VTX_INSN_H

#include <inc/types.h>
#include <inc/assert.h>
#include <inc/memlayout.h>
#include <vmm/vtx/vmcs.h>


static inline int vmxon(physaddr_t region)
{
	uint8_t failed;

	asm volatile("vmxon %1; setna %0"
		     : "=q"(failed)
		     : "m"(region)
		     : "cc", "memory");
	return failed ? -1 : 0;
}

static inline int vmclear(physaddr_t vmcs)
{
	uint8_t failed;

	asm volatile("vmclear %1; setna %0"
		     : "=q"(failed)
		     : "m"(vmcs)
		     : "cc", "memory");
	return failed ? -1 : 0;
}

static inline int vmptrld(physaddr_t vmcs)
{
	uint8_t failed;

	asm volatile("vmptrld %1; setna %0"
		     : "=q"(failed)
		     : "m"(vmcs)
		     : "cc", "memory");
	return failed ? -1 : 0;
}

static inline void invept_all(void)
{
	struct {
		uint64_t eptp, reserved;
	} desc = { 0, 0 };

	asm volatile("invept %0, %1"
		     :
		     : "m"(desc), "r"((uint64_t)INVEPT_ALL_CONTEXT)
		     : "cc", "memory");
}

static inline void write_cr2(uint64_t val)
{
	asm volatile("movq %0, %%cr2" : : "r"(val));
}

/* VMPTRST's answer when no VMCS is current (30.3). */
#define NO_CURRENT_VMCS (~0UL)

static inline uint64_t vmptrst(void)
{
	uint64_t pa;

	asm volatile("vmptrst %0" : "=m"(pa) : : "memory");
	return pa;
}

/* VMREAD and VMWRITE (30.3) on the current VMCS. */
static inline uint64_t vmcs_read(enum vmcs_field field)
{
	uint64_t value;

	asm volatile("vmread %1, %0"
		     : "=r"(value)
		     : "r"((uint64_t)field)
		     : "cc");
	return value;
}

static inline void vmcs_write(enum vmcs_field field, uint64_t value)
{
	uint8_t failed;

	asm volatile("vmwrite %1, %2; setna %0"
		     : "=q"(failed)
		     : "r"(value), "r"((uint64_t)field)
		     : "cc");
	/* Only a bug in the VMM (a field the CPU lacks) gets here. */
	if (failed)
		warn("vmx: VMWRITE of field 0x%x failed", field);
}

#endif /* !JOS_VMM_VTX_INSN_H */
