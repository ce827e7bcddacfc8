#include <stdlib.h>
#include <hv/mm.h>
#include <hv/palloc.h>
#include "harness.h"

static struct palloc p;

/* A pool of n pages at pa, in fake memory. */
static void pool(u64 pa, u64 n)
{
	fake_mem_add(pa, n * PAGE_SIZE);
	palloc_init(&p);
	CHECK(palloc_add_region(&p, hpa(pa), n));
}

TEST(palloc_bitmap_lives_in_the_region)
{
	pool(0x100000000ull, 64);	/* above 4 GiB */
	CHECK_EQ(p.total_pages, 63);	/* one page holds the bitmap */
	CHECK_EQ(palloc_free_pages(&p), 63);
	hpa_t a = palloc_alloc(&p, 1);
	CHECK_EQ(hpa_u64(a), 0x100001000ull);
	CHECK(palloc_owns(&p, a));
	CHECK(!palloc_owns(&p, hpa(0x100000000ull + 64 * PAGE_SIZE)));
	/* The bitmap page itself can never be freed into the pool. */
	CHECK(!palloc_free(&p, hpa(0x100000000ull), 1));
}

TEST(palloc_contiguous_and_exhaustion)
{
	hpa_t a, b, c;

	pool(0x200000, 17);		/* 16 usable */
	a = palloc_alloc(&p, 3);
	b = palloc_alloc(&p, 13);
	CHECK(hpa_valid(a) && hpa_valid(b));
	CHECK_EQ(hpa_u64(b), hpa_u64(a) + 3 * PAGE_SIZE);
	CHECK(!hpa_valid(palloc_alloc(&p, 1)));
	CHECK(palloc_free(&p, a, 3));
	c = palloc_alloc(&p, 3);
	CHECK_EQ(hpa_u64(c), hpa_u64(a));
	CHECK(!hpa_valid(palloc_alloc(&p, 0)));
	CHECK(palloc_free(&p, b, 13) && palloc_free(&p, c, 3));
	CHECK(!hpa_valid(palloc_alloc(&p, 17)));
	CHECK(hpa_valid(palloc_alloc(&p, 16)));
}

TEST(palloc_refuses_double_and_foreign_free)
{
	hpa_t a;

	pool(0x300000, 8);
	a = palloc_alloc(&p, 2);
	CHECK(palloc_free(&p, a, 2));
	CHECK(!palloc_free(&p, a, 2));		/* double */
	a = palloc_alloc(&p, 2);
	CHECK(!palloc_free(&p, a, 3));		/* one page not allocated */
	CHECK(!palloc_free(&p, hpa(0x900000), 1));	/* foreign */
	CHECK(!palloc_free(&p, hpa_add(a, 8), 1));	/* unaligned */
	CHECK(!palloc_free(&p, a, 100));		/* past the region */
	CHECK_EQ(palloc_free_pages(&p), 5);
}

TEST(palloc_regions_checked)
{
	pool(0x400000, 8);
	fake_mem_add(0x500000, 8 * PAGE_SIZE);
	CHECK(!palloc_add_region(&p, hpa(0x404000), 8));	/* overlap */
	CHECK(!palloc_add_region(&p, hpa(0x500001), 4));	/* unaligned */
	CHECK(!palloc_add_region(&p, hpa(0x500000), 1));	/* no room */
	CHECK(palloc_add_region(&p, hpa(0x500000), 8));
	CHECK_EQ(p.total_pages, 14);
	/* A run cannot span two regions. */
	CHECK(!hpa_valid(palloc_alloc(&p, 8)));
	CHECK(hpa_valid(palloc_alloc(&p, 7)));
	CHECK(hpa_valid(palloc_alloc(&p, 7)));
}

/* Random allocations and frees checked against a simple model. */
TEST(palloc_random_against_model)
{
	enum { N = 300 };
	static u8 owner[N];
	struct { hpa_t pa; u64 n; } live[200];
	int nlive = 0;

	pool(0x1000000, N + 1);
	memset(owner, 0, sizeof(owner));
	srand(1234);
	for (int step = 0; step < 20000; step++) {
		if (nlive && (rand() % 2 || nlive == 200)) {
			int i = rand() % nlive;
			u64 first = (hpa_u64(live[i].pa) - 0x1001000) / PAGE_SIZE;

			CHECK(palloc_free(&p, live[i].pa, live[i].n));
			for (u64 k = 0; k < live[i].n; k++)
				owner[first + k] = 0;
			live[i] = live[--nlive];
			continue;
		}
		u64 n = 1 + (u64)(rand() % 8);
		hpa_t a = palloc_alloc(&p, n);

		if (!hpa_valid(a))
			continue;
		u64 first = (hpa_u64(a) - 0x1001000) / PAGE_SIZE;
		CHECK(first + n <= N);
		for (u64 k = 0; k < n; k++) {
			CHECK(!owner[first + k]);	/* never handed out twice */
			owner[first + k] = 1;
		}
		live[nlive].pa = a;
		live[nlive++].n = n;
	}
	u64 used = 0;
	for (int i = 0; i < N; i++)
		used += owner[i];
	CHECK_EQ(palloc_free_pages(&p), N - used);
}
