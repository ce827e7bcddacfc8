/*
 * The root-partition calls, positive and negative: the pool rules
 * (INSUFFICIENT_MEMORY until a deposit, NO_RESOURCES when withdrawn
 * dry), the state machine, GPA maps and their refusals, VPs and their
 * registers, properties and exit counters.
 */
#include <hv/string.h>
#include "../lib/child.h"

#define FLAGS (HV_PARTITION_CREATION_EXO | \
	       HV_PARTITION_CREATION_INTERCEPT_MESSAGE_PAGE)

static u64 id;
static void *pages[64];

static u16 fast(u16 code, u64 a, u64 b)
{
	return HV_RESULT_STATUS(tk_hvcall_fast(code, a, b));
}

static u16 deposit_new(u64 target, u32 n)
{
	for (u32 i = 0; i < n; i++)
		pages[i] = tk_alloc_pages(1);
	return tk_status(tk_deposit(target, pages, n));
}

static void create_starved_then_fed(void)
{
	u64 in_use;

	/* The root's own pool is empty: the object needs a deposit. */
	TK_CHECK_EQ(tk_status(tk_create_partition(FLAGS, &id)),
		    HV_STATUS_INSUFFICIENT_MEMORY);
	TK_CHECK_EQ(deposit_new(HV_PARTITION_ID_SELF, 1), 0);
	TK_CHECK_EQ(tk_status(tk_create_partition(HV_PARTITION_CREATION_X2APIC,
						  &id)),
		    HV_STATUS_INVALID_PARAMETER);	/* an xAPIC only */
	TK_CHECK_EQ(tk_status(tk_create_partition(FLAGS, &id)), 0);
	TK_CHECK(id > HV_ROOT_PARTITION_ID);
	TK_CHECK_EQ(tk_memory_balance(HV_PARTITION_ID_SELF, &in_use), 0);
	TK_CHECK_EQ(in_use, 1);
	/* Initialize needs pages in the child's own pool. */
	TK_CHECK_EQ(fast(HVCALL_INITIALIZE_PARTITION, id, 0),
		    HV_STATUS_INSUFFICIENT_MEMORY);
	TK_CHECK_EQ(deposit_new(id, 8), 0);
	TK_CHECK_EQ(fast(HVCALL_INITIALIZE_PARTITION, id, 0), 0);
	TK_CHECK_EQ(fast(HVCALL_INITIALIZE_PARTITION, id, 0),
		    HV_STATUS_INVALID_PARTITION_STATE);
	TK_CHECK_EQ(fast(HVCALL_INITIALIZE_PARTITION, 0x7777, 0),
		    HV_STATUS_INVALID_PARTITION_ID);
	TK_CHECK_EQ(fast(HVCALL_INITIALIZE_PARTITION, HV_ROOT_PARTITION_ID, 0),
		    HV_STATUS_INVALID_PARTITION_ID);
}

static u16 set_prop(u64 target, u32 code, u64 value)
{
	struct hv_input_set_partition_property *in = tk_hc_in();

	memset(in, 0, sizeof(*in));
	in->partition_id = target;
	in->property_code = code;
	in->value = value;
	return tk_status(tk_hvcall(HVCALL_SET_PARTITION_PROPERTY, 0, 0));
}

static void properties(void)
{
	u64 v;

	TK_CHECK_EQ(tk_status(tk_get_property(id, HV_PROPERTY_PRIVILEGE_FLAGS,
					      &v)), 0);
	TK_CHECK(v & HV_PRIV_HYPERCALL_MSRS);
	TK_CHECK(!(v & HV_PRIV_CREATE_PARTITIONS));
	TK_CHECK_EQ(set_prop(id, HV_PROPERTY_SYNTHETIC_PROC_FEATURES, 1),
		    HV_STATUS_INVALID_PARTITION_STATE);	/* early only */
	TK_CHECK_EQ(set_prop(id, HV_PROPERTY_UNIMPLEMENTED_MSR_ACTION, 1), 0);
	TK_CHECK_EQ(set_prop(id, HV_PROPERTY_UNIMPLEMENTED_MSR_ACTION, 7),
		    HV_STATUS_PROPERTY_VALUE_OUT_OF_RANGE);
	TK_CHECK_EQ(set_prop(id, 0x12345, 0), HV_STATUS_UNKNOWN_PROPERTY);
	TK_CHECK_EQ(tk_status(tk_get_property(id, 0x12345, &v)),
		    HV_STATUS_UNKNOWN_PROPERTY);
	TK_CHECK_EQ(set_prop(HV_PARTITION_ID_SELF,
			     HV_PROPERTY_UNIMPLEMENTED_MSR_ACTION, 0),
		    HV_STATUS_INVALID_PARTITION_ID);
}

