/*
 * The file-system server's internal interfaces (the .c files of fs/).
 *
 * Invariants:
 *  - Disk block b is mapped, when cached, at diskaddr(b) = DISKMAP +
 *    b * BLKSIZE; the disk can be at most DISKSIZE bytes, so the map
 *    ends at the client descriptor table (FDTABLE).
 *  - A cached block is dirty exactly when its PTE has PTE_D: bc.c
 *    clears PTE_D whenever the page matches the disk.
 *  - super and bitmap point into the cache once fs_init has run; their
 *    blocks are never evicted.
 */
#ifndef JOS_FS_FS_H
#define JOS_FS_FS_H

#include <inc/fs.h>
#include <inc/lib.h>

#define SECTSIZE 512                   /* bytes per disk sector */
#define BLKSECTS (BLKSIZE / SECTSIZE)  /* sectors per block */

/* The disk's window in the server's address space. */
#define DISKMAP 0x10000000UL
#define DISKSIZE 0xC0000000UL

/* The disk that holds the file system: the primary channel's slave. */
#define FS_DISKNO 1

/* The file on the host's file system that a guest's server uses as disk. */
#define HOST_DISK_PATH "/vmm/fs.img"

/* ide.c (on a PC) */
bool ide_probe_disk1(void);
void ide_set_disk(int diskno);
uint64_t ide_nsectors(void);
int ide_read(uint32_t secno, void *dst, size_t nsecs);
int ide_write(uint32_t secno, const void *src, size_t nsecs);

/* host.c (in a guest: the disk is a file on the host, host_path) */
extern char host_path[];
int host_open(void);
uint64_t host_nsectors(void);
int host_read(uint32_t secno, void *dst, size_t nsecs);
int host_write(uint32_t secno, const void *src, size_t nsecs);
int host_sync(void);
int host_drop(void);

/*
 * The disk under the block cache: IDE disk FS_DISKNO on a PC; in a guest,
 * which may do no port I/O, the host's file (only host.c is linked in).
 * Reads and writes move whole sectors and return 0 or a negative error.
 */
static inline int disk_read(uint32_t secno, void *dst, size_t nsecs)
{
#ifdef VMM_GUEST
	return host_read(secno, dst, nsecs);
#else
	return ide_read(secno, dst, nsecs);
#endif
}

static inline int disk_write(uint32_t secno, const void *src, size_t nsecs)
{
#ifdef VMM_GUEST
	return host_write(secno, src, nsecs);
#else
	return ide_write(secno, src, nsecs);
#endif
}

/* The disk's size in sectors (0: unknown). */
static inline uint64_t disk_nsectors(void)
{
#ifdef VMM_GUEST
	return host_nsectors();
#else
	return ide_nsectors();
#endif
}

/*
 * Make what disk_write wrote durable. An IDE write is on the disk when it
 * returns; the host's file-system server keeps our writes in its own
 * cache until it syncs.
 */
static inline int disk_sync(void)
{
#ifdef VMM_GUEST
	return host_sync();
#else
	return 0;
#endif
}

/* bc.c */
void *diskaddr(uint32_t blockno);
uint32_t va2blockno(const void *va, const char *who);
bool va_is_mapped(void *va);
bool va_is_dirty(void *va);
uint32_t flush_block(void *addr);
uint32_t bc_next_cached(uint32_t b, uint32_t end);
void bc_map_zero(uint32_t blockno);
void bc_discard(uint32_t blockno);
void bc_drop(uint32_t blockno);
void bc_init(void);
void bc_set_pinned(uint32_t nblocks);

/* bitmap.c */
extern struct Super *super;
extern uint32_t *bitmap;
extern void (*alloc_block_watch)(uint32_t blockno);
void bitmap_init(void);
uint32_t first_data_block(void);
bool blockno_ok(uint32_t b);
bool block_is_free(uint32_t blockno);
int alloc_block(void);
int alloc_block_cached(bool cache);
void free_block(uint32_t blockno);
void flush_bitmap(void);
/* The requests served from now on are a guest's (true) or not: a
 * guest's allocations leave the host's reserve free (bitmap.c). */
void fs_alloc_for_guest(bool guest);

/* fs.c */
void fs_init(void);
int file_block_walk(struct File *f, uint32_t filebno, uint32_t **ppdiskbno,
		    bool alloc);
int file_get_block(struct File *f, uint32_t filebno, char **blk);
int walk_path(const char *path, struct File **pdir, struct File **pf,
	      char *lastelem);
int dir_lookup(struct File *dir, const char *name, struct File **file);
int dir_alloc_file(struct File *dir, struct File **file);
int file_create(const char *path, struct File **pf, uint32_t type);
int file_open(const char *path, struct File **pf);
ssize_t file_read(struct File *f, void *buf, size_t count, off_t offset);
ssize_t file_bulk(struct File *f, void *buf, size_t count, off_t offset,
		  bool write);
ssize_t file_write(struct File *f, const void *buf, size_t count,
		   off_t offset);
int file_set_size(struct File *f, off_t newsize);
void file_flush(struct File *f);
int file_copy(struct File *dst, struct File *src, uint32_t first);
void file_drop(struct File *f);
int file_remove(const char *path);
void fs_sync(void);
uint32_t fs_sync_step(uint32_t first);

/* openfile.c: the server's open files (serv.c answers the requests). */
struct OpenFile {
	int o_fileid;        /* the id clients name the file by */
	struct File *o_file; /* NULL: no file (never opened, or removed) */
	int o_mode;          /* open mode, the server's own copy */
	struct Fd *o_fd;     /* the Fd page shared with the client */
	envid_t o_owner;     /* the env that opened it, charged for it */
	bool o_fixed;        /* a guest opened it: its size is fixed */
};
/* The end of the open files' Fd pages, where serv.c's bulk windows go. */
#define OPENFD_END (0xE0000000UL + FSOPEN_MAX * PGSIZE)
void openfile_init(void);
int openfile_alloc(envid_t who, bool guest, struct OpenFile **po);
int openfile_lookup(envid_t who, bool guest, int fileid,
		    struct OpenFile **po);
void openfile_forget(struct File *f);
bool openfile_can_read(struct OpenFile *o);
bool openfile_can_write(struct OpenFile *o);
int openfile_change_check(struct OpenFile *o, off_t offset, size_t n,
			  bool resize);

/* check.c: the start-up self-checks. FS_CHECK_PATH is reserved for
 * their scratch file: one found there at start-up (a crash interrupted
 * the checks) is removed. */
#define FS_CHECK_PATH "/.fs-selfcheck"
void fs_check(void);

#endif /* !JOS_FS_FS_H */
