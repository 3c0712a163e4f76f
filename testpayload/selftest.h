/*
 * Self-tests linked into the host kernel only (not the paravirtual
 * guest's), run by the monitor's `insntest` command (test insn-decoder).
 * Each prints its own "NAME: N ok" line, or a FAILED line per mismatch,
 * and returns 0 or < 0.
 */
#ifndef JOS_TESTPAYLOAD_SELFTEST_H
#define JOS_TESTPAYLOAD_SELFTEST_H

/* testpayload/insn_test.c: the MMIO decoder (vmm/insndec.c). */
int insn_selftest(void);
/* testpayload/gva_test.c: the guest page-table walk (vmm/gvawalk.c). */
int gva_selftest(void);

#endif /* !JOS_TESTPAYLOAD_SELFTEST_H */
