/* Root-side helpers: children that run this same test kernel. */
#include <hv/string.h>
#include "child.h"

#define DEPOSIT_BATCH 64

u64 tk_create_partition(u64 flags, u64 *id)
{
	struct hv_input_create_partition *in = tk_hc_in();
	u64 r;

	memset(in, 0, sizeof(*in));
	in->flags = flags;
	in->compatibility_version = 0x0609;
	r = tk_hvcall(HVCALL_CREATE_PARTITION, 0, 0);
	*id = *(u64 *)tk_hc_out();
	return r;
}

u64 tk_deposit(u64 id, void **pages, u32 n)
{
	struct hv_input_deposit_memory *in = tk_hc_in();

	in->partition_id = id;
	for (u32 i = 0; i < n; i++)
		in->gpa_page_list[i] = (u64)(uintptr_t)pages[i] >> 12;
	return tk_hvcall(HVCALL_DEPOSIT_MEMORY, n, 0);
}

static void deposit_fresh(u64 id, u32 n)
{
	void *pages[DEPOSIT_BATCH];

	for (u32 i = 0; i < n; i++)
		pages[i] = tk_alloc_pages(1);
	if (tk_status(tk_deposit(id, pages, n)))
		tk_fail("deposit of %u pages into %llu failed", n, id);
}

/* Runs a call; on INSUFFICIENT_MEMORY deposits into who and retries. */
static u64 with_deposits(u64 who, u64 (*call)(void *), void *arg)
{
	for (int tries = 0; tries < 32; tries++) {
		u64 r = call(arg);

		if (tk_status(r) != HV_STATUS_INSUFFICIENT_MEMORY)
			return r;
		deposit_fresh(who, DEPOSIT_BATCH);
	}
	tk_fail("still INSUFFICIENT_MEMORY after deposits");
}

struct create_args {
	u64 flags, id;
};

static u64 do_create(void *arg)
{
	struct create_args *a = arg;

	return tk_create_partition(a->flags, &a->id);
}

static u64 do_initialize(void *arg)
{
	return tk_hvcall_fast(HVCALL_INITIALIZE_PARTITION, *(u64 *)arg, 0);
}

struct map_args {
	struct tk_child *c;
	u32 first, count;
	u32 done;
};

static u64 do_map(void *arg)
{
	struct map_args *a = arg;
	struct hv_input_map_gpa_pages *in = tk_hc_in();
	u64 r;

	in->target_partition_id = a->c->id;
	in->target_gpa_base = a->first;
	in->map_flags = HV_MAP_GPA_READABLE | HV_MAP_GPA_WRITABLE |
			HV_MAP_GPA_KERNEL_EXECUTABLE |
			HV_MAP_GPA_USER_EXECUTABLE;
	in->padding = 0;
	for (u32 i = 0; i < a->count; i++)
		in->source_gpa_page_list[i] = a->c->pfn[a->first + i];
	/* Resume from the reps already done, as the TLFS asks. */
	r = tk_hvcall(HVCALL_MAP_GPA_PAGES, a->count, a->done);
	a->done = (u32)HV_RESULT_REPS(r);
	return r;
}

static u64 do_create_vp(void *arg)
{
	struct hv_input_create_vp *in = tk_hc_in();

	memset(in, 0, sizeof(*in));
	in->partition_id = *(u64 *)arg;
	return tk_hvcall(HVCALL_CREATE_VP, 0, 0);
}

static u64 do_map_state(void *arg)
{
	struct hv_input_map_vp_state_page *in = tk_hc_in();

	memset(in, 0, sizeof(*in));
	in->partition_id = *(u64 *)arg;
	in->type = HV_VP_STATE_PAGE_INTERCEPT_MESSAGE;
	return tk_hvcall(HVCALL_MAP_VP_STATE_PAGE, 0, 0);
}

static void map_memory(struct tk_child *c)
{
	const u32 batch = 500;

	for (u32 first = 0; first < c->mem_pages; first += batch) {
		struct map_args a = { c, first, MIN(batch, c->mem_pages -
						    first), 0 };
		u64 r = with_deposits(c->id, do_map, &a);

		if (tk_status(r))
			tk_fail("MapGpaPages status 0x%x", tk_status(r));
	}
}

