/*
 * Isolation. The root cannot reach hypervisor memory (its image, its
 * pool) nor use SVM; a child probing memory outside its map is stopped
 * with an UNMAPPED_GPA intercept and deleted while the root goes on; a
 * child cannot run SVM instructions; a triple-faulting child ends alone
 * while another child still runs to success.
 */
#include <hv/string.h>
#include <x86/cpu.h>
#include "../lib/child.h"

enum {
	PROBE_READ = 1, PROBE_WRITE, PROBE_EXEC, TRIPLE_FAULT, SVM_INSNS,
	DEBUG_REGS,
};

#define ROOT_DR0 0x1111000ull
#define CHILD_DR0 0x2222000ull

static u64 read_dr0(void)
{
	u64 v[4];

	read_dr0_3(v);
	return v[0];
}

/*
 * DR0-3 are not in the VMCB: a child must see its own (zero at reset),
 * not the root's, and its writes must not reach the root's. PKU is not
 * offered to children (PKRU is XSAVE state, not switched for them).
 */
static __noreturn void child_debug_regs(void)
{
	u32 r[4];

	if (read_dr0() != 0) {
		tk_printf("child sees DR0 0x%llx\n", read_dr0());
		tk_exit(TK_FAILURE);
	}
	write_dr0(CHILD_DR0);
	tk_cpuid(7, 0, r);
	if (r[2] & (BIT(3) | BIT(4))) {
		tk_printf("child is offered PKU (leaf 7 ecx 0x%x)\n", r[2]);
		tk_exit(TK_FAILURE);
	}
	tk_printf("DR0 was clean; PKU hidden\n");
	tk_pass();
}

extern u64 tk_pd[4 * 512];

/* Our page tables map 4 GiB; reach beyond through the last 2 MiB slot. */
static volatile u64 *reach(u64 addr)
{
	if (addr < (1ull << 32))
		return (volatile u64 *)(uintptr_t)addr;
	tk_pd[2047] = (addr & ~0x1fffffull) | 0x83;
	__asm__ __volatile__("invlpg (%0)" ::"r"(0xffe00000ull) : "memory");
	return (volatile u64 *)(uintptr_t)(0xffe00000ull + (addr & 0x1fffff));
}

/* Child: arg = what << 56 | address. */
void child_main(void)
{
	u64 arg = tk_generic_parent() ? (u64)SVM_INSNS << 56 : tk_child_arg();
	u64 what = arg >> 56;
	u64 addr = arg & ((1ull << 56) - 1), v;
	volatile u64 *p = reach(addr);
	struct { u16 limit; u64 base; } __packed empty = { 0, 0 };
	int vec = -1;

	switch (what) {
	case PROBE_READ:
		v = *p;
		tk_printf("read 0x%llx: got 0x%llx\n", addr, v);
		tk_exit(TK_FAILURE);	/* must not get here */
	case PROBE_WRITE:
		*p = 0xbad;
		tk_exit(TK_FAILURE);
	case PROBE_EXEC:
		((void (*)(void))p)();
		tk_exit(TK_FAILURE);
	case TRIPLE_FAULT:
		__asm__ __volatile__("lidt %0; ud2" ::"m"(empty));
		tk_exit(TK_FAILURE);
	case DEBUG_REGS:
		child_debug_regs();
	case SVM_INSNS:
		for (int i = 0; i < TK_NR_SVM_INSNS; i++) {
			vec = tk_probe_insn((enum tk_insn)i, 0x10000);
			if (vec != 6) {
				tk_printf("SVM instruction %d: vector %d, not "
					  "#UD\n", i, vec);
				tk_exit(TK_FAILURE);
			}
		}
		/* No PMU: the host's counters are not a child's to read. */
		if (tk_probe_insn(TK_RDPMC, 0) != 13)
			tk_exit(TK_FAILURE);
		tk_pass();
	default:
		tk_pass();	/* an ordinary child */
	}
}

static struct tk_child c;

/* Runs a probing child; it must stop on UNMAPPED_GPA at addr. */
static void child_probe(u32 index, u64 what, u64 addr)
{
	const volatile struct hv_x64_memory_intercept_message *m;
	u32 stop;

	tk_child_create(&c, index, 2048);
	tk_child_load_self(&c, (what << 56) | addr);
	stop = tk_child_run(&c);
	m = (const volatile void *)c.msg->payload;
	if (stop != HVMSG_UNMAPPED_GPA)
		tk_fail("child probe of 0x%llx: message 0x%x, not "
			"UNMAPPED_GPA", addr, stop);
	TK_CHECK_EQ(m->guest_physical_address, addr);
	TK_CHECK_EQ(m->header.intercept_access_type,
		    what == PROBE_READ ? HV_INTERCEPT_ACCESS_TYPE_READ :
		    what == PROBE_WRITE ? HV_INTERCEPT_ACCESS_TYPE_WRITE :
					  HV_INTERCEPT_ACCESS_TYPE_EXECUTE);
	tk_printf("isolation: child %u stopped at GPA 0x%llx; deleting it\n",
		  index, addr);
	tk_child_destroy(&c);
}

