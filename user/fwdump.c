/*
 * fwdump: a test of vmmdev/fwtables.c, the firmware tables the vmm program
 * writes into a PC-kind guest. It stands in for the VMM (its own gmem_ptr
 * over a 1 MiB buffer, "guest memory" [0, 1 MiB)) and then for a guest
 * kernel: it finds the tables the way such a kernel does and checks and
 * prints them.
 *
 *   MP (MultiProcessor Specification 1.4, 4.1-4.3): "_MP_" on a 16-byte
 *   boundary in the EBDA's first KiB (segment in BDA word 0x0E), else the
 *   last KiB of base memory (KiB in BDA word 0x13), else 0xF0000-0xFFFFF;
 *   its checksum; the "PCMP" table's checksum, then its entries.
 *   ACPI (6.4 5.2.5.1): "RSD PTR " on a 16-byte boundary in the EBDA's
 *   first KiB, else 0xE0000-0xFFFFF; RSDT; the "APIC" table it lists.
 *
 * Invariants:
 * - The parser reads raw bytes at the specifications' offsets (the names
 *   below), never fwtables.c's structures, so a layout mistake there is
 *   caught here.
 * - Every case starts from guest memory filled with MEM_FILL; a byte that
 *   changed outside the BDA and the EBDA (fwtables.h) fails the case, and
 *   a refused case must change no byte at all.
 * - The last line is "fwdump: all N cases passed" only if every case did;
 *   each failure prints a line with "FAIL".
 */
#include <inc/lib.h>
#include <vmmdev/dev.h>
#include <vmmdev/fwtables.h>

#define GMEM_SIZE (1u << 20)
#define MEM_FILL 0xA5
#define PARA 16
#define KIB 1024

static uint8_t gmem[GMEM_SIZE];
/* gmem_ptr refuses ranges that touch [refuse_lo, refuse_hi). */
static uint64_t refuse_lo, refuse_hi;

void *gmem_ptr(uint64_t gpa, size_t n)
{
	if (gpa > GMEM_SIZE || n > GMEM_SIZE - gpa)
		return NULL;
	if (gpa < refuse_hi && gpa + n > refuse_lo)
		return NULL;
	return gmem + gpa;
}

/* ---- Reading guest memory -------------------------------------------- */

static const char *why; /* the first failure of the case being run */

static void bad(const char *what)
{
	if (!why)
		why = what;
}

/* bad(what), for a lookup that found nothing: 0. */
static uint32_t none(const char *what)
{
	bad(what);
	return 0;
}

static uint32_t rd(uint32_t pa, unsigned size)
{
	uint32_t v = 0;

	if (pa > GMEM_SIZE - size) {
		bad("a table points past guest memory");
		return 0;
	}
	while (size--)
		v = v << 8 | gmem[pa + size];
	return v;
}

static bool sums_to_0(uint32_t pa, uint32_t len)
{
	uint8_t s = 0;

	if (pa > GMEM_SIZE || len > GMEM_SIZE - pa)
		return false;
	while (len--)
		s += gmem[pa++];
	return s == 0;
}

static bool sig_at(uint32_t pa, const char *sig)
{
	size_t n = strlen(sig);

	return pa <= GMEM_SIZE - n && memcmp(gmem + pa, sig, n) == 0;
}

/* ---- MP ----------------------------------------------------------------- */

/* Offsets, MP spec 1.4 Tables 4-1, 4-2, 4-4, 4-7, 4-9, 4-10, 4-12. */
#define BDA_EBDA_SEG 0x40E
#define BDA_BASEMEM_KB 0x413
#define BDA_COM1 0x400
#define BIOS_ROM 0xF0000
#define BIOS_ROM_END 0x100000
#define FPTR_CONF 4
#define FPTR_LEN16 8
#define FPTR_REV 9
#define FPTR_FEATURE1 11
#define CONF_LEN 4
#define CONF_REV 6
#define CONF_COUNT 34
#define CONF_LAPIC 36
#define CONF_HEADER 44
#define PROC_SIZE 20
#define ENTRY_SIZE 8
#define E_ID 1        /* processor: APIC id; bus: id; IOAPIC: id */
#define PROC_FLAGS 3
#define BUS_TYPE 2
#define IOAPIC_FLAGS 3
#define IOAPIC_ADDR 4
#define INTR_TYPE 1
#define INTR_SRC_BUS 4
#define INTR_SRC_IRQ 5
#define INTR_DST 6
#define INTR_PIN 7

enum { T_PROC, T_BUS, T_IOAPIC, T_IOINTR, T_LINTR };
enum { INT_INT, INT_NMI, INT_SMI, INT_EXTINT };

