/*
 * The device attacks' driver (devattack.h): the word "devattack" runs
 * every attack that RUNS, in table order, in one boot, and ends with
 * EXIT_VALUE; the word "devattack-NAME" runs that one attack alone (the
 * only way to run one that STOPS: the VMM ends the guest there).
 *
 * Invariants:
 * - Every attack's line starts "devattack: NAME": the grade matches
 *   each name it expects to see ok, and any FAIL.
 * - A STOPS attack that comes back fails the guest (FAIL_VALUE).
 */
#include "devattack.h"
#include "intr.h"

static const struct devattack *const tables[] = { da_ide, da_irq, da_dev };
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

void da_begin(const char *name)
{
	puts("devattack: ");
	puts(name);
	puts(" ok:");
}

void da_kv(const char *key, u32 v)
{
	putc(' ');
	puts(key);
	putc('=');
	puthex(v);
}

void da_end(void)
{
	putc('\n');
}

void da_check(int ok, const char *name, const char *why)
{
	if (ok)
		return;
	cli();
	com_init();
	puts("devattack: ");
	puts(name);
	puts(" FAIL: ");
	puts(why);
	putc('\n');
	finish(FAIL_VALUE);
}

static void run_one(const struct mb_info *mbi, const struct devattack *a)
{
	static int idt_ready;

	if (!idt_ready++)
		intr_init();
	puts("devattack: ");
	puts(a->word);
	puts(a->kind == DA_STOPS ? " (the VMM must stop us)\n" : "\n");
	a->fn(mbi, a->word);
	cli();
	com_init();
	if (a->kind == DA_STOPS)
		da_check(0, a->word, "the guest came back");
}

void devattack(const struct mb_info *mbi, const char *cmdline)
{
	const struct devattack *a;
	u32 t, n = 0;
	int all = has_word(cmdline, "devattack");

	for (t = 0; t < NTABLES; t++)
		for (a = tables[t]; a->word; a++) {
			if (has_prefixed_word(cmdline, "devattack-", a->word) ||
			    (all && a->kind == DA_RUNS)) {
				run_one(mbi, a);
				n++;
			}
		}
	if (!n)
		return;
	puts("devattack: ");
	putu(n);
	puts(" attacks survived\n");
}
