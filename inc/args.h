/*
 * Command-line flag parsing (lib/args.c). Typical use:
 *
 *	struct Argstate args;
 *	int c;
 *
 *	argstart(&argc, argv, &args);
 *	while ((c = argnext(&args)) >= 0)
 *		switch (c) { case 'x': ... argvalue(&args) ... }
 *
 * Flags are "-abc" words after argv[0], up to the first word that is not
 * one, or "--". argnext removes each word it finishes from argv (and
 * counts down *argc), so what is left afterwards is the program name and
 * the operands.
 */
#ifndef JOS_INC_ARGS_H
#define JOS_INC_ARGS_H

struct Argstate {
	int *argc;
	const char **argv;
	const char *curarg;   /* rest of the flag word being read, or NULL */
	const char *argvalue; /* value of the current flag, once taken */
};

void argstart(int *argc, char **argv, struct Argstate *args);
int argnext(struct Argstate *args);
char *argvalue(struct Argstate *args);
char *argnextvalue(struct Argstate *args);

#endif /* !JOS_INC_ARGS_H */