struct found { /* what a guest learns; the MP and ACPI walks each fill one */
	unsigned ncpus, bsp_count;
	int ioapic_id;
	uint32_t ioapic_pa, lapic_pa;
	int irq_pin[FW_ISA_IRQS]; /* -1: no entry */
	int lint_extint, lint_nmi;
	int iso_gsi; /* ACPI: IRQ 0's override */
};

static uint32_t scan(uint32_t pa, uint32_t len, const char *sig,
		     uint32_t sumlen)
{
	uint32_t end = pa + len;

	for (; pa + sumlen <= end; pa += PARA)
		if (sig_at(pa, sig) && sums_to_0(pa, sumlen))
			return pa;
	return 0;
}

static uint32_t mp_search(void)
{
	uint32_t ebda = rd(BDA_EBDA_SEG, 2) * PARA;
	uint32_t base = rd(BDA_BASEMEM_KB, 2) * KIB, p;

	if (ebda && (p = scan(ebda, KIB, "_MP_", PARA)))
		return p;
	if (base >= KIB && (p = scan(base - KIB, KIB, "_MP_", PARA)))
		return p;
	return scan(BIOS_ROM, BIOS_ROM_END - BIOS_ROM, "_MP_", PARA);
}

static void mp_entry(uint32_t e, struct found *f)
{
	unsigned irq;

	switch (gmem[e]) {
	case T_PROC:
		if (rd(e + E_ID, 1) != f->ncpus)
			bad("MP: processor APIC ids are not 0, 1, ...");
		if (!(rd(e + PROC_FLAGS, 1) & 1))
			bad("MP: a processor is not enabled");
		f->bsp_count += (rd(e + PROC_FLAGS, 1) & 2) != 0;
		if ((rd(e + PROC_FLAGS, 1) & 2) && rd(e + E_ID, 1) != 0)
			bad("MP: the boot processor is not APIC id 0");
		f->ncpus++;
		break;
	case T_BUS:
		if (rd(e + E_ID, 1) != 0 || memcmp(gmem + e + BUS_TYPE, "ISA   ", 6))
			bad("MP: bus 0 is not ISA");
		break;
	case T_IOAPIC:
		f->ioapic_id = rd(e + E_ID, 1);
		f->ioapic_pa = rd(e + IOAPIC_ADDR, 4);
		if (!(rd(e + IOAPIC_FLAGS, 1) & 1))
			bad("MP: the IOAPIC is not enabled");
		break;
	case T_IOINTR:
		irq = rd(e + INTR_SRC_IRQ, 1);
		if (rd(e + INTR_TYPE, 1) != INT_INT || rd(e + INTR_SRC_BUS, 1) ||
		    irq >= FW_ISA_IRQS || f->irq_pin[irq] >= 0 ||
		    (int)rd(e + INTR_DST, 1) != f->ioapic_id)
			bad("MP: a bad I/O interrupt entry");
		else
			f->irq_pin[irq] = rd(e + INTR_PIN, 1);
		break;
	case T_LINTR:
		if (rd(e + INTR_DST, 1) != 0xFF)
			bad("MP: a local interrupt not for every local APIC");
		if (rd(e + INTR_TYPE, 1) == INT_EXTINT)
			f->lint_extint = rd(e + INTR_PIN, 1);
		else if (rd(e + INTR_TYPE, 1) == INT_NMI)
			f->lint_nmi = rd(e + INTR_PIN, 1);
		break;
	default:
		bad("MP: an unknown entry type");
	}
}

static void mp_walk(struct found *f)
{
	uint32_t fp = mp_search(), c, e, end;
	unsigned i, n, last = 0;

	if (!fp) {
		bad("MP: no floating pointer");
		return;
	}
	c = rd(fp + FPTR_CONF, 4);
	if (rd(fp + FPTR_LEN16, 1) != 1 || rd(fp + FPTR_REV, 1) != 4 ||
	    rd(fp + FPTR_FEATURE1, 1) != 0)
		bad("MP: floating pointer length, revision or feature byte");
	if (!sig_at(c, "PCMP") || !sums_to_0(c, rd(c + CONF_LEN, 2))) {
		bad("MP: no PCMP table, or its checksum is wrong");
		return;
	}
	if (rd(c + CONF_REV, 1) != 4)
		bad("MP: the table's revision is not 4");
	f->lapic_pa = rd(c + CONF_LAPIC, 4);
	n = rd(c + CONF_COUNT, 2);
	end = c + rd(c + CONF_LEN, 2);
	for (i = 0, e = c + CONF_HEADER; i < n && e < end && !why; i++) {
		if (gmem[e] < last)
			bad("MP: entries not ordered by type");
		last = gmem[e];
		mp_entry(e, f);
		e += gmem[e] == T_PROC ? PROC_SIZE : ENTRY_SIZE;
	}
	if (e != end)
		bad("MP: the entries do not end where the table's length says");
	cprintf("  MP: _MP_ at 0x%x -> PCMP at 0x%x, %d entries, %d bytes\n",
		fp, c, n, end - c);
}

