/*
 * The JOS file system: its on-disk format, and the IPC protocol between
 * the file-system server (fs/, an env of type ENV_TYPE_FS) and its
 * clients (the file device of the user library).
 *
 * Disk invariants:
 *  - The disk is an array of BLKSIZE-byte blocks numbered from 0. Block 0
 *    is never used (it is where a boot sector would go); block 1 holds
 *    the superblock; blocks 2 .. 2 + nbitmapblocks(s_nblocks) - 1 hold
 *    the free-block bitmap; every later block holds file data, a
 *    directory, or a table of block numbers.
 *  - Bitmap bit b (bit b % 32 of 32-bit word b / 32) is 1 when block b is
 *    FREE. Blocks 0, 1 and the bitmap are always marked in use, and so is
 *    every bit past s_nblocks in the last bitmap block.
 *  - A block number 0 in a File means "no block here" (a hole that reads
 *    as zeros, or a missing table); any other number is a block in use.
 *  - File block i of a file lives in f_direct[i] for i < NDIRECT; else in
 *    entry i - NDIRECT of the table f_indirect; else, with
 *    j = i - NDIRECT - NINDIRECT, in entry j % NINDIRECT of the table
 *    named by entry j / NINDIRECT of the table f_dindirect.
 *  - No block is allocated for file blocks at or past
 *    ROUNDUP(f_size, BLKSIZE) / BLKSIZE.
 *  - A directory is a file (f_type FTYPE_DIR) whose size is a multiple
 *    of BLKSIZE and whose data is an array of struct File; an entry with
 *    f_name[0] == 0 is free. Names are NUL-terminated, non-empty, contain
 *    no '/', and are unique within their directory. The root directory
 *    is the File inside the superblock; its name is "/".
 *  - All integers are little-endian (the disk is only read by x86).
 *
 * fs/fsformat.c, a program for the build host, includes this file too:
 * it defines JOS_HOST_TOOL and brings its own uint32_t, off_t and PGSIZE.
 */
#ifndef JOS_INC_FS_H
#define JOS_INC_FS_H

#ifndef JOS_HOST_TOOL
#include <inc/types.h>
#include <inc/mmu.h>
#endif

/* ---- On-disk format ----------------------------------------------------- */

/* A block is a page, so the server can map each block at its own page. */
#define BLKSIZE PGSIZE
#define BLKBITSIZE (BLKSIZE * 8) /* bitmap bits per bitmap block */

/* A name, including its NUL; and a whole path, including its NUL. */
#define MAXNAMELEN 128
#define MAXPATHLEN 1024

/* Block numbers in a File, and in a table of block numbers. */
#define NDIRECT 10
#define NINDIRECT (BLKSIZE / 4)
#define NDINDIRECT (NINDIRECT * NINDIRECT)

/* The largest file: every direct, indirect and double-indirect block. */
#define MAXFILEBLOCKS ((uint64_t)NDIRECT + NINDIRECT + NDINDIRECT)
#define MAXFILESIZE ((off_t)(MAXFILEBLOCKS * BLKSIZE))

/* f_type */
#define FTYPE_REG 0 /* regular file */
#define FTYPE_DIR 1 /* directory */

/* The fields of a File take this much; the padding fills the rest. */
#define FILE_SIZE 256
#define FILE_USED (MAXNAMELEN + 8 + 4 + 4 * (NDIRECT + 2))

struct File {
	char f_name[MAXNAMELEN];  /* NUL-terminated; "" = free entry */
	off_t f_size;             /* bytes */
	uint32_t f_type;          /* FTYPE_REG or FTYPE_DIR */
	uint32_t f_direct[NDIRECT];
	uint32_t f_indirect;      /* table of NINDIRECT block numbers */
	uint32_t f_dindirect;     /* table of NINDIRECT tables */
	uint8_t f_pad[FILE_SIZE - FILE_USED];
} __attribute__((packed, aligned(8)));

_Static_assert(sizeof(struct File) == FILE_SIZE, "struct File size");

/* Directory entries per block. */
#define BLKFILES (BLKSIZE / FILE_SIZE)

/* "JOS\xF5": identifies a JOS file system in s_magic. */
#define FS_MAGIC 0xF5534F4AU

/* Fixed block numbers (see the invariants above). */
#define SUPER_BLOCKNO 1
#define BITMAP_BLOCKNO 2