/* The hypervisor's pool: the reserved range right above the top RAM. */
static u64 hypervisor_pool(void)
{
	u64 top_ram_end = 0, pool = 0;

	for (u32 i = 0; i < tk_nmap; i++)
		if (tk_map[i].type == 1 && tk_map[i].base + tk_map[i].len <=
		    (1ull << 32))
			top_ram_end = MAX(top_ram_end, tk_map[i].base +
					  tk_map[i].len);
	for (u32 i = 0; i < tk_nmap; i++)
		if (tk_map[i].type == 2 && tk_map[i].base == top_ram_end)
			pool = tk_map[i].base;
	return pool;
}

static const char *const svm_insn_names[] = {
	"VMRUN", "VMLOAD", "VMSAVE", "STGI", "CLGI", "SKINIT", "INVLPGA",
};

/*
 * The root runs with EFER.SVME set: unintercepted, VMLOAD and VMSAVE
 * would read and write host-physical memory (the hypervisor's image at
 * 1 MiB, its pool). Every SVM instruction must be #UD, and VMLOAD must
 * not have loaded anything (KernelGsBase is one of the MSRs it loads).
 */
static void root_svm_insns(u64 pool)
{
	const u32 kernel_gs_base = 0xc0000102;
	const u64 targets[] = { 0x100000, pool, pool + 0x10000 };

	tk_wrmsr(kernel_gs_base, 0x1234000);
	for (u32 t = 0; t < ARRAY_SIZE(targets); t++) {
		for (int i = 0; i < TK_NR_SVM_INSNS; i++) {
			int vec = tk_probe_insn((enum tk_insn)i, targets[t]);

			if (i == TK_CLGI && vec != 6)
				__asm__ __volatile__("stgi");	/* undo it */
			if (vec != 6)
				tk_fail("root %s at 0x%llx: vector %d, not #UD",
					svm_insn_names[i], targets[t], vec);
		}
	}
	TK_CHECK_EQ(tk_rdmsr(kernel_gs_base), 0x1234000);
	tk_printf("isolation: VMRUN VMLOAD VMSAVE STGI CLGI SKINIT INVLPGA "
		  "are #UD for the root\n");
}

static void root_probes(void)
{
	u64 v, pool = hypervisor_pool();

	TK_CHECK_EQ(tk_probe_read((void *)0x100000, &v), 13);	/* hv image */
	TK_CHECK_EQ(tk_probe_write((void *)0x100000, 0), 13);
	TK_CHECK(pool != 0);
	TK_CHECK_EQ(tk_probe_read((void *)(uintptr_t)pool, &v), 13);
	TK_CHECK_EQ(tk_probe_write((void *)(uintptr_t)(pool + 0x10000), 1), 13);
	tk_printf("isolation: root refused at 0x100000 and at the pool 0x%llx\n",
		  pool);
	root_svm_insns(pool);
}

/* The root's DR0 survives a child that writes its own, and back. */
static void debug_regs_stay_apart(void)
{
	u64 v;

	write_dr0(ROOT_DR0);
	tk_child_create(&c, 9, 2048);
	tk_child_load_self(&c, (u64)DEBUG_REGS << 56);
	tk_child_run(&c);
	TK_CHECK_EQ(c.result, TK_SUCCESS);
	TK_CHECK_EQ(read_dr0(), ROOT_DR0);
	TK_CHECK_EQ(tk_status(tk_get_vp_reg(c.id, 0, HV_REG_DR0, &v)), 0);
	TK_CHECK_EQ(v, CHILD_DR0);
	TK_CHECK_EQ(tk_status(tk_set_vp_reg(c.id, 0, HV_REG_DR0, 0x3000)), 0);
	TK_CHECK_EQ(tk_status(tk_get_vp_reg(c.id, 0, HV_REG_DR0, &v)), 0);
	TK_CHECK_EQ(v, 0x3000);
	tk_child_destroy(&c);
	write_dr0(0);
	tk_printf("isolation: DR0 stays with its partition\n");
}

void test_main(void)
{
	u32 stop;
	struct tk_child good;

	if (tk_role != TK_ROOT)
		tk_skip("needs microhv");
	root_probes();
	/* Root RAM, hypervisor memory, the LAPIC, the top of the space. */
	child_probe(1, PROBE_READ, 16ull << 20);
	child_probe(2, PROBE_WRITE, hypervisor_pool());
	child_probe(3, PROBE_READ, 0x100000000ull);
	child_probe(4, PROBE_EXEC, 0xfee00000ull);
	child_probe(5, PROBE_READ, (1ull << 36) + 0x18);
	/* SVM instructions are #UD in a child (its extable catches them). */
	tk_child_create(&c, 6, 2048);
	tk_child_load_self(&c, (u64)SVM_INSNS << 56);
	tk_child_run(&c);
	TK_CHECK_EQ(c.result, TK_SUCCESS);
	tk_child_destroy(&c);
	/* Two children: one triple-faults, the other must still succeed. */
	tk_child_create(&c, 7, 2048);
	tk_child_create(&good, 8, 2048);
	tk_child_load_self(&c, (u64)TRIPLE_FAULT << 56);
	tk_child_load_self(&good, 0);
	stop = tk_child_run(&c);
	TK_CHECK_EQ(stop, HVMSG_UNRECOVERABLE_EXCEPTION);
	tk_printf("isolation: child 7 triple-faulted; deleting it alone\n");
	tk_child_destroy(&c);
	tk_child_run(&good);
	TK_CHECK_EQ(good.result, TK_SUCCESS);
	tk_child_destroy(&good);
	debug_regs_stay_apart();
}
