/*
 * Hypercall fuzzing. The root throws random codes, control words, GPAs
 * and input pages at the hypervisor; then a child does the same from
 * the other side. Afterwards the hypervisor must still answer exactly:
 * a normal child is created, run and torn down, and every page the
 * root handed over comes back.
 *
 * The root's randomness is steered away from hurting the test itself
 * (it never deposits or maps its own code pages, never starts or
 * rewrites its own VPs); the child's is not steered at all, except that
 * its outputs land in its scratch page or outside its memory.
 *
 * Module arguments: iterations=N (default 100000) seed=N.
 */
#include <hv/string.h>
#include "../lib/child.h"

static u64 rng;

static u64 next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static u64 pick(const u64 *v, u32 n)
{
	return v[next() % n];
}

static const u64 codes[] = {
	0x0008, 0x0040, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046,
	0x0048, 0x0049, 0x004a, 0x004b, 0x004c, 0x004d, 0x004e, 0x004f,
	0x0050, 0x0051, 0x007b, 0x0094, 0x0099, 0x00c2, 0x00e1, 0x00e2,
};

/* Control word: mostly a real code, sometimes reps, fast, junk bits. */
static u64 random_control(void)
{
	u64 c = next() % 4 ? pick(codes, sizeof(codes) / 8) : next() & 0xffff;

	if (next() % 3 == 0)
		c |= (next() % 16) << 32 | ((next() % 4) << 48);
	if (next() % 4 == 0)
		c |= HV_HC_FAST;
	if (next() % 16 == 0)
		c |= next() & HV_HC_RSVD_MASK;
	if (next() % 16 == 0)
		c |= (next() & 0x3ff) << 17;
	return c;
}

/* ------------------------------------------------------------- child */

static u8 child_scratch[4096] __aligned(4096);

static u64 child_gpa(void)
{
	switch (next() % 6) {
	case 0: return (u64)(uintptr_t)tk_hc_in() + (next() % 64) * 8;
	case 1: return (u64)(uintptr_t)child_scratch + (next() & 0xfff);
	case 2: return next() & ((1ull << 46) - 1);
	case 3: return 0x100000 + (next() & 0xfffff);	/* hypervisor image */
	default: return next();
	}
}

static u64 child_out_gpa(void)
{
	return next() % 2 ? (u64)(uintptr_t)child_scratch :
			    (16ull << 20) + (next() & 0xffffff8ull);
}

void child_main(void)
{
	u64 n = tk_child_arg(), denied = 0;
	u64 *in = tk_hc_in();

	rng = 0x9e3779b97f4a7c15ull ^ n;
	for (u64 i = 0; i < n; i++) {
		for (int k = 0; k < 8; k++)
			in[next() % 512] = next();
		u64 c = random_control();
		u64 r = c & HV_HC_FAST ?
			tk_hypercall(c, next(), next()) :
			tk_hypercall(c, child_gpa(), child_out_gpa());
		denied += HV_RESULT_STATUS(r) == HV_STATUS_ACCESS_DENIED;
	}
	tk_printf("child made %llu random hypercalls, %llu denied\n", n, denied);
	tk_pass();
}

/* ------------------------------------------------------------- root */

#define SCRATCH 64
static void *scratch[SCRATCH];
static u64 child_ids[4];

static u64 scratch_pfn(void)
{
	return next() % 8 ? (u64)(uintptr_t)scratch[next() % SCRATCH] >> 12 :
			    next();	/* junk PFNs are refused */
}

static u64 partition_id(void)
{
	switch (next() % 5) {
	case 0: return HV_PARTITION_ID_SELF;
	case 1: return HV_ROOT_PARTITION_ID;
	case 2: return next() % 70;
	default: return child_ids[next() % 4];
	}
}

/* Random input, with the fields that could hurt the test tamed. */
static void fill_input(u16 code, u64 *in)
{
	for (int i = 0; i < 512; i++)
		in[i] = next() % 4 ? next() % 0x20000 : next();
	in[0] = partition_id();
	switch (code) {
	case HVCALL_DEPOSIT_MEMORY:
		for (int i = 1; i < 512; i++)
			in[i] = scratch_pfn();
		break;
	case HVCALL_MAP_GPA_PAGES:
		for (int i = 3; i < 512; i++)
			in[i] = scratch_pfn();
		break;
	case HVCALL_SET_VP_REGISTERS:
	case HVCALL_START_VIRTUAL_PROCESSOR:
		/* Never our own VPs: their state is this test. */
		if (in[0] == HV_PARTITION_ID_SELF ||
		    in[0] == HV_ROOT_PARTITION_ID)
			in[0] = child_ids[0];
		break;
	}
}

static u64 root_gpa(void)
{
	switch (next() % 5) {
	case 0: return next();
	case 1: return 0x100000 + (next() & 0xfff8);	/* hypervisor image */
	case 2: return (u64)(uintptr_t)tk_hc_in() + (next() % 8) * 8;
	default: return (u64)(uintptr_t)tk_hc_in();
	}
}

static void root_fuzz(u64 n)
{
	u64 ok = 0;

	for (u64 i = 0; i < n; i++) {
		u64 c = random_control(), r;
		u16 code = HV_HC_CODE(c);

		fill_input(code, tk_hc_in());
		if (c & HV_HC_FAST) {
			u64 a = partition_id();

			if (code == HVCALL_DELETE_VP || code == 0x51)
				a = child_ids[0];
			r = tk_hypercall(c, a, next() % 4);
		} else {
			r = tk_hypercall(c, root_gpa(),
					 (u64)(uintptr_t)tk_hc_out());
		}
		ok += HV_RESULT_STATUS(r) == HV_STATUS_SUCCESS;
		if (i % 25000 == 0)
			tk_printf("fuzz: %llu root calls, %llu succeeded\n", i, ok);
	}
	tk_printf("fuzz: %llu random hypercalls from the root, %llu succeeded\n",
		  n, ok);
}

static void setup_targets(void)
{
	for (int i = 0; i < SCRATCH; i++)
		scratch[i] = tk_alloc_pages(1);
	/* A few real children so some calls hit live objects. */
	for (int i = 0; i < 4; i++) {
		struct tk_child *c = tk_alloc_pages(sizeof(*c) / 4096 + 1);

		tk_child_create(c, (u32)i, 16);
		child_ids[i] = c->id;
	}
}

/* The hypervisor still works: a child created, run and torn down. */
static void still_works(struct tk_child *c, u64 arg)
{
	tk_child_create(c, 9, 2048);
	tk_child_load_self(c, arg);
	tk_child_run(c);
	TK_CHECK_EQ(c->result, TK_SUCCESS);
	tk_child_destroy(c);
}

static struct tk_child check;

void test_main(void)
{
	u64 n = tk_cmdline_u64("iterations", 100000);
	u32 *in = tk_hc_in();

	if (tk_role != TK_ROOT)
		tk_skip("needs microhv");
	rng = tk_cmdline_u64("seed", 12345) | 1;
	tk_printf("fuzz: %llu iterations, seed %llu\n", n, rng);
	setup_targets();
	root_fuzz(n);
	in[0] = HV_SYSTEM_PROPERTY_SCHEDULER_TYPE;
	in[1] = 0;
	TK_CHECK_EQ(tk_status(tk_hvcall(HVCALL_GET_SYSTEM_PROPERTY, 0, 0)), 0);
	TK_CHECK_EQ(*(u32 *)tk_hc_out(), HV_SCHEDULER_TYPE_ROOT);
	/* The child fuzzes, then must report success itself. */
	still_works(&check, n);
	tk_printf("fuzz: the hypervisor still answers correctly\n");
}
