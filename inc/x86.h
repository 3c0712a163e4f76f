/* Thin inline wrappers around x86-64 instructions. */
#ifndef JOS_INC_X86_H
#define JOS_INC_X86_H

#include <inc/types.h>

/* Always inlined, even at -O0: read_rbp() must read its caller's frame. */
#define X86_INLINE static inline __attribute__((always_inline))

X86_INLINE uint8_t inb(int port)
{
	uint8_t data;
	asm volatile("inb %w1,%0" : "=a"(data) : "d"(port));
	return data;
}

X86_INLINE void insb(int port, void *addr, int cnt)
{
	asm volatile("cld\n\trepne\n\tinsb"
		     : "+D"(addr), "+c"(cnt)
		     : "d"(port)
		     : "memory", "cc");
}

X86_INLINE uint16_t inw(int port)
{
	uint16_t data;
	asm volatile("inw %w1,%0" : "=a"(data) : "d"(port));
	return data;
}

X86_INLINE void insw(int port, void *addr, int cnt)
{
	asm volatile("cld\n\trepne\n\tinsw"
		     : "+D"(addr), "+c"(cnt)
		     : "d"(port)
		     : "memory", "cc");
}

X86_INLINE uint32_t inl(int port)
{
	uint32_t data;
	asm volatile("inl %w1,%0" : "=a"(data) : "d"(port));
	return data;
}

X86_INLINE void insl(int port, void *addr, int cnt)
{
	asm volatile("cld\n\trepne\n\tinsl"
		     : "+D"(addr), "+c"(cnt)
		     : "d"(port)
		     : "memory", "cc");
}

X86_INLINE void outb(int port, uint8_t data)
{
	asm volatile("outb %0,%w1" : : "a"(data), "d"(port));
}

X86_INLINE void outsb(int port, const void *addr, int cnt)
{
	asm volatile("cld\n\trepne\n\toutsb"
		     : "+S"(addr), "+c"(cnt)
		     : "d"(port)
		     : "cc");
}

X86_INLINE void outw(int port, uint16_t data)
{
	asm volatile("outw %0,%w1" : : "a"(data), "d"(port));
}

X86_INLINE void outsw(int port, const void *addr, int cnt)
{
	asm volatile("cld\n\trepne\n\toutsw"
		     : "+S"(addr), "+c"(cnt)
		     : "d"(port)
		     : "cc");
}

X86_INLINE void outsl(int port, const void *addr, int cnt)
{
	asm volatile("cld\n\trepne\n\toutsl"
		     : "+S"(addr), "+c"(cnt)
		     : "d"(port)
		     : "cc");
}

X86_INLINE void outl(int port, uint32_t data)
{
	asm volatile("outl %0,%w1" : : "a"(data), "d"(port));
}

X86_INLINE void invlpg(void *addr)
{
	asm volatile("invlpg (%0)" : : "r"(addr) : "memory");
}

X86_INLINE void lidt(void *p)
{
	asm volatile("lidt (%0)" : : "r"(p));
}

X86_INLINE void lgdt(void *p)
{
	asm volatile("lgdt (%0)" : : "r"(p));
}

X86_INLINE void lldt(uint16_t sel)
{
	asm volatile("lldt %0" : : "r"(sel));
}

X86_INLINE void ltr(uint16_t sel)
{
	asm volatile("ltr %0" : : "r"(sel));
}

X86_INLINE void lcr0(uint64_t val)
{
	asm volatile("movq %0,%%cr0" : : "r"(val));
}

X86_INLINE uint64_t rcr0(void)
{
	uint64_t val;
	asm volatile("movq %%cr0,%0" : "=r"(val));
	return val;
}

X86_INLINE uint64_t rcr2(void)
{
	uint64_t val;
	asm volatile("movq %%cr2,%0" : "=r"(val));
	return val;
}

X86_INLINE void lcr3(uint64_t val)
{
	asm volatile("movq %0,%%cr3" : : "r"(val) : "memory");
}

X86_INLINE uint64_t rcr3(void)
{
	uint64_t val;
	asm volatile("movq %%cr3,%0" : "=r"(val));
	return val;
}

X86_INLINE void lcr4(uint64_t val)
{
	asm volatile("movq %0,%%cr4" : : "r"(val));
}

X86_INLINE uint64_t rcr4(void)
{
	uint64_t cr4;
	asm volatile("movq %%cr4,%0" : "=r"(cr4));
	return cr4;
}

X86_INLINE void tlbflush(void)
{
	lcr3(rcr3());
}

