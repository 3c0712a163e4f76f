/*
 * The firmware data of a PC-kind guest: what a PC BIOS leaves in memory
 * for the system it boots, so that an unmodified kernel finds its COM1
 * port, its CPUs, its IOAPIC and its interrupt routing (fwtables.h says
 * which guest-physical bytes are written).
 *
 * References (layouts; every field below is a struct member or a name):
 * - BIOS data area at 0x400: the IBM PC/AT BIOS's; word 0x00 the first
 *   serial port's I/O base, word 0x0E the EBDA's segment, word 0x13 the
 *   base memory in KiB.
 * - Intel MultiProcessor Specification 1.4 (1997), chapter 4: 4.1 the MP
 *   floating pointer structure (Table 4-1), 4.2 the configuration table
 *   header (Table 4-2), 4.3 its entries, ordered by type: 4.3.1 processor
 *   (Table 4-4), 4.3.2 bus (Table 4-7, bus type strings Table 4-8), 4.3.3
 *   I/O APIC (Table 4-9), 4.3.4 I/O interrupt assignment (Tables 4-10,
 *   4-11), 4.3.5 local interrupt assignment (Table 4-12).
 * - ACPI 1.0 tables, in ACPI 6.4's numbering: 5.2.5.1 where the RSDP may
 *   lie, 5.2.5.3 the RSDP (revision 0: the first 20 bytes, RSDT only),
 *   5.2.6 the system description table header, 5.2.7 the RSDT, 5.2.12
 *   the MADT (5.2.12.2 processor local APIC, 5.2.12.3 I/O APIC, 5.2.12.5
 *   interrupt source override; MPS INTI flags as in MP Table 4-10).
 *
 * The EBDA's first KiB holds, each piece on a 16-byte boundary, in order:
 * the MP floating pointer, the RSDP, the MP configuration table, the MADT
 * and the RSDT (FW_EBDA_NEED says how many bytes; FW_MAX_CPUS CPUs fit).
 *
 * Invariants:
 * - The EBDA is composed in a local buffer and copied to the guest whole,
 *   after every table is complete: the guest never sees half a table, and
 *   on any refusal nothing is written at all.
 * - Each table's checksum is computed last, over its final bytes, so that
 *   its bytes sum to 0 (mod 256).
 * - The configuration table lists exactly ncpus processors, one bus, one
 *   IOAPIC, FW_ISA_IRQS - 1 I/O interrupts (no entry for the cascade) and
 *   two local interrupts; the MADT the same CPUs, IOAPIC and IRQ 0's
 *   override.
 */
#include <inc/lib.h>
#include <vmmdev/dev.h>
#include <vmmdev/fwtables.h>

/* ---- BIOS data area -------------------------------------------------- */

#define BDA_COM1 0x00      /* word: COM1's I/O base */
#define BDA_EBDA_SEG 0x0E  /* word: the EBDA's real-mode segment */
#define BDA_BASEMEM_KB 0x13 /* word: base memory in KiB */
#define COM1_PORT 0x3F8
#define PARA_SHIFT 4       /* a real-mode segment is a paragraph number */
#define KIB 1024

/* ---- MP specification 1.4 ---------------------------------------------- */

#define MP_SPEC_REV 4 /* 1.4 */
#define MP_FPTR_PARAGRAPHS 1

struct mp_fptr { /* 4.1, Table 4-1 */
	char signature[4]; /* "_MP_" */
	uint32_t conf_pa;
	uint8_t paragraphs; /* length in 16-byte units */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature1; /* 0: a configuration table is present */
	uint8_t feature2; /* bit 7 IMCRP clear: virtual wire mode */
	uint8_t feature_reserved[3];
} __attribute__((packed));