int tk_child_create(struct tk_child *c, u32 index, u64 mem_pages)
{
	struct create_args ca = { HV_PARTITION_CREATION_EXO |
				  HV_PARTITION_CREATION_INTERCEPT_MESSAGE_PAGE, 0 };
	u64 r;

	memset(c, 0, sizeof(*c));
	c->index = index;
	c->result = -1;
	c->mem_pages = MIN(mem_pages, TK_CHILD_MAX_PAGES);
	r = with_deposits(HV_PARTITION_ID_SELF, do_create, &ca);
	if (tk_status(r))
		tk_fail("CreatePartition status 0x%x", tk_status(r));
	c->id = ca.id;
	deposit_fresh(c->id, 16);
	r = with_deposits(c->id, do_initialize, &c->id);
	if (tk_status(r))
		tk_fail("InitializePartition status 0x%x", tk_status(r));
	for (u64 i = 0; i < c->mem_pages; i++)
		c->pfn[i] = (u64)(uintptr_t)tk_alloc_pages(1) >> 12;
	map_memory(c);
	r = with_deposits(c->id, do_create_vp, &c->id);
	if (tk_status(r))
		tk_fail("CreateVp status 0x%x", tk_status(r));
	r = with_deposits(c->id, do_map_state, &c->id);
	if (tk_status(r))
		tk_fail("MapVpStatePage status 0x%x", tk_status(r));
	c->msg = (volatile struct hv_message *)(uintptr_t)
		 (*(u64 *)tk_hc_out() << 12);
	return 0;
}

/* The root's view of child GPA g (inside the child's memory). */
static void *child_ptr(struct tk_child *c, u64 g)
{
	return (u8 *)(uintptr_t)(c->pfn[g >> 12] << 12) + (g & 0xfff);
}

extern char __image_start[], __image_end[];

u64 tk_set_vp_reg(u64 id, u32 vp, u32 name, u64 value)
{
	struct hv_input_vp_registers *in = tk_hc_in();
	struct hv_register_assoc *r = (void *)(in + 1);

	memset(in, 0, sizeof(*in) + sizeof(*r));
	in->partition_id = id;
	in->vp_index = vp;
	r->name = name;
	r->value.low = value;
	return tk_hvcall(HVCALL_SET_VP_REGISTERS, 1, 0);
}

u64 tk_get_vp_reg(u64 id, u32 vp, u32 name, u64 *value)
{
	struct hv_input_vp_registers *in = tk_hc_in();
	u64 r;

	memset(in, 0, sizeof(*in));
	in->partition_id = id;
	in->vp_index = vp;
	*(u32 *)(in + 1) = name;
	r = tk_hvcall(HVCALL_GET_VP_REGISTERS, 1, 0);
	*value = *(u64 *)tk_hc_out();
	return r;
}

static void set_seg(u64 id, u32 name, u16 sel, u16 attr)
{
	struct hv_input_vp_registers *in = tk_hc_in();
	struct hv_register_assoc *r = (void *)(in + 1);
	struct hv_x64_segment_register s = { 0, 0xffffffffu, sel, attr };

	memset(in, 0, sizeof(*in) + sizeof(*r));
	in->partition_id = id;
	r->name = name;
	memcpy(&r->value, &s, sizeof(s));
	if (tk_status(tk_hvcall(HVCALL_SET_VP_REGISTERS, 1, 0)))
		tk_fail("SetVpRegisters(segment 0x%x) failed", name);
}

