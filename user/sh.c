/*
 * sh: the shell.
 *
 *	sh [-x] [-i] [script [arg...]]
 *
 * Reads commands from the script, or from standard input; prompts with
 * "$ " ("vm$ " in a guest JOS) when that is the console (or with -i). A line is words separated
 * by blanks, with "..." or '...' quoting (quotes may sit inside a word),
 * # starting a comment, and the operators
 *	< file	> file	a | b	a ; b	a &
 * -x echoes each line it runs (every line but a comment), prefixed by
 * "# ", on standard output, as the classic JOS shell does: scripts'
 * expected outputs (fs/testshell.key) hold these lines.
 *
 * Each line runs in a child (forked), so that its redirections and pipes
 * never touch the shell's own descriptors; the shell waits for it. Inside
 * the child, each ';' or '&' forks again for the command before it, each
 * '|' forks for the command after it.
 *
 * Ctrl-C: the console counts it (sys_cons_interrupts) instead of passing
 * it on. An interactive shell, while it waits for a line's child, ends
 * that child and all it started (sys_env_destroy_tree) when the count
 * moves, and prompts again. A '&' job whose starter has already ended is
 * no one's descendant any more, so it survives, as a background job
 * should.
 */
#include <inc/lib.h>

/* The prompt says which JOS it is: the host, or a guest inside it. */
#ifdef VMM_GUEST
#define PROMPT "vm$ "
#else
#define PROMPT "$ "
#endif

/* Words in one command, and bytes of word text in one line. */
#define MAXARGS 32
#define WORDBUF 8192

/* Characters that end a word, and the operators among them. */
#define BLANKS " \t\r\n"
#define OPERATORS "<>|;&"

/* Token kinds besides the operator characters themselves. */
#define TOK_END 0
#define TOK_WORD 'w'
#define TOK_ERROR -1

static bool trace; /* -x */
static bool interactive; /* prompts; Ctrl-C ends the command it waits for */

/* The unquoted text of the words of the line being run. */
static char wordbuf[WORDBUF];
static size_t wordlen;

/*
 * Read the next token from *ps and advance it. For a word, store its
 * text, quotes removed, in wordbuf and point *word at it.
 */
static int gettoken(char **ps, char **word)
{
	char *s = *ps, quote;

	while (*s && strchr(BLANKS, *s))
		s++;
	if (*s == 0 || *s == '#') {
		*ps = s;
		return TOK_END;
	}
	if (strchr(OPERATORS, *s)) {
		*ps = s + 1;
		return *s;
	}
	*word = wordbuf + wordlen;
	while (*s && !strchr(BLANKS, *s) && !strchr(OPERATORS, *s)) {
		if (*s == '"' || *s == '\'') {
			quote = *s++;
			while (*s && *s != quote) {
				if (wordlen + 1 >= WORDBUF)
					goto too_long;
				wordbuf[wordlen++] = *s++;
			}
			if (*s != quote) {
				cprintf("sh: unterminated %c quote\n", quote);
				return TOK_ERROR;
			}
			s++;
			continue;
		}
		if (wordlen + 1 >= WORDBUF)
			goto too_long;
		wordbuf[wordlen++] = *s++;
	}
	wordbuf[wordlen++] = 0;
	*ps = s;
	return TOK_WORD;

too_long:
	cprintf("sh: line too long\n");
	return TOK_ERROR;
}

/* Make file, opened with mode, descriptor fdnum. */
static int redirect(const char *file, int mode, int fdnum)
{
	int fd;

	if ((fd = open(file, mode)) < 0) {
		cprintf("sh: cannot open %s: %e\n", file, fd);
		return fd;
	}
	if (fd != fdnum) {
		dup(fd, fdnum);
		close(fd);
	}
	return 0;
}

/*
 * Run one simple command: argv with its redirections, and wait for it
 * (and for the command to the right of our pipe, if any). Never returns.
 */
static void run_simple(int argc, const char **argv, const char *in,
		       const char *out, envid_t pipe_child)
{
	char prog[MAXPATHLEN];
	envid_t child = -1;

	if (argc == 0)
		goto done;
	argv[argc] = NULL;
	if ((in && redirect(in, O_RDONLY, 0) < 0) ||
	    (out && redirect(out, O_WRONLY | O_CREAT | O_TRUNC, 1) < 0))
		goto done;
	/* A bare name is a program in /bin. */
	if (strchr(argv[0], '/'))
		strlcpy(prog, argv[0], sizeof(prog));
	else
		snprintf(prog, sizeof(prog), "/bin/%s", argv[0]);
	if ((child = spawn(prog, argv)) < 0)
		cprintf("sh: %s: %e\n", argv[0], child);
done:
	/* Our copies of the pipe ends go, so readers see end of file. */
	close_all();
	if (child >= 0)
		wait(child);
	if (pipe_child > 0)
		wait(pipe_child);
	exit();
}