static u64 map(u64 gfn, u64 pfn, u32 flags)
{
	struct hv_input_map_gpa_pages *in = tk_hc_in();

	memset(in, 0, sizeof(*in));
	in->target_partition_id = id;
	in->target_gpa_base = gfn;
	in->map_flags = flags;
	in->source_gpa_page_list[0] = pfn;
	return tk_hvcall(HVCALL_MAP_GPA_PAGES, 1, 0);
}

static u64 unmap(u64 gfn, u32 n)
{
	struct hv_input_unmap_gpa_pages *in = tk_hc_in();

	memset(in, 0, sizeof(*in));
	in->target_partition_id = id;
	in->target_gpa_base = gfn;
	return tk_hvcall(HVCALL_UNMAP_GPA_PAGES, n, 0);
}

#define RWX 0xf

static void gpa_maps(void)
{
	u64 pfn = (u64)(uintptr_t)tk_alloc_pages(1) >> 12, r, v;
	void *dep;

	TK_CHECK_EQ(tk_status(map(0x10, pfn, RWX)), 0);
	TK_CHECK_EQ(tk_status(map(0x10, pfn, RWX)),
		    HV_STATUS_INVALID_PARAMETER);	/* GFN taken */
	TK_CHECK_EQ(tk_status(map(0x11, 0x100, RWX)),
		    HV_STATUS_INVALID_PARAMETER);	/* hypervisor image */
	TK_CHECK_EQ(tk_status(map(0x11, 1ull << 40, RWX)),
		    HV_STATUS_INVALID_PARAMETER);	/* not RAM */
	TK_CHECK_EQ(tk_status(map(1ull << 40, pfn, RWX)),
		    HV_STATUS_INVALID_PARAMETER);	/* GFN out of range */
	TK_CHECK_EQ(tk_status(map(0x11, pfn, HV_MAP_GPA_WRITABLE)),
		    HV_STATUS_INVALID_PARAMETER);	/* not readable */
	TK_CHECK_EQ(tk_status(map(0x11, pfn, RWX | HV_MAP_GPA_LARGE_PAGE)),
		    HV_STATUS_INVALID_PARAMETER);
	/* A page mapped into a child cannot go into a pool... */
	pages[0] = (void *)(uintptr_t)(pfn << 12);
	TK_CHECK_EQ(tk_status(tk_deposit(id, pages, 1)),
		    HV_STATUS_INVALID_PARAMETER);
	/* ...and a deposited page cannot be mapped, nor read by the root. */
	dep = tk_alloc_pages(1);
	TK_CHECK_EQ(tk_status(tk_deposit(id, &dep, 1)), 0);
	TK_CHECK_EQ(tk_status(tk_deposit(id, &dep, 1)),
		    HV_STATUS_INVALID_PARAMETER);	/* twice */
	TK_CHECK_EQ(tk_status(map(0x12, (u64)(uintptr_t)dep >> 12, RWX)),
		    HV_STATUS_INVALID_PARAMETER);
	TK_CHECK_EQ(tk_probe_read(dep, &v), 13);
	TK_CHECK_EQ(tk_probe_write(dep, 1), 13);
	/* Unmap: then the page may be deposited. */
	TK_CHECK_EQ(tk_status(unmap(0x10, 1)), 0);
	TK_CHECK_EQ(tk_status(unmap(0x10, 1)), HV_STATUS_INVALID_PARAMETER);
	TK_CHECK_EQ(tk_status(tk_deposit(id, pages, 1)), 0);
	/* A rep map that fails half way reports the reps it did. */
	r = map(0x20, (u64)(uintptr_t)tk_alloc_pages(1) >> 12, RWX);
	TK_CHECK_EQ(tk_status(r), 0);
	TK_CHECK_EQ(HV_RESULT_REPS(r), 1);
	{
		struct hv_input_map_gpa_pages *in = tk_hc_in();

		memset(in, 0, sizeof(*in));
		in->target_partition_id = id;
		in->target_gpa_base = 0x30;
		in->map_flags = RWX;
		in->source_gpa_page_list[0] =
			(u64)(uintptr_t)tk_alloc_pages(1) >> 12;
		in->source_gpa_page_list[1] = 0x100;	/* bad */
		r = tk_hvcall(HVCALL_MAP_GPA_PAGES, 2, 0);
		TK_CHECK_EQ(tk_status(r), HV_STATUS_INVALID_PARAMETER);
		TK_CHECK_EQ(HV_RESULT_REPS(r), 1);
	}
}

