/*
 * Guest state that VM entry and exit do not switch, switched by software:
 * the debug registers DR0-DR3 and DR6, the x87/SSE state (FXSAVE image),
 * XCR0 and, where the vendor's hardware does not (VT-x), KERNEL_GS_BASE.
 * CPUID hides XSAVE and the VMM answers XSETBV with #UD, but a CPU that
 * does not intercept XSETBV (QEMU's SVM) lets a guest change XCR0: the
 * guest's XCR0 then stays its own, and AVX state it made is wiped
 * (VZEROALL) before the host or another guest runs.
 * Without this, what one guest writes there would be seen by the host and
 * by the next guest, and the host's values by the guest.
 *
 * Invariants:
 * - The host kernel itself never uses these registers (it is built with
 *   -mno-sse and no x87 code, sets no breakpoints, never executes
 *   SWAPGS), so they only need switching when a CPU starts or stops
 *   running a particular guest, not on every exit.
 * - vc->xstate_cpu is the CPU whose registers hold the guest's values, or
 *   -1 when they are saved in the struct Vcpu. When it is a CPU, that
 *   CPU's xstate_host[] holds what it had before (the host's values).
 * - xstate_load() runs before each entry (cheap when already loaded);
 *   xstate_save() runs when the CPU leaves the guest (vmm_guest_leave)
 *   and when the guest is freed on it.
 */
#include <inc/x86.h>
#include <inc/mmu.h>
#include <inc/string.h>
#include <inc/msr.h>
#include <inc/cpuid.h>

#include <kern/cpu.h>
#include <vmm/vmm.h>
#include <vmm/xstate.h>

/* What FNINIT and reset leave (SDM Vol. 1 8.1.5, 10.2.3). */
#define FPU_CW_INIT 0x037F
#define MXCSR_INIT 0x1F80
/* XSAVE (SDM Vol. 1 13.3): XCR0's x87 and SSE bits. */
#define XCR0_X87_SSE 0x3UL
#define XCR0_INIT 0x1UL
/* FXSAVE image offsets (SDM Vol. 1 Table 10-2). */
#define FX_FCW 0
#define FX_MXCSR 24

struct host_xstate {
	struct xstate regs;
} __attribute__((aligned(XSTATE_ALIGN)));
static struct host_xstate xstate_host[NCPU];

/* The debug register behind xstate.dr[i]: DR0-DR3, then DR6. */
static int dr_number(int i)
{
	return i == XSTATE_DR6 ? 6 : i;
}

static bool cpu_has_xsave(void)
{
	uint32_t ecx;

	cpuid(1, 0, NULL, NULL, &ecx, NULL);
	return ecx & CPUID1_ECX_XSAVE;
}

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static void xsetbv0(uint64_t v)
{
	asm volatile("xsetbv" : : "c"(0), "a"((uint32_t)v),
		     "d"((uint32_t)(v >> 32)));
}

/* Registers -> *x. */
static void xstate_store(struct xstate *x, bool kernel_gs)
{
	int i;

	for (i = 0; i < XSTATE_NDR; i++)
		x->dr[i] = read_dr(dr_number(i));
	if (kernel_gs)
		x->kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
	asm volatile("fxsave64 %0" : "=m"(x->fx));
	if (rcr4() & CR4_OSXSAVE) {
		x->xcr0 = xgetbv0();
		/* State beyond x87/SSE (AVX) is not saved: wipe it. */
		if (x->xcr0 & ~XCR0_X87_SSE)
			asm volatile("vzeroall");
	}
}

/* *x -> registers. */
static void xstate_restore(const struct xstate *x, bool kernel_gs)
{
	int i;

	for (i = 0; i < XSTATE_NDR; i++)
		write_dr(dr_number(i), x->dr[i]);
	if (kernel_gs)
		wrmsr(MSR_KERNEL_GS_BASE, x->kernel_gs_base);
	if (rcr4() & CR4_OSXSAVE)
		xsetbv0(x->xcr0);
	asm volatile("fxrstor64 %0" : : "m"(x->fx));
}

/* A new guest's values: those of a CPU after reset. */
void xstate_init(struct Vcpu *vc)
{
	memset(&vc->xstate, 0, sizeof(vc->xstate));
	vc->xstate.dr[XSTATE_DR6] = DR6_INIT;
	*(uint16_t *)&vc->xstate.fx[FX_FCW] = FPU_CW_INIT;
	*(uint32_t *)&vc->xstate.fx[FX_MXCSR] = MXCSR_INIT;
	vc->xstate.xcr0 = XCR0_INIT;
	vc->xstate_cpu = -1;
}

/* Before an entry on this CPU: the guest's values in the registers. */
void xstate_load(struct Vcpu *vc)
{
	int cpu = cpunum();

	if (vc->xstate_cpu == cpu)
		return;
	/* FXSAVE/FXRSTOR cover the XMM registers only with OSFXSR; XCR0
	 * can be read and switched only with OSXSAVE. */
	if (!(rcr4() & CR4_OSFXSR))
		lcr4(rcr4() | CR4_OSFXSR);
	if (!(rcr4() & CR4_OSXSAVE) && cpu_has_xsave())
		lcr4(rcr4() | CR4_OSXSAVE);
	xstate_store(&xstate_host[cpu].regs, !vmm_ops->switches_kernel_gs);
	xstate_restore(&vc->xstate, !vmm_ops->switches_kernel_gs);
	vc->xstate_cpu = cpu;
}

/* This CPU stops running the guest: its values back, the host's too. */
void xstate_save(struct Vcpu *vc)
{
	int cpu = cpunum();

	if (vc->xstate_cpu != cpu)
		return;
	xstate_store(&vc->xstate, !vmm_ops->switches_kernel_gs);
	xstate_restore(&xstate_host[cpu].regs, !vmm_ops->switches_kernel_gs);
	vc->xstate_cpu = -1;
}