X86_INLINE uint64_t read_eflags(void)
{
	uint64_t eflags;
	asm volatile("pushfq; popq %0" : "=r"(eflags));
	return eflags;
}

X86_INLINE void write_eflags(uint64_t eflags)
{
	asm volatile("pushq %0; popfq" : : "r"(eflags) : "cc");
}

X86_INLINE uint64_t read_rbp(void)
{
	uint64_t rbp;
	asm volatile("movq %%rbp,%0" : "=r"(rbp));
	return rbp;
}

X86_INLINE uint64_t read_rsp(void)
{
	uint64_t rsp;
	asm volatile("movq %%rsp,%0" : "=r"(rsp));
	return rsp;
}

X86_INLINE uint64_t read_rip(void)
{
	uint64_t rip;
	asm volatile("leaq (%%rip),%0" : "=r"(rip));
	return rip;
}

X86_INLINE void cpuid(uint32_t info, uint32_t subleaf, uint32_t *eaxp,
			 uint32_t *ebxp, uint32_t *ecxp, uint32_t *edxp)
{
	uint32_t eax, ebx, ecx, edx;
	asm volatile("cpuid"
		     : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx)
		     : "a"(info), "c"(subleaf));
	if (eaxp)
		*eaxp = eax;
	if (ebxp)
		*ebxp = ebx;
	if (ecxp)
		*ecxp = ecx;
	if (edxp)
		*edxp = edx;
}

/* Debug register n: 0-3 (breakpoint addresses), 6 (status), 7 (control). */
#define DR_STATUS 6
#define DR_CONTROL 7
X86_INLINE uint64_t read_dr(int n)
{
	uint64_t v = 0;

	switch (n) {
	case 0: asm volatile("movq %%dr0, %0" : "=r"(v)); break;
	case 1: asm volatile("movq %%dr1, %0" : "=r"(v)); break;
	case 2: asm volatile("movq %%dr2, %0" : "=r"(v)); break;
	case 3: asm volatile("movq %%dr3, %0" : "=r"(v)); break;
	case 6: asm volatile("movq %%dr6, %0" : "=r"(v)); break;
	case 7: asm volatile("movq %%dr7, %0" : "=r"(v)); break;
	}
	return v;
}

X86_INLINE void write_dr(int n, uint64_t v)
{
	switch (n) {
	case 0: asm volatile("movq %0, %%dr0" : : "r"(v)); break;
	case 1: asm volatile("movq %0, %%dr1" : : "r"(v)); break;
	case 2: asm volatile("movq %0, %%dr2" : : "r"(v)); break;
	case 3: asm volatile("movq %0, %%dr3" : : "r"(v)); break;
	case 6: asm volatile("movq %0, %%dr6" : : "r"(v)); break;
	case 7: asm volatile("movq %0, %%dr7" : : "r"(v)); break;
	}
}

/* CPUID leaf 0's vendor string "AuthenticAMD", as ebx, edx, ecx. */
#define CPUID_VENDOR_AMD_EBX 0x68747541 /* "Auth" */
#define CPUID_VENDOR_AMD_EDX 0x69746E65 /* "enti" */
#define CPUID_VENDOR_AMD_ECX 0x444D4163 /* "cAMD" */

/* Is this an AMD CPU (AMD-V rather than VT-x)? */
X86_INLINE bool cpu_vendor_is_amd(void)
{
	uint32_t ebx, ecx, edx;

	cpuid(0, 0, NULL, &ebx, &ecx, &edx);
	return ebx == CPUID_VENDOR_AMD_EBX && edx == CPUID_VENDOR_AMD_EDX &&
	       ecx == CPUID_VENDOR_AMD_ECX;
}

X86_INLINE uint64_t read_tsc(void)
{
	uint32_t lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
#define rdtsc read_tsc

X86_INLINE uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

X86_INLINE void wrmsr(uint32_t msr, uint64_t val)
{
	asm volatile("wrmsr"
		     :
		     : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32)));
}

/* Atomically exchange *addr and newval; returns the old value. */
X86_INLINE uint32_t xchg(volatile uint32_t *addr, uint32_t newval)
{
	uint32_t result;
	asm volatile("lock; xchgl %0, %1"
		     : "+m"(*addr), "=a"(result)
		     : "1"(newval)
		     : "cc");
	return result;
}

X86_INLINE void pause(void)
{
	asm volatile("pause");
}

/* A breakpoint trap (#BP): from user mode it enters the kernel monitor,
 * whose `continue` resumes after it. Classic JOS programs call this. */
X86_INLINE void breakpoint(void)
{
	asm volatile("int3");
}

#endif /* !JOS_INC_X86_H */
