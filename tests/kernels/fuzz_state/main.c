/*
 * Stateful, concurrent hypercall fuzzing. Both root CPUs run at once
 * against the same live objects: partitions, their VPs, pools and
 * thousands of mapped pages. Each call is a valid one, built from what
 * exists (ids, VP indices, mapped GFNs, pages the root owns), and then
 * sometimes mutated: a boundary rep count (0, 1, 511, 512, 513, 4095),
 * a VP index at the edge, a GFN at the top of the space, a stale id.
 * Lifecycle calls (finalize, delete, DeleteVp) race the calls using
 * the same objects.
 *
 * Afterwards every partition is torn down, and the hypervisor must be
 * whole: no child left, the root's pool empty, every page the root
 * handed out readable by it again, and a new child runs to success.
 *
 * Module arguments: iterations=N per CPU (default 20000) seed=N.
 */
#include <hv/string.h>
#include "../lib/child.h"

#define NPAGES 4096		/* root pages the calls hand around */
#define MAX_IDS 2048		/* partitions calls pick from (a ring) */
#define GFN_SPACE 8192		/* where maps go, mostly */
#define MAX_GFN (1ull << 34)

static u8 *pages;		/* NPAGES contiguous root pages */
static u64 ids[MAX_IDS];
static u32 nr_ids;
static u64 max_id;		/* the newest partition: teardown goes up to it */
static u64 rng[2];
static volatile bool cpu1_done;
static u64 calls_ok[2], calls[2];

static u64 next(u32 cpu)
{
	u64 x = rng[cpu];

	x ^= x << 13, x ^= x >> 7, x ^= x << 17;
	return rng[cpu] = x;
}

static u64 below(u32 cpu, u64 n)
{
	return next(cpu) % n;
}

static const u32 boundary_reps[] = { 0, 1, 2, 511, 512, 513, 4095 };

/* A rep count: usually small and valid, sometimes at a boundary. */
static u32 reps(u32 cpu, u32 valid_max)
{
	if (below(cpu, 8) == 0)
		return boundary_reps[below(cpu, ARRAY_SIZE(boundary_reps))];
	return 1 + (u32)below(cpu, valid_max);
}

/* Pages for pools (the first half) and for maps (the second). */
static u64 page_pfn(u32 cpu, bool for_map)
{
	return ((u64)(uintptr_t)pages >> 12) + (for_map ? NPAGES / 2 : 0) +
	       below(cpu, below(cpu, 32) ? NPAGES / 2 : NPAGES);
}

/* A live-ish partition id: a recent one, an old one, or junk. */
static u64 some_id(u32 cpu)
{
	u32 n = __atomic_load_n(&nr_ids, __ATOMIC_ACQUIRE);

	switch (below(cpu, 16)) {
	case 0: return HV_PARTITION_ID_SELF;
	case 1: return next(cpu);
	case 2: return n ? ids[below(cpu, MIN(n, (u32)MAX_IDS))] : 0;
	case 3 ... 11: return ids[below(cpu, 4)];	/* the set-up ones */
	default: return n ? ids[MIN(n, (u32)MAX_IDS) - 1 -
				 below(cpu, MIN(n, 6u))] : 0;
	}
}

/* Finalize and delete spare the four set-up partitions, mostly. */
static u64 mortal_id(u32 cpu, u64 id)
{
	u32 n = MIN(__atomic_load_n(&nr_ids, __ATOMIC_ACQUIRE), (u32)MAX_IDS);

	for (u32 i = 0; i < 4; i++)
		if (id == ids[i] && below(cpu, 1024))
			return n > 4 ? ids[n - 1] : 0;
	return id;
}

static u32 some_vp(u32 cpu)
{
	static const u32 edge[] = { 63, 64, 0xffffffffu };

	return below(cpu, 16) ? (u32)below(cpu, 4) : edge[below(cpu, 3)];
}

static u64 some_gfn(u32 cpu)
{
	switch (below(cpu, 16)) {
	case 0: return MAX_GFN - below(cpu, 4);
	case 1: return next(cpu);
	default: return below(cpu, GFN_SPACE);
	}
}

static u32 by_code[2][256][2];	/* [cpu][code][ok] */

static void count(u32 cpu, u16 code, u64 r)
{
	calls[cpu]++;
	calls_ok[cpu] += !tk_status(r);
	by_code[cpu][code & 0xff][!tk_status(r)]++;
}

