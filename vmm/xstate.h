/*
 * Guest register state switched by software (vmm/xstate.c): debug
 * registers, x87/SSE, KERNEL_GS_BASE where the hardware does not.
 */
#ifndef JOS_VMM_XSTATE_H
#define JOS_VMM_XSTATE_H

#include <inc/types.h>

/* DR0-DR3, then DR6. */
#define XSTATE_NDR 5
#define XSTATE_DR6 4
/* An FXSAVE image: 512 bytes, 16-byte aligned (SDM Vol. 1 10.5.1). */
#define FXSAVE_SIZE 512
#define XSTATE_ALIGN 16

struct xstate {
	uint8_t fx[FXSAVE_SIZE];
	uint64_t dr[XSTATE_NDR];
	uint64_t kernel_gs_base;
	uint64_t xcr0;          /* with XSAVE on the CPU (else unused) */
} __attribute__((aligned(XSTATE_ALIGN)));

struct Vcpu;
void xstate_init(struct Vcpu *vc);
void xstate_load(struct Vcpu *vc);
void xstate_save(struct Vcpu *vc);

#endif /* !JOS_VMM_XSTATE_H */
