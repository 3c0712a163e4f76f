/*
 * Inter-environment communication on top of sys_ipc_try_send/recv; in a
 * guest (VMM_GUEST), also with the host's file-system server (below).
 */
#include <inc/lib.h>
#include <inc/vmx.h>

/* A page address the kernel reads as "no page": anything >= UTOP. */
#define NO_PAGE ((void *)UTOP)

/*
 * Wait for a message. If pg is not NULL, a page sent along is mapped
 * there. Stores the sender's id and the page's permissions (0 if no page
 * came) in the non-NULL stores, and returns the value sent. On error,
 * stores 0 in both and returns the error.
 */
int32_t ipc_recv(envid_t *from_env_store, void *pg, int *perm_store)
{
	int r = sys_ipc_recv(pg ? pg : NO_PAGE);

	if (from_env_store)
		*from_env_store = r < 0 ? 0 : thisenv->env_ipc_from;
	if (perm_store)
		*perm_store = r < 0 ? 0 : thisenv->env_ipc_perm;
	if (r < 0)
		return r;
	return thisenv->env_ipc_value;
}

/*
 * Send value (and the page at pg with perm, if pg is not NULL) to to_env,
 * waiting, politely, until it is ready to receive. Any error other than
 * "not receiving yet" is a bug in the caller: panic.
 */
void ipc_send(envid_t to_env, uint64_t value, void *pg, int perm)
{
	int r;

	while ((r = sys_ipc_try_send(to_env, value, pg ? pg : NO_PAGE,
				     perm)) == -E_IPC_NOT_RECV)
		sys_yield();
	if (r < 0)
		panic("ipc_send to %08x: %e", to_env, r);
}

/* The id of the first live env of the given type, or 0 if there is none. */
envid_t ipc_find_env(enum EnvType type)
{
	int i;

	for (i = 0; i < NENV; i++)
		if (envs[i].env_status != ENV_FREE && envs[i].env_type == type)
			return envs[i].env_id;
	return 0;
}

#ifdef VMM_GUEST
/*
 * IPC with the host, from a guest (inc/vmx.h): the messages of ipc_send
 * and ipc_recv, carried by the VMCALL_IPC_SEND and VMCALL_IPC_RECV
 * hypercalls to the host's file-system server, the only host env a guest
 * may talk to. A page travels by its guest-physical address, which the
 * host can find in the guest's memory; we read it from our own page
 * table. Any guest privilege level may issue a hypercall, so this runs
 * in a user env.
 *
 * The host sees the whole guest as one env: a reply goes to whichever
 * guest env waits in VMCALL_IPC_RECV. So only one guest env at a time
 * may have a host request outstanding (in practice: the guest's FS
 * server, or a test program while the file system is idle).
 */

/*
 * The guest-physical address of the page at va (page-aligned). Touch it
 * first, so that it is mapped, and, when we must be allowed to write it,
 * ours alone: a copy-on-write page gets its private copy now, before the
 * host shares or replaces its frame.
 */
static uint64_t guest_pa(void *va, bool write)
{
	volatile char *p = va;

	if ((uintptr_t)va % PGSIZE)
		panic("host IPC: page address %p is not page-aligned", va);
	if (write)
		*p = *p;
	else
		(void)*p;
	return PTE_ADDR(uvpt[PGNUM(va)]);
}

/*
 * Send value (and the page at pg with perm, if pg is not NULL) to host
 * env `to` (VMM_HOST_FS), retrying, with a yield of our guest CPU in
 * between, until the host env waits for it. Any other error is a bug in
 * the caller: panic, as ipc_send does.
 */
void ipc_host_send(envid_t to, uint64_t value, void *pg, int perm)
{
	uint64_t gpa = pg ? guest_pa(pg, perm & PTE_W) : VMM_NO_PAGE;
	int64_t r;

	while ((r = vmcall(VMCALL_IPC_SEND, to, value, gpa, perm, 0)) ==
	       -E_IPC_NOT_RECV)
		sys_yield();
	if (r < 0)
		panic("ipc_host_send to host env %d: %e", to, (int)r);
}

/*
 * VMCALL_IPC_RECV, which answers in four registers (inc/vmx.h's vmcall
 * returns only %rax): the result, the value, the sender, the page's perm.
 */
