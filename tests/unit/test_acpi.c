#include <hv/acpi.h>
#include "harness.h"

static u8 *lowmem;	/* fake [0, 1 MiB) */

static void fix_checksum(u8 *p, u32 len, u32 at)
{
	u8 sum = 0;

	p[at] = 0;
	for (u32 i = 0; i < len; i++)
		sum += p[i];
	p[at] = (u8)-sum;
}

static void header(u8 *t, const char *sig, u32 len)
{
	memset(t, 0, len);
	memcpy(t, sig, 4);
	memcpy(t + 4, &len, 4);
}

/* RSDP (v2) at 0xf0010 -> XSDT at 0x80000 -> MADT at 0x81000. */
static void tables(u32 madt_len, const u8 *entries, u32 elen)
{
	u8 *rsdp = lowmem + 0xf0010, *xsdt = lowmem + 0x80000;
	u8 *madt = lowmem + 0x81000;
	u64 madt_pa = 0x81000, xsdt_pa = 0x80000;
	u32 len = 36, lapic = 0xfee00000, flags = 1;

	memcpy(rsdp, "RSD PTR ", 8);
	rsdp[15] = 2;
	memcpy(rsdp + 20, &len, 4);
	memcpy(rsdp + 24, &xsdt_pa, 8);
	fix_checksum(rsdp, 20, 8);
	fix_checksum(rsdp, 36, 32);
	header(xsdt, "XSDT", 36 + 8);
	memcpy(xsdt + 36, &madt_pa, 8);
	fix_checksum(xsdt, 36 + 8, 9);
	header(madt, "APIC", madt_len);
	memcpy(madt + 36, &lapic, 4);
	memcpy(madt + 40, &flags, 4);
	memcpy(madt + 44, entries, elen);
	fix_checksum(madt, madt_len, 9);
}

static void setup(void)
{
	lowmem = fake_mem_add(0, 0x100000);
	memset(lowmem, 0, 0x100000);
}

static const u8 two_cpus_and_friends[] = {
	0, 8, 0, 0, 1, 0, 0, 0,		/* LAPIC uid 0 id 0 enabled */
	0, 8, 1, 1, 1, 0, 0, 0,		/* LAPIC uid 1 id 1 enabled */
	0, 8, 2, 2, 0, 0, 0, 0,		/* LAPIC id 2 disabled */
	1, 12, 0, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0,	/* IOAPIC 0 */
	1, 12, 5, 0, 0, 0x10, 0xc0, 0xfe, 24, 0, 0, 0,	/* IOAPIC 5 */
	9, 16, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, /* x2APIC dup */
	9, 16, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, /* x2APIC 256 */
};

TEST(acpi_scan_find_and_parse_madt)
{
	struct acpi_root root;
	struct acpi_madt_info mi;
	const struct acpi_table_header *t;
	u64 rsdp, pa;
	u32 len = 44 + sizeof(two_cpus_and_friends);

	setup();
	tables(len, two_cpus_and_friends, sizeof(two_cpus_and_friends));
	CHECK_NULL(acpi_rsdp_scan(fake_read, NULL, &rsdp));
	CHECK_EQ(rsdp, 0xf0010);
	CHECK_NULL(acpi_rsdp_parse(lowmem + rsdp, 36, &root));
	CHECK(root.xsdt);
	CHECK_EQ(root.table_pa, 0x80000);
	t = acpi_find_table(&root, "APIC", fake_read, NULL, &pa);
	CHECK(t != NULL);
	CHECK_EQ(pa, 0x81000);
	CHECK(!acpi_find_table(&root, "HPET", fake_read, NULL, &pa));
	CHECK_NULL(acpi_madt_parse(t, &mi));
	CHECK_EQ(mi.lapic_base, 0xfee00000);
	CHECK(mi.pcat_compat);
	CHECK_EQ(mi.n_cpus, 3);
	CHECK_EQ(mi.cpus[1].apic_id, 1);
	CHECK_EQ(mi.cpus[2].apic_id, 256);
	CHECK(mi.cpus[2].x2apic_entry);
	CHECK_EQ(mi.n_disabled, 1);
	CHECK_EQ(mi.n_ioapics, 2);
	CHECK_EQ(mi.ioapics[0].base, 0xfec00000);
	CHECK_EQ(mi.ioapics[1].id, 5);
	CHECK_EQ(mi.ioapics[1].base, 0xfec01000);
	CHECK_EQ(mi.ioapics[1].gsi_base, 24);
}

