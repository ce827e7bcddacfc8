#include <x86/regcheck.h>
#include "harness.h"

static const struct x86_reg_limits limits = {
	.cr4_allowed = 0x7ff | BIT(16) | BIT(18), .phys_bits = 48,
};

TEST(regcheck_cr0)
{
	CHECK(x86_cr0_valid(0x60000010));		/* reset value */
	CHECK(x86_cr0_valid(0x80050033));		/* Linux */
	CHECK(!x86_cr0_valid(0x20000011));		/* NW without CD */
	CHECK(!x86_cr0_valid(0x80000000));		/* PG without PE */
	CHECK(!x86_cr0_valid(1ull << 32 | 0x11));	/* reserved high */
}

TEST(regcheck_cr3_cr4)
{
	CHECK(x86_cr3_valid(&limits, 0xffffffff000ull | 0xfff));
	CHECK(!x86_cr3_valid(&limits, 1ull << 48));
	CHECK(!x86_cr3_valid(&limits, 1ull << 63));
	CHECK(x86_cr4_valid(&limits, 0x6f0 | BIT(18)));
	CHECK(!x86_cr4_valid(&limits, BIT(13)));	/* VMXE */
	CHECK(!x86_cr4_valid(&limits, BIT(22)));	/* PKE, not here */
	CHECK(!x86_cr4_valid(&limits, 1ull << 40));
}

TEST(regcheck_efer_pat_dr)
{
	CHECK(x86_efer_valid(0xd01));			/* SCE LME LMA NXE */
	CHECK(!x86_efer_valid(BIT(1)));
	CHECK(!x86_efer_valid(1ull << 40));
	CHECK(x86_pat_valid(0x0007040600070406ull));
	CHECK(!x86_pat_valid(0x0007040600070402ull));	/* type 2 */
	CHECK(!x86_pat_valid(0x0807040600070406ull));	/* type 8 */
	CHECK(x86_dr6_dr7_valid(0xffff0ff0));
	CHECK(!x86_dr6_dr7_valid(1ull << 32));
}

TEST(regcheck_long_mode)
{
	const u64 pg_pe = 0x80000011, pae = BIT(5), lme = BIT(8);
	const u16 code64 = 0xa09b, code32 = 0xc09b, bad = 0xe09b;

	CHECK(x86_mode_consistent(pg_pe, pae, lme | BIT(10), code64));
	CHECK(x86_mode_consistent(pg_pe, pae, lme, code32));	/* compat */
	CHECK(!x86_mode_consistent(pg_pe, 0, lme, code64));	/* no PAE */
	CHECK(!x86_mode_consistent(pg_pe, pae, lme, bad));	/* L and D */
	CHECK(x86_mode_consistent(0x11, 0, lme, code32));	/* no paging yet */
	CHECK(x86_mode_consistent(pg_pe, 0, 0, code32));	/* legacy */
}
