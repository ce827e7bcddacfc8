#include <hv/rootmsr.h>
#include "harness.h"

TEST(rootmsr_table_sorted_and_disjoint)
{
	for (u32 i = 0; i < root_msr_nr_ranges; i++) {
		CHECK(root_msr_ranges[i].first <= root_msr_ranges[i].last);
		if (i)
			CHECK(root_msr_ranges[i - 1].last <
			      root_msr_ranges[i].first);
		CHECK_EQ(root_msr_rule(root_msr_ranges[i].first),
			 root_msr_ranges[i].rule);
		CHECK_EQ(root_msr_rule(root_msr_ranges[i].last),
			 root_msr_ranges[i].rule);
	}
}

TEST(rootmsr_rules)
{
	CHECK_EQ(root_msr_rule(0x2ff), ROOT_MSR_MTRR);
	CHECK_EQ(root_msr_rule(0x20f), ROOT_MSR_MTRR);
	CHECK_EQ(root_msr_rule(0xfe), ROOT_MSR_READ_ONLY);	/* MTRRcap */
	CHECK_EQ(root_msr_rule(0xc0010010), ROOT_MSR_READ_ONLY);	/* SYSCFG */
	CHECK_EQ(root_msr_rule(0xc001001d), ROOT_MSR_READ_ONLY);	/* TOM2 */
	CHECK_EQ(root_msr_rule(0x1dc), ROOT_MSR_HIDDEN);		/* LBR */
	CHECK_EQ(root_msr_rule(0xc0011033), ROOT_MSR_DENIED);	/* IBS */
	CHECK_EQ(root_msr_rule(0x10), ROOT_MSR_HV);		/* TSC */
	CHECK_EQ(root_msr_rule(0x48), ROOT_MSR_PASS);		/* SPEC_CTRL */
	CHECK_EQ(root_msr_rule(0xc0000100), ROOT_MSR_PASS);	/* FS base */
	CHECK_EQ(root_msr_rule(0), ROOT_MSR_PASS);
	CHECK_EQ(root_msr_rule(0xffffffffu), ROOT_MSR_PASS);
	CHECK(!root_msr_intercepts_read(ROOT_MSR_READ_ONLY));
	CHECK(root_msr_intercepts_write(ROOT_MSR_READ_ONLY));
	CHECK(root_msr_intercepts_read(ROOT_MSR_HIDDEN));
	CHECK(!root_msr_intercepts_write(ROOT_MSR_PASS));
}

TEST(rootmsr_filters)
{
	u64 v;

	v = 0x6;	/* read-only: the same value passes, another does not */
	CHECK(root_msr_filter(0xfe, 0x6, &v));
	v = 0xc06;
	CHECK(!root_msr_filter(0xfe, 0x6, &v));
	v = 2;		/* DEBUGCTL: BTF only */
	CHECK(root_msr_filter(0x1d9, 0, &v));
	v = 1;
	CHECK(!root_msr_filter(0x1d9, 0, &v));
	v = BIT(30) | 0x10;	/* HWCR: IRPERF may change, TLB cache not */
	CHECK(root_msr_filter(0xc0010015, 0x10, &v));
	v = 0x18;
	CHECK(!root_msr_filter(0xc0010015, 0x10, &v));
	v = 0x430076ull | (1ull << 41);	/* a host-only event select */
	CHECK(root_msr_filter(0xc0010000, 0, &v));
	CHECK_EQ(v, 0x430076ull | (1ull << 40));
	v = 0x1234;	/* a counter itself */
	CHECK(root_msr_filter(0xc0010201, 0, &v));
	CHECK_EQ(v, 0x1234);
	v = 0;		/* denied and passed-through MSRs are not filtered */
	CHECK(!root_msr_filter(0xc0011030, 0, &v));
}

