/*
 * What a child sees and what reaches the root. The child runs a fixed
 * script (child_main); the root (test_main) expects each intercept in
 * order and checks the TLFS message fields before completing it:
 * port I/O of each size and direction, string I/O, MSRs the hypervisor
 * does not own (one completed, one answered with #GP), an unmapped GPA
 * mapped on demand, a write to a read-only page, an installed #UD
 * intercept, HLT, a fixed interrupt and an NMI asserted by the root,
 * an invalid register state, and the exit counters. The child checks
 * CPUID, the synthetic MSRs, its hypercall page and that root-only
 * hypercalls are refused.
 */
#include <hv/string.h>
#include "../lib/child.h"

#define DEMAND_GPA 0x2000000ull
#define RO_GPA 0x2100000ull
#define IRQ_VECTOR 0x40


/* ------------------------------------------------------------- child */

#define CHILD_CHECK(c) do { if (!(c)) child_fail(__LINE__); } while (0)

static __noreturn void child_fail(int line)
{
	tk_printf("child check failed at line %d\n", line);
	tk_exit(TK_FAILURE);
}

static void child_io(void)
{
	u32 eax;
	u64 rax;
	u8 buf[3] = { 1, 2, 3 };
	u64 rcx = 3;
	const u8 *rsi = buf;

	__asm__ __volatile__("outb %%al, $0x80" ::"a"(0x5au));
	__asm__ __volatile__("outw %%ax, %%dx" ::"a"(0xbeefu), "d"(0x1234));
	__asm__ __volatile__("inl %%dx, %%eax" : "=a"(eax) : "d"(0x4321));
	CHILD_CHECK(eax == 0x11223344u);
	rax = 0xffffffffffff0000ull;
	__asm__ __volatile__("inb $0x71, %%al" : "+a"(rax));
	CHILD_CHECK(rax == 0xffffffffffff00abull);	/* upper bits kept */
	__asm__ __volatile__("rep outsb" : "+c"(rcx), "+S"(rsi)
			     : "d"(0x99) : "memory");
	CHILD_CHECK(rcx == 0);
}

static void child_msrs_memory(void)
{
	u64 v = 0;

	CHILD_CHECK(tk_probe_rdmsr(0x1234, &v) == 13);	/* root says #GP */
	tk_wrmsr(0x1235, 0xaabbccdd11223344ull);
	CHILD_CHECK(*(volatile u64 *)(uintptr_t)DEMAND_GPA ==
		    0xfeedfacecafebeefull);
	*(volatile u64 *)(uintptr_t)RO_GPA = 42;
	CHILD_CHECK(*(volatile u64 *)(uintptr_t)RO_GPA == 42);
}

static void child_events(void)
{
	__asm__ __volatile__("ud2");		/* the root skips it */
	__asm__ __volatile__("hlt");		/* ...and this */
	__asm__ __volatile__("sti");
	tk_outb(0x81, 0);			/* "assert an interrupt now" */
	for (int i = 0; i < 1000000 && !tk_irq_counts[IRQ_VECTOR]; i++)
		__asm__ __volatile__("pause");
	CHILD_CHECK(tk_irq_counts[IRQ_VECTOR] == 1);
	tk_nmi_expected = true;
	tk_outb(0x82, 0);			/* "now an NMI" */
	for (int i = 0; i < 1000000 && !tk_irq_counts[2]; i++)
		__asm__ __volatile__("pause");
	CHILD_CHECK(tk_irq_counts[2] == 1);
}

/* Under a generic parent (hvctl): what needs no scripted answers. */
static void child_generic(void)
{
	u64 rax = 0x1234567800000000ull, v;
	u32 eax;

	tk_check_child_abi();
	__asm__ __volatile__("outb %%al, $0x80" ::"a"(0x5au));
	__asm__ __volatile__("inb $0x71, %%al" : "+a"(rax));
	TK_CHECK_EQ(rax, 0x12345678000000ffull);	/* upper bits kept */
	__asm__ __volatile__("inl %%dx, %%eax" : "=a"(eax) : "d"(0x4321));
	TK_CHECK_EQ(eax, 0xffffffffu);
	TK_CHECK_EQ(tk_probe_rdmsr(0x1234, &v), 13);
	TK_CHECK_EQ(tk_probe_wrmsr(0x1235, 1), 13);
	tk_pass();
}

void child_main(void)
{
	if (tk_generic_parent())
		child_generic();
	tk_check_child_abi();
	child_io();
	child_msrs_memory();
	child_events();
	tk_pass();
}

/* ------------------------------------------------------------- root */

static struct tk_child c;
static u32 flags, io_seen, msr_seen;

