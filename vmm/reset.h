/*
 * A new vCPU's state, vendor-neutral: a real-mode CPU just after reset
 * (Intel SDM Vol. 3A 9.1.1, Table 9-1; AMD APM Vol. 2 14.1.3), except
 * that CS:IP = 0:rip (the boot sector's address) and CR0.NE is set (VT-x
 * requires it in VMX operation; AMD-V starts the same). vmm_mkguest sets
 * the registers kept in env_tf; each backend writes the rest into its
 * control structure in its own encoding (vmm/vtx/setup.c,
 * vmm/amdv/setup.c). Constants only.
 */
#ifndef JOS_VMM_RESET_H
#define JOS_VMM_RESET_H

#include <inc/mmu.h>
#include <inc/msr.h>

#define VCPU_RESET_CR0 (CR0_ET | CR0_NE)
#define VCPU_RESET_CR3 0
#define VCPU_RESET_CR4 0
#define VCPU_RESET_EFER 0
#define VCPU_RESET_DR6 DR6_INIT
#define VCPU_RESET_DR7 DR7_INIT
#define VCPU_RESET_PAT PAT_POWER_ON
#define VCPU_RESET_RFLAGS 0x2 /* bit 1 always reads as 1 */

/* Every segment: selector 0, base 0, this limit; GDTR and IDTR too. */
#define VCPU_RESET_SEG_LIMIT 0xFFFF
/* Descriptor types of the segments at reset (SDM Vol. 3A 3.4.5.1,
 * Table 3-1 and 3-2): present, and S set for code and data. */
#define VCPU_RESET_DATA_TYPE 0x3 /* read/write, accessed */
#define VCPU_RESET_CODE_TYPE 0xB /* execute/read, accessed */
#define VCPU_RESET_TSS_TYPE 0xB  /* busy 32/64-bit TSS */
#define VCPU_RESET_LDT_TYPE 0x2

#endif /* !JOS_VMM_RESET_H */