static u64 call(u32 cpu, u16 code, u32 nreps)
{
	u64 r = tk_hvcall(code, nreps, 0);

	count(cpu, code, r);
	return r;
}

static void do_deposit(u32 cpu, u64 id);

static void do_lifecycle(u32 cpu, u16 code, u64 id)
{
	count(cpu, code, tk_hvcall_fast(code, id, 0));
}


/* A new partition, fed and (usually) initialized: a live target. */
static void do_create(u32 cpu)
{
	struct hv_input_create_partition *in = tk_hc_in();
	u64 r, id;

	memset(in, 0, sizeof(*in));
	in->flags = HV_PARTITION_CREATION_EXO |
		    HV_PARTITION_CREATION_INTERCEPT_MESSAGE_PAGE;
	r = call(cpu, HVCALL_CREATE_PARTITION, 0);
	if (tk_status(r))
		return;
	id = *(u64 *)tk_hc_out();
	r = __atomic_fetch_add(&nr_ids, 1, __ATOMIC_ACQ_REL);
	ids[r < MAX_IDS ? r : 4 + (r - 4) % (MAX_IDS - 4)] = id;
	for (u64 m = __atomic_load_n(&max_id, __ATOMIC_RELAXED); m < id &&
	     !__atomic_compare_exchange_n(&max_id, &m, id, false,
					  __ATOMIC_RELAXED, __ATOMIC_RELAXED);)
		;
	do_deposit(cpu, id);
	if (below(cpu, 4))
		do_lifecycle(cpu, HVCALL_INITIALIZE_PARTITION, id);
}

static void do_deposit(u32 cpu, u64 id)
{
	struct hv_input_deposit_memory *in = tk_hc_in();
	u32 n = reps(cpu, 32);

	in->partition_id = id;
	for (u32 i = 0; i < 511; i++)
		in->gpa_page_list[i] = page_pfn(cpu, false);
	call(cpu, HVCALL_DEPOSIT_MEMORY, n);
}

static void do_withdraw(u32 cpu, u64 id)
{
	struct hv_input_withdraw_memory *in = tk_hc_in();

	in->partition_id = id;
	in->proximity_domain_info = 0;
	call(cpu, HVCALL_WITHDRAW_MEMORY, reps(cpu, 64));
}

static void do_map(u32 cpu, u64 id)
{
	struct hv_input_map_gpa_pages *in = tk_hc_in();
	u64 first = page_pfn(cpu, true);

	memset(in, 0, sizeof(*in));
	in->target_partition_id = id;
	in->target_gpa_base = some_gfn(cpu);
	in->map_flags = below(cpu, 16) ? 0xf : (u32)next(cpu);
	for (u32 i = 0; i < 508; i++)
		in->source_gpa_page_list[i] = below(cpu, 16) ? first + i :
						page_pfn(cpu, true);
	call(cpu, HVCALL_MAP_GPA_PAGES, reps(cpu, 300));
}

static void do_unmap(u32 cpu, u64 id)
{
	struct hv_input_unmap_gpa_pages *in = tk_hc_in();

	memset(in, 0, sizeof(*in));
	in->target_partition_id = id;
	in->target_gpa_base = some_gfn(cpu);
	call(cpu, HVCALL_UNMAP_GPA_PAGES, reps(cpu, 600));
}

static u16 do_vp_call(u32 cpu, u16 code, u64 id, u32 vp)
{
	struct hv_input_create_vp *in = tk_hc_in();

	memset(in, 0, sizeof(*in));
	in->partition_id = id;
	in->vp_index = vp;
	return tk_status(call(cpu, code, 0));
}

/* Registers a suspended VP may hold: it never runs here. */
static const u32 reg_names[] = {
	HV_REG_RAX, HV_REG_RIP, HV_REG_RFLAGS, HV_REG_CR0, HV_REG_CR3,
	HV_REG_CR4, HV_REG_EFER, HV_REG_PAT, HV_REG_DR0, HV_REG_DR7,
	HV_REG_CS, HV_REG_GDTR, HV_REG_TSC, HV_REG_PENDING_INTERRUPTION,
	HV_REG_CR8, 0x00ff0000,
};