/* Maps n root pages from pfn at gfn, feeding the pool as needed. */
static void map_range(u64 gfn, u64 pfn, u32 n)
{
	const u32 per_call = (4096 - sizeof(struct hv_input_map_gpa_pages)) / 8;
	u32 done = 0;

	while (done < n) {
		struct hv_input_map_gpa_pages *in = tk_hc_in();
		u32 reps = MIN(per_call, n - done);
		u64 r;

		memset(in, 0, sizeof(*in));
		in->target_partition_id = id;
		in->target_gpa_base = gfn + done;
		in->map_flags = RWX;
		for (u32 i = 0; i < reps; i++)
			in->source_gpa_page_list[i] = pfn + done + i;
		r = tk_hvcall(HVCALL_MAP_GPA_PAGES, reps, 0);
		done += HV_RESULT_REPS(r);
		if (tk_status(r) == HV_STATUS_INSUFFICIENT_MEMORY)
			TK_CHECK_EQ(deposit_new(id, 16), 0);
		else
			TK_CHECK_EQ(tk_status(r), 0);
	}
}

/*
 * UnmapGpaPages takes up to 4,095 reps, and the hypervisor keeps each
 * unmapped frame until one TLB shootdown: around one page of them (512)
 * the batching must hold. Every frame must come back to the root.
 */
static void unmap_reps(void)
{
	static const u32 counts[] = { 511, 512, 513, 4095 };
	u64 gfn = 0x1000;

	for (u32 i = 0; i < ARRAY_SIZE(counts); i++, gfn += 0x1000) {
		u32 n = counts[i];
		u8 *mem = tk_alloc_pages(n);
		u64 pfn = (u64)(uintptr_t)mem >> 12, r;

		map_range(gfn, pfn, n);
		r = unmap(gfn, n);
		TK_CHECK_EQ(tk_status(r), 0);
		TK_CHECK_EQ(HV_RESULT_REPS(r), n);
		TK_CHECK_EQ(tk_status(unmap(gfn + n - 1, 1)),
			    HV_STATUS_INVALID_PARAMETER);	/* gone */
		/* Back in the root's hands: it can deposit them again. */
		pages[0] = mem;
		pages[1] = mem + (u64)(n - 1) * 4096;
		TK_CHECK_EQ(tk_status(tk_deposit(id, pages, 2)), 0);
	}
	/* A range past the top of the GPA space, or wrapping, is refused. */
	TK_CHECK_EQ(tk_status(unmap((1ull << 34) - 2, 3)),
		    HV_STATUS_INVALID_PARAMETER);
	TK_CHECK_EQ(tk_status(unmap(~0ull, 2)), HV_STATUS_INVALID_PARAMETER);
	TK_CHECK_EQ(tk_status(map(~0ull, 0x1000, RWX)),
		    HV_STATUS_INVALID_PARAMETER);
	tk_printf("partition_calls: unmapped 511, 512, 513 and 4095 reps\n");
}

static u16 create_vp(u32 index, u64 flags)
{
	struct hv_input_create_vp *in = tk_hc_in();

	memset(in, 0, sizeof(*in));
	in->partition_id = id;
	in->vp_index = index;
	in->flags = flags;
	return tk_status(tk_hvcall(HVCALL_CREATE_VP, 0, 0));
}

/* Values VMRUN would refuse never reach a VMCB (x86/regcheck.h). */
static void bad_register_values(void)
{
	static const struct { u32 name; u64 value; } bad[] = {
		{ HV_REG_CR0, 0x20000011 },		/* NW without CD */
		{ HV_REG_CR0, 0x80000000 },		/* PG without PE */
		{ HV_REG_CR0, 1ull << 32 },
		{ HV_REG_CR3, 1ull << 63 },
		{ HV_REG_CR4, 1ull << 13 },		/* VMXE */
		{ HV_REG_CR4, 1ull << 40 },
		{ HV_REG_PAT, 0x0007040600070402ull },	/* type 2 */
		{ HV_REG_DR7, 1ull << 32 },
		{ HV_REG_DR6, 1ull << 40 },
		{ HV_REG_EFER, 1ull << 1 },
	};
	u64 v;

	for (u32 i = 0; i < ARRAY_SIZE(bad); i++)
		if (tk_status(tk_set_vp_reg(id, 0, bad[i].name,
					    bad[i].value)) !=
		    HV_STATUS_INVALID_PARAMETER)
			tk_fail("register 0x%x = 0x%llx not refused",
				bad[i].name, bad[i].value);
	TK_CHECK_EQ(tk_status(tk_get_vp_reg(id, 0, HV_REG_CR0, &v)), 0);
	TK_CHECK_EQ(v, 0x60000010);			/* unchanged */
	/* The root's own VP: an inconsistent mode is refused and undone. */
	TK_CHECK_EQ(tk_status(tk_set_vp_reg(HV_PARTITION_ID_SELF, 0,
					    HV_REG_CR4, 0)),
		    HV_STATUS_INVALID_PARAMETER);	/* long mode, no PAE */
	TK_CHECK_EQ(tk_status(tk_get_vp_reg(HV_PARTITION_ID_SELF, 0,
					    HV_REG_CR4, &v)), 0);
	TK_CHECK(v & (1ull << 5));
}

