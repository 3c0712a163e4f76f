/*
 * Finding the CPUs: the Intel MultiProcessor Specification 1.4 tables,
 * which both SeaBIOS (QEMU) and the Bochs BIOS provide.
 *
 * The floating pointer structure ("_MP_") lies on a 16-byte boundary in
 * the first KiB of the EBDA, the last KiB of base memory, or the BIOS ROM
 * (0xF0000-0xFFFFF); it points to the configuration table ("PCMP"), whose
 * processor entries list the enabled CPUs and their local APIC ids.
 * Without the tables, the kernel runs on the boot CPU alone.
 */
#include <inc/types.h>
#include <inc/string.h>
#include <inc/memlayout.h>

#include <kern/cpu.h>
#include <kern/lapic.h>
#include <kern/pmap.h>
#include <kern/mp.h>

struct mp_fptr {
	uint8_t signature[4]; /* "_MP_" */
	uint32_t physaddr;    /* of the configuration table */
	uint8_t length;       /* in 16-byte units: 1 */
	uint8_t specrev;
	uint8_t checksum;     /* all bytes sum to 0 */
	uint8_t type;         /* default configuration type, 0 = table */
	uint8_t imcrp;
	uint8_t reserved[3];
} __attribute__((packed));

struct mp_conf {
	uint8_t signature[4]; /* "PCMP" */
	uint16_t length;      /* of the base table, header included */
	uint8_t version;
	uint8_t checksum;
	uint8_t product[20];
	uint32_t oemtable;
	uint16_t oemlength;
	uint16_t entry;       /* number of entries */
	uint32_t lapicaddr;
	uint16_t xlength;
	uint8_t xchecksum;
	uint8_t reserved;
	uint8_t entries[0];
} __attribute__((packed));

struct mp_proc {
	uint8_t type; /* MPPROC */
	uint8_t apicid;
	uint8_t version;
	uint8_t flags;
	uint8_t signature[4];
	uint32_t feature;
	uint8_t reserved[8];
} __attribute__((packed));

/* Entry types and their sizes. */
#define MPPROC 0x00 /* 20 bytes */
#define MPBUS 0x01
#define MPIOAPIC 0x02
#define MPIOINTR 0x03
#define MPLINTR 0x04
#define MP_OTHER_ENTRY_SIZE 8
#define MPPROC_ENABLED 0x01
#define MPPROC_BOOT 0x02

/* BIOS data area: EBDA segment and base memory size in KiB. */
#define BDA_EBDA_SEG 0x40E
#define BDA_BASEMEM_KB 0x413
#define BIOS_ROM 0xF0000
#define BIOS_ROM_SIZE 0x10000

static uint8_t sum(const void *addr, size_t len)
{
	const uint8_t *p = addr;
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static struct mp_fptr *mp_search1(physaddr_t pa, size_t len)
{
	struct mp_fptr *mp = KADDR(pa), *end = KADDR(pa + len);

	for (; mp < end; mp++)
		if (memcmp(mp->signature, "_MP_", 4) == 0 &&
		    sum(mp, sizeof(*mp)) == 0)
			return mp;
	return NULL;
}

static struct mp_fptr *mp_search(void)
{
	physaddr_t p;
	struct mp_fptr *mp;

	if ((p = *(uint16_t *)KADDR(BDA_EBDA_SEG) << 4) &&
	    (mp = mp_search1(p, 1024)))
		return mp;
	p = *(uint16_t *)KADDR(BDA_BASEMEM_KB) * 1024;
	if (p >= 1024 && (mp = mp_search1(p - 1024, 1024)))
		return mp;
	return mp_search1(BIOS_ROM, BIOS_ROM_SIZE);
}

/* The configuration table, if present and well-formed. */
static struct mp_conf *mp_config(void)
{
	struct mp_fptr *mp = mp_search();
	struct mp_conf *conf;

	if (!mp || mp->physaddr == 0 || mp->type != 0)
		return NULL;
	conf = KADDR(mp->physaddr);
	if (memcmp(conf->signature, "PCMP", 4) != 0 ||
	    sum(conf, conf->length) != 0 ||
	    (conf->version != 1 && conf->version != 4))
		return NULL;
	return conf;
}

void mp_init(void)
{
	struct mp_conf *conf = mp_config();
	uint8_t *p, *end;
	int i;

	ncpu = 0;
	if (!conf) {
		cprintf("SMP: no MP tables; running on one CPU\n");
		goto single;
	}
	lapicaddr = conf->lapicaddr;
	p = conf->entries;
	end = (uint8_t *)conf + conf->length;
	for (i = 0; i < conf->entry && p < end; i++) {
		if (*p == MPPROC) {
			struct mp_proc *proc = (struct mp_proc *)p;
			if ((proc->flags & MPPROC_ENABLED) && ncpu < NCPU) {
				if (proc->flags & MPPROC_BOOT)
					bootcpu = &cpus[ncpu];
				cpus[ncpu].cpu_id = ncpu;
				cpus[ncpu].cpu_apicid = proc->apicid;
				ncpu++;
			} else if (ncpu >= NCPU) {
				cprintf("SMP: too many CPUs, CPU %d disabled\n",
					proc->apicid);
			}
			p += sizeof(struct mp_proc);
		} else {
			p += MP_OTHER_ENTRY_SIZE;
		}
	}
	if (ncpu == 0)
		goto single;
	bootcpu->cpu_status = CPU_STARTED;
	cprintf("SMP: CPU %d found %d CPU(s)\n", bootcpu->cpu_id, ncpu);
	return;

single:
	ncpu = 1;
	lapicaddr = 0;
	bootcpu = &cpus[0];
	bootcpu->cpu_id = 0;
	bootcpu->cpu_status = CPU_STARTED;
}
