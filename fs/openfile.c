/*
 * The file-system server's open-file table (fs/serv.c serves the
 * requests; this file keeps the table and each client's share of it).
 *
 * Invariants:
 *  - Open-file slot i owns the page OPENFD_VA + i * PGSIZE, its struct
 *    Fd. The slot is in use exactly while some other env maps that page
 *    too (its reference count is above 1): closing, or dying, frees it,
 *    with no message to the server. A free slot's page stays mapped
 *    here only until the next openfile_alloc, which unmaps every free
 *    slot's page but the one it hands out: the server holds a page for
 *    each open file and at most one more, not one per slot ever used.
 *    Slots at or past open_top were never handed out.
 *  - A slot's file id is i modulo MAXOPEN; it changes whenever the slot
 *    is handed out again or its file is removed, so an old id (a stale
 *    one) never names a live file.
 *  - Each client holds at most its share of the slots (inc/fs.h,
 *    FSOPEN_*): the env that opened a slot (o_owner) is charged for it
 *    while it is in use, and a guest's slots count against the guests'
 *    common share too. No client, and no set of guests, can take the
 *    slots the host's own programs need (vmm kill and vms among them:
 *    the shell spawns them from files).
 *  - A guest's open, and an O_FIXED one (a guest's disk image that the
 *    user-space VMM opened), has a fixed size (o_fixed); only that guest
 *    may name a guest's: openfile_lookup gives a guest no other slot.
 *    openfile_change_check keeps a fixed-size open inside its file's
 *    bytes and its size as it is, and the blocks a write through it
 *    fills out of the host's reserve (a guest's disk never takes it).
 */
#include <inc/fd.h>
#include "fs.h"

/* Files open at once, over all clients (inc/fs.h). */
#define MAXOPEN FSOPEN_MAX
/* Where the open files' Fd pages live, in this env only. */
#define OPENFD_VA 0xE0000000UL
/* File ids are non-negative ints. */
#define FILEID_MAX 0x7FFFFFFF

static_assert(OPENFD_VA >= DISKMAP + DISKSIZE);
static_assert(OPENFD_VA >= FILEDATA + MAXFD * FDDATASIZE);
static_assert(OPENFD_END == OPENFD_VA + MAXOPEN * PGSIZE);

static struct OpenFile opentab[MAXOPEN];
/* Slots [0, open_top) have been handed out; the rest never were. */
static int open_top;

/* How many mappings the page at va has (0 if it is not mapped here). */
static int page_refs(void *va)
{
	uintptr_t v = (uintptr_t)va;
	pte_t pte;

	if (!(uvpml4e[v >> PML4XSHIFT] & PTE_P) ||
	    !(uvpde[v >> PDPXSHIFT] & PTE_P) || !(uvpd[v >> PDXSHIFT] & PTE_P))
		return 0;
	pte = uvpt[PGNUM(v)];
	if (!(pte & PTE_P))
		return 0;
	return pages[PGNUM(PTE_ADDR(pte))].pp_ref;
}

void openfile_init(void)
{
	int i;

	for (i = 0; i < MAXOPEN; i++) {
		opentab[i].o_fileid = i;
		opentab[i].o_fd = (struct Fd *)(OPENFD_VA + i * PGSIZE);
	}
}

/* Give o a new id, so that every id it had before goes stale. */
static void openfile_renew(struct OpenFile *o)
{
	if (o->o_fileid > FILEID_MAX - MAXOPEN)
		o->o_fileid %= MAXOPEN;
	else
		o->o_fileid += MAXOPEN;
	o->o_file = NULL;
}

/*
 * Find a free slot for client who (a guest: guest), within its share of
 * the slots (inc/fs.h), with a fresh id and a zeroed Fd page, charged
 * to who (the caller fills in the rest once the file is found). On the
 * way every other free slot's page goes back to the kernel.
 */
int openfile_alloc(envid_t who, bool guest, struct OpenFile **po)
{
	struct OpenFile *o, *found = NULL;
	int i, r, mine = 0, guests = 0;

	for (i = 0; i < open_top; i++) {
		o = &opentab[i];
		r = page_refs(o->o_fd);
		if (r > 1) {
			mine += o->o_owner == who;
			guests += o->o_fixed;
		} else if (!found) {
			found = o;
		} else if (r == 1 && (r = sys_page_unmap(0, o->o_fd)) < 0) {
			panic("unmapping a closed file's Fd page: %e", r);
		}
	}
	if (mine >= FSOPEN_CLIENT_MAX ||
	    (guest && (mine >= FSOPEN_GUEST_MAX ||
		       guests >= FSOPEN_GUESTS_MAX)))
		return -E_MAX_OPEN;
	if (!found) {
		if (open_top == MAXOPEN)
			return -E_MAX_OPEN;
		found = &opentab[open_top++];
	}
	if (!va_is_mapped(found->o_fd) &&
	    (r = sys_page_alloc(0, found->o_fd, PTE_P | PTE_U | PTE_W)) < 0)
		return r;
	openfile_renew(found);
	memset(found->o_fd, 0, PGSIZE);
	found->o_owner = who;
	found->o_fixed = guest;
	*po = found;
	return 0;
}

/* The slot of the file open now under id fileid, for client who. */
int openfile_lookup(envid_t who, bool guest, int fileid,
		    struct OpenFile **po)
{
	struct OpenFile *o;

	if (fileid < 0)
		return -E_INVAL;
	o = &opentab[fileid % MAXOPEN];
	if (o->o_fileid != fileid || !o->o_file || page_refs(o->o_fd) <= 1)
		return -E_INVAL;
	if (guest && (!o->o_fixed || o->o_owner != who))
		return -E_INVAL;
	*po = o;
	return 0;
}

/* File f is gone: every open id of it goes stale. */
void openfile_forget(struct File *f)
{
	int i;

	for (i = 0; i < open_top; i++)
		if (opentab[i].o_file == f)
			openfile_renew(&opentab[i]);
}

bool openfile_can_read(struct OpenFile *o)
{
	return (o->o_mode & O_ACCMODE) != O_WRONLY;
}

/* May o's file be written to (and is it a regular file)? */
bool openfile_can_write(struct OpenFile *o)
{
	return (o->o_mode & O_ACCMODE) != O_RDONLY &&
	       o->o_file->f_type == FTYPE_REG;
}

/*
 * The check every request that changes a file makes first: may open o
 * write the bytes [offset, offset + n) of its file (resize: false), or
 * set its size to offset (resize: true)? Any open for writing may,
 * within the file system's own limits, unless it has a fixed size (a
 * guest's): then the bytes must lie inside the file, and the size stay
 * what it is, and the request allocates as a guest's (fs/bitmap.c: not
 * below the host's reserve). 0 or -E_INVAL.
 */
int openfile_change_check(struct OpenFile *o, off_t offset, size_t n,
			  bool resize)
{
	off_t size = o->o_file->f_size;

	if (!openfile_can_write(o) || offset < 0)
		return -E_INVAL;
	if (!o->o_fixed)
		return 0;
	if (resize ? offset != size
		   : offset > size || n > (size_t)(size - offset))
		return -E_INVAL;
	fs_alloc_for_guest(true);
	return 0;
}
