/*
 * Environments (JOS processes). The kernel keeps them in envs[NENV], which
 * user programs can read at UENVS.
 */
#ifndef JOS_INC_ENV_H
#define JOS_INC_ENV_H

#include <inc/types.h>
#include <inc/trap.h>
#include <inc/memlayout.h>

typedef int32_t envid_t;

/*
 * An environment id has three parts:
 *
 * +1+---------------21-----------------+--------10--------+
 * |0|          Uniqueifier             |   Environment    |
 * | |                                  |      Index       |
 * +------------------------------------+------------------+
 *                                       \--- ENVX(eid) --/
 *
 * The index selects envs[]; the uniqueifier (a generation count) tells
 * apart environments that used the same slot at different times. The id
 * is always positive, so negative values can be errors; 0 means "the
 * calling environment" in system calls.
 */
#define LOG2NENV 10
#define NENV (1 << LOG2NENV)
#define ENVX(envid) ((envid) & (NENV - 1))

/* Values of env_status in struct Env */
enum {
	ENV_FREE = 0,
	ENV_DYING,
	ENV_RUNNABLE,
	ENV_RUNNING,
	ENV_NOT_RUNNABLE
};

/* Special environment types */
enum EnvType {
	ENV_TYPE_USER = 0,
	ENV_TYPE_FS,    /* File system server */
	ENV_TYPE_GUEST, /* A virtual machine (the VMM runs it) */
};

struct Env {
	struct Trapframe env_tf;    /* Saved registers */
	struct Env *env_link;       /* Next free Env */
	envid_t env_id;             /* Unique environment identifier */
	envid_t env_parent_id;      /* env_id of this env's parent */
	enum EnvType env_type;      /* Indicates special system environments */
	unsigned env_status;        /* Status of the environment */
	uint32_t env_runs;          /* Number of times environment has run */
	int env_cpunum;             /* The CPU that the env is running on */

	/* Address space */
	pml4e_t *env_pml4e; /* Kernel virtual address of the PML4 */
	physaddr_t env_cr3; /* Physical address of the PML4 */

	/* Exception handling */
	void *env_pgfault_upcall; /* Page fault upcall entry point */

	/* IPC */
	bool env_ipc_recving;    /* Env is blocked receiving */
	void *env_ipc_dstva;     /* VA at which to map received page */
	uint64_t env_ipc_value;  /* Data value sent to us */
	envid_t env_ipc_from;    /* envid of the sender */
	int env_ipc_perm;        /* Perm of page mapping received */
	envid_t env_ipc_handoff; /* Last env this one sent to, 0 once used:
				  * blocking to receive hands it the CPU */

	/* Virtual machine state, for ENV_TYPE_GUEST (kernel pointer). */
	struct Vcpu *env_vcpu;
};

#endif /* !JOS_INC_ENV_H */