struct Super {
	uint32_t s_magic;   /* FS_MAGIC */
	uint32_t s_nblocks; /* blocks on the disk, including 0, 1, bitmap */
	struct File s_root; /* the root directory */
};

/* Bitmap blocks for a disk of nblocks blocks. */
#define NBITMAPBLOCKS(nblocks) (((nblocks) + BLKBITSIZE - 1) / BLKBITSIZE)

/* ---- IPC protocol ------------------------------------------------------- */
/*
 * A client finds the server with ipc_find_env(ENV_TYPE_FS) and sends one
 * request at a time:
 *     ipc_send(fsenv, FSREQ_x, &fsipcbuf, PTE_P | PTE_W | PTE_U);
 *     r = ipc_recv(NULL, dstva, NULL);
 * where fsipcbuf is a page-aligned union Fsipc holding the request's
 * arguments. The server maps that page, handles the request, writes any
 * results into the same page, and replies with
 *     ipc_send(client, r, page or NULL, perm)
 * where r is the result (>= 0) or a negative E_* error. Only FSREQ_OPEN
 * replies with a page (the open file's struct Fd, see inc/fd.h), so the
 * client's dstva is the Fd slot for FSREQ_OPEN and NULL for the others.
 * The request page must be writable in the client when sent: after a
 * fork it is copy-on-write (read-only) until written, and the kernel
 * refuses to send a read-only page with PTE_W; so write to it first
 * (FSREQ_SYNC has no fields to write: touch the page anyway).
 *
 * Every request is checked; a bad one gets an error, never a crash:
 *  - the request number is not one below -> -E_INVAL;
 *  - no page, or a page sent without PTE_W -> -E_INVAL;
 *  - req_fileid is not the id of a file open now (never opened, closed,
 *    or its file removed since: a "stale" id) -> -E_INVAL.
 *
 * Open files. FSREQ_OPEN returns a struct Fd page mapped shared
 * (PTE_SHARE) into the client: fd_file.id is the file id that the other
 * requests name, fd_offset is the file position, which the server reads
 * and advances on FSREQ_READ and FSREQ_WRITE (so a client seeks by
 * storing into it), fd_omode is the open mode, fd_dev_id is DEVID_FILE.
 * A file stays open while some env other than the server maps its Fd
 * page: closing a file is FSREQ_FLUSH, then unmapping the page (the
 * server sees the page's reference count drop and reuses the slot; a
 * dead env's pages are unmapped by the kernel). The server keeps its own
 * copy of the open mode: changing fd_omode changes nothing.
 *
 * The requests (fields marked "in" are read, "out" are written):
 *
 * FSREQ_OPEN: in open.req_path (NUL within MAXPATHLEN, else -E_BAD_PATH),
 *   open.req_omode (O_* of inc/lib.h; unknown bits or access mode
 *   O_ACCMODE -> -E_INVAL). Paths are absolute: leading '/' optional,
 *   repeated '/' ignored, "." and ".." are NOT interpreted (the client
 *   normalizes); a component of MAXNAMELEN bytes or more -> -E_BAD_PATH;
 *   a missing directory on the way -> -E_NOT_FOUND.
 *     O_CREAT: create a regular file if the name does not exist;
 *       with O_EXCL, an existing name -> -E_FILE_EXISTS.
 *     O_MKDIR: create a directory (like mkdir(2): an existing name ->
 *       -E_FILE_EXISTS); the file opens read-only whatever the access
 *       mode.
 *     O_TRUNC: set a regular file's size to 0.
 *     A directory opens only read-only and without O_TRUNC (else
 *       -E_INVAL); reading it yields its struct File entries.
 *   Out: the reply page is the Fd page; returns 0. -E_MAX_OPEN when
 *   FSOPEN_MAX files are open, or the caller holds its share (below),
 *   -E_NO_DISK when the disk is full.
 *   A guest's open has a fixed size: no request through it changes the
 *   file's size, and a write must lie inside the file (else -E_INVAL,
 *   and nothing is written): a guest's disk is exactly its image. O_FIXED
 *   (inc/lib.h) asks for the same from any client (the user-space VMM
 *   opens a PC guest's disk images so), and counts the open in the
 *   client's share of guest opens (FSOPEN_GUEST_MAX).
 *
 * FSREQ_SET_SIZE: in set_size.req_fileid, set_size.req_size (0 ..
 *   MAXFILESIZE, else -E_INVAL). The file must be open for writing and
 *   regular (else -E_INVAL). Shrinking frees blocks and zeroes the tail
 *   of the last block; growing leaves a hole that reads as zeros.
 *   Returns 0.
 *
 * FSREQ_READ: in read.req_fileid, read.req_n (at most PGSIZE, else
 *   -E_INVAL); the file must be open for reading (else -E_INVAL). Reads
 *   from fd_offset (negative -> -E_INVAL) and advances it. Out:
 *   readRet.ret_buf holds the data. Returns the byte count: 0 at or past
 *   the end of the file; fewer than req_n only at the end of the file.
 *
 * FSREQ_WRITE: in write.req_fileid, write.req_n (at most
 *   FSWRITE_MAXBUF, else -E_INVAL), write.req_buf. The file must be open
 *   for writing and regular (else -E_INVAL). Writes at fd_offset
 *   (negative, or offset + n past MAXFILESIZE -> -E_INVAL), growing the
 *   file as needed, and advances fd_offset. Returns the byte count:
 *   all of req_n, or fewer (or -E_NO_DISK if none) when the disk fills.
 *   Through a guest's open, [fd_offset, fd_offset + req_n) must lie
 *   inside the file (else -E_INVAL), and the disk "fills" for a guest
 *   while only the host's reserve (fs/bitmap.c) is left free; the same
 *   holds for FSREQ_BULKWRITE.
 *
 * FSREQ_STAT: in stat.req_fileid. Out: statRet.ret_name, ret_size,
 *   ret_isdir. Returns 0.
 *
 * FSREQ_FLUSH: in flush.req_fileid. Writes the file's dirty blocks and
 *   its directory entry to disk. Returns 0.
 *
 * FSREQ_REMOVE: in remove.req_path (as for FSREQ_OPEN). Frees the file's
 *   blocks and its directory entry; every open file id of it goes stale.
 *   A directory must be empty (else -E_NOT_SUPP); "/" -> -E_INVAL.
 *   Returns 0.
 *
 * FSREQ_SYNC: no fields. Writes every dirty block to disk, and ends the
 *   caller's bulk window (below): a client that syncs before it exits
 *   leaves no page behind in the server. Returns 0.
 *
 * FSREQ_SYNCSTEP: in sync.req_from (a block number). FSREQ_SYNC in
 *   bounded steps, so that other clients' requests interleave with a
 *   long sync: writes the dirty blocks from req_from on, stopping after
 *   FSSYNC_STEP_WRITES disk writes; returns the block to continue from
 *   (> req_from), or 0 when it got to the end (then it is FSREQ_SYNC's
 *   end: the disk keeps the blocks, and the caller's bulk window ends).
 *   A client syncs with req_from 0, then each returned value, until 0.
 *
 * FSREQ_COPY: in copy.req_fileid (open for writing, regular),
 *   copy.req_src_fileid (open for reading, regular, another file; else
 *   -E_INVAL) and copy.req_from (a block index). Makes the first file a
 *   copy of the second, all in the server: the same size and bytes, the
 *   source's holes left holes, so copying a sparse file costs only its
 *   blocks in use. In bounded steps, so that other clients' requests
 *   interleave with a long copy: req_from 0 empties the copy and gives
 *   it the source's size; each request copies at most FSCOPY_STEP_BLOCKS
 *   blocks (and looks at most FSCOPY_STEP_SCAN block indexes) from
 *   req_from on, within the smaller of the two sizes, and returns the
 *   index to continue from (> req_from), or 0 when the copy is done.
 *   -E_NO_DISK when the disk fills: the copy is then left empty.
 *
 * Bulk I/O, for a client that treats a file as a disk (a guest's disk
 * image, fs/host.c): many blocks per request, through a bulk window of
 * FSBULK_PAGES pages that the server shares with the client.
 *
 * FSREQ_BULKMAP: in bulkmap.req_page (0 .. FSBULK_PAGES - 1, else
 *   -E_INVAL). Out: the reply page is page req_page of the caller's
 *   window (mapped shared and writable); returns 0. Each env has at most
 *   one window; -E_MAX_OPEN when FSBULK_WINDOWS other live envs hold
 *   one (the client then falls back to FSREQ_READ / FSREQ_WRITE). A
 *   window ends with the caller's FSREQ_SYNC or its death; after that
 *   the client's pages are its own again, no longer the server's, and
 *   it maps the window again before its next bulk request.
 *
 * FSREQ_BULKREAD, FSREQ_BULKWRITE: in bulk.req_fileid, bulk.req_n (1 ..
 *   FSBULK_MAX bytes). The file must be regular and open for reading
 *   (writing); the bytes [fd_offset, fd_offset + req_n) must lie inside
 *   the file as it is (a disk never grows: else -E_INVAL), and every
 *   window page they span must be mapped (else -E_INVAL). Reads them
 *   into the window (writes them from it), from the window's first byte
 *   on, and advances fd_offset. Returns req_n, or for a write fewer (or
 *   -E_NO_DISK) when the disk fills while filling holes.
 *
 * FSREQ_DROP: in drop.req_fileid (a regular file). Writes the file's
 *   dirty blocks, then drops its blocks from the cache, so that its next
 *   read comes from the disk: the "cold" read of user/fsbench.c. Returns
 *   0.
 */
