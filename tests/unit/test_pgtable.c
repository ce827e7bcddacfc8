#include <hv/mm.h>
#include <hv/pgtable.h>
#include "harness.h"

static struct palloc pool;
static struct pgtable pt;
static struct pt_pages pages;

#define POOL_PA 0x10000000ull
#define POOL_PAGES 512

static void setup(void)
{
	fake_mem_add(POOL_PA, POOL_PAGES * PAGE_SIZE);
	palloc_init(&pool);
	CHECK(palloc_add_region(&pool, hpa(POOL_PA), POOL_PAGES));
	pages = pt_pages_from_palloc(&pool);
	CHECK_EQ(pt_init(&pt, &pages), PT_OK);
}

static struct pt_leaf look(u64 va)
{
	struct pt_leaf l = { 0 };

	CHECK(pt_lookup(&pt, va, &l));
	return l;
}

TEST(pgtable_map_4k_and_attributes)
{
	struct pt_leaf l;

	setup();
	CHECK_EQ(pt_map(&pt, 0x1000, hpa(0x5000), 0x2000, PT_WRITE), PT_OK);
	l = look(0x1234);
	CHECK_EQ(l.va, 0x1000);
	CHECK_EQ(hpa_u64(l.pa), 0x5000);
	CHECK_EQ(l.size, PAGE_SIZE);
	CHECK(l.pte & PTE_W);
	CHECK(l.pte & PTE_NX);		/* not executable unless asked */
	CHECK(!(l.pte & PTE_U));
	CHECK_EQ(hpa_u64(look(0x2000).pa), 0x6000);
	CHECK(!pt_lookup(&pt, 0x3000, &l));
	CHECK(!pt_lookup(&pt, 0, &l));
	CHECK_EQ(pt_map(&pt, 0x10000, hpa(0x10000), 0x1000,
			PT_EXEC | PT_USER | PT_UC), PT_OK);
	l = look(0x10000);
	CHECK(!(l.pte & (PTE_NX | PTE_W)));
	CHECK(l.pte & PTE_U);
	CHECK(l.pte & PTE_PCD);
}

TEST(pgtable_large_pages_where_aligned)
{
	setup();
	/* 1 GiB + 2 MiB + 4 KiB, starting 1 GiB aligned. */
	CHECK_EQ(pt_map(&pt, 0x40000000, hpa(0x40000000),
			SZ_1G + SZ_2M + PAGE_SIZE, PT_LARGE_1G), PT_OK);
	CHECK_EQ(look(0x40000000).size, SZ_1G);
	CHECK_EQ(look(0x80000000).size, SZ_2M);
	CHECK_EQ(look(0x80200000).size, PAGE_SIZE);
	/* Only 2 MiB allowed. */
	CHECK_EQ(pt_map(&pt, 0x200000000ull, hpa(0x200000000ull), SZ_1G,
			PT_LARGE_2M), PT_OK);
	CHECK_EQ(look(0x200000000ull).size, SZ_2M);
	/* Misaligned physical address: 4K pages. */
	CHECK_EQ(pt_map(&pt, 0x300000000ull, hpa(0x1000), SZ_2M, PT_LARGE_2M),
		 PT_OK);
	CHECK_EQ(look(0x300000000ull).size, PAGE_SIZE);
	CHECK_EQ(hpa_u64(look(0x3001ff000ull).pa), 0x200000);
}

TEST(pgtable_refuses_overlap_and_bad_input)
{
	setup();
	CHECK_EQ(pt_map(&pt, 0x200000, hpa(0x200000), SZ_2M, PT_LARGE_2M),
		 PT_OK);
	CHECK_EQ(pt_map(&pt, 0x201000, hpa(0x1000), PAGE_SIZE, 0), PT_EEXIST);
	CHECK_EQ(pt_map(&pt, 0x200000, hpa(0x1000), PAGE_SIZE, 0), PT_EEXIST);
	CHECK_EQ(pt_map(&pt, 0x1001, hpa(0x1000), PAGE_SIZE, 0), PT_EINVAL);
	CHECK_EQ(pt_map(&pt, 0x1000, hpa(0x1000), 0x800, 0), PT_EINVAL);
	CHECK_EQ(pt_map(&pt, 0x0000800000000000ull, hpa(0), PAGE_SIZE, 0),
		 PT_EINVAL);		/* non-canonical */
	CHECK_EQ(pt_map(&pt, 0x1000, hpa(1ull << 52), PAGE_SIZE, 0),
		 PT_EINVAL);		/* beyond physical addresses */
}

TEST(pgtable_high_half)
{
	struct pt_leaf l;

	setup();
	CHECK_EQ(pt_map(&pt, 0xffffc00000001000ull, hpa(0x7000), PAGE_SIZE,
			PT_WRITE), PT_OK);
	l = look(0xffffc00000001ff8ull);
	CHECK_EQ(l.va, 0xffffc00000001000ull);
	CHECK(!pt_lookup(&pt, 0xffffc00000000000ull, &l));
}

