#include <hv/memmap.h>
#include "harness.h"

static struct memmap m;

#define RAM FW_MEM_RAM
#define RSV FW_MEM_RESERVED

static void init(const struct boot_mem_range *r, u32 n)
{
	CHECK(memmap_init(&m, r, n));
}

TEST(memmap_sorts_and_merges)
{
	const struct boot_mem_range r[] = {
		{ 0x100000, 0x100000, RAM },
		{ 0, 0x9fc00, RAM },		/* partial last page: dropped */
		{ 0x200000, 0x100000, RAM },	/* adjacent: merged */
		{ 0xf0000, 0x10000, RSV },
	};

	init(r, 4);
	CHECK_EQ(m.n, 3);
	CHECK_EQ(m.r[0].base, 0);
	CHECK_EQ(m.r[0].end, 0x9f000);
	CHECK_EQ(m.r[1].type, MEM_RESERVED);
	CHECK_EQ(m.r[2].base, 0x100000);
	CHECK_EQ(m.r[2].end, 0x300000);
	CHECK_EQ(memmap_total(&m, MEM_RAM), 0x9f000 + 0x200000);
}

TEST(memmap_overlaps_most_restrictive_wins)
{
	const struct boot_mem_range r[] = {
		{ 0x100000, 0x400000, RAM },
		{ 0x200800, 0x100, RSV },	/* grows to its whole page */
		{ 0x300000, 0x100000, FW_MEM_ACPI },
		{ 0x300000, 0x1000, FW_MEM_NVS },
		{ 0x480000, 0x1000, 77 },	/* unknown type: reserved */
	};

	init(r, 5);
	CHECK_EQ(memmap_type_at(&m, 0x1ff000), MEM_RAM);
	CHECK_EQ(memmap_type_at(&m, 0x200000), MEM_RESERVED);
	CHECK_EQ(memmap_type_at(&m, 0x201000), MEM_RAM);
	CHECK_EQ(memmap_type_at(&m, 0x300000), MEM_NVS);
	CHECK_EQ(memmap_type_at(&m, 0x301000), MEM_ACPI);
	CHECK_EQ(memmap_type_at(&m, 0x480000), MEM_RESERVED);
	CHECK_EQ(memmap_type_at(&m, 0x900000), MEM_RESERVED);	/* no range */
	CHECK_EQ(memmap_total(&m, MEM_RAM), 0x400000 - 0x1000 - 0x100000 -
		 0x1000);
}

TEST(memmap_claim_only_takes_ram)
{
	const struct boot_mem_range r[] = {
		{ 0, 0xa0000, RAM },
		{ 0x100000, 0x1000000, RAM },
		{ 0x1100000, 0x1000, RSV },
	};

	init(r, 3);
	CHECK(memmap_claim(&m, 0x100000, 0x23456, MEM_HV_IMAGE));
	CHECK_EQ(memmap_type_at(&m, 0x123000), MEM_HV_IMAGE);
	CHECK_EQ(memmap_type_at(&m, 0x124000), MEM_RAM);
	/* Straddles RAM and reserved: refused for the reserved part. */
	CHECK(!memmap_claim(&m, 0x10ff000, 0x2000, MEM_BOOT_MODULE));
	CHECK_EQ(memmap_type_at(&m, 0x1100000), MEM_RESERVED);
	/* Already claimed: not RAM any more. */
	CHECK(!memmap_claim(&m, 0x100000, 0x1000, MEM_HV_POOL));
	CHECK(memmap_claim(&m, 0x5000, 0, MEM_HV_BOOT));
}

TEST(memmap_take_top_above_4g_in_2m_pieces)
{
	const struct boot_mem_range r[] = {
		{ 0x100000, 0xbff00000, RAM },
		{ 0x100000000ull, 0x80000000ull, RAM },
	};
	struct mem_region out[4];
	u32 n;

	init(r, 2);
	n = memmap_take_top(&m, 64ull << 20, 0x100000, 512ull << 30,
			    MEM_HV_POOL, out, 4);
	CHECK_EQ(n, 1);
	CHECK_EQ(out[0].end, 0x180000000ull);
	CHECK_EQ(out[0].base, 0x180000000ull - (64ull << 20));
	CHECK_EQ(memmap_type_at(&m, 0x17c000000ull), MEM_HV_POOL);
	/* The ceiling keeps it below 4 GiB. */
	n = memmap_take_top(&m, 16ull << 20, 0x100000, 1ull << 32,
			    MEM_HV_POOL, out, 4);
	CHECK_EQ(n, 1);
	CHECK(out[0].end <= 1ull << 32);
	CHECK_EQ(out[0].base % (2ull << 20), 0);
}

TEST(memmap_take_top_spans_ranges_or_fails_cleanly)
{
	const struct boot_mem_range r[] = {
		{ 0x100000, 0x300000, RAM },
		{ 0x1000000, 0x200000, RAM },
	};
	struct mem_region out[4];
	u64 before;

	init(r, 2);
	before = memmap_total(&m, MEM_RAM);
	CHECK_EQ(memmap_take_top(&m, 0x600000, 0x100000, ~0ull, MEM_HV_POOL,
				 out, 4), 0);
	CHECK_EQ(memmap_total(&m, MEM_RAM), before);	/* untouched */
	CHECK_EQ(memmap_take_top(&m, 0x300000, 0x100000, ~0ull, MEM_HV_POOL,
				 out, 4), 2);
	/* The lower piece starts on 2 MiB, so it takes a little more. */
	CHECK_EQ(out[0].base, 0x1000000);
	CHECK_EQ(out[1].base, 0x200000);
	CHECK_EQ(out[1].end, 0x400000);
	CHECK_EQ(memmap_total(&m, MEM_HV_POOL), 0x400000);
}

TEST(memmap_too_many_ranges)
{
	static struct boot_mem_range r[BOOT_MAX_MEM + 1];

	CHECK(!memmap_init(&m, r, BOOT_MAX_MEM + 1));
	for (u32 i = 0; i < BOOT_MAX_MEM; i++)
		r[i] = (struct boot_mem_range){ i * 0x3000ull, 0x1000,
						i % 2 ? RAM : RSV };
	CHECK(memmap_init(&m, r, BOOT_MAX_MEM));
	CHECK_EQ(m.n, BOOT_MAX_MEM);
	CHECK_STR(mem_type_name(MEM_HV_POOL), "hv-pool");
}