TEST(acpi_rsdp_in_ebda_and_v1)
{
	struct acpi_root root;
	u8 *r;
	u64 pa;
	u16 seg = 0x9fc0;
	u32 rsdt = 0x70000;

	setup();
	memcpy(lowmem + 0x40e, &seg, 2);
	r = lowmem + 0x9fc00 + 0x20;
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 16, &rsdt, 4);
	fix_checksum(r, 20, 8);
	CHECK_NULL(acpi_rsdp_scan(fake_read, NULL, &pa));
	CHECK_EQ(pa, 0x9fc20);
	CHECK_NULL(acpi_rsdp_parse(r, 20, &root));
	CHECK(!root.xsdt);
	CHECK_EQ(root.table_pa, 0x70000);
}

TEST(acpi_refuses_bad_checksums_and_tables)
{
	struct acpi_root root;
	struct acpi_madt_info mi;
	u64 pa;
	u8 bad_entry[] = { 0, 200, 0, 0 };	/* overruns the table */
	u8 none[] = { 0, 8, 0, 0, 0, 0, 0, 0 };	/* only a disabled CPU */

	setup();
	CHECK(acpi_rsdp_scan(fake_read, NULL, &pa));	/* nothing there */
	tables(44 + 8, two_cpus_and_friends, 8);
	lowmem[0xf0010 + 9] ^= 1;			/* OEM id: checksum off */
	CHECK(acpi_rsdp_parse(lowmem + 0xf0010, 36, &root));
	tables(44 + 8, two_cpus_and_friends, 8);
	lowmem[0x81000 + 50] ^= 0xff;			/* MADT body changed */
	CHECK_NULL(acpi_rsdp_parse(lowmem + 0xf0010, 36, &root));
	CHECK(!acpi_find_table(&root, "APIC", fake_read, NULL, &pa));
	tables(44 + 4, bad_entry, 4);
	CHECK_STR(acpi_madt_parse(acpi_find_table(&root, "APIC", fake_read,
						  NULL, &pa), &mi),
		  "MADT entry overruns the table");
	tables(44 + 8, none, 8);
	CHECK_STR(acpi_madt_parse(acpi_find_table(&root, "APIC", fake_read,
						  NULL, &pa), &mi),
		  "MADT lists no usable CPU");
	CHECK(acpi_rsdp_parse("RSD PTR", 8, &root));	/* too short */
}

TEST(acpi_madt_cpu_limit)
{
	static u8 many[8 * (HV_MAX_CPUS + 3)];
	struct acpi_root root;
	struct acpi_madt_info mi;
	u64 pa;

	setup();
	for (u32 i = 0; i < HV_MAX_CPUS + 3; i++) {
		u8 e[8] = { 0, 8, (u8)i, (u8)i, 1, 0, 0, 0 };
		memcpy(many + 8 * i, e, 8);
	}
	tables(44 + sizeof(many), many, sizeof(many));
	CHECK_NULL(acpi_rsdp_parse(lowmem + 0xf0010, 36, &root));
	CHECK_NULL(acpi_madt_parse(acpi_find_table(&root, "APIC", fake_read,
						   NULL, &pa), &mi));
	CHECK_EQ(mi.n_cpus, HV_MAX_CPUS);
	CHECK_EQ(mi.n_over_limit, 3);
}

TEST(acpi_root_remove_hides_a_table)
{
	struct acpi_root root;
	u64 pa, apic = 0x81000, ivrs = 0x82000, hpet = 0x83000;
	u8 *xsdt;

	setup();
	xsdt = lowmem + 0x80000;
	tables(44 + 8, two_cpus_and_friends, 8);
	header(xsdt, "XSDT", 36 + 24);
	memcpy(xsdt + 36, &apic, 8);
	memcpy(xsdt + 44, &ivrs, 8);
	memcpy(xsdt + 52, &hpet, 8);
	fix_checksum(xsdt, 36 + 24, 9);
	CHECK(acpi_root_remove((void *)xsdt, true, ivrs));
	CHECK_EQ(((struct acpi_table_header *)xsdt)->length, 36 + 16);
	CHECK_EQ(*(u64 *)(xsdt + 44), hpet);
	CHECK_EQ(*(u64 *)(xsdt + 52), 0);
	CHECK(!acpi_root_remove((void *)xsdt, true, ivrs));
	/* Still a valid root table: the MADT is found through it. */
	CHECK_NULL(acpi_rsdp_parse(lowmem + 0xf0010, 36, &root));
	CHECK(acpi_find_table(&root, "APIC", fake_read, NULL, &pa) != NULL);
	CHECK_EQ(pa, apic);
}