/* The next intercept that is not console output. */
static volatile struct hv_message *next(void)
{
	for (;;) {
		u32 state, event;
		const volatile struct hv_x64_io_port_intercept_message *io =
			(const volatile void *)c.msg->payload;

		TK_CHECK_EQ(tk_status(tk_dispatch(c.id, 0, flags, &state,
						  &event)), 0);
		flags = HV_DISPATCH_VP_FLAG_CLEAR_INTERCEPT_SUSPEND;
		if (event != HV_VP_DISPATCH_EVENT_INTERCEPT) {
			flags = 0;
			continue;
		}
		if (c.msg->header.message_type == HVMSG_X64_IO_PORT_INTERCEPT)
			io_seen++;
		if (c.msg->header.message_type == HVMSG_X64_IO_PORT_INTERCEPT &&
		    io->port_number == TK_CONSOLE_PORT) {
			tk_printf("%c", (char)io->rax);
			tk_set_vp_reg(c.id, 0, HV_REG_RIP, io->header.rip +
				      io->header.instruction_length);
			continue;
		}
		TK_CHECK_EQ(c.msg->header.sender, c.id);
		return c.msg;
	}
}

static void skip(const volatile struct hv_x64_intercept_message_header *h,
		 u32 len)
{
	TK_CHECK_EQ(tk_status(tk_set_vp_reg(c.id, 0, HV_REG_RIP,
					    h->rip + len)), 0);
}

static const volatile struct hv_x64_io_port_intercept_message *
expect_io(u16 port, u8 access, u8 info)
{
	volatile struct hv_message *m = next();
	const volatile struct hv_x64_io_port_intercept_message *io =
		(const volatile void *)m->payload;

	if (m->header.message_type != HVMSG_X64_IO_PORT_INTERCEPT)
		tk_fail("expected I/O on port 0x%x, got message 0x%x", port,
			m->header.message_type);
	TK_CHECK_EQ(m->header.payload_size, 128);
	TK_CHECK_EQ(io->port_number, port);
	TK_CHECK_EQ(io->header.intercept_access_type, access);
	TK_CHECK_EQ(io->access_info, info);
	TK_CHECK_EQ(io->header.vp_index, 0);
	TK_CHECK(io->header.execution_state & BIT(4));	/* long mode */
	TK_CHECK_EQ(io->header.cs.selector, 0x08);
	return io;
}

static void root_io(void)
{
	const volatile struct hv_x64_io_port_intercept_message *io;

	io = expect_io(0x80, HV_INTERCEPT_ACCESS_TYPE_WRITE, 1);
	TK_CHECK_EQ(io->rax & 0xff, 0x5a);
	TK_CHECK_EQ(io->header.instruction_length, 2);	/* E6 80 */
	skip(&io->header, 2);
	io = expect_io(0x1234, HV_INTERCEPT_ACCESS_TYPE_WRITE, 2);
	TK_CHECK_EQ(io->rax & 0xffff, 0xbeef);
	TK_CHECK_EQ(io->header.instruction_length, 2);	/* 66 EF */
	skip(&io->header, 2);
	io = expect_io(0x4321, HV_INTERCEPT_ACCESS_TYPE_READ, 4);
	TK_CHECK_EQ(io->header.instruction_length, 1);	/* ED */
	tk_set_vp_reg(c.id, 0, HV_REG_RAX, 0x11223344);
	skip(&io->header, 1);
	io = expect_io(0x71, HV_INTERCEPT_ACCESS_TYPE_READ, 1);
	tk_set_vp_reg(c.id, 0, HV_REG_RAX, (io->rax & ~0xffull) | 0xab);
	skip(&io->header, 2);
	io = expect_io(0x99, HV_INTERCEPT_ACCESS_TYPE_WRITE,
		       1 | HV_IO_ACCESS_STRING | HV_IO_ACCESS_REP);
	TK_CHECK_EQ(io->rcx, 3);
	tk_set_vp_reg(c.id, 0, HV_REG_RCX, 0);
	skip(&io->header, io->header.instruction_length);
}