enum {
	FSREQ_OPEN = 1,
	FSREQ_SET_SIZE,
	FSREQ_READ,
	FSREQ_WRITE,
	FSREQ_STAT,
	FSREQ_FLUSH,
	FSREQ_REMOVE,
	FSREQ_SYNC,
	FSREQ_COPY,
	FSREQ_BULKMAP,
	FSREQ_BULKREAD,
	FSREQ_BULKWRITE,
	FSREQ_DROP,
	FSREQ_SYNCSTEP,
	FSREQ_NREQ /* one past the last request number */
};

/* The header of a write request; the data fills the rest of the page. */
#define FSWRITE_HDRSIZE 16
#define FSWRITE_MAXBUF (PGSIZE - FSWRITE_HDRSIZE)

/* The most work one FSREQ_SYNCSTEP or FSREQ_COPY request does. */
#define FSSYNC_STEP_WRITES 8
#define FSCOPY_STEP_BLOCKS 64
#define FSCOPY_STEP_SCAN 4096

/* A bulk window: pages, and the most bytes one bulk request moves. */
#define FSBULK_PAGES 32
#define FSBULK_MAX ((size_t)FSBULK_PAGES * PGSIZE)
/* Bulk windows the server keeps at once, over all clients. */
#define FSBULK_WINDOWS 16

