/*
 * Two children running at the same time on two CPUs. The root starts
 * its second VP (StartVirtualProcessor), which dispatches child B while
 * the first dispatches child A. Both children see one shared root page;
 * each waits until the other has written to it, which only works if
 * both are running at once.
 */
#include <hv/string.h>
#include "../lib/child.h"

#define SHARED_GPA 0x3000000ull

void child_main(void)
{
	volatile u64 *shared = (volatile u64 *)(uintptr_t)SHARED_GPA;
	u32 me = (u32)tk_child_arg(), other = !me;

	shared[me] = 0x600d0000 + me;
	for (u64 i = 0; i < 200000000ull && !shared[other]; i++)
		__asm__ __volatile__("pause");
	if (shared[other] != 0x600d0000 + other) {
		tk_printf("never saw the other child\n");
		tk_exit(TK_FAILURE);
	}
	tk_printf("saw child %u running alongside\n", other);
	tk_pass();
}

static struct tk_child a, b;
static volatile bool b_done;

static void run_b(void *arg)
{
	(void)arg;
	tk_child_run(&b);
	__atomic_store_n(&b_done, true, __ATOMIC_RELEASE);
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

static void share(struct tk_child *c, void *page)
{
	struct hv_input_map_gpa_pages *in = tk_hc_in();

	memset(in, 0, sizeof(*in));
	in->target_partition_id = c->id;
	in->target_gpa_base = SHARED_GPA >> 12;
	in->map_flags = 0x3;
	in->source_gpa_page_list[0] = (u64)(uintptr_t)page >> 12;
	TK_CHECK_EQ(tk_status(tk_hvcall(HVCALL_MAP_GPA_PAGES, 1, 0)), 0);
}

void test_main(void)
{
	void *shared = tk_alloc_pages(1);
	u64 n;

	if (tk_role != TK_ROOT)
		tk_skip("needs microhv");
	if (tk_nr_cpus() < 2)
		tk_skip("needs two CPUs");
	tk_child_create(&a, 0, 2048);
	tk_child_create(&b, 1, 2048);
	share(&a, shared);
	share(&b, shared);
	tk_child_load_self(&a, 0);
	tk_child_load_self(&b, 1);
	TK_CHECK_EQ(tk_start_ap(1, run_b, NULL), 0);
	TK_CHECK_EQ(tk_start_ap(1, run_b, NULL), HV_STATUS_INVALID_VP_STATE);
	tk_child_run(&a);
	while (!__atomic_load_n(&b_done, __ATOMIC_ACQUIRE))
		__asm__ __volatile__("pause");
	TK_CHECK_EQ(a.result, TK_SUCCESS);
	TK_CHECK_EQ(b.result, TK_SUCCESS);
	TK_CHECK_EQ(tk_status(tk_get_property(b.id,
		HV_PROPERTY_MICROHV_EXIT_COUNT(HV_EXIT_STAT_IO), &n)), 0);
	TK_CHECK_EQ(n, b.io_exits);
	tk_child_destroy(&a);
	tk_child_destroy(&b);
	tk_printf("two_children_smp: both children ran at once\n");
}
