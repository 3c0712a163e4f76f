/*
 * Called from lib/entry.S: set up the library's view of this env, run the
 * program, exit.
 */
#include <inc/lib.h>
#include <inc/x86.h>

/*
 * thisenv lives in its own page-aligned section (user/user.ld): sfork
 * shares every other data page between parent and child, but gives the
 * child a private copy of this one, so thisenv can differ per env.
 */
const volatile struct Env *thisenv __attribute__((section(".perenv")));

/* The kernel's read-only tables (see inc/lib.h). */
const volatile struct Env *const envs = (const volatile struct Env *)UENVS;
const volatile struct PageInfo *const pages =
	(const volatile struct PageInfo *)UPAGES;

/* Hypercalls (in a guest) use VMMCALL, not VMCALL (inc/vmx.h). */
bool vmm_use_vmmcall;

/* Named in panic messages; argv[0] when the program got one. */
const char *binaryname = "<unknown>";

void libmain(int argc, char **argv)
{
	vmm_use_vmmcall = cpu_vendor_is_amd();
	thisenv = &envs[ENVX(sys_getenvid())];
	if (argc > 0 && argv && argv[0])
		binaryname = argv[0];
	umain(argc, argv);
	exit();
}