/* ---- ACPI ----------------------------------------------------------------- */

/* Offsets, ACPI 6.4 5.2.5.3, 5.2.6, 5.2.12. */
#define RSDP_LEN 20
#define RSDP_REV 15
#define RSDP_RSDT 16
#define ACPI_SEARCH_LO 0xE0000
#define SDT_LEN 4
#define SDT_HEADER 36
#define MADT_LAPIC_ADDR 36
#define MADT_FLAGS 40
#define MADT_HEADER 44
#define M_TYPE 0
#define M_LEN 1
#define ML_APIC_ID 3
#define ML_FLAGS 4
#define MIO_ID 2
#define MIO_ADDR 4
#define MIO_GSI_BASE 8
#define MISO_BUS 2
#define MISO_SRC 3
#define MISO_GSI 4
enum { M_LAPIC, M_IOAPIC, M_ISO };

static uint32_t madt_find(void)
{
	uint32_t ebda = rd(BDA_EBDA_SEG, 2) * PARA, p = 0, rsdt, i, t;

	if (ebda)
		p = scan(ebda, KIB, "RSD PTR ", RSDP_LEN);
	if (!p)
		p = scan(ACPI_SEARCH_LO, BIOS_ROM_END - ACPI_SEARCH_LO,
			 "RSD PTR ", RSDP_LEN);
	if (!p || rd(p + RSDP_REV, 1) != 0)
		return none("ACPI: no RSDP of revision 0 (ACPI 1.0)");
	rsdt = rd(p + RSDP_RSDT, 4);
	if (!sig_at(rsdt, "RSDT") || !sums_to_0(rsdt, rd(rsdt + SDT_LEN, 4)) ||
	    (rd(rsdt + SDT_LEN, 4) - SDT_HEADER) % 4)
		return none("ACPI: no RSDT, or its checksum or length is wrong");
	for (i = rsdt + SDT_HEADER; i < rsdt + rd(rsdt + SDT_LEN, 4); i += 4) {
		t = rd(i, 4);
		if (sig_at(t, "APIC") && sums_to_0(t, rd(t + SDT_LEN, 4))) {
			cprintf("  ACPI: RSD PTR at 0x%x -> RSDT at 0x%x -> "
				"APIC at 0x%x, %d bytes\n", p, rsdt, t,
				rd(t + SDT_LEN, 4));
			return t;
		}
	}
	return none("ACPI: the RSDT lists no MADT with a right checksum");
}

static void madt_walk(struct found *f)
{
	uint32_t m = madt_find(), e, end;

	if (!m)
		return;
	f->lapic_pa = rd(m + MADT_LAPIC_ADDR, 4);
	if (!(rd(m + MADT_FLAGS, 4) & 1))
		bad("ACPI: the MADT lacks PCAT_COMPAT");
	end = m + rd(m + SDT_LEN, 4);
	for (e = m + MADT_HEADER; e + 2 <= end && gmem[e + M_LEN] >= 2;
	     e += gmem[e + M_LEN]) {
		if (gmem[e + M_TYPE] == M_LAPIC) {
			if (rd(e + ML_APIC_ID, 1) != f->ncpus ||
			    !(rd(e + ML_FLAGS, 4) & 1))
				bad("ACPI: a local APIC not enabled or out of order");
			f->ncpus++;
		} else if (gmem[e + M_TYPE] == M_IOAPIC) {
			if (f->ioapic_id >= 0 || rd(e + MIO_GSI_BASE, 4))
				bad("ACPI: a second IOAPIC, or GSI base not 0");
			f->ioapic_id = rd(e + MIO_ID, 1);
			f->ioapic_pa = rd(e + MIO_ADDR, 4);
		} else if (gmem[e + M_TYPE] == M_ISO) {
			if (rd(e + MISO_BUS, 1) || rd(e + MISO_SRC, 1) ||
			    f->iso_gsi >= 0)
				bad("ACPI: an override other than IRQ 0's");
			f->iso_gsi = rd(e + MISO_GSI, 4);
		}
	}
	if (e != end)
		bad("ACPI: the MADT's entries do not end at its length");
}

/* ---- Cases -------------------------------------------------------------------- */

static void found_init(struct found *f)
{
	memset(f, 0, sizeof(*f));
	f->ioapic_id = f->lint_extint = f->lint_nmi = f->iso_gsi = -1;
	memset(f->irq_pin, 0xFF, sizeof(f->irq_pin));
}