static void vps(void)
{
	u64 in_use, v;
	u32 state, event;

	tk_withdraw_all(id);	/* so the VP needs a deposit */
	TK_CHECK_EQ(create_vp(0, 0), HV_STATUS_INSUFFICIENT_MEMORY);
	TK_CHECK_EQ(deposit_new(id, 4), 0);
	TK_CHECK_EQ(create_vp(0, 1), HV_STATUS_INVALID_PARAMETER);
	TK_CHECK_EQ(create_vp(64, 0), HV_STATUS_INVALID_VP_INDEX);
	TK_CHECK_EQ(create_vp(0, 0), 0);
	TK_CHECK_EQ(create_vp(0, 0), HV_STATUS_INVALID_VP_INDEX);
	tk_memory_balance(id, &in_use);
	TK_CHECK(in_use >= 2);
	/* Reset state, explicitly suspended. */
	TK_CHECK_EQ(tk_status(tk_get_vp_reg(id, 0, HV_REG_RIP, &v)), 0);
	TK_CHECK_EQ(v, 0xfff0);
	TK_CHECK_EQ(tk_status(tk_get_vp_reg(id, 0, HV_REG_EXPLICIT_SUSPEND,
					    &v)), 0);
	TK_CHECK_EQ(v, 1);
	TK_CHECK_EQ(tk_status(tk_get_vp_reg(id, 0, HV_REG_RDX, &v)), 0);
	TK_CHECK(v != 0);			/* the CPU signature */
	TK_CHECK_EQ(tk_status(tk_dispatch(id, 0, 0, &state, &event)), 0);
	TK_CHECK_EQ(state, HV_VP_DISPATCH_STATE_BLOCKED);
	TK_CHECK_EQ(event, HV_VP_DISPATCH_EVENT_SUSPEND);
	TK_CHECK_EQ(tk_status(tk_set_vp_reg(id, 0, HV_REG_R13, 0x1234)), 0);
	TK_CHECK_EQ(tk_status(tk_get_vp_reg(id, 0, HV_REG_R13, &v)), 0);
	TK_CHECK_EQ(v, 0x1234);
	TK_CHECK_EQ(tk_status(tk_set_vp_reg(id, 0, HV_REG_EFER, 1ull << 40)),
		    HV_STATUS_INVALID_PARAMETER);	/* reserved EFER bit */
	bad_register_values();
	TK_CHECK_EQ(tk_status(tk_set_vp_reg(id, 0, HV_REG_VP_INDEX, 3)),
		    HV_STATUS_INVALID_PARAMETER);	/* read-only */
	TK_CHECK_EQ(tk_status(tk_get_vp_reg(id, 0, 0x00ff0000, &v)),
		    HV_STATUS_INVALID_PARAMETER);	/* no such register */
	TK_CHECK_EQ(tk_status(tk_get_vp_reg(id, 5, HV_REG_RIP, &v)),
		    HV_STATUS_INVALID_VP_INDEX);
	TK_CHECK_EQ(tk_status(tk_get_vp_reg(0x7777, 0, HV_REG_RIP, &v)),
		    HV_STATUS_INVALID_PARTITION_ID);
	TK_CHECK_EQ(tk_status(tk_dispatch(id, 3, 0, &state, &event)),
		    HV_STATUS_INVALID_VP_INDEX);
	/* The root may read its own VP's registers, not write its index. */
	TK_CHECK_EQ(tk_status(tk_get_vp_reg(HV_PARTITION_ID_SELF, 0,
					    HV_REG_CR3, &v)), 0);
	TK_CHECK(v != 0);
	TK_CHECK_EQ(tk_status(tk_get_vp_reg(HV_PARTITION_ID_SELF, 1,
					    HV_REG_CR3, &v)),
		    HV_STATUS_ACCESS_DENIED);	/* not the calling VP */
}

