/*
 * Lifecycle races between two root CPUs. Each round both CPUs make one
 * call at (nearly) the same moment, after a random delay each, and the
 * outcomes must be ones some serial order gives:
 *  - two DeletePartition of one partition: exactly one succeeds;
 *  - DepositMemory racing DeletePartition: the page is never stranded
 *    in a dead pool (the root can read it again);
 *  - two DeleteVp of one VP: exactly one succeeds;
 *  - Set/GetVpRegisters racing DeleteVp: the register call either
 *    worked on the live VP or was refused, never on a freed one.
 * Afterwards the root's pool is as it was and a child still runs.
 * Module argument start=1 (three CPUs): only two StartVirtualProcessor
 * calls racing for one VP instead.
 */
#include <hv/string.h>
#include "../lib/child.h"

#define FLAGS (HV_PARTITION_CREATION_EXO | \
	       HV_PARTITION_CREATION_INTERCEPT_MESSAGE_PAGE)
#define PARTITION_ROUNDS 3000
#define VP_ROUNDS 2000

enum race {
	RACE_DELETE_PARTITION,	/* both: delete */
	RACE_DEPOSIT_DELETE,	/* CPU0 deposits, CPU1 deletes */
	RACE_DELETE_VP,		/* both: DeleteVp */
	RACE_SET_REGS_DELETE_VP,	/* CPU0 DeleteVp, CPU1 SetVpRegisters */
	RACE_GET_REGS_DELETE_VP,	/* CPU0 DeleteVp, CPU1 GetVpRegisters */
	RACE_START_VP,		/* both: StartVirtualProcessor of VP 2 */
};

static volatile u32 round_go, round_done;
static volatile enum race kind;
static volatile u64 target;
static void *volatile deposit_page;
static u16 result[2];
static u64 seed[2] = { 0x9e3779b97f4a7c15ull, 0xbf58476d1ce4e5b9ull };

static void jitter(u32 cpu)
{
	u64 x = seed[cpu];

	x ^= x << 13, x ^= x >> 7, x ^= x << 17;
	seed[cpu] = x;
	for (u64 i = x % 200; i; i--)
		__asm__ __volatile__("pause");
}

static u16 delete_vp(u64 id, u32 index)
{
	struct hv_input_delete_vp *in = tk_hc_in();

	memset(in, 0, sizeof(*in));
	in->partition_id = id;
	in->vp_index = index;
	return tk_status(tk_hvcall(HVCALL_DELETE_VP, 0, 0));
}

static volatile u32 vp2_runs;

