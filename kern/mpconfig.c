/*
 * Finding the CPUs. First the ACPI MADT (ACPI 6.x 5.2.12), which both
 * SeaBIOS (QEMU) and the Bochs BIOS provide and which lists every CPU;
 * SeaBIOS's MP table lists only the boot CPU. If there is no MADT, the
 * Intel MultiProcessor Specification 1.4 tables:
 *
 * The floating pointer structure ("_MP_") lies on a 16-byte boundary in
 * the first KiB of the EBDA, the last KiB of base memory, or the BIOS ROM
 * (0xF0000-0xFFFFF); it points to the configuration table ("PCMP"), whose
 * processor entries list the enabled CPUs and their local APIC ids.
 * Without the tables, the kernel runs on the boot CPU alone.
 *
 * A guest kernel (VMM_GUEST) always runs on one CPU and scans nothing: the
 * BIOS areas lie in the guest-physical hole, and the VMM stops a guest
 * that touches them.
 */
#include <inc/types.h>
#include <inc/string.h>
#include <inc/memlayout.h>
#include <inc/x86.h>

#include <kern/cpu.h>
#include <kern/lapic.h>
#include <kern/pmap.h>
#include <kern/mp.h>

#ifndef VMM_GUEST

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

/* ---- ACPI ---------------------------------------------------------------- */

struct acpi_rsdp {
	uint8_t signature[8]; /* "RSD PTR " */
	uint8_t checksum;     /* of the first 20 bytes */
	uint8_t oemid[6];
	uint8_t revision;     /* 0: ACPI 1.0 (RSDT only); 2+: XSDT too */
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t xchecksum;
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_header {
	uint8_t signature[4];
	uint32_t length; /* of the whole table, header included */
	uint8_t revision;
	uint8_t checksum;
	uint8_t oemid[6];
	uint8_t oemtableid[8];
	uint32_t oemrevision;
	uint32_t creatorid;
	uint32_t creatorrevision;
} __attribute__((packed));

struct acpi_madt {
	struct acpi_header h; /* "APIC" */
	uint32_t lapicaddr;
	uint32_t flags;
	uint8_t entries[0];
} __attribute__((packed));

#define ACPI_RSDP_V1_LEN 20
#define ACPI_SEARCH_LO 0xE0000
#define ACPI_SEARCH_SIZE 0x20000
#define MADT_LAPIC 0 /* processor local APIC entry */
#define MADT_LAPIC_ENABLED 0x1
#define MADT_LAPIC_ONLINE_CAPABLE 0x2

static struct acpi_rsdp *rsdp_search1(physaddr_t pa, size_t len)
{
	uint8_t *p = KADDR(pa), *end = KADDR(pa + len);

	for (; p < end; p += 16)
		if (memcmp(p, "RSD PTR ", 8) == 0 && sum(p, ACPI_RSDP_V1_LEN) == 0)
			return (struct acpi_rsdp *)p;
	return NULL;
}

/* A table that exists, has the right signature and checksums to 0. */
static struct acpi_header *acpi_table(physaddr_t pa, const char *sig)
{
	struct acpi_header *h;

	if (pa == 0 || pa + sizeof(*h) >= kmap_limit)
		return NULL;
	h = KADDR(pa);
	if (memcmp(h->signature, sig, 4) != 0 || pa + h->length >= kmap_limit ||
	    sum(h, h->length) != 0)
		return NULL;
	return h;
}

static struct acpi_madt *madt_find(void)
{
	struct acpi_rsdp *rsdp;
	struct acpi_header *sdt, *t;
	physaddr_t ebda = *(uint16_t *)KADDR(BDA_EBDA_SEG) << 4;
	int i, n, width;

	rsdp = ebda ? rsdp_search1(ebda, 1024) : NULL;
	if (!rsdp)
		rsdp = rsdp_search1(ACPI_SEARCH_LO, ACPI_SEARCH_SIZE);
	if (!rsdp)
		return NULL;
	if (rsdp->revision >= 2 && (sdt = acpi_table(rsdp->xsdt, "XSDT")))
		width = 8;
	else if ((sdt = acpi_table(rsdp->rsdt, "RSDT")))
		width = 4;
	else
		return NULL;
	n = (sdt->length - sizeof(*sdt)) / width;
	for (i = 0; i < n; i++) {
		uint8_t *e = (uint8_t *)(sdt + 1) + i * width;
		physaddr_t pa = width == 8 ? *(uint64_t *)e : *(uint32_t *)e;
		if ((t = acpi_table(pa, "APIC")))
			return (struct acpi_madt *)t;
	}
	return NULL;
}

/* The initial APIC id of the CPU we run on (CPUID.1:EBX[31:24]). */
static uint8_t my_apicid(void)
{
	uint32_t ebx;

	cpuid(1, 0, NULL, &ebx, NULL, NULL);
	return ebx >> 24;
}

static void add_cpu(uint8_t apicid)
{
	if (ncpu >= NCPU) {
		cprintf("SMP: too many CPUs, CPU with APIC id %d disabled\n",
			apicid);
		return;
	}
	if (apicid == my_apicid())
		bootcpu = &cpus[ncpu];
	cpus[ncpu].cpu_id = ncpu;
	cpus[ncpu].cpu_apicid = apicid;
	ncpu++;
}

/* Fill cpus[] from the MADT; false if there is none. */
static bool madt_init(void)
{
	struct acpi_madt *madt = madt_find();
	uint8_t *p, *end;

	if (!madt)
		return false;
	lapicaddr = madt->lapicaddr;
	p = madt->entries;
	end = (uint8_t *)madt + madt->h.length;
	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		/* type, length, ACPI processor id, APIC id, flags */
		if (p[0] == MADT_LAPIC && (*(uint32_t *)(p + 4) & MADT_LAPIC_ENABLED))
			add_cpu(p[3]);
		p += p[1];
	}
	return ncpu > 0;
}

/* ---- MP tables ------------------------------------------------------------ */

/* Fill cpus[] from the MP configuration table; false if there is none. */
static bool mptable_init(void)
{
	struct mp_conf *conf = mp_config();
	uint8_t *p, *end;
	int i;

	if (!conf)
		return false;
	lapicaddr = conf->lapicaddr;
	p = conf->entries;
	end = (uint8_t *)conf + conf->length;
	for (i = 0; i < conf->entry && p < end; i++) {
		if (*p == MPPROC) {
			struct mp_proc *proc = (struct mp_proc *)p;
			if (proc->flags & MPPROC_ENABLED)
				add_cpu(proc->apicid);
			p += sizeof(struct mp_proc);
		} else {
			p += MP_OTHER_ENTRY_SIZE;
		}
	}
	return ncpu > 0;
}

#endif /* !VMM_GUEST */

/* Run on the boot CPU alone, as APIC id 0, with no LAPIC mapped. */
static void single_cpu(void)
{
	ncpu = 1;
	lapicaddr = 0;
	bootcpu = &cpus[0];
	bootcpu->cpu_id = 0;
	bootcpu->cpu_apicid = 0;
}

void mp_init(void)
{
#ifdef VMM_GUEST
	single_cpu();
#else
	ncpu = 0;
	bootcpu = &cpus[0];
	if (!madt_init() && (ncpu = 0, !mptable_init())) {
		cprintf("SMP: no ACPI MADT or MP tables; running on one CPU\n");
		single_cpu();
	}
#endif
	bootcpu->cpu_status = CPU_STARTED;
	cprintf("SMP: CPU %d found %d CPU(s)\n", bootcpu->cpu_id, ncpu);
}
