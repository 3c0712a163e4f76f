/* Environments: creation, destruction and running (kern/env.c). */
#ifndef JOS_KERN_ENV_H
#define JOS_KERN_ENV_H

#include <inc/env.h>
#include <kern/cpu.h>

extern struct Env *envs;          /* All environments */
/*
 * envs[i] for i >= env_slots_used has never been allocated, so is
 * ENV_FREE: a scan for live envs may stop there. Slots are handed out
 * lowest first (env_init), so this stays near the number of envs.
 */
extern int env_slots_used;
/* Print the classic per-env lines ([id] new env, exiting gracefully,
 * destroying, free env)? On by default: classic graders read them. The
 * monitor's `envmsgs on|off` (also `kmon envmsgs off`) sets it. */
extern bool env_msgs;
#define curenv (thiscpu->cpu_env) /* Current environment */

void env_init(void);
int env_alloc(struct Env **e, envid_t parent_id, enum EnvType type);
void env_free(struct Env *e);
void env_create(const uint8_t *binary, size_t size, enum EnvType type);
void env_destroy(struct Env *e);
void env_destroy_tree(struct Env *root);

int envid2env(envid_t envid, struct Env **env_store, bool checkperm);
void env_run(struct Env *e) __attribute__((noreturn));
size_t env_count_live(void);

/* User programs linked into the kernel image (obj/kern/userprogs.c). */
struct userprog {
	const char *name;
	const uint8_t *start;
	const uint8_t *end;
};
extern const struct userprog userprogs[];
const struct userprog *userprog_find(const char *name);

#endif /* !JOS_KERN_ENV_H */