TEST(pgtable_unmap_splits_large_pages)
{
	struct pt_leaf l;

	setup();
	CHECK_EQ(pt_map(&pt, 0, hpa(0), SZ_1G, PT_LARGE_1G | PT_WRITE), PT_OK);
	CHECK_EQ(pt_unmap(&pt, 0x200000 + 0x5000, PAGE_SIZE), PT_OK);
	CHECK(!pt_lookup(&pt, 0x205000, &l));
	l = look(0x204000);
	CHECK_EQ(l.size, PAGE_SIZE);
	CHECK(l.pte & PTE_W);		/* attributes survive the split */
	CHECK_EQ(hpa_u64(l.pa), 0x204000);
	CHECK_EQ(look(0x400000).size, SZ_2M);
	l = look(0x3ffff000);		/* still a 2 MiB page */
	CHECK_EQ(hpa_u64(l.pa) + (0x3ffff000 - l.va), 0x3ffff000);
	/* Unmapping a hole is fine; so is a range spanning holes. */
	CHECK_EQ(pt_unmap(&pt, 0x7f0000000000ull, SZ_1G), PT_OK);
	CHECK_EQ(pt_unmap(&pt, 0x3fe00000, SZ_1G), PT_OK);
	CHECK(!pt_lookup(&pt, 0x3ffff000, &l));
	CHECK_EQ(pt_unmap(&pt, 0x1001, PAGE_SIZE), PT_EINVAL);
}

TEST(pgtable_tables_go_back_to_the_pool)
{
	u64 before = palloc_free_pages(&pool);

	setup();
	before = palloc_free_pages(&pool);
	CHECK_EQ(pt_map(&pt, 0x7f0000000000ull, hpa(0x1000), 16 * PAGE_SIZE,
			PT_WRITE), PT_OK);
	CHECK_EQ(pt_table_pages(&pt), 4);
	CHECK_EQ(palloc_free_pages(&pool), before - 3);
	CHECK_EQ(pt_unmap(&pt, 0x7f0000000000ull, 16 * PAGE_SIZE), PT_OK);
	CHECK_EQ(pt_table_pages(&pt), 1);	/* the empty PML4 stays */
	CHECK_EQ(palloc_free_pages(&pool), before);
	pt_destroy(&pt);
	CHECK_EQ(palloc_free_pages(&pool), before + 1);
}

static bool collect(const struct pt_leaf *l, void *ctx)
{
	u64 *v = ctx;

	CHECK(l->va > v[0] || v[1] == 0);	/* ascending */
	v[0] = l->va;
	v[1]++;
	v[2] += !!((l->pte & PTE_W) && !(l->pte & PTE_NX));
	return true;
}

TEST(pgtable_walk_in_order_finds_wx)
{
	u64 seen[3] = { 0, 0, 0 };

	setup();
	CHECK_EQ(pt_map(&pt, 0xffffc00000000000ull, hpa(0x1000), PAGE_SIZE,
			PT_WRITE), PT_OK);
	CHECK_EQ(pt_map(&pt, 0x100000, hpa(0x100000), 2 * PAGE_SIZE, PT_EXEC),
		 PT_OK);
	CHECK_EQ(pt_map(&pt, 0x400000, hpa(0x400000), PAGE_SIZE,
			PT_EXEC | PT_WRITE), PT_OK);
	pt_for_each_leaf(&pt, collect, seen);
	CHECK_EQ(seen[1], 4);
	CHECK_EQ(seen[0], 0xffffc00000000000ull);	/* sign-extended, last */
	CHECK_EQ(seen[2], 1);
}

TEST(pgtable_out_of_table_pages)
{
	fake_mem_add(POOL_PA, 3 * PAGE_SIZE);
	palloc_init(&pool);
	CHECK(palloc_add_region(&pool, hpa(POOL_PA), 3));	/* 2 usable */
	pages = pt_pages_from_palloc(&pool);
	CHECK_EQ(pt_init(&pt, &pages), PT_OK);
	CHECK_EQ(pt_map(&pt, 0x1000, hpa(0x1000), PAGE_SIZE, 0), PT_ENOMEM);
}