static void do_registers(u32 cpu, u64 id, u32 vp, bool set)
{
	struct hv_input_vp_registers *in = tk_hc_in();
	struct hv_register_assoc *r = (void *)(in + 1);
	u32 n = 1 + (u32)below(cpu, 8);

	memset(in, 0, sizeof(*in));
	/* Never our own VPs' registers: their state is this test. */
	in->partition_id = set && (id == HV_PARTITION_ID_SELF ||
				   id == HV_ROOT_PARTITION_ID) ? 0 : id;
	in->vp_index = vp;
	for (u32 i = 0; i < n; i++) {
		u32 name = reg_names[below(cpu, ARRAY_SIZE(reg_names))];

		if (set) {
			r[i] = (struct hv_register_assoc){ .name = name };
			r[i].value.low = below(cpu, 2) ? next(cpu) :
					 next(cpu) & 0xffffffff;
		} else {
			((u32 *)(in + 1))[i] = name;
		}
	}
	call(cpu, set ? HVCALL_SET_VP_REGISTERS : HVCALL_GET_VP_REGISTERS, n);
}

static void do_interrupt(u32 cpu, u64 id, u32 vp)
{
	struct hv_input_assert_virtual_interrupt *in = tk_hc_in();

	memset(in, 0, sizeof(*in));
	in->partition_id = id;
	in->dest_addr = vp;
	in->vector = (u32)below(cpu, 256);
	in->interrupt_type = (u32)below(cpu, 3);
	call(cpu, HVCALL_ASSERT_VIRTUAL_INTERRUPT, 0);
}

static void do_state_page(u32 cpu, u64 id, u32 vp, bool map)
{
	struct hv_input_map_vp_state_page *in = tk_hc_in();

	memset(in, 0, sizeof(*in));
	in->partition_id = id;
	in->vp_index = vp;
	in->type = HV_VP_STATE_PAGE_INTERCEPT_MESSAGE;
	call(cpu, map ? HVCALL_MAP_VP_STATE_PAGE : HVCALL_UNMAP_VP_STATE_PAGE,
	     0);
}

static void do_dispatch(u32 cpu, u64 id, u32 vp)
{
	struct hv_input_dispatch_vp *in = tk_hc_in();

	memset(in, 0, sizeof(*in));
	in->partition_id = id;
	in->vp_index = vp;
	call(cpu, HVCALL_DISPATCH_VP, 0);
}

/* One call, chosen by weight, on objects that (mostly) exist. */
static void one_call(u32 cpu)
{
	u64 id = some_id(cpu);
	u32 vp = some_vp(cpu);

	switch (below(cpu, 100)) {
	case 0 ... 1: do_create(cpu); break;
	case 2: do_lifecycle(cpu, HVCALL_INITIALIZE_PARTITION, id); break;
	case 3 ... 10: do_deposit(cpu, id); break;
	case 11 ... 17: do_withdraw(cpu, id); break;
	case 18 ... 32: do_map(cpu, id); break;
	case 33 ... 44: do_unmap(cpu, id); break;
	case 45 ... 50: do_vp_call(cpu, HVCALL_CREATE_VP, id, vp); break;
	case 51 ... 53: do_vp_call(cpu, HVCALL_DELETE_VP, id, vp); break;
	case 54 ... 63: do_registers(cpu, id, vp, true); break;
	case 64 ... 71: do_registers(cpu, id, vp, false); break;
	case 72 ... 77: do_interrupt(cpu, id, vp); break;
	case 78 ... 80: do_state_page(cpu, id, vp, true); break;
	case 81 ... 82: do_state_page(cpu, id, vp, false); break;
	case 83 ... 90: do_dispatch(cpu, id, vp); break;
	case 91: do_lifecycle(cpu, HVCALL_FINALIZE_PARTITION,
			      mortal_id(cpu, id)); break;
	case 92: do_lifecycle(cpu, HVCALL_DELETE_PARTITION,
			      mortal_id(cpu, id)); break;
	default: do_deposit(cpu, HV_PARTITION_ID_SELF); break;
	}
}

static u64 iterations;

/* Live targets before the storm: 4 partitions, 4 VPs each, 1,024 pages. */
static void setup(void)
{
	struct tk_child *c = tk_alloc_pages(sizeof(*c) / 4096 + 1);

	for (u32 i = 0; i < 4; i++) {
		tk_child_create(c, i, 1024);
		ids[nr_ids++] = c->id;
		max_id = c->id;
		for (u32 vp = 1; vp < 4; vp++) {
			void *fresh[8];

			for (u32 k = 0; k < 8; k++)
				fresh[k] = tk_alloc_pages(1);
			TK_CHECK_EQ(tk_status(tk_deposit(c->id, fresh, 8)), 0);
			TK_CHECK_EQ(do_vp_call(0, HVCALL_CREATE_VP, c->id, vp),
				    0);
		}
	}
}

