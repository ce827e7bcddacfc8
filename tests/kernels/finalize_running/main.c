/*
 * Finalize a partition whose VP is running right now on another CPU
 * and never exits by itself (a tight loop, the root's second VP running
 * it with interrupts off). Finalize must make it stop and succeed, and
 * the dispatch on the other CPU must come back.
 */
#include "../lib/child.h"

static struct tk_child c;
static volatile bool printed, returned;
static volatile u32 event;

void child_main(void)
{
	tk_printf("spinning\n");
	for (;;)
		__asm__ __volatile__("pause");
}

static void run_it(void *arg)
{
	u32 state, ev, flags = 0;
	u64 r;

	(void)arg;
	/*
	 * Console output first, then the spin: dispatch until it stops.
	 * The intercept page goes with the partition, so the root is told
	 * to finalize only once the last byte is out and nothing reads the
	 * page any more.
	 */
	for (;;) {
		r = tk_dispatch(c.id, 0, flags, &state, &ev);
		if (tk_status(r) || ev != HV_VP_DISPATCH_EVENT_INTERCEPT)
			break;
		const volatile struct hv_x64_io_port_intercept_message *io =
			(const volatile void *)c.msg->payload;
		bool last = (u8)io->rax == '\n';

		tk_set_vp_reg(c.id, 0, HV_REG_RIP, io->header.rip +
			      io->header.instruction_length);
		flags = HV_DISPATCH_VP_FLAG_CLEAR_INTERCEPT_SUSPEND;
		if (last)
			printed = true;
	}
	event = ev;
	returned = true;
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

void test_main(void)
{
	if (tk_role != TK_ROOT)
		tk_skip("needs microhv");
	if (tk_nr_cpus() < 2)
		tk_skip("needs two CPUs");
	tk_child_create(&c, 0, 2048);
	tk_child_load_self(&c, 0);
	TK_CHECK_EQ(tk_start_ap(1, run_it, NULL), 0);
	while (!printed)
		__asm__ __volatile__("pause");
	for (volatile int i = 0; i < 3000000; i++)	/* let it spin a while */
		;
	TK_CHECK(!returned);
	TK_CHECK_EQ(tk_status(tk_hvcall_fast(HVCALL_FINALIZE_PARTITION, c.id,
					     0)), 0);
	for (int i = 0; i < 100000000 && !returned; i++)
		__asm__ __volatile__("pause");
	TK_CHECK(returned);
	TK_CHECK(event != HV_VP_DISPATCH_EVENT_INTERCEPT);
	tk_withdraw_all(c.id);
	TK_CHECK_EQ(tk_status(tk_hvcall_fast(HVCALL_DELETE_PARTITION, c.id, 0)),
		    0);
	tk_printf("finalize_running: the spinning VP stopped, partition gone\n");
}
