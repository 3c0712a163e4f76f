/*
 * CPUID leaves and the feature bits the kernel, the guest kernel and the
 * VMM test or hide (Intel SDM Vol. 2A, CPUID; AMD APM Vol. 3, Appendix
 * E). Constants only; the instruction is cpuid() in inc/x86.h.
 */
#ifndef JOS_INC_CPUID_H
#define JOS_INC_CPUID_H

/* Leaf 1: features. */
#define CPUID_LEAF_FEATURES 1
#define CPUID1_ECX_MONITOR (1U << 3)
#define CPUID1_ECX_VMX (1U << 5)   /* Intel VT-x (SDM Vol. 3C 24.6) */
#define CPUID1_ECX_SMX (1U << 6)
#define CPUID1_ECX_PCID (1U << 17)
#define CPUID1_ECX_X2APIC (1U << 21)
#define CPUID1_ECX_TSC_DEADLINE (1U << 24)
#define CPUID1_ECX_XSAVE (1U << 26)
#define CPUID1_ECX_OSXSAVE (1U << 27)
#define CPUID1_ECX_AVX (1U << 28)
#define CPUID1_ECX_HYPERVISOR (1U << 31)
#define CPUID1_EDX_APIC (1U << 9)

/* The hypervisor leaf: highest hypervisor leaf, then 12 bytes of name. */
#define CPUID_HYPERVISOR 0x40000000

/* Extended leaves (AMD APM Vol. 2 15.4). */
#define CPUID_EXT_MAX 0x80000000      /* EAX: the highest extended leaf */
#define CPUID_EXT_FEATURES 0x80000001
#define CPUIDX_ECX_SVM (1U << 2)      /* AMD-V */
#define CPUID_SVM_FEATURES 0x8000000A /* EAX revision, EBX ASIDs, EDX */

#endif /* !JOS_INC_CPUID_H */
