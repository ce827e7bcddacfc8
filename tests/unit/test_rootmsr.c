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
	CHECK_EQ(root_msr_rule(0x2ff), ROOT_MSR_READ_ONLY);	/* MTRRs */
	CHECK_EQ(root_msr_rule(0x20f), ROOT_MSR_READ_ONLY);
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

	v = 0x6;	/* an MTRR: the same value passes, another does not */
	CHECK(root_msr_filter(0x2ff, 0x6, &v));
	v = 0xc06;
	CHECK(!root_msr_filter(0x2ff, 0x6, &v));
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
