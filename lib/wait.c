/* wait: block (politely) until an env has exited. */
#include <inc/lib.h>

/*
 * The slot of envid is reused by a later env with a different id, so
 * "gone" is: the slot holds another id, or is free or dying.
 */
void wait(envid_t envid)
{
	const volatile struct Env *e;

	assert(envid != 0);
	e = &envs[ENVX(envid)];
	while (e->env_id == envid && e->env_status != ENV_FREE &&
	       e->env_status != ENV_DYING)
		sys_yield();
}