static void root_msrs(void)
{
	volatile struct hv_message *m = next();
	const volatile struct hv_x64_msr_intercept_message *msr =
		(const volatile void *)m->payload;

	TK_CHECK_EQ(m->header.message_type, HVMSG_X64_MSR_INTERCEPT);
	TK_CHECK_EQ(msr->msr_number, 0x1234);
	TK_CHECK_EQ(msr->header.intercept_access_type,
		    HV_INTERCEPT_ACCESS_TYPE_READ);
	/* #GP(0): pending, type 3, error code, vector 13. */
	TK_CHECK_EQ(tk_status(tk_set_vp_reg(c.id, 0, HV_REG_PENDING_INTERRUPTION,
					    1 | (3 << 1) | BIT(4) |
					    (13ull << 16))), 0);
	msr_seen++;
	m = next();
	TK_CHECK_EQ(m->header.message_type, HVMSG_X64_MSR_INTERCEPT);
	TK_CHECK_EQ(msr->msr_number, 0x1235);
	TK_CHECK_EQ(msr->header.intercept_access_type,
		    HV_INTERCEPT_ACCESS_TYPE_WRITE);
	TK_CHECK_EQ(msr->rax & 0xffffffff, 0x11223344);
	TK_CHECK_EQ(msr->rdx & 0xffffffff, 0xaabbccdd);
	skip(&msr->header, 2);
	msr_seen++;
}

static u64 map_one(u64 gpa, void *page, u32 perms)
{
	struct hv_input_map_gpa_pages *in = tk_hc_in();

	memset(in, 0, sizeof(*in));
	in->target_partition_id = c.id;
	in->target_gpa_base = gpa >> 12;
	in->map_flags = perms;
	in->source_gpa_page_list[0] = (u64)(uintptr_t)page >> 12;
	return tk_status(tk_hvcall(HVCALL_MAP_GPA_PAGES, 1, 0));
}

static void root_memory(void)
{
	u64 *page = tk_alloc_pages(1), *ro = tk_alloc_pages(1);
	volatile struct hv_message *m = next();
	const volatile struct hv_x64_memory_intercept_message *mem =
		(const volatile void *)m->payload;
	struct hv_input_unmap_gpa_pages *un = tk_hc_in();

	TK_CHECK_EQ(m->header.message_type, HVMSG_UNMAPPED_GPA);
	TK_CHECK_EQ(mem->guest_physical_address, DEMAND_GPA);
	TK_CHECK_EQ(mem->header.intercept_access_type,
		    HV_INTERCEPT_ACCESS_TYPE_READ);
	page[0] = 0xfeedfacecafebeefull;
	TK_CHECK_EQ(map_one(DEMAND_GPA, page, 0xf), 0);
	TK_CHECK_EQ(map_one(RO_GPA, ro, HV_MAP_GPA_READABLE), 0);
	m = next();	/* the read retried and worked; now the write */
	TK_CHECK_EQ(m->header.message_type, HVMSG_GPA_INTERCEPT);
	TK_CHECK_EQ(mem->guest_physical_address, RO_GPA);
	TK_CHECK_EQ(mem->header.intercept_access_type,
		    HV_INTERCEPT_ACCESS_TYPE_WRITE);
	memset(un, 0, sizeof(*un));
	un->target_partition_id = c.id;
	un->target_gpa_base = RO_GPA >> 12;
	TK_CHECK_EQ(tk_status(tk_hvcall(HVCALL_UNMAP_GPA_PAGES, 1, 0)), 0);
	TK_CHECK_EQ(map_one(RO_GPA, ro, 0xf), 0);
}

static u16 assert_interrupt(u32 type, u32 vector)
{
	struct hv_input_assert_virtual_interrupt *in = tk_hc_in();

	memset(in, 0, sizeof(*in));
	in->partition_id = c.id;
	in->interrupt_type = type;
	in->vector = vector;
	return tk_status(tk_hvcall(HVCALL_ASSERT_VIRTUAL_INTERRUPT, 0, 0));
}

static void root_events(void)
{
	volatile struct hv_message *m = next();
	const volatile struct hv_x64_exception_intercept_message *ex =
		(const volatile void *)m->payload;
	const volatile struct hv_x64_io_port_intercept_message *io;

	TK_CHECK_EQ(m->header.message_type, HVMSG_X64_EXCEPTION_INTERCEPT);
	TK_CHECK_EQ(ex->exception_vector, 6);
	skip(&ex->header, 2);
	m = next();
	TK_CHECK_EQ(m->header.message_type, HVMSG_X64_HALT);
	skip((const volatile void *)m->payload, 1);
	io = expect_io(0x81, HV_INTERCEPT_ACCESS_TYPE_WRITE, 1);
	skip(&io->header, 2);
	TK_CHECK_EQ(assert_interrupt(HV_INTERRUPT_TYPE_FIXED, 5),
		    HV_STATUS_INVALID_PARAMETER);	/* vectors < 16 */
	TK_CHECK_EQ(assert_interrupt(7, IRQ_VECTOR),
		    HV_STATUS_INVALID_PARAMETER);	/* unknown type */
	TK_CHECK_EQ(assert_interrupt(HV_INTERRUPT_TYPE_FIXED, IRQ_VECTOR), 0);
	io = expect_io(0x82, HV_INTERCEPT_ACCESS_TYPE_WRITE, 1);
	skip(&io->header, 2);
	TK_CHECK_EQ(assert_interrupt(HV_INTERRUPT_TYPE_NMI, 2), 0);
}

