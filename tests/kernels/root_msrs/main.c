/*
 * The root's MSR policy (hv/rootmsr.h): memory typing and ranges are
 * read-only, the host's TSC stays the hypervisor's (a root write moves
 * only the root's offset), branch records are hidden, IBS and the TSC
 * ratio refused, DEBUGCTL takes BTF only and event selects count only
 * in guest mode. MSRs the root owns still work.
 */
#include <hv/string.h>
#include "../lib/tk.h"

#define MSR_TSC 0x10
#define MSR_DEBUGCTL 0x1d9
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_MTRR_PHYSBASE0 0x200
#define MSR_SYSCFG 0xc0010010
#define MSR_HWCR 0xc0010015
#define MSR_IORR_BASE0 0xc0010016
#define MSR_TOP_MEM 0xc001001a
#define MSR_TOM2 0xc001001d
#define MSR_SMM_ADDR 0xc0010112
#define MSR_TSC_RATIO 0xc0000104
#define MSR_IBS_OP_CTL 0xc0011033
#define MSR_PERF_SEL0 0xc0010000
#define MSR_STAR 0xc0000081

/* A read-only MSR: read works, the same value may be written back. */
static void read_only(u32 msr, u64 change)
{
	u64 v, w;

	TK_CHECK_EQ(tk_probe_rdmsr(msr, &v), -1);
	TK_CHECK_EQ(tk_probe_wrmsr(msr, v), -1);
	if (tk_probe_wrmsr(msr, v ^ change) != 13)
		tk_fail("MSR 0x%x: a write of 0x%llx over 0x%llx was taken",
			msr, v ^ change, v);
	TK_CHECK_EQ(tk_probe_rdmsr(msr, &w), -1);
	TK_CHECK_EQ(w, v);
}

/*
 * MTRRs: only the firmware's values, or off around an update (as Linux
 * does it: default type 0 with E clear, then the old value back).
 */
static void mtrrs(void)
{
	u64 def, v;

	TK_CHECK_EQ(tk_probe_rdmsr(MSR_MTRR_DEF_TYPE, &def), -1);
	TK_CHECK_EQ(tk_probe_wrmsr(MSR_MTRR_DEF_TYPE, def & ~0xcffull), -1);
	TK_CHECK_EQ(tk_probe_wrmsr(MSR_MTRR_DEF_TYPE, def), -1);
	v = (def & ~0xffull) | (1ull << 11) | ((def & 0xff) ^ 6);
	if (tk_probe_wrmsr(MSR_MTRR_DEF_TYPE, v) != 13)
		tk_fail("MTRRdefType 0x%llx -> 0x%llx was taken", def, v);
	TK_CHECK_EQ(tk_rdmsr(MSR_MTRR_DEF_TYPE), def);
	read_only(MSR_MTRR_PHYSBASE0, 0x1000000);
}

static void memory_ranges(void)
{
	mtrrs();
	read_only(MSR_SYSCFG, 1ull << 18);	/* MtrrVarDramEn */
	read_only(MSR_IORR_BASE0, 0x100000 | 0x18);
	read_only(MSR_TOP_MEM, 1ull << 24);
	read_only(MSR_TOM2, 1ull << 32);
	read_only(MSR_SMM_ADDR, 0x100000);
	tk_printf("root_msrs: MTRRs, SYSCFG, IORR, TOP_MEM, TOM2, TSEG are "
		  "read-only\n");
}

/* TIME_REF_COUNT comes from the host TSC: it must not go back. */
static void tsc_is_the_hypervisors(void)
{
	u64 before = tk_rdmsr(HV_MSR_TIME_REF_COUNT), after, tsc;

	TK_CHECK_EQ(tk_probe_wrmsr(MSR_TSC, 1000), -1);
	__asm__ __volatile__("rdtsc; shl $32, %%rdx; or %%rdx, %%rax"
			     : "=a"(tsc) : : "rdx");
	after = tk_rdmsr(HV_MSR_TIME_REF_COUNT);
	if (after < before)
		tk_fail("reference time went back: 0x%llx -> 0x%llx", before,
			after);
	TK_CHECK(tsc < (1ull << 40));	/* the root's own view moved */
	tk_printf("root_msrs: a TSC write moves only the root's view\n");
}

static void traces_and_time(void)
{
	u64 v;

	for (u32 msr = 0x1db; msr <= 0x1de; msr++) {
		TK_CHECK_EQ(tk_probe_rdmsr(msr, &v), -1);
		TK_CHECK_EQ(v, 0);
	}
	TK_CHECK_EQ(tk_probe_wrmsr(MSR_DEBUGCTL, 1), 13);	/* LBR */
	TK_CHECK_EQ(tk_probe_wrmsr(MSR_DEBUGCTL, 2), -1);	/* BTF */
	TK_CHECK_EQ(tk_probe_wrmsr(MSR_DEBUGCTL, 0), -1);
	TK_CHECK_EQ(tk_probe_rdmsr(MSR_IBS_OP_CTL, &v), 13);
	TK_CHECK_EQ(tk_probe_wrmsr(MSR_IBS_OP_CTL, 1ull << 17), 13);
	TK_CHECK_EQ(tk_probe_wrmsr(MSR_TSC_RATIO, 2ull << 32), 13);
	TK_CHECK_EQ(tk_probe_rdmsr(MSR_HWCR, &v), -1);
	TK_CHECK_EQ(tk_probe_wrmsr(MSR_HWCR, v ^ (1ull << 3)), 13);
	TK_CHECK_EQ(tk_probe_wrmsr(MSR_PERF_SEL0, 0x76 | (1ull << 41)), -1);
	TK_CHECK_EQ(tk_probe_rdmsr(MSR_PERF_SEL0, &v), -1);
	/* Under QEMU the select may not keep its bits; where it does,
	 * it counts in guest mode only. */
	TK_CHECK(!v || (v & (3ull << 40)) == (1ull << 40));
	/* The root's own MSRs are still its own. */
	TK_CHECK_EQ(tk_probe_rdmsr(MSR_STAR, &v), -1);
	TK_CHECK_EQ(tk_probe_wrmsr(MSR_STAR, v), -1);
	tk_printf("root_msrs: LBR hidden, IBS and TSC ratio refused, "
		  "DEBUGCTL BTF only\n");
}

void test_main(void)
{
	u32 r[4];

	if (tk_role != TK_ROOT)
		tk_skip("needs microhv");
	tk_cpuid(0x80000001, 0, r);
	TK_CHECK_EQ(r[2] & (1u << 10), 0);	/* no IBS */
	memory_ranges();
	tsc_is_the_hypervisors();
	traces_and_time();
}
