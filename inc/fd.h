/*
 * File descriptors: the user library's uniform view of files, pipes and
 * the console, and the struct Fd page that the file-system server shares
 * with its clients (the protocol is in inc/fs.h).
 *
 * Invariants:
 *  - Descriptor n of an env is the page FDTABLE + n * PGSIZE (n <
 *    MAXFD); it is open exactly when that page is mapped. Its data (a
 *    pipe's buffer, say) may use the 4 MiB at FILEDATA + n * FDDATASIZE.
 *  - The Fd page of an open file is the server's page, mapped shared
 *    (PTE_SHARE) so that fork and spawn pass it on: the server reads and
 *    advances fd_offset on each read and write, and counts the page's
 *    mappings to know when no client holds the file open any more.
 *  - fd_dev_id names the device (DEVID_*); dev_lookup finds its Dev.
 */
#ifndef JOS_INC_FD_H
#define JOS_INC_FD_H

#include <inc/types.h>
#include <inc/env.h>
#include <inc/fs.h>

/* The descriptor table of every env. */
#define MAXFD 32
#define FDTABLE 0xD0000000UL
#define FDDATASIZE (4UL << 20)
#define FILEDATA (FDTABLE + (uint64_t)MAXFD * PGSIZE)

/* Device ids (fd_dev_id). The server writes DEVID_FILE into Fd pages. */
#define DEVID_FILE 'f'
#define DEVID_PIPE 'p'
#define DEVID_CONS 'c'

struct Fd;
struct Stat;

/* A device: the operations a descriptor of it supports. */
struct Dev {
	int dev_id;
	const char *dev_name;
	ssize_t (*dev_read)(struct Fd *fd, void *buf, size_t len);
	ssize_t (*dev_write)(struct Fd *fd, const void *buf, size_t len);
	int (*dev_close)(struct Fd *fd);
	int (*dev_stat)(struct Fd *fd, struct Stat *stat);
	int (*dev_trunc)(struct Fd *fd, off_t length);
};

struct FdFile {
	int id; /* the server's file id (inc/fs.h) */
};

struct Fd {
	int fd_dev_id;
	off_t fd_offset;
	int fd_omode;
	union {
		struct FdFile fd_file; /* DEVID_FILE */
	};
};

struct Stat {
	char st_name[MAXNAMELEN];
	off_t st_size;
	int st_isdir;
	struct Dev *st_dev;
};

extern struct Dev devfile;
extern struct Dev devpipe;
extern struct Dev devcons;

/* fd.c: descriptor bookkeeping */
char *fd2data(struct Fd *fd);
int fd2num(struct Fd *fd);
int fd_alloc(struct Fd **fd_store);
int fd_close(struct Fd *fd, bool must_exist);
int fd_lookup(int fdnum, struct Fd **fd_store);
int dev_lookup(int devid, struct Dev **dev_store);

/* fd.c: the descriptor calls */
int close(int fd);
ssize_t read(int fd, void *buf, size_t nbytes);
ssize_t write(int fd, const void *buf, size_t nbytes);
int seek(int fd, off_t offset);
void close_all(void);
ssize_t readn(int fd, void *buf, size_t nbytes);
int dup(int oldfd, int newfd);
int fstat(int fd, struct Stat *statbuf);
int stat(const char *path, struct Stat *statbuf);
int ftruncate(int fd, off_t size);

/* file.c */
int open(const char *path, int mode);
int remove(const char *path);
int sync(void);
int fcopy(int dstfd, int srcfd);
int fdrop(int fd);

/* pageref.c */
int pageref(void *addr);

/* pipe.c */
int pipe(int pipefds[2]);
int pipeisclosed(int pipefd);

/* console.c */
int opencons(void);

/* spawn.c */
envid_t spawn(const char *program, const char **argv);
envid_t spawnl(const char *program, const char *arg0, ...);

/* wait.c */
void wait(envid_t env);

#endif /* !JOS_INC_FD_H */