static void check_counters(void)
{
	u64 n;

	TK_CHECK_EQ(tk_status(tk_get_property(c.id,
		HV_PROPERTY_MICROHV_EXIT_COUNT(HV_EXIT_STAT_IO), &n)), 0);
	TK_CHECK_EQ(n, io_seen);
	TK_CHECK_EQ(tk_status(tk_get_property(c.id,
		HV_PROPERTY_MICROHV_EXIT_COUNT(HV_EXIT_STAT_CPUID), &n)), 0);
	TK_CHECK(n >= 5);
	TK_CHECK_EQ(tk_status(tk_get_property(c.id,
		HV_PROPERTY_MICROHV_EXIT_COUNT(HV_EXIT_STAT_HYPERCALL), &n)), 0);
	TK_CHECK(n >= 7);
	TK_CHECK_EQ(tk_status(tk_get_property(c.id,
		HV_PROPERTY_MICROHV_EXIT_COUNT(HV_EXIT_STAT_HLT), &n)), 0);
	TK_CHECK_EQ(n, 1);
	TK_CHECK_EQ(tk_status(tk_get_property(c.id,
		HV_PROPERTY_MICROHV_EXIT_COUNT(HV_EXIT_STAT_NPF), &n)), 0);
	TK_CHECK_EQ(n, 2);
	TK_CHECK_EQ(tk_status(tk_get_property(c.id,
		HV_PROPERTY_MICROHV_EXIT_COUNT(HV_EXIT_STAT_TOTAL), &n)), 0);
	TK_CHECK(n > io_seen);
	TK_CHECK_EQ(tk_status(tk_get_property(c.id,
		HV_PROPERTY_MICROHV_EXIT_COUNT(HV_EXIT_STAT_COUNT), &n)),
		HV_STATUS_UNKNOWN_PROPERTY);
	tk_printf("child_intercepts: %u I/O exits, counters agree\n", io_seen);
}

static void invalid_state(void)
{
	volatile struct hv_message *m;

	/* A bad value on its own is refused at once... */
	TK_CHECK_EQ(tk_status(tk_set_vp_reg(c.id, 0, HV_REG_CR0,
					    (1ull << 40) | 0x80000011)),
		    HV_STATUS_INVALID_PARAMETER);
	/*
	 * ...but registers are set one by one, so a child's may pass
	 * through an inconsistent mode: long mode without PAE. If it runs
	 * so, VMRUN refuses and the root hears of it.
	 */
	TK_CHECK_EQ(tk_status(tk_set_vp_reg(c.id, 0, HV_REG_CR4, 0)), 0);
	m = next();
	TK_CHECK_EQ(m->header.message_type, HVMSG_INVALID_VP_REGISTER_VALUE);
}

void test_main(void)
{
	struct hv_input_install_intercept *in = tk_hc_in();
	volatile struct hv_message *m;
	const volatile struct hv_x64_io_port_intercept_message *io;

	if (tk_role != TK_ROOT)
		tk_skip("needs microhv");
	tk_child_create(&c, 0, 2048);
	memset(in, 0, sizeof(*in));
	in->partition_id = c.id;
	in->access_type_mask = HV_INTERCEPT_ACCESS_EXECUTE;
	in->intercept_type = HV_INTERCEPT_TYPE_EXCEPTION;
	in->parameter = 2;	/* NMI stays the host's */
	TK_CHECK_EQ(tk_status(tk_hvcall(HVCALL_INSTALL_INTERCEPT, 0, 0)),
		    HV_STATUS_INVALID_PARAMETER);
	in->parameter = 6;
	TK_CHECK_EQ(tk_status(tk_hvcall(HVCALL_INSTALL_INTERCEPT, 0, 0)), 0);
	tk_child_load_self(&c, 0);
	root_io();
	root_msrs();
	root_memory();
	root_events();
	m = next();
	io = (const volatile void *)m->payload;
	TK_CHECK_EQ(m->header.message_type, HVMSG_X64_IO_PORT_INTERCEPT);
	TK_CHECK_EQ(io->port_number, TK_RESULT_PORT);
	TK_CHECK_EQ(io->rax & 0xff, TK_EXIT_BASE + TK_SUCCESS);
	check_counters();
	invalid_state();
	tk_child_destroy(&c);
}
