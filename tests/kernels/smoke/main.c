/*
 * The smallest end-to-end proof: as the root, create one child running
 * this image, let it print through the root's I/O intercepts and report
 * its result, then tear it down and check every page came back.
 */
#include "../lib/child.h"

static struct tk_child child;

void child_main(void)
{
	tk_printf("hello from a child partition\n");
	tk_pass();
}

void test_main(void)
{
	u64 before;
	u32 stop;

	if (tk_role != TK_ROOT)
		tk_skip("needs microhv");
	before = tk_free_memory_pages();
	tk_child_create(&child, 0, 2048);
	tk_child_load_self(&child, 0);
	stop = tk_child_run(&child);
	TK_CHECK_EQ(stop, HVMSG_X64_IO_PORT_INTERCEPT);
	TK_CHECK_EQ(child.result, TK_SUCCESS);
	tk_child_destroy(&child);
	tk_withdraw_all(HV_PARTITION_ID_SELF);	/* what CreatePartition used */
	TK_CHECK_EQ(tk_free_memory_pages(), before);
	tk_printf("smoke: child ran with %u port writes\n", child.io_exits);
}