int tk_child_load_self(struct tk_child *c, u64 arg)
{
	u64 start = (u64)(uintptr_t)__image_start;
	u64 size = (u64)(uintptr_t)__image_end - start;
	struct tk_child_info *info;
	static const struct { u32 name; u64 value; } regs[] = {
		{ HV_REG_CR0, 0x11 },
		{ HV_REG_RFLAGS, 0x2 },
		{ HV_REG_RAX, TK_CHILD_MAGIC },
		{ HV_REG_RBX, TK_CHILD_INFO_GPA },
	};

	if (start + size > c->mem_pages * 4096)
		tk_fail("child memory too small for the image");
	for (u64 off = 0; off < size; off += 4096)
		memcpy(child_ptr(c, start + off), __image_start + off,
		       MIN(4096, size - off));
	info = child_ptr(c, TK_CHILD_INFO_GPA);
	info->magic = TK_CHILD_MAGIC;
	info->index = c->index;
	info->arg = arg;
	set_seg(c->id, HV_REG_CS, 0x08, 0xc09b);
	set_seg(c->id, HV_REG_DS, 0x10, 0xc093);
	set_seg(c->id, HV_REG_ES, 0x10, 0xc093);
	set_seg(c->id, HV_REG_SS, 0x10, 0xc093);
	for (u32 i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		if (tk_status(tk_set_vp_reg(c->id, 0, regs[i].name,
					    regs[i].value)))
			tk_fail("SetVpRegisters(0x%x) failed", regs[i].name);
	extern void _start32(void);
	if (tk_status(tk_set_vp_reg(c->id, 0, HV_REG_RIP,
				    (u64)(uintptr_t)_start32)) ||
	    tk_status(tk_set_vp_reg(c->id, 0, HV_REG_EXPLICIT_SUSPEND, 0)))
		tk_fail("could not start the child VP");
	return 0;
}

u64 tk_dispatch(u64 id, u32 vp, u32 flags, u32 *state, u32 *event)
{
	struct hv_input_dispatch_vp *in = tk_hc_in();
	struct hv_output_dispatch_vp *out = tk_hc_out();
	u64 r;

	memset(in, 0, sizeof(*in));
	in->partition_id = id;
	in->vp_index = vp;
	in->flags = flags;
	r = tk_hvcall(HVCALL_DISPATCH_VP, 0, 0);
	*state = out->dispatch_state;
	*event = out->dispatch_event;
	return r;
}

u64 tk_get_property(u64 id, u32 code, u64 *value)
{
	struct hv_input_get_partition_property *in = tk_hc_in();
	u64 r;

	memset(in, 0, sizeof(*in));
	in->partition_id = id;
	in->property_code = code;
	r = tk_hvcall(HVCALL_GET_PARTITION_PROPERTY, 0, 0);
	*value = *(u64 *)tk_hc_out();
	return r;
}

static void child_console(struct tk_child *c, char ch)
{
	if (ch == '\n' || c->line_len == sizeof(c->line) - 1) {
		c->line[c->line_len] = '\0';
		tk_printf("[child %u] %s\n", c->index, c->line);
		c->line_len = 0;
		if (ch == '\n')
			return;
	}
	c->line[c->line_len++] = ch;
}

/* Port I/O from a child: its console and its result port. */
static bool child_io(struct tk_child *c)
{
	const volatile struct hv_x64_io_port_intercept_message *io =
		(const volatile void *)c->msg->payload;
	u64 rip = io->header.rip + io->header.instruction_length;
	bool out = io->header.intercept_access_type ==
		   HV_INTERCEPT_ACCESS_TYPE_WRITE;

	c->io_exits++;
	if (out && io->port_number == TK_CONSOLE_PORT)
		child_console(c, (char)io->rax);
	else if (out && io->port_number == TK_RESULT_PORT)
		c->result = (int)(io->rax & 0xff) - TK_EXIT_BASE;
	else if (!out)	/* reads of anything: all ones, like no device */
		tk_set_vp_reg(c->id, 0, HV_REG_RAX,
			      io->rax | ((1ull << (8 * (io->access_info & 7)))
					 - 1));
	tk_set_vp_reg(c->id, 0, HV_REG_RIP, rip);
	return out && io->port_number == TK_RESULT_PORT;
}

u32 tk_child_run(struct tk_child *c)
{
	u32 flags = 0;

	for (;;) {
		u32 state, event, type;
		u64 r = tk_dispatch(c->id, 0, flags, &state, &event);

		if (tk_status(r))
			tk_fail("DispatchVp status 0x%x", tk_status(r));
		flags = 0;
		if (event != HV_VP_DISPATCH_EVENT_INTERCEPT)
			continue;	/* preempted: run it again */
		type = c->msg->header.message_type;
		flags = HV_DISPATCH_VP_FLAG_CLEAR_INTERCEPT_SUSPEND;
		if (type == HVMSG_X64_IO_PORT_INTERCEPT) {
			if (child_io(c))
				return type;
			continue;
		}
		if (type == HVMSG_X64_HALT)
			c->halts++;
		return type;
	}
}

u64 tk_memory_balance(u64 id, u64 *in_use)
{
	struct hv_input_withdraw_memory *in = tk_hc_in();
	struct hv_output_get_memory_balance *out = tk_hc_out();

	in->partition_id = id;
	in->proximity_domain_info = 0;
	TK_CHECK_EQ(tk_status(tk_hvcall(HVCALL_GET_MEMORY_BALANCE, 0, 0)), 0);
	*in_use = out->pages_in_use;
	return out->pages_available;
}

void tk_withdraw_all(u64 id)
{
	for (;;) {
		struct hv_input_withdraw_memory *in = tk_hc_in();
		u64 *out = tk_hc_out(), r;
		u32 n;

		in->partition_id = id;
		in->proximity_domain_info = 0;
		r = tk_hvcall(HVCALL_WITHDRAW_MEMORY, 256, 0);
		n = (u32)HV_RESULT_REPS(r);
		for (u32 i = 0; i < n; i++)
			tk_free_page((void *)(uintptr_t)(out[i] << 12));
		if (tk_status(r) == HV_STATUS_NO_RESOURCES)
			return;
		if (tk_status(r))
			tk_fail("WithdrawMemory status 0x%x", tk_status(r));
	}
}

int tk_child_destroy(struct tk_child *c)
{
	u64 r = tk_hvcall_fast(HVCALL_FINALIZE_PARTITION, c->id, 0);

	if (tk_status(r))
		tk_fail("FinalizePartition status 0x%x", tk_status(r));
	tk_withdraw_all(c->id);
	r = tk_hvcall_fast(HVCALL_DELETE_PARTITION, c->id, 0);
	if (tk_status(r))
		tk_fail("DeletePartition status 0x%x", tk_status(r));
	for (u64 i = 0; i < c->mem_pages; i++)
		tk_free_page((void *)(uintptr_t)(c->pfn[i] << 12));
	return 0;
}
