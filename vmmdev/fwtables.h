/*
 * The firmware data a PC BIOS leaves in memory for the operating system it
 * boots, written by the VMM into a PC-kind guest before it starts
 * (vmmdev/fwtables.c): the BIOS data area, the MP floating pointer and
 * configuration table, and ACPI's RSDP, RSDT and MADT.
 *
 * Invariants:
 * - fw_tables_build writes guest-physical bytes in exactly two ranges:
 *   [FW_BDA_PA, FW_BDA_PA + FW_BDA_SIZE) and
 *   [FW_EBDA_PA, FW_EBDA_PA + FW_EBDA_SIZE). Both lie below 0xA0000, in
 *   the guest RAM every guest has (inc/vmx.h), not in the legacy hole.
 * - Every table lies whole in the EBDA's one KiB, where both a guest's MP
 *   search and its ACPI search look first: the MP floating pointer and the
 *   RSDP on 16-byte boundaries, as their specifications require.
 */
#ifndef JOS_VMMDEV_FWTABLES_H
#define JOS_VMMDEV_FWTABLES_H

#include <inc/types.h>

/* The BIOS data area (segment 0x40) and the extended BIOS data area: one
 * KiB just below 640 KiB, as PC BIOSes leave it. */
#define FW_BDA_PA 0x400
#define FW_BDA_SIZE 0x100
#define FW_EBDA_PA 0x9FC00
#define FW_EBDA_SIZE 0x400
/* The lowest byte the firmware reserves: the BIOS segment (vmmdev/bios.h's
 * BIOS_PA) lies below the EBDA, so the base memory the BDA reports (in
 * KiB) ends here, not at the EBDA. */
#define FW_BASEMEM_END 0x9F000

/* CPUs the tables list at most (sizes the EBDA: fwtables.c checks that
 * the tables of FW_MAX_CPUS CPUs fit). */
#define FW_MAX_CPUS 16

/* The machine the tables describe: the xAPIC and IOAPIC addresses, and
 * the IOAPIC's ID (after the CPUs' APIC IDs 0..ncpus-1) and version (the
 * 82093AA's; vmmdev/ioapic.c's version register should read the same). */
#define FW_LAPIC_PA 0xFEE00000u
#define FW_IOAPIC_PA 0xFEC00000u
#define FW_IOAPIC_VERSION 0x11
#define FW_IOAPIC_PINS 24
#define FW_LAPIC_VERSION 0x14
/* ISA IRQ 0 (the PIT) reaches IOAPIC pin 2; every other ISA IRQ the pin
 * of its number. IRQ 2 (the PIC cascade) has no pin. */
#define FW_ISA_IRQS 16
#define FW_PIT_IRQ 0
#define FW_PIT_GSI 2
#define FW_CASCADE_IRQ 2

/*
 * Write the BIOS data area and the MP and ACPI tables of a PC with ncpus
 * CPUs (APIC IDs 0..ncpus-1, CPU 0 the boot CPU) and ram_bytes of RAM,
 * through gmem_ptr (vmmdev/dev.h), before the guest starts. An ncpus
 * outside 1..FW_MAX_CPUS, RAM that ends below the EBDA's end, or either
 * range not staged by gmem_ptr is reported in one line and writes
 * nothing (the guest then finds no tables: one CPU, no IOAPIC, and the
 * caller should have refused such a guest first). Nothing outside the two
 * ranges above is ever written.
 */
void fw_tables_build(unsigned ncpus, uint64_t ram_bytes);

#endif /* !JOS_VMMDEV_FWTABLES_H */