static void cpu1_main(void *arg)
{
	(void)arg;
	for (u64 i = 0; i < iterations; i++)
		one_call(1);
	__atomic_store_n(&cpu1_done, true, __ATOMIC_RELEASE);
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

/* Withdraws everything from id's pool; the pages are ours again. */
static void drain(u64 id)
{
	struct hv_input_withdraw_memory *in = tk_hc_in();
	u64 r;

	do {
		in->partition_id = id;
		in->proximity_domain_info = 0;
		r = tk_hvcall(HVCALL_WITHDRAW_MEMORY, 256, 0);
	} while (!tk_status(r));
	TK_CHECK_EQ(tk_status(r), HV_STATUS_NO_RESOURCES);
}

/* Every partition ever created: ids are given out in order. */
static void teardown_everything(void)
{
	u32 stranded = 0, n = 0;
	u64 v;

	for (u64 id = ids[0]; id <= max_id; id++) {
		tk_hvcall_fast(HVCALL_FINALIZE_PARTITION, id, 0);
		if (tk_status(tk_get_property(id,
			HV_PROPERTY_MICROHV_EXIT_COUNT(0), &v)) ==
		    HV_STATUS_INVALID_PARTITION_ID)
			continue;	/* deleted by the fuzzing */
		drain(id);
		TK_CHECK_EQ(tk_status(tk_hvcall_fast(HVCALL_DELETE_PARTITION,
						     id, 0)), 0);
		n++;
	}
	drain(HV_PARTITION_ID_SELF);
	TK_CHECK_EQ(tk_status(tk_get_property(HV_PARTITION_ID_SELF,
		HV_PROPERTY_MICROHV_PARTITIONS, &v)), 0);
	TK_CHECK_EQ(v, 0);
	for (u32 i = 0; i < NPAGES; i++)
		stranded += tk_probe_read(pages + (u64)i * 4096, &v) != -1;
	if (stranded)
		tk_fail("%u of the root's pages did not come back", stranded);
	tk_printf("fuzz_state: %u partitions torn down, all %u pages back\n",
		  n, NPAGES);
}

static struct tk_child check;

void test_main(void)
{
	u64 seed;

	if (tk_role != TK_ROOT)
		tk_skip("needs microhv");
	if (tk_nr_cpus() < 2)
		tk_skip("needs two CPUs");
	iterations = tk_cmdline_u64("iterations", 20000);
	seed = tk_cmdline_u64("seed", 7);
	rng[0] = 0x9e3779b97f4a7c15ull ^ seed;
	rng[1] = 0xbf58476d1ce4e5b9ull ^ (seed << 1);
	pages = tk_alloc_pages(NPAGES);
	tk_printf("fuzz_state: %llu calls per CPU, seed %llu\n", iterations,
		  seed);
	setup();
	TK_CHECK_EQ(tk_start_ap(1, cpu1_main, NULL), 0);
	for (u64 i = 0; i < iterations; i++)
		one_call(0);
	while (!__atomic_load_n(&cpu1_done, __ATOMIC_ACQUIRE))
		__asm__ __volatile__("pause");
	tk_printf("fuzz_state: %llu + %llu calls, %llu + %llu succeeded\n",
		  calls[0], calls[1], calls_ok[0], calls_ok[1]);
	for (u32 c = 0; c < 256; c++)
		if (by_code[0][c][0] + by_code[0][c][1] + by_code[1][c][0] +
		    by_code[1][c][1])
			tk_printf("fuzz_state: call 0x%02x: %u ok, %u refused\n",
				  c, by_code[0][c][1] + by_code[1][c][1],
				  by_code[0][c][0] + by_code[1][c][0]);
	teardown_everything();
	tk_child_create(&check, 9, 2048);
	tk_child_load_self(&check, 0);
	tk_child_run(&check);
	TK_CHECK_EQ(check.result, TK_SUCCESS);
	tk_child_destroy(&check);
	tk_printf("fuzz_state: the hypervisor still answers correctly\n");
}
