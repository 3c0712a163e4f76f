/*
 * The EPT self-test (ept_test.c). Only the test-ept kernel
 * (-DTEST_EPT_MAP, make test-ept-img) has it: kern/init.c runs it once
 * at boot, after the other CPUs start and before the first env.
 */
#ifndef JOS_TESTPAYLOAD_EPT_TEST_H
#define JOS_TESTPAYLOAD_EPT_TEST_H

/* Runs every check, prints "test_ept_map: FAILED: ..." for each that
 * fails and the "Cheers!" line only when none did; leaves no env or page
 * behind. */
void test_ept_map(void);

#endif /* !JOS_TESTPAYLOAD_EPT_TEST_H */