struct mp_conf { /* 4.2, Table 4-2 */
	char signature[4]; /* "PCMP" */
	uint16_t base_len; /* header and entries */
	uint8_t spec_rev;
	uint8_t checksum;
	char oem_id[8];
	char product_id[12];
	uint32_t oem_table_pa;
	uint16_t oem_table_len;
	uint16_t entries;
	uint32_t lapic_pa;
	uint16_t ext_len;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

enum mp_entry_type { /* Table 4-3 */
	MP_PROC = 0,
	MP_BUS = 1,
	MP_IOAPIC = 2,
	MP_IOINTR = 3,
	MP_LINTR = 4,
};

struct mp_proc { /* 4.3.1, Table 4-4 */
	uint8_t type;
	uint8_t lapic_id;
	uint8_t lapic_version;
	uint8_t flags;
	uint32_t cpu_signature; /* CPUID.1 EAX: stepping, model, family */
	uint32_t features;      /* CPUID.1 EDX */
	uint8_t reserved[8];
} __attribute__((packed));

#define MP_PROC_EN 0x01 /* usable */
#define MP_PROC_BP 0x02 /* the boot processor */
#define CPU_FAMILY_SHIFT 8
#define CPU_FAMILY_P6 6
#define CPUID_FEAT_FPU (1u << 0)
#define CPUID_FEAT_APIC (1u << 9)

struct mp_bus { /* 4.3.2, Table 4-7 */
	uint8_t type;
	uint8_t bus_id;
	char bus_type[6]; /* Table 4-8, space-padded */
} __attribute__((packed));

#define MP_BUS_ISA "ISA   "
#define ISA_BUS_ID 0

struct mp_ioapic { /* 4.3.3, Table 4-9 */
	uint8_t type;
	uint8_t id;
	uint8_t version;
	uint8_t flags;
	uint32_t pa;
} __attribute__((packed));

#define MP_IOAPIC_EN 0x01

/* An I/O (4.3.4, Table 4-10) or local (4.3.5, Table 4-12) interrupt
 * assignment: the two have the same layout. */
struct mp_intr {
	uint8_t type;
	uint8_t int_type;
	uint16_t flags; /* polarity and trigger; 0: as the bus says */
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst_apic; /* IOAPIC ID, or local APIC ID */
	uint8_t dst_pin;  /* IOAPIC INTIN#, or LINTIN# */
} __attribute__((packed));

enum mp_int_type { /* Table 4-11 */
	MP_INT = 0,
	MP_NMI = 1,
	MP_SMI = 2,
	MP_EXTINT = 3,
};

#define MP_INTI_CONFORMS 0
#define MP_ALL_LAPICS 0xFF
#define LINT0 0
#define LINT1 1
#define MP_NLINTR 2

#define MP_OEM_ID "JOS     "
#define MP_PRODUCT_ID "JOS-IN-JOS  "

/* ---- ACPI 1.0 ---------------------------------------------------------- */

struct acpi_rsdp { /* 5.2.5.3: the 20 bytes of revision 0 */
	char signature[8]; /* "RSD PTR " */
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_pa;
} __attribute__((packed));

#define ACPI_RSDP_REV_1_0 0

struct acpi_sdt { /* 5.2.6, Table 5.4 */
	char signature[4];
	uint32_t length; /* header included */
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

#define ACPI_RSDT_REV 1
#define ACPI_MADT_REV 1
#define ACPI_OEM_ID "JOSJOS"
#define ACPI_OEM_TABLE_ID "JOSVMM  "
#define ACPI_OEM_REV 1
#define ACPI_CREATOR_ID "JOSV"
#define ACPI_CREATOR_REV 1

struct acpi_madt { /* 5.2.12 */
	struct acpi_sdt h; /* "APIC" */
	uint32_t lapic_pa;
	uint32_t flags;
} __attribute__((packed));

#define MADT_PCAT_COMPAT 0x1 /* an 8259 pair is present too */

enum madt_type {
	MADT_LAPIC = 0,
	MADT_IOAPIC = 1,
	MADT_ISO = 2,
};

struct madt_lapic { /* 5.2.12.2 */
	uint8_t type;
	uint8_t length;
	uint8_t acpi_id;
	uint8_t apic_id;
	uint32_t flags;
} __attribute__((packed));

#define MADT_LAPIC_ENABLED 0x1

struct madt_ioapic { /* 5.2.12.3 */
	uint8_t type;
	uint8_t length;
	uint8_t id;
	uint8_t reserved;
	uint32_t pa;
	uint32_t gsi_base;
} __attribute__((packed));

struct madt_iso { /* 5.2.12.5 */
	uint8_t type;
	uint8_t length;
	uint8_t bus; /* 0: ISA */
	uint8_t src_irq;
	uint32_t gsi;
	uint16_t flags; /* MPS INTI flags */
} __attribute__((packed));

#define MADT_BUS_ISA 0

_Static_assert(sizeof(struct mp_fptr) == 16, "MP Table 4-1");
_Static_assert(sizeof(struct mp_conf) == 44, "MP Table 4-2");
_Static_assert(sizeof(struct mp_proc) == 20, "MP Table 4-4");
_Static_assert(sizeof(struct mp_bus) == 8, "MP Table 4-7");
_Static_assert(sizeof(struct mp_ioapic) == 8, "MP Table 4-9");
_Static_assert(sizeof(struct mp_intr) == 8, "MP Tables 4-10, 4-12");
_Static_assert(sizeof(struct acpi_rsdp) == 20, "ACPI 1.0 RSDP");
_Static_assert(sizeof(struct acpi_sdt) == 36, "ACPI table header");
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT header");
_Static_assert(sizeof(struct madt_lapic) == 8, "MADT local APIC");
_Static_assert(sizeof(struct madt_ioapic) == 12, "MADT I/O APIC");
_Static_assert(sizeof(struct madt_iso) == 10, "MADT override");

/* ---- Room in the EBDA ---------------------------------------------------- */

#define FW_ALIGN 16 /* the MP pointer's and the RSDP's boundary */
#define FW_UP(n) (((n) + FW_ALIGN - 1) / FW_ALIGN * FW_ALIGN)
#define FW_NIOINTR (FW_ISA_IRQS - 1) /* no entry for the cascade */
#define FW_MPCONF_LEN(n)                                                      \
	(sizeof(struct mp_conf) + (n) * sizeof(struct mp_proc) +             \
	 sizeof(struct mp_bus) + sizeof(struct mp_ioapic) +                  \
	 (FW_NIOINTR + MP_NLINTR) * sizeof(struct mp_intr))
#define FW_RSDT_LEN (sizeof(struct acpi_sdt) + sizeof(uint32_t))
#define FW_MADT_LEN(n)                                                        \
	(sizeof(struct acpi_madt) + (n) * sizeof(struct madt_lapic) +        \
	 sizeof(struct madt_ioapic) + sizeof(struct madt_iso))
#define FW_EBDA_NEED(n)                                                       \
	(FW_UP(sizeof(struct mp_fptr)) + FW_UP(sizeof(struct acpi_rsdp)) +   \
	 FW_UP(FW_MPCONF_LEN(n)) + FW_UP(FW_RSDT_LEN) + FW_UP(FW_MADT_LEN(n)))
_Static_assert(FW_EBDA_NEED(FW_MAX_CPUS) <= FW_EBDA_SIZE,
	       "the tables of FW_MAX_CPUS CPUs fit in the EBDA's KiB");

/* The EBDA being composed: buf[0] is guest-physical FW_EBDA_PA. */
struct area {
	uint8_t buf[FW_EBDA_SIZE];
	size_t used;
};

/* n bytes at the next 16-byte boundary (zeroed: the buffer starts zeroed);
 * NULL when the EBDA is full, which FW_EBDA_NEED rules out. */
static void *take(struct area *a, size_t n)
{
	size_t at = FW_UP(a->used);

	if (at > sizeof(a->buf) || n > sizeof(a->buf) - at)
		return NULL;
	a->used = at + n;
	return a->buf + at;
}

static uint32_t gpa_of(const struct area *a, const void *p)
{
	return FW_EBDA_PA + (uint32_t)((const uint8_t *)p - a->buf);
}

/* The byte that makes p[0..n) sum to 0, with that byte counted as 0. */
static uint8_t checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (n--)
		s += *b++;
	return (uint8_t)-s;
}

/* A fixed-width, unterminated string field. */
#define SETSTR(field, str)                                                    \
	do {                                                                  \
		_Static_assert(sizeof(str) - 1 == sizeof(field), #field);     \
		memcpy((field), (str), sizeof(field));                        \
	} while (0)

/* ---- The MP configuration table ----------------------------------------- */

static void mp_intr(struct mp_intr *e, uint8_t type, uint8_t int_type,
		    uint8_t src_irq, uint8_t dst_apic, uint8_t dst_pin)
{
	e->type = type;
	e->int_type = int_type;
	e->flags = MP_INTI_CONFORMS;
	e->src_bus = ISA_BUS_ID;
	e->src_irq = src_irq;
	e->dst_apic = dst_apic;
	e->dst_pin = dst_pin;
}

/* The IOAPIC pin of ISA IRQ irq (fwtables.h: IRQ 0 on pin 2). */
static uint8_t isa_pin(unsigned irq)
{
	return irq == FW_PIT_IRQ ? FW_PIT_GSI : irq;
}

static struct mp_conf *mp_conf_build(struct area *a, unsigned ncpus)
{
	struct mp_conf *c = take(a, FW_MPCONF_LEN(ncpus));
	uint8_t *p = (uint8_t *)(c + 1);
	uint8_t ioapic_id = ncpus;
	unsigned i, n = 0;

	if (!c)
		return NULL;
	SETSTR(c->signature, "PCMP");
	c->spec_rev = MP_SPEC_REV;
	SETSTR(c->oem_id, MP_OEM_ID);
	SETSTR(c->product_id, MP_PRODUCT_ID);
	c->lapic_pa = FW_LAPIC_PA;
	for (i = 0; i < ncpus; i++, n++, p += sizeof(struct mp_proc)) {
		struct mp_proc *e = (struct mp_proc *)p;
		e->type = MP_PROC;
		e->lapic_id = i;
		e->lapic_version = FW_LAPIC_VERSION;
		e->flags = MP_PROC_EN | (i == 0 ? MP_PROC_BP : 0);
		e->cpu_signature = CPU_FAMILY_P6 << CPU_FAMILY_SHIFT;
		e->features = CPUID_FEAT_FPU | CPUID_FEAT_APIC;
	}
	struct mp_bus *bus = (struct mp_bus *)p;
	bus->type = MP_BUS;
	bus->bus_id = ISA_BUS_ID;
	SETSTR(bus->bus_type, MP_BUS_ISA);
	p += sizeof(*bus), n++;
	struct mp_ioapic *io = (struct mp_ioapic *)p;
	io->type = MP_IOAPIC;
	io->id = ioapic_id;
	io->version = FW_IOAPIC_VERSION;
	io->flags = MP_IOAPIC_EN;
	io->pa = FW_IOAPIC_PA;
	p += sizeof(*io), n++;
	for (i = 0; i < FW_ISA_IRQS; i++) {
		if (i == FW_CASCADE_IRQ)
			continue;
		mp_intr((struct mp_intr *)p, MP_IOINTR, MP_INT, i, ioapic_id,
			isa_pin(i));
		p += sizeof(struct mp_intr), n++;
	}
	mp_intr((struct mp_intr *)p, MP_LINTR, MP_EXTINT, 0, MP_ALL_LAPICS,
		LINT0);
	p += sizeof(struct mp_intr), n++;
	mp_intr((struct mp_intr *)p, MP_LINTR, MP_NMI, 0, MP_ALL_LAPICS, LINT1);
	p += sizeof(struct mp_intr), n++;

	c->base_len = p - (uint8_t *)c;
	c->entries = n;
	c->checksum = checksum(c, c->base_len);
	return c;
}

static void mp_fptr_fill(struct mp_fptr *f, uint32_t conf_pa)
{
	SETSTR(f->signature, "_MP_");
	f->conf_pa = conf_pa;
	f->paragraphs = MP_FPTR_PARAGRAPHS;
	f->spec_rev = MP_SPEC_REV;
	f->checksum = checksum(f, sizeof(*f));
}

/* ---- ACPI ----------------------------------------------------------------- */

static void sdt_header(struct acpi_sdt *h, const char *sig, uint32_t len,
		       uint8_t rev)
{
	memcpy(h->signature, sig, sizeof(h->signature));
	h->length = len;
	h->revision = rev;
	SETSTR(h->oem_id, ACPI_OEM_ID);
	SETSTR(h->oem_table_id, ACPI_OEM_TABLE_ID);
	h->oem_revision = ACPI_OEM_REV;
	SETSTR(h->creator_id, ACPI_CREATOR_ID);
	h->creator_revision = ACPI_CREATOR_REV;
}

static struct acpi_madt *madt_build(struct area *a, unsigned ncpus)
{
	struct acpi_madt *m = take(a, FW_MADT_LEN(ncpus));
	struct madt_lapic *l;
	struct madt_ioapic *io;
	struct madt_iso *iso;
	unsigned i;

	if (!m)
		return NULL;
	sdt_header(&m->h, "APIC", FW_MADT_LEN(ncpus), ACPI_MADT_REV);
	m->lapic_pa = FW_LAPIC_PA;
	m->flags = MADT_PCAT_COMPAT;
	l = (struct madt_lapic *)(m + 1);
	for (i = 0; i < ncpus; i++, l++) {
		l->type = MADT_LAPIC;
		l->length = sizeof(*l);
		l->acpi_id = i;
		l->apic_id = i;
		l->flags = MADT_LAPIC_ENABLED;
	}
	io = (struct madt_ioapic *)l;
	io->type = MADT_IOAPIC;
	io->length = sizeof(*io);
	io->id = ncpus;
	io->pa = FW_IOAPIC_PA;
	io->gsi_base = 0;
	iso = (struct madt_iso *)(io + 1);
	iso->type = MADT_ISO;
	iso->length = sizeof(*iso);
	iso->bus = MADT_BUS_ISA;
	iso->src_irq = FW_PIT_IRQ;
	iso->gsi = FW_PIT_GSI;
	iso->flags = MP_INTI_CONFORMS;
	m->h.checksum = checksum(m, m->h.length);
	return m;
}

static struct acpi_sdt *rsdt_build(struct area *a, uint32_t madt_pa)
{
	struct acpi_sdt *r = take(a, FW_RSDT_LEN);

	if (!r)
		return NULL;
	sdt_header(r, "RSDT", FW_RSDT_LEN, ACPI_RSDT_REV);
	memcpy(r + 1, &madt_pa, sizeof(madt_pa));
	r->checksum = checksum(r, r->length);
	return r;
}

static void rsdp_fill(struct acpi_rsdp *r, uint32_t rsdt_pa)
{
	SETSTR(r->signature, "RSD PTR ");
	SETSTR(r->oem_id, ACPI_OEM_ID);
	r->revision = ACPI_RSDP_REV_1_0;
	r->rsdt_pa = rsdt_pa;
	r->checksum = checksum(r, sizeof(*r));
}

/* ---- Both areas ------------------------------------------------------------ */

/* The EBDA's tables, composed in a; false if they do not fit (which the
 * static assertion above rules out for ncpus <= FW_MAX_CPUS). */
static bool ebda_build(struct area *a, unsigned ncpus)
{
	struct mp_fptr *fptr = take(a, sizeof(*fptr));
	struct acpi_rsdp *rsdp = take(a, sizeof(*rsdp));
	struct mp_conf *conf = mp_conf_build(a, ncpus);
	struct acpi_madt *madt = madt_build(a, ncpus);
	struct acpi_sdt *rsdt = madt ? rsdt_build(a, gpa_of(a, madt)) : NULL;

	if (!fptr || !rsdp || !conf || !rsdt)
		return false;
	mp_fptr_fill(fptr, gpa_of(a, conf));
	rsdp_fill(rsdp, gpa_of(a, rsdt));
	return true;
}

static void bda_fill(uint8_t *bda)
{
	uint16_t com1 = COM1_PORT, seg = FW_EBDA_PA >> PARA_SHIFT,
		 basemem = FW_BASEMEM_END / KIB;

	memset(bda, 0, FW_BDA_SIZE);
	memcpy(bda + BDA_COM1, &com1, sizeof(com1));
	memcpy(bda + BDA_EBDA_SEG, &seg, sizeof(seg));
	memcpy(bda + BDA_BASEMEM_KB, &basemem, sizeof(basemem));
}

void fw_tables_build(unsigned ncpus, uint64_t ram_bytes)
{
	static struct area a;
	uint8_t *bda, *ebda;

	if (ncpus < 1 || ncpus > FW_MAX_CPUS) {
		cprintf("vmm: firmware tables: %u CPUs (1 to %d): none written\n",
			ncpus, FW_MAX_CPUS);
		return;
	}
	if (ram_bytes < FW_EBDA_PA + FW_EBDA_SIZE) {
		cprintf("vmm: firmware tables: %llu bytes of RAM end below the "
			"EBDA's end (0x%x): none written\n",
			(unsigned long long)ram_bytes, FW_EBDA_PA + FW_EBDA_SIZE);
		return;
	}
	bda = gmem_ptr(FW_BDA_PA, FW_BDA_SIZE);
	ebda = gmem_ptr(FW_EBDA_PA, FW_EBDA_SIZE);
	if (!bda || !ebda) {
		cprintf("vmm: firmware tables: guest memory at 0x%x not staged: "
			"none written\n", bda ? FW_EBDA_PA : FW_BDA_PA);
		return;
	}
	memset(&a, 0, sizeof(a));
	if (!ebda_build(&a, ncpus)) {
		cprintf("vmm: firmware tables: %u CPUs' tables do not fit the "
			"EBDA: none written\n", ncpus);
		return;
	}
	bda_fill(bda);
	memcpy(ebda, a.buf, sizeof(a.buf));
}