TEST(pgtable_merge_back_into_large_pages)
{
	hpa_t freed[2];
	u32 n;
	u64 before;
	struct pt_leaf l;

	setup();
	CHECK_EQ(pt_map(&pt, 0, hpa(0), 2 * SZ_1G, PT_LARGE_1G | PT_WRITE),
		 PT_OK);
	before = palloc_free_pages(&pool);
	/* Punch a hole (splits 1G -> 2M -> 4K), then fill it again. */
	CHECK_EQ(pt_unmap(&pt, 0x40201000, PAGE_SIZE), PT_OK);
	CHECK_EQ(palloc_free_pages(&pool), before - 2);
	CHECK_EQ(pt_map(&pt, 0x40201000, hpa(0x40201000), PAGE_SIZE,
			PT_WRITE), PT_OK);
	pt_merge(&pt, 0x40201000, PT_LARGE_2M, freed, &n);
	CHECK_EQ(n, 1);				/* 1G not allowed here */
	CHECK_EQ(look(0x40201000).size, SZ_2M);
	pt_free_table(&pt, freed[0]);
	pt_merge(&pt, 0x40201000, PT_LARGE_1G, freed, &n);
	CHECK_EQ(n, 1);
	pt_free_table(&pt, freed[0]);
	l = look(0x40201000);
	CHECK_EQ(l.size, SZ_1G);
	CHECK_EQ(hpa_u64(l.pa), 0x40000000);
	CHECK(l.pte & PTE_W);
	CHECK_EQ(palloc_free_pages(&pool), before);
	/* Different attributes, or a different frame: no merge. */
	CHECK_EQ(pt_unmap(&pt, 0x1000, PAGE_SIZE), PT_OK);
	CHECK_EQ(pt_map(&pt, 0x1000, hpa(0x1000), PAGE_SIZE, 0), PT_OK);
	pt_merge(&pt, 0x1000, PT_LARGE_1G, freed, &n);
	CHECK_EQ(n, 0);
	CHECK_EQ(pt_unmap(&pt, 0x1000, PAGE_SIZE), PT_OK);
	CHECK_EQ(pt_map(&pt, 0x1000, hpa(0x9000), PAGE_SIZE, PT_WRITE), PT_OK);
	pt_merge(&pt, 0x1000, PT_LARGE_1G, freed, &n);
	CHECK_EQ(n, 0);
	/* Nothing mapped there: nothing to do. */
	pt_merge(&pt, 0x7f0000000000ull, PT_LARGE_1G, freed, &n);
	CHECK_EQ(n, 0);
}

/* The entry that maps va (or 0), found by hand as an IOMMU would. */
static u64 iommu_walk(u64 va)
{
	u64 e = hpa_u64(pt.root) | IOPTE_PR | (4ull << IOPTE_NL_SHIFT);

	for (int level = 3; level >= 0; level--) {
		const u64 *t = hpa_to_hva(hpa(e & PTE_ADDR));

		e = t[(va >> (12 + 9 * level)) & 511];
		if (!(e & IOPTE_PR) || !(e & IOPTE_NL_MASK))
			break;
		CHECK_EQ((e & IOPTE_NL_MASK) >> IOPTE_NL_SHIFT, level);
	}
	return e;
}

TEST(pgtable_iommu_format)
{
	hpa_t freed[2];
	u32 n;
	u64 e;

	setup();
	CHECK_EQ(pt_init_iommu(&pt, &pages), PT_OK);
	CHECK_EQ(pt_map(&pt, 0, hpa(0), SZ_1G, PT_LARGE_2M | PT_WRITE |
			PT_EXEC | PT_USER), PT_OK);
	CHECK_EQ(pt_map(&pt, SZ_1G, hpa(SZ_1G), PAGE_SIZE, 0), PT_OK);
	/* Table entries name the next level; leaves have level 0. */
	e = iommu_walk(0x200000);
	CHECK_EQ(e & ~PTE_ADDR, IOPTE_PR | IOPTE_IR | IOPTE_IW);
	CHECK_EQ(e & PTE_ADDR, 0x200000);
	e = iommu_walk(SZ_1G);
	CHECK_EQ(e & ~PTE_ADDR, IOPTE_PR | IOPTE_IR);	/* read-only */
	CHECK_EQ(look(0x200000).size, SZ_2M);
	/* Punch a hole: the 2 MiB page splits into 4 KiB IOMMU leaves. */
	CHECK_EQ(pt_unmap(&pt, 0x201000, PAGE_SIZE), PT_OK);
	CHECK_EQ(iommu_walk(0x201000), 0);
	e = iommu_walk(0x202000);
	CHECK_EQ(e, 0x202000 | IOPTE_PR | IOPTE_IR | IOPTE_IW);
	CHECK_EQ(look(0x202000).size, PAGE_SIZE);
	/* The table above the 4 KiB leaves says so (level 1). */
	{
		const u64 *l4 = hpa_to_hva(pt.root);
		const u64 *l3 = hpa_to_hva(hpa(l4[0] & PTE_ADDR));
		const u64 *l2 = hpa_to_hva(hpa(l3[0] & PTE_ADDR));

		CHECK_EQ((l4[0] & IOPTE_NL_MASK) >> IOPTE_NL_SHIFT, 3);
		CHECK_EQ((l3[0] & IOPTE_NL_MASK) >> IOPTE_NL_SHIFT, 2);
		CHECK_EQ((l2[1] & IOPTE_NL_MASK) >> IOPTE_NL_SHIFT, 1);
		CHECK(!(l2[1] & PTE_PS));
	}
	/* Back again: one 2 MiB leaf, no PS bit (that is the CPU's). */
	CHECK_EQ(pt_map(&pt, 0x201000, hpa(0x201000), PAGE_SIZE, PT_WRITE),
		 PT_OK);
	pt_merge(&pt, 0x201000, PT_LARGE_2M, freed, &n);
	CHECK_EQ(n, 1);
	pt_free_table(&pt, freed[0]);
	CHECK_EQ(iommu_walk(0x201000), 0x200000 | IOPTE_PR | IOPTE_IR |
		 IOPTE_IW);
	pt_destroy(&pt);
}
