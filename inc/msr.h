/*
 * Architectural MSRs both vendors' VMMs and the kernel name, and the
 * reset values of registers a new CPU (or a new guest) starts with
 * (Intel SDM Vol. 4 Table 2-2, Vol. 3A 9.1; AMD APM Vol. 2 14.1). EFER
 * and its bits are in inc/mmu.h. Vendor-only MSRs stay with their vendor
 * (vmm/vtx/vmcs.h, vmm/amdv/vmcb.h). Constants only.
 */
#ifndef JOS_INC_MSR_H
#define JOS_INC_MSR_H

#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_PAT 0x277
#define MSR_FS_BASE 0xC0000100
#define MSR_GS_BASE 0xC0000101
#define MSR_KERNEL_GS_BASE 0xC0000102

/* Values after reset (SDM Vol. 3A Table 9-1, 11.12.4). */
#define PAT_POWER_ON 0x0007040600070406UL
#define DR6_INIT 0xFFFF0FF0UL
#define DR7_INIT 0x400UL /* bit 10 reads as 1 */

#endif /* !JOS_INC_MSR_H */
