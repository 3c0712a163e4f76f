/*
 * A guest's general registers by their x86 number (0 rax, 1 rcx, 2 rdx,
 * 3 rbx, 4 rsp, 5 rbp, 6 rsi, 7 rdi, 8-15 r8-r15: the numbering of ModRM,
 * REX and the VT-x exit qualifications, SDM Vol. 2 Table 2-2 and Vol. 3
 * Table 28-3), in the trapframe where they live while the host runs.
 *
 * Invariants:
 * - Only the low 4 bits of n count (there are 16 registers); RSP is
 *   tf_rsp, the others tf_regs.
 * - The trapframe is packed: registers are read and written by name,
 *   never through a pointer into it.
 */
#ifndef JOS_VMM_GPR_H
#define JOS_VMM_GPR_H

#include <inc/trap.h>
#include <inc/types.h>

#define GUEST_NGPRS 16
#define GUEST_GPR_RSP 4

static inline uint64_t guest_gpr(const struct Trapframe *tf, unsigned n)
{
	const struct PushRegs *r = &tf->tf_regs;

	switch (n % GUEST_NGPRS) {
	case 0: return r->reg_rax;
	case 1: return r->reg_rcx;
	case 2: return r->reg_rdx;
	case 3: return r->reg_rbx;
	case GUEST_GPR_RSP: return tf->tf_rsp;
	case 5: return r->reg_rbp;
	case 6: return r->reg_rsi;
	case 7: return r->reg_rdi;
	case 8: return r->reg_r8;
	case 9: return r->reg_r9;
	case 10: return r->reg_r10;
	case 11: return r->reg_r11;
	case 12: return r->reg_r12;
	case 13: return r->reg_r13;
	case 14: return r->reg_r14;
	default: return r->reg_r15;
	}
}

static inline void guest_gpr_set(struct Trapframe *tf, unsigned n,
				 uint64_t v)
{
	struct PushRegs *r = &tf->tf_regs;

	switch (n % GUEST_NGPRS) {
	case 0: r->reg_rax = v; break;
	case 1: r->reg_rcx = v; break;
	case 2: r->reg_rdx = v; break;
	case 3: r->reg_rbx = v; break;
	case GUEST_GPR_RSP: tf->tf_rsp = v; break;
	case 5: r->reg_rbp = v; break;
	case 6: r->reg_rsi = v; break;
	case 7: r->reg_rdi = v; break;
	case 8: r->reg_r8 = v; break;
	case 9: r->reg_r9 = v; break;
	case 10: r->reg_r10 = v; break;
	case 11: r->reg_r11 = v; break;
	case 12: r->reg_r12 = v; break;
	case 13: r->reg_r13 = v; break;
	case 14: r->reg_r14 = v; break;
	default: r->reg_r15 = v; break;
	}
}

#endif /* !JOS_VMM_GPR_H */