/*
 * Wait for the child that runs a line. Interactive, end it and its
 * descendants if Ctrl-C is typed after ctrl_c (the count before the
 * child was made) and before it ends.
 */
static void wait_line(envid_t child, unsigned int ctrl_c)
{
	const volatile struct Env *e = &envs[ENVX(child)];
	int r;

	if (!interactive) {
		wait(child);
		return;
	}
	while (e->env_id == child && e->env_status != ENV_FREE &&
	       e->env_status != ENV_DYING) {
		if (sys_cons_interrupts() != ctrl_c) {
			r = sys_env_destroy_tree(child);
			/* It may have ended on its own meanwhile: no error. */
			if (r < 0 && r != -E_BAD_ENV)
				cprintf("sh: ending the command: %e\n", r);
			cprintf("^C\n");
			return;
		}
		sys_yield();
	}
}

/* Parse and run the line s; runs in a child of the shell. */
static void runcmd(char *s)
{
	const char *argv[MAXARGS + 1];
	const char *in = NULL, *out = NULL;
	char *word;
	envid_t pipe_child = 0, r;
	int argc = 0, p[2], t, op;

	wordlen = 0;
	for (;;) {
		switch ((t = gettoken(&s, &word))) {
		case TOK_WORD:
			if (argc == MAXARGS) {
				cprintf("sh: too many arguments\n");
				exit();
			}
			argv[argc++] = word;
			break;

		case '<':
		case '>':
			op = t;
			if (gettoken(&s, &word) != TOK_WORD) {
				cprintf("sh: %c needs a file name\n", op);
				exit();
			}
			if (op == '<')
				in = word;
			else
				out = word;
			break;

		case '|':
			if (argc == 0) {
				cprintf("sh: nothing before |\n");
				exit();
			}
			if ((r = pipe(p)) < 0) {
				cprintf("sh: pipe: %e\n", r);
				exit();
			}
			if ((r = fork()) < 0) {
				cprintf("sh: fork: %e\n", r);
				exit();
			}
			if (r == 0) {
				/* The child parses and runs what follows. */
				dup(p[0], 0);
				close(p[0]);
				close(p[1]);
				argc = 0;
				in = out = NULL;
				pipe_child = 0;
				break;
			}
			dup(p[1], 1);
			close(p[0]);
			close(p[1]);
			run_simple(argc, argv, in, out, r);
			break;

		case ';':
		case '&':
			if ((r = fork()) < 0) {
				cprintf("sh: fork: %e\n", r);
				exit();
			}
			if (r == 0)
				run_simple(argc, argv, in, out, pipe_child);
			if (t == ';')
				wait(r);
			argc = 0;
			in = out = NULL;
			break;

		case TOK_END:
			run_simple(argc, argv, in, out, pipe_child);
			break;

		default: /* TOK_ERROR */
			exit();
		}
	}
}

static void usage(void)
{
	cprintf("usage: sh [-x] [-i] [script]\n");
	exit();
}

void umain(int argc, char **argv)
{
	struct Argstate args;
	bool force_interactive = false;
	unsigned int ctrl_c;
	char *line;
	envid_t r;
	int fd, c;

	argstart(&argc, argv, &args);
	while ((c = argnext(&args)) >= 0) {
		switch (c) {
		case 'x':
			trace = true;
			break;
		case 'i':
			force_interactive = true;
			break;
		default:
			usage();
		}
	}
	if (argc > 2)
		usage();
	if (argc == 2) {
		/* The script becomes our standard input. */
		close(0);
		if ((fd = open(argv[1], O_RDONLY)) < 0) {
			cprintf("sh: cannot open %s: %e\n", argv[1], fd);
			exit();
		}
		assert(fd == 0);
	}
	interactive = force_interactive || (argc == 1 && iscons(0));

	for (;;) {
		line = readline(interactive ? PROMPT : NULL);
		if (line == NULL)
			break;
		if (line[0] == '#')
			continue;
		if (trace)
			printf("# %s\n", line);
		if (line[0] == 0)
			continue;
		ctrl_c = sys_cons_interrupts();
		if ((r = fork()) < 0) {
			cprintf("sh: fork: %e\n", r);
			continue;
		}
		if (r == 0) {
			runcmd(line);
			exit();
		}
		wait_line(r, ctrl_c);
	}
}