TEST(rootmsr_mtrrs_only_take_the_firmwares_values)
{
	/* Linux on an AP: MTRRs off, the BSP's values in, back on. */
	CHECK(root_mtrr_write_ok(0x2ff, 0xc06, 0xc06, 0));
	CHECK(root_mtrr_write_ok(0x200, 0, 0x80000000, 0x80000000));
	CHECK(root_mtrr_write_ok(0x2ff, 0, 0xc06, 0xc06));
	CHECK(root_mtrr_write_ok(0x201, 0x800, 0xff80000800, 0x800));
	/* Anything else: a new type or range for any memory. */
	CHECK(!root_mtrr_write_ok(0x2ff, 0xc06, 0xc06, 0xc00));	/* UC */
	CHECK(!root_mtrr_write_ok(0x2ff, 0xc06, 0xc06, 0xc01));	/* WC */
	CHECK(!root_mtrr_write_ok(0x200, 0x80000000, 0x80000000, 0x100001));
	CHECK(!root_mtrr_write_ok(0x268, 0x0606060606060606ull,
				  0x0606060606060606ull, 0x0101010101010101ull));
	CHECK_EQ(root_mtrr_index(0x200), 0);
	CHECK_EQ(root_mtrr_index(0x21f), 31);
	CHECK_EQ(root_mtrr_index(0x250), 32);
	CHECK_EQ(root_mtrr_index(0x259), 34);
	CHECK_EQ(root_mtrr_index(0x26f), 42);
	CHECK_EQ(root_mtrr_index(0x2ff), ROOT_MTRR_COUNT - 1);
	CHECK_EQ(root_mtrr_index(0x251), -1);
	CHECK_EQ(root_mtrr_index(0xfe), -1);
}

#include <hv/rootioapic.h>

TEST(ioapic_root_may_not_route_init_or_smi)
{
	/* Fixed, lowest priority, NMI and ExtINT pass as they are. */
	CHECK_EQ(ioapic_filter_write(0x10, 0x0030), 0x0030);
	CHECK_EQ(ioapic_filter_write(0x12, 0x0131), 0x0131);
	CHECK_EQ(ioapic_filter_write(0x14, 0x0400), 0x0400);
	CHECK_EQ(ioapic_filter_write(0x16, 0x0700), 0x0700);
	/* SMI, INIT and the reserved modes are written masked. */
	CHECK_EQ(ioapic_filter_write(0x10, 0x0200), 0x10200);
	CHECK_EQ(ioapic_filter_write(0x3e, 0x0500), 0x10500);
	CHECK_EQ(ioapic_filter_write(0x20, 0x0300), 0x10300);
	CHECK_EQ(ioapic_filter_write(0x20, 0x0600), 0x10600);
	/* High halves (destination), the id and version pass. */
	CHECK_EQ(ioapic_filter_write(0x11, 0x0500), 0x0500);
	CHECK_EQ(ioapic_filter_write(0x00, 0x0500), 0x0500);
}

#include <hv/rootpci.h>

TEST(pci_cf8_decodes_config_address)
{
	u16 bdf = 0;
	u32 reg = 0;

	/* Bus 0, device 3, function 3, register 0x3c, byte 2 of it. */
	CHECK(pci_cf8_target(0x80001b3c, 0xcfe, &bdf, &reg));
	CHECK_EQ(bdf, 0x1b);
	CHECK_EQ(reg, 0x3e);
	CHECK(pci_cf8_target(0x80ff0004, 0xcfc, &bdf, &reg));	/* bus 255 */
	CHECK_EQ(bdf, 0xff00);
	CHECK_EQ(reg, 4);
	CHECK(!pci_cf8_target(0x00001b3c, 0xcfc, &bdf, &reg));	/* disabled */
	CHECK(!pci_cf8_target(0x80001b3c, 0xcf9, &bdf, &reg));	/* reset port */
	CHECK(!pci_cf8_target(0x81001b3c, 0xcfc, &bdf, &reg));	/* reserved */
}