static void teardown(void)
{
	u64 avail, in_use;
	void *dep;

	TK_CHECK_EQ(fast(HVCALL_DELETE_PARTITION, id, 0),
		    HV_STATUS_INVALID_PARTITION_STATE);	/* still live */
	TK_CHECK_EQ(fast(HVCALL_FINALIZE_PARTITION, id, 0), 0);
	TK_CHECK_EQ(fast(HVCALL_FINALIZE_PARTITION, id, 0),
		    HV_STATUS_INVALID_PARTITION_STATE);
	dep = tk_alloc_pages(1);
	TK_CHECK_EQ(tk_status(tk_deposit(id, &dep, 1)),
		    HV_STATUS_INVALID_PARTITION_STATE);
	tk_free_page(dep);
	avail = tk_memory_balance(id, &in_use);
	TK_CHECK_EQ(in_use, 0);			/* all back in the pool */
	tk_withdraw_all(id);
	TK_CHECK_EQ(tk_memory_balance(id, &in_use), 0);
	{
		struct hv_input_withdraw_memory *in = tk_hc_in();
		u64 r;

		in->partition_id = id;
		in->proximity_domain_info = 0;
		r = tk_hvcall(HVCALL_WITHDRAW_MEMORY, 4, 0);
		TK_CHECK_EQ(tk_status(r), HV_STATUS_NO_RESOURCES);
		TK_CHECK_EQ(HV_RESULT_REPS(r), 0);
	}
	TK_CHECK_EQ(fast(HVCALL_DELETE_PARTITION, id, 0), 0);
	TK_CHECK_EQ(fast(HVCALL_DELETE_PARTITION, id, 0),
		    HV_STATUS_INVALID_PARTITION_ID);
	tk_printf("partition_calls: %llu pages came back on withdraw\n", avail);
}

/* As a child: every root call is refused, none does anything. */
void child_main(void)
{
	static const u16 root_calls[] = {
		HVCALL_CREATE_PARTITION, HVCALL_INITIALIZE_PARTITION,
		HVCALL_FINALIZE_PARTITION, HVCALL_DELETE_PARTITION,
		HVCALL_GET_PARTITION_PROPERTY, HVCALL_SET_PARTITION_PROPERTY,
		HVCALL_GET_PARTITION_ID, HVCALL_GET_MEMORY_BALANCE,
		HVCALL_INSTALL_INTERCEPT, HVCALL_CREATE_VP,
		HVCALL_GET_SYSTEM_PROPERTY, HVCALL_ASSERT_VIRTUAL_INTERRUPT,
		HVCALL_START_VIRTUAL_PROCESSOR, HVCALL_DISPATCH_VP,
		HVCALL_MAP_VP_STATE_PAGE, HVCALL_UNMAP_VP_STATE_PAGE,
		HVCALL_GET_VP_REGISTERS, HVCALL_SET_VP_REGISTERS,
	};
	static const u16 root_rep_calls[] = {
		HVCALL_DEPOSIT_MEMORY, HVCALL_WITHDRAW_MEMORY,
		HVCALL_MAP_GPA_PAGES, HVCALL_UNMAP_GPA_PAGES,
	};
	u64 *in = tk_hc_in();

	memset(in, 0, 4096);
	in[0] = HV_PARTITION_ID_SELF;
	for (u32 i = 0; i < sizeof(root_calls) / 2; i++) {
		u32 reps = root_calls[i] == HVCALL_GET_VP_REGISTERS ||
			   root_calls[i] == HVCALL_SET_VP_REGISTERS;

		if (tk_status(tk_hvcall(root_calls[i], reps, 0)) !=
		    HV_STATUS_ACCESS_DENIED)
			tk_fail("call 0x%x not refused", root_calls[i]);
	}
	for (u32 i = 0; i < sizeof(root_rep_calls) / 2; i++)
		if (tk_status(tk_hvcall(root_rep_calls[i], 1, 0)) !=
		    HV_STATUS_ACCESS_DENIED)
			tk_fail("call 0x%x not refused", root_rep_calls[i]);
	tk_pass();
}

void test_main(void)
{
	if (tk_role != TK_ROOT)
		tk_skip("needs microhv");
	create_starved_then_fed();
	properties();
	gpa_maps();
	unmap_reps();
	vps();
	teardown();
}
