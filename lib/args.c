/* Command-line flag parsing; the contract is in inc/args.h. */
#include <inc/lib.h>

/* Drop argv[1] from the vector, keeping it NULL-terminated. */
static void shift(struct Argstate *args)
{
	int i;

	for (i = 1; i < *args->argc; i++)
		args->argv[i] = args->argv[i + 1];
	(*args->argc)--;
}

void argstart(int *argc, char **argv, struct Argstate *args)
{
	args->argc = argc;
	args->argv = (const char **)argv;
	/* "" means "between words"; NULL means "no more flags". */
	args->curarg = (*argc > 1 && argv) ? "" : NULL;
	args->argvalue = NULL;
}

/* The next flag character, or -1 when the flags are over. */
int argnext(struct Argstate *args)
{
	const char *w;
	int c;

	args->argvalue = NULL;
	if (args->curarg == NULL)
		return -1;
	if (*args->curarg == 0) {
		/* Start the next word, if it is a flag word. */
		w = *args->argc > 1 ? args->argv[1] : NULL;
		if (w == NULL || w[0] != '-' || w[1] == 0) {
			args->curarg = NULL;
			return -1;
		}
		shift(args);
		if (strcmp(w, "--") == 0) {
			args->curarg = NULL;
			return -1;
		}
		args->curarg = w + 1;
	}
	c = (unsigned char)*args->curarg++;
	return c;
}

/* The value of the flag just returned: the rest of its word, or else the
 * next word (which is then consumed). NULL if there is none. */
char *argnextvalue(struct Argstate *args)
{
	if (args->curarg == NULL)
		return NULL;
	if (*args->curarg) {
		args->argvalue = args->curarg;
		args->curarg = "";
	} else if (*args->argc > 1) {
		args->argvalue = args->argv[1];
		shift(args);
	} else {
		args->argvalue = NULL;
	}
	return (char *)args->argvalue;
}

/* As argnextvalue, but asking twice gives the same value. */
char *argvalue(struct Argstate *args)
{
	return args->argvalue ? (char *)args->argvalue : argnextvalue(args);
}
