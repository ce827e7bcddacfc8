#include <hv/frame.h>
#include <hv/mm.h>
#include <hv/pool.h>
#include "harness.h"

TEST(pool_deposit_alloc_withdraw)
{
	struct page_pool p;
	u8 *mem = fake_mem_add(0x200000000ull, 4 * PAGE_SIZE);
	hpa_t a;

	pool_init(&p);
	CHECK(!hpa_valid(pool_alloc(&p)));
	CHECK(!hpa_valid(pool_withdraw(&p)));
	for (int i = 0; i < 4; i++)
		pool_deposit(&p, hpa(0x200000000ull + i * PAGE_SIZE));
	CHECK_EQ(pool_total_pages(&p), 4);
	CHECK_EQ(pool_free_pages(&p), 4);
	a = pool_alloc(&p);
	CHECK(hpa_valid(a));
	CHECK_EQ(*(u64 *)hpa_to_hva(a), 0);	/* handed out zeroed */
	CHECK_EQ(pool_free_pages(&p), 3);
	/* Only free pages can be withdrawn; the one in use stays. */
	for (int i = 0; i < 3; i++)
		CHECK(hpa_valid(pool_withdraw(&p)));
	CHECK(!hpa_valid(pool_withdraw(&p)));
	CHECK_EQ(pool_total_pages(&p), 1);
	pool_free(&p, a);
	CHECK_EQ(hpa_u64(pool_withdraw(&p)), hpa_u64(a));
	CHECK_EQ(pool_total_pages(&p), 0);
	(void)mem;
}

TEST(frame_ownership_rules)
{
	static struct frame storage[64];
	struct frame_table ft;

	frame_table_init(&ft, storage, 64);
	frame_set_root(&ft, 8, 16);
	CHECK_EQ(frame_owner(&ft, 7), FRAME_NOT_ROOT);
	CHECK_EQ(frame_owner(&ft, 8), FRAME_ROOT);
	CHECK_EQ(frame_owner(&ft, 1000), FRAME_NOT_ROOT);	/* beyond RAM */
	/* Hypervisor memory can be neither deposited nor mapped. */
	CHECK(!frame_deposit(&ft, 7, 2));
	CHECK(!frame_map(&ft, 7));
	CHECK(!frame_deposit(&ft, 1000, 2));
	/* A mapped page cannot be deposited until unmapped. */
	CHECK(frame_map(&ft, 9));
	CHECK(frame_map(&ft, 9));
	CHECK(!frame_deposit(&ft, 9, 2));
	frame_unmap(&ft, 9);
	CHECK(!frame_deposit(&ft, 9, 2));
	frame_unmap(&ft, 9);
	CHECK(frame_deposit(&ft, 9, 2));
	/* A deposited page is nobody else's. */
	CHECK(!frame_deposit(&ft, 9, 3));
	CHECK(!frame_map(&ft, 9));
	CHECK(!frame_withdraw(&ft, 9, 3));
	CHECK(frame_withdraw(&ft, 9, 2));
	CHECK(!frame_withdraw(&ft, 9, 2));
	CHECK_EQ(frame_owner(&ft, 9), FRAME_ROOT);
	CHECK(!frame_deposit(&ft, 10, FRAME_ROOT));
	CHECK(!frame_deposit(&ft, 10, FRAME_NOT_ROOT));
}
