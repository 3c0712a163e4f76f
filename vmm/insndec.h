/*
 * The MMIO instruction decoder's pure half (vmm/insndec.c): the code's
 * mode and address from CS, bytes in, a struct mmio_insn out, and a
 * read's effect on a register and RFLAGS.
 * No guest, no env: vmm/insn.c fetches the bytes and owns the registers;
 * the self-test (testpayload/insn_test.c) feeds it a table.
 */
#ifndef JOS_VMM_INSNDEC_H
#define JOS_VMM_INSNDEC_H

#include <inc/types.h>
#include <vmm/insn.h>

/* The code's default operand and address size, in bytes: real mode and
 * 16-bit segments, 32-bit segments (CS.D), 64-bit mode (CS.L). */
enum insn_mode { INSN_MODE16 = 2, INSN_MODE32 = 4, INSN_MODE64 = 8 };

/* The longest x86 instruction (SDM Vol. 2A 2.3.11). */
#define INSN_MAX_LEN 15
/* General registers, by their x86 number: 0 rax, 1 rcx, ... 15 r15. */
#define INSN_NGPRS 16
#define INSN_RSP 4

struct guest_dbgstate;

/* The code's default sizes: 64-bit mode (EFER.LMA and CS.L), else CS.D/B
 * (real mode too: its CS cache says 16 unless the guest made it big);
 * virtual-8086 code (RFLAGS.VM) is 16-bit whatever CS says. */
enum insn_mode insn_code_mode(const struct guest_dbgstate *s,
			      uint64_t rflags);

/* The linear address of the instruction at rip: CS.base + IP/EIP, 32
 * bits wide; 64-bit mode ignores the base (SDM Vol. 3A 3.4.4). */
uint64_t insn_code_linear(const struct guest_dbgstate *s,
			  enum insn_mode mode, uint64_t rip);

/*
 * Decode the instruction in code[0..n) in mode; regs gives the values a
 * store takes from a register. 0 and *mi; -E_INVAL when it is not one
 * the decoder knows (or has no memory operand); -E_FAULT when it runs
 * past the n bytes given. *why says which, for the caller's message.
 */
int insn_decode_bytes(const uint8_t *code, unsigned n, enum insn_mode mode,
		      const uint64_t regs[INSN_NGPRS], struct mmio_insn *mi,
		      const char **why);

/* The register a read's value goes to (or that the flags' operation
 * reads), by x86 number. */
unsigned insn_dst_reg(const struct mmio_insn *mi);

/*
 * A read of val completed: update *reg (the register insn_dst_reg names)
 * and *rflags as the instruction would: zero or sign extension, 8-bit
 * high registers, 32-bit writes clearing the upper half in 64-bit mode,
 * and the arithmetic flags of CMP, TEST and the ALU forms.
 */
void insn_read_apply(const struct mmio_insn *mi, uint64_t val, uint64_t *reg,
		     uint64_t *rflags);

#endif /* !JOS_VMM_INSNDEC_H */