static int64_t vmcall_ipc_recv(uint64_t gpa, uint64_t *value,
			       uint64_t *from, uint64_t *perm)
{
	uint64_t rax = VMCALL_IPC_RECV, rdx = gpa, rcx = 0, rbx = 0;

	asm volatile(HYPERCALL_INSN
		     : "+a"(rax), "+d"(rdx), "+c"(rcx), "+b"(rbx)
		     : HYPERCALL_VENDOR
		     : "cc", "memory");
	*value = rdx;
	*from = rcx;
	*perm = rbx;
	return (int64_t)rax;
}

/*
 * A hypercall that answers in four registers, as VMCALL_IPC_RECV and
 * VMCALL_IPC_CALL do (inc/vmx.h's vmcall returns only %rax): the result,
 * the value, the sender, the page's perm.
 */
static int64_t vmcall_ipc_call(uint64_t to, uint64_t value_in, uint64_t gpa,
			       uint64_t perm_in, uint64_t rgpa,
			       uint64_t *value, uint64_t *from, uint64_t *perm)
{
	uint64_t rax = VMCALL_IPC_CALL, rdx = to, rcx = value_in, rbx = gpa;

	asm volatile(HYPERCALL_INSN
		     : "+a"(rax), "+d"(rdx), "+c"(rcx), "+b"(rbx)
		     : "D"(perm_in), "S"(rgpa), HYPERCALL_VENDOR
		     : "cc", "memory");
	*value = rdx;
	*from = rcx;
	*perm = rbx;
	return (int64_t)rax;
}

/*
 * ipc_host_send then ipc_host_recv in one hypercall: the host server's
 * reply finds us waiting, whatever else the guest does meanwhile. A page
 * sent back replaces the one at rpg (if not NULL); its perm goes to
 * *perm_store. Returns the value of the reply, or an error.
 */
int32_t ipc_host_call(envid_t to, uint64_t value, void *pg, int perm,
		      void *rpg, int *perm_store)
{
	uint64_t gpa = pg ? guest_pa(pg, perm & PTE_W) : VMM_NO_PAGE;
	uint64_t rgpa = rpg ? guest_pa(rpg, true) : VMM_NO_PAGE;
	uint64_t rvalue, from, rperm;
	int64_t r;

	while ((r = vmcall_ipc_call(to, value, gpa, perm, rgpa, &rvalue,
				    &from, &rperm)) == -E_IPC_NOT_RECV)
		sys_yield();
	if (perm_store)
		*perm_store = r < 0 ? 0 : (int)rperm;
	if (r < 0)
		return r;
	return (int32_t)rvalue;
}

/*
 * The path of this guest's disk in the host file system (VMCALL_DISK),
 * into buf, which must not cross a page. Its length, or an error.
 */
int host_disk_path(char *buf, size_t len)
{
	uintptr_t page = ROUNDDOWN((uintptr_t)buf, PGSIZE);

	if (len == 0 || (uintptr_t)buf + len > page + PGSIZE)
		return -E_INVAL;
	return vmcall(VMCALL_DISK, guest_pa((void *)page, true) +
		      ((uintptr_t)buf - page), len, 0, 0, 0);
}

/*
 * Wait for a message from the host, as ipc_recv does (the whole guest
 * waits meanwhile). If pg is not NULL, a page sent along replaces the
 * one at pg (which must be writable). Stores the sender's host env id
 * and the page's perm (0 if no page came) in the non-NULL stores, and
 * returns the value sent. On error, stores 0 in both and returns it.
 */
int32_t ipc_host_recv(envid_t *from_store, void *pg, int *perm_store)
{
	uint64_t gpa = pg ? guest_pa(pg, true) : VMM_NO_PAGE;
	uint64_t value, from, perm;
	int64_t r = vmcall_ipc_recv(gpa, &value, &from, &perm);

	if (from_store)
		*from_store = r < 0 ? 0 : (envid_t)from;
	if (perm_store)
		*perm_store = r < 0 ? 0 : (int)perm;
	if (r < 0)
		return r;
	return (int32_t)value;
}
#endif /* VMM_GUEST */