/*
 * Open files (FSREQ_OPEN): the server keeps FSOPEN_MAX at once, over all
 * clients. No one client env holds more than FSOPEN_CLIENT_MAX of them,
 * a guest (which needs one, its disk) no more than FSOPEN_GUEST_MAX, and
 * all guests together no more than FSOPEN_GUESTS_MAX; an open past a
 * limit gets -E_MAX_OPEN. So half the slots stay for the host's other
 * programs whatever one runaway program and every guest do.
 */
#define FSOPEN_MAX 1024
#define FSOPEN_CLIENT_MAX (FSOPEN_MAX / 4)
#define FSOPEN_GUEST_MAX 16
#define FSOPEN_GUESTS_MAX (FSOPEN_MAX / 4)

union Fsipc {
	struct Fsreq_open {
		char req_path[MAXPATHLEN];
		int req_omode;
	} open;
	struct Fsreq_set_size {
		int req_fileid;
		off_t req_size;
	} set_size;
	struct Fsreq_read {
		int req_fileid;
		size_t req_n;
	} read;
	struct Fsret_read {
		char ret_buf[PGSIZE];
	} readRet;
	struct Fsreq_write {
		int req_fileid;
		size_t req_n;
		char req_buf[FSWRITE_MAXBUF];
	} write;
	struct Fsreq_stat {
		int req_fileid;
	} stat;
	struct Fsret_stat {
		char ret_name[MAXNAMELEN];
		off_t ret_size;
		int ret_isdir;
	} statRet;
	struct Fsreq_flush {
		int req_fileid;
	} flush;
	struct Fsreq_remove {
		char req_path[MAXPATHLEN];
	} remove;
	struct Fsreq_copy {
		int req_fileid;
		int req_src_fileid;
		uint32_t req_from;
	} copy;
	struct Fsreq_sync {
		uint32_t req_from;
	} sync;
	struct Fsreq_bulkmap {
		int req_page;
	} bulkmap;
	struct Fsreq_bulk {
		int req_fileid;
		size_t req_n;
	} bulk;
	struct Fsreq_drop {
		int req_fileid;
	} drop;
	/* Pad out to a whole page. */
	char _pad[PGSIZE];
};

_Static_assert(sizeof(union Fsipc) == PGSIZE, "union Fsipc is one page");
_Static_assert(sizeof(struct Fsreq_write) == PGSIZE, "write fills a page");

#endif /* !JOS_INC_FS_H */