/* The expected machine: ncpus CPUs, IOAPIC id ncpus, IRQ 0 on pin 2. */
static void expect(const struct found *f, unsigned ncpus, bool mp)
{
	unsigned i;

	if (f->ncpus != ncpus || (mp && f->bsp_count != 1))
		bad("not ncpus CPUs, or not one boot CPU");
	if (f->ioapic_id != (int)ncpus || f->ioapic_pa != FW_IOAPIC_PA ||
	    f->lapic_pa != FW_LAPIC_PA)
		bad("IOAPIC id or address, or local APIC address");
	for (i = 0; mp && i < FW_ISA_IRQS; i++)
		if (f->irq_pin[i] != (i == 0 ? 2 : i == 2 ? -1 : (int)i))
			bad("MP: ISA IRQ routing is not IRQ 0 -> pin 2, others 1:1");
	if (mp && (f->lint_extint != 0 || f->lint_nmi != 1))
		bad("MP: LINT0 is not ExtINT or LINT1 not NMI");
	if (!mp && f->iso_gsi != FW_PIT_GSI)
		bad("ACPI: no override IRQ 0 -> GSI 2");
}

/* Nothing but the BDA and the EBDA changed (everything, if !any). */
static void untouched(bool any)
{
	uint32_t pa;

	for (pa = 0; pa < GMEM_SIZE; pa++) {
		bool ours = (pa >= FW_BDA_PA && pa < FW_BDA_PA + FW_BDA_SIZE) ||
			    (pa >= FW_EBDA_PA && pa < FW_EBDA_PA + FW_EBDA_SIZE);
		if (gmem[pa] != MEM_FILL && (!any || !ours)) {
			cprintf("  byte 0x%x changed\n", pa);
			bad("a byte outside the firmware areas changed");
			return;
		}
	}
}

static int failures, cases;

static void result(const char *name)
{
	cases++;
	if (why) {
		failures++;
		cprintf("fwdump: %s: FAIL: %s\n", name, why);
	} else
		cprintf("fwdump: %s: ok\n", name);
	why = NULL;
}

static void good_case(unsigned ncpus)
{
	struct found mp, acpi;
	char name[32];

	snprintf(name, sizeof(name), "%u CPUs", ncpus);
	memset(gmem, MEM_FILL, sizeof(gmem));
	fw_tables_build(ncpus, 64 << 20);
	untouched(true);
	if (rd(BDA_COM1, 2) != 0x3F8 || rd(BDA_EBDA_SEG, 2) != FW_EBDA_PA / PARA ||
	    rd(BDA_BASEMEM_KB, 2) != FW_BASEMEM_END / KIB)
		bad("BDA: COM1, EBDA segment or base memory");
	found_init(&mp);
	mp_walk(&mp);
	expect(&mp, ncpus, true);
	cprintf("  MP: %u CPUs (%u boot), IOAPIC %d at 0x%x, LAPIC 0x%x, "
		"IRQ 0 -> pin %d, IRQ 2 -> %d, IRQ 15 -> pin %d, LINT0 ExtINT "
		"%d, LINT1 NMI %d\n", mp.ncpus, mp.bsp_count, mp.ioapic_id,
		mp.ioapic_pa, mp.lapic_pa, mp.irq_pin[0], mp.irq_pin[2],
		mp.irq_pin[15], mp.lint_extint, mp.lint_nmi);
	found_init(&acpi);
	madt_walk(&acpi);
	expect(&acpi, ncpus, false);
	cprintf("  ACPI: %u CPUs, IOAPIC %d at 0x%x, LAPIC 0x%x, IRQ 0 -> GSI "
		"%d\n", acpi.ncpus, acpi.ioapic_id, acpi.ioapic_pa,
		acpi.lapic_pa, acpi.iso_gsi);
	result(name);
}

/* fw_tables_build must refuse and write nothing. */
static void refused_case(const char *name, unsigned ncpus, uint64_t ram,
			 uint64_t lo, uint64_t hi)
{
	memset(gmem, MEM_FILL, sizeof(gmem));
	refuse_lo = lo;
	refuse_hi = hi;
	fw_tables_build(ncpus, ram);
	refuse_lo = refuse_hi = 0;
	untouched(false);
	result(name);
}

void umain(int argc, char **argv)
{
	static const unsigned good[] = { 1, 2, 4, 8, FW_MAX_CPUS };
	unsigned i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		good_case(good[i]);
	refused_case("0 CPUs", 0, 64 << 20, 0, 0);
	refused_case("too many CPUs", FW_MAX_CPUS + 1, 64 << 20, 0, 0);
	refused_case("RAM below the EBDA's end", 1, FW_EBDA_PA, 0, 0);
	refused_case("EBDA not staged", 2, 64 << 20, FW_EBDA_PA + 1,
		     FW_EBDA_PA + 2);
	refused_case("BDA not staged", 2, 64 << 20, FW_BDA_PA, FW_BDA_PA + 1);
	if (failures)
		cprintf("fwdump: %d of %d cases FAILED\n", failures, cases);
	else
		cprintf("fwdump: all %d cases passed\n", cases);
}
