/* Inter-environment communication on top of sys_ipc_try_send/recv. */
#include <inc/lib.h>

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
