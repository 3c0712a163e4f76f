/*
 * User-level page-fault handling: the C side of lib/pfentry.S.
 *
 * The kernel reflects a page fault to the env's upcall, _pgfault_upcall,
 * on the one-page exception stack below UXSTACKTOP; the upcall calls
 * _pgfault_handler with the UTrapframe and then resumes the faulting code.
 */
#include <inc/lib.h>
#include <lib/pfentry.h>

/* lib/pfentry.S hard-codes these offsets. */
static_assert(offsetof(struct UTrapframe, utf_fault_va) == UTF_FAULT_VA);
static_assert(offsetof(struct UTrapframe, utf_err) == UTF_ERR);
static_assert(offsetof(struct UTrapframe, utf_regs) == UTF_REGS);
static_assert(sizeof(struct PushRegs) == UTF_NREGS * sizeof(uint64_t));
static_assert(offsetof(struct UTrapframe, utf_rip) == UTF_RIP);
static_assert(offsetof(struct UTrapframe, utf_eflags) == UTF_EFLAGS);
static_assert(offsetof(struct UTrapframe, utf_rsp) == UTF_RSP);
static_assert(sizeof(struct UTrapframe) == UTF_SIZE);

extern void _pgfault_upcall(void);

/* Called by _pgfault_upcall; shared by every env of an sfork family. */
void (*_pgfault_handler)(struct UTrapframe *utf);

/*
 * Make handler this env's page-fault handler. The first call also maps
 * the exception stack and registers the upcall with the kernel.
 */
void set_pgfault_handler(void (*handler)(struct UTrapframe *utf))
{
	bool first = _pgfault_handler == NULL;
	int r;

	/* Set before registering: a fault must never find it NULL. */
	_pgfault_handler = handler;
	if (!first)
		return;
	r = sys_page_alloc(0, (void *)(UXSTACKTOP - PGSIZE),
			   PTE_P | PTE_U | PTE_W);
	if (r < 0)
		panic("set_pgfault_handler: exception stack: %e", r);
	r = sys_env_set_pgfault_upcall(0, _pgfault_upcall);
	if (r < 0)
		panic("set_pgfault_handler: upcall: %e", r);
}