static void vp2_main(void *arg)
{
	(void)arg;
	__atomic_fetch_add(&vp2_runs, 1, __ATOMIC_SEQ_CST);
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

static u16 race_call(u32 cpu)
{
	u64 v;

	jitter(cpu);
	switch (kind) {
	case RACE_DELETE_PARTITION:
		return tk_status(tk_hvcall_fast(HVCALL_DELETE_PARTITION,
						target, 0));
	case RACE_DEPOSIT_DELETE:
		if (cpu == 0) {
			void *page = deposit_page;

			return tk_status(tk_deposit(target, &page, 1));
		}
		return tk_status(tk_hvcall_fast(HVCALL_DELETE_PARTITION,
						target, 0));
	case RACE_DELETE_VP:
		return delete_vp(target, 1);
	case RACE_SET_REGS_DELETE_VP:
		return cpu == 0 ? delete_vp(target, 1) :
		       tk_status(tk_set_vp_reg(target, 1, HV_REG_RIP, 0x5000));
	case RACE_GET_REGS_DELETE_VP:
		return cpu == 0 ? delete_vp(target, 1) :
		       tk_status(tk_get_vp_reg(target, 1, HV_REG_RIP, &v));
	case RACE_START_VP:
		return (u16)tk_start_ap(2, vp2_main, NULL);
	}
	return 0xffff;
}

static void racer(void *arg)
{
	(void)arg;
	for (u32 r = 1;; r++) {
		while (__atomic_load_n(&round_go, __ATOMIC_ACQUIRE) != r)
			__asm__ __volatile__("pause");
		result[1] = race_call(1);
		__atomic_store_n(&round_done, r, __ATOMIC_RELEASE);
	}
}

/* One round: CPU1's call and ours, both results in result[]. */
static void race(enum race k, u64 id)
{
	static u32 r;

	kind = k;
	target = id;
	__atomic_store_n(&round_go, ++r, __ATOMIC_RELEASE);
	result[0] = race_call(0);
	while (__atomic_load_n(&round_done, __ATOMIC_ACQUIRE) != r)
		__asm__ __volatile__("pause");
}

static u64 root_pool_in_use(void)
{
	u64 in_use;

	tk_memory_balance(HV_PARTITION_ID_SELF, &in_use);
	return in_use;
}

static u64 new_partition(void)
{
	void *page;
	u64 id, r;

	r = tk_create_partition(FLAGS, &id);
	if (tk_status(r) == HV_STATUS_INSUFFICIENT_MEMORY) {
		page = tk_alloc_pages(1);
		TK_CHECK_EQ(tk_status(tk_deposit(HV_PARTITION_ID_SELF, &page,
						 1)), 0);
		r = tk_create_partition(FLAGS, &id);
	}
	TK_CHECK_EQ(tk_status(r), 0);
	return id;
}

static bool refused_id(u16 s)
{
	return s == HV_STATUS_INVALID_PARTITION_STATE ||
	       s == HV_STATUS_INVALID_PARTITION_ID;
}

static void partition_races(void)
{
	u64 in_use = root_pool_in_use(), v;

	for (u32 i = 0; i < PARTITION_ROUNDS; i++) {
		u64 id = new_partition();

		race(RACE_DELETE_PARTITION, id);
		if (!result[0] && !result[1])
			tk_fail("round %u: both deletes of %llu succeeded", i,
				id);
		if (result[0] && result[1])
			tk_fail("round %u: no delete succeeded (%u, %u)", i,
				result[0], result[1]);
		TK_CHECK(refused_id(result[0] ? result[0] : result[1]));
	}
	TK_CHECK_EQ(root_pool_in_use(), in_use);
	for (u32 i = 0; i < PARTITION_ROUNDS / 3; i++) {
		u64 id = new_partition();

		deposit_page = tk_alloc_pages(1);
		race(RACE_DEPOSIT_DELETE, id);
		TK_CHECK_EQ(result[1], 0);	/* the delete */
		TK_CHECK(!result[0] || refused_id(result[0]));
		/* Deposited and then reclaimed, or never taken: the root's. */
		if (tk_probe_read(deposit_page, &v) != -1)
			tk_fail("round %u: deposit (status %u) left the page "
				"stranded", i, result[0]);
		tk_free_page(deposit_page);
	}
	TK_CHECK_EQ(root_pool_in_use(), in_use);
	tk_printf("races: %u delete/delete and %u deposit/delete rounds\n",
		  PARTITION_ROUNDS, PARTITION_ROUNDS / 3);
}

static u16 create_vp1(u64 id)
{
	struct hv_input_create_vp *in = tk_hc_in();
	u16 s;

	memset(in, 0, sizeof(*in));
	in->partition_id = id;
	in->vp_index = 1;
	s = tk_status(tk_hvcall(HVCALL_CREATE_VP, 0, 0));
	if (s == HV_STATUS_INSUFFICIENT_MEMORY) {
		void *page = tk_alloc_pages(1);

		TK_CHECK_EQ(tk_status(tk_deposit(id, &page, 1)), 0);
		return create_vp1(id);
	}
	return s;
}

static void check_vp_round(enum race k, u32 i)
{
	u16 del = result[0], other = result[1];

	if (k == RACE_DELETE_VP) {
		if (!del == !other)
			tk_fail("round %u: DeleteVp results %u and %u", i, del,
				other);
		TK_CHECK(!del || del == HV_STATUS_INVALID_VP_INDEX ||
			 del == HV_STATUS_INVALID_VP_STATE);
		TK_CHECK(!other || other == HV_STATUS_INVALID_VP_INDEX ||
			 other == HV_STATUS_INVALID_VP_STATE);
		return;
	}
	/* The delete fails only while the register call holds the VP. */
	TK_CHECK(!del || (del == HV_STATUS_INVALID_VP_STATE && !other));
	TK_CHECK(!other || other == HV_STATUS_INVALID_VP_INDEX ||
		 other == HV_STATUS_INVALID_VP_STATE);
}

static void vp_races(void)
{
	static const enum race kinds[] = {
		RACE_DELETE_VP, RACE_SET_REGS_DELETE_VP,
		RACE_GET_REGS_DELETE_VP,
	};
	static struct tk_child c;

	tk_child_create(&c, 1, 2048);
	for (u32 i = 0; i < VP_ROUNDS; i++) {
		enum race k = kinds[i % ARRAY_SIZE(kinds)];
		u16 s = create_vp1(c.id);

		TK_CHECK(!s || s == HV_STATUS_INVALID_VP_INDEX);	/* kept */
		race(k, c.id);
		check_vp_round(k, i);
	}
	/* The partition is whole: VP 0 still runs this image to the end. */
	tk_child_load_self(&c, 0);
	tk_child_run(&c);
	TK_CHECK_EQ(c.result, TK_SUCCESS);
	tk_child_destroy(&c);
	tk_printf("races: %u VP delete/delete and registers/delete rounds\n",
		  VP_ROUNDS);
}

static void cr0_nw_without_cd(struct hv_initial_vp_context *c)
{
	c->cr0 |= 1ull << 29;
}

static void long_mode_without_pae(struct hv_initial_vp_context *c)
{
	c->cr4 &= ~(1ull << 5);
}

static void cr3_beyond_memory(struct hv_initial_vp_context *c)
{
	c->cr3 |= 1ull << 62;
}

static void bad_pat(struct hv_initial_vp_context *c)
{
	c->msr_cr_pat = 0x0202020202020202ull;
}

static void code_segment_l_and_d(struct hv_initial_vp_context *c)
{
	c->cs.attributes |= 1u << 14;
}

static void reserved_cr4(struct hv_initial_vp_context *c)
{
	c->cr4 |= 1ull << 13;	/* VMXE: never a guest's on AMD */
}

/*
 * A context VMRUN would refuse is refused by StartVirtualProcessor (it
 * used to reach VMRUN and end the hypervisor); the VP stays startable.
 */
static void start_refusals(void)
{
	static void (*const edits[])(struct hv_initial_vp_context *) = {
		cr0_nw_without_cd, long_mode_without_pae, cr3_beyond_memory,
		bad_pat, code_segment_l_and_d, reserved_cr4,
	};

	for (u32 i = 0; i < ARRAY_SIZE(edits); i++)
		if (tk_start_ap_edited(1, racer, NULL, edits[i]) !=
		    HV_STATUS_INVALID_PARAMETER)
			tk_fail("bad start context %u not refused", i);
	TK_CHECK_EQ(tk_start_ap(1, racer, NULL), 0);
	TK_CHECK_EQ(tk_start_ap(1, racer, NULL), HV_STATUS_INVALID_VP_STATE);
	tk_printf("races: 6 bad start contexts refused\n");
}

void test_main(void)
{
	if (tk_role != TK_ROOT)
		tk_skip("needs microhv");
	if (tk_nr_cpus() < 2)
		tk_skip("needs two CPUs");
	start_refusals();
	if (tk_cmdline_u64("start", 0)) {	/* two callers, one VP to start */
		if (tk_nr_cpus() < 3)
			tk_skip("the StartVp race needs three CPUs");
		race(RACE_START_VP, 0);
		TK_CHECK(!result[0] != !result[1]);
		TK_CHECK_EQ(result[0] | result[1], HV_STATUS_INVALID_VP_STATE);
		while (!__atomic_load_n(&vp2_runs, __ATOMIC_ACQUIRE))
			__asm__ __volatile__("pause");
		tk_printf("races: of two StartVirtualProcessor calls one won\n");
		return;
	}
	partition_races();
	vp_races();
}
