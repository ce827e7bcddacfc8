/*
 * Just enough ACPI to find the CPUs: the RSDP, the RSDT/XSDT and the
 * MADT. Pure code: tables are read through a phys_reader_fn, checked
 * (signatures, lengths, checksums) before use, and unit-tested on fake
 * tables.
 */
#ifndef HV_ACPI_H
#define HV_ACPI_H

#include <hv/bootinfo.h>

#define HV_MAX_CPUS 64

struct acpi_table_header {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	u32 creator_id;
	u32 creator_revision;
} __packed;
static_assert(sizeof(struct acpi_table_header) == 36, "ACPI table header");

struct acpi_rsdp {
	char signature[8];
	u8 checksum;
	char oem_id[6];
	u8 revision;
	u32 rsdt_address;
	/* ACPI 2.0+ */
	u32 length;
	u64 xsdt_address;
	u8 extended_checksum;
	u8 reserved[3];
} __packed;
static_assert(sizeof(struct acpi_rsdp) == 36, "ACPI RSDP");

struct acpi_root {
	u64 table_pa;		/* the XSDT if there is one, else the RSDT */
	bool xsdt;
};

struct acpi_cpu {
	u32 apic_id;
	u32 uid;
	bool x2apic_entry;	/* described by a type 9 entry */
};

#define ACPI_MAX_IOAPICS 8

struct acpi_ioapic {
	u32 id;
	u32 base;		/* its MMIO page */
	u32 gsi_base;
};

struct acpi_madt_info {
	u64 lapic_base;
	u32 n_ioapics;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	bool pcat_compat;	/* has legacy 8259 PICs */
	u32 n_cpus;
	struct acpi_cpu cpus[HV_MAX_CPUS];
	u32 n_disabled;		/* present in the table, not usable */
	u32 n_over_limit;	/* usable but beyond HV_MAX_CPUS */
};

/* Checks an RSDP (v1 or v2+) and says where the root table is. */
const char *acpi_rsdp_parse(const void *rsdp, size_t len,
			    struct acpi_root *out);

/* Looks for the RSDP in the EBDA and the BIOS area (ACPI 5.2.5.1). */
const char *acpi_rsdp_scan(phys_reader_fn read, void *ctx, u64 *rsdp_pa);

/*
 * Finds the table with this signature through the root table. Returns
 * NULL if absent or broken; *pa and *len describe it on success.
 */
const struct acpi_table_header *
acpi_find_table(const struct acpi_root *root, const char sig[4],
		phys_reader_fn read, void *ctx, u64 *pa);

/*
 * Takes the entry naming the table at pa out of a root table (RSDT or
 * XSDT) in place and fixes its checksum, so that whoever reads the
 * tables next does not find that table. False if it is not listed.
 */
bool acpi_root_remove(struct acpi_table_header *rt, bool xsdt, u64 pa);

/* The root table smp_discover found (its table_pa is 0 before). */
extern struct acpi_root acpi_tables;

const char *acpi_madt_parse(const struct acpi_table_header *madt,
			    struct acpi_madt_info *out);

#endif
