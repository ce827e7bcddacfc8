/* The root's MSR policy (see hv/rootmsr.h and docs/abi.md). */
#include <hv/rootmsr.h>

#define MSR_TSC 0x10
#define MSR_TSC_ADJUST 0x3b
#define MSR_DEBUGCTL 0x1d9
#define DEBUGCTL_BTF BIT(1)		/* single-step on branches */
#define MSR_HWCR 0xc0010015
/*
 * What Linux sets: IRPERF_EN (30), CpbDis (25) and, on family 0xf,
 * FFDIS (6: no TLB flush filter, errata 63/122). Nothing else moves.
 */
#define HWCR_ROOT_BITS (BIT(30) | BIT(25) | BIT(6))
#define PERF_GUEST_ONLY (1ull << 40)
#define PERF_HOST_ONLY (1ull << 41)

/* Sorted by first; anything not listed is the root's (PASS). */
const struct root_msr_range root_msr_ranges[] = {
	{ MSR_TSC, MSR_TSC, ROOT_MSR_HV },	/* a write moves its offset */
	{ 0x1b, 0x1b, ROOT_MSR_HV },		/* APIC_BASE */
	{ MSR_TSC_ADJUST, MSR_TSC_ADJUST, ROOT_MSR_READ_ONLY },
	{ 0xfe, 0xfe, ROOT_MSR_READ_ONLY },	/* MTRRcap */
	{ MSR_DEBUGCTL, MSR_DEBUGCTL, ROOT_MSR_FILTERED },
	{ 0x1db, 0x1de, ROOT_MSR_HIDDEN },	/* last branch/exception */
	{ 0x200, 0x21f, ROOT_MSR_MTRR },	/* variable MTRRs */
	{ 0x250, 0x250, ROOT_MSR_MTRR },	/* fixed MTRRs */
	{ 0x258, 0x259, ROOT_MSR_MTRR },
	{ 0x268, 0x26f, ROOT_MSR_MTRR },
	{ 0x2ff, 0x2ff, ROOT_MSR_MTRR },	/* MTRR default type */
	{ 0x830, 0x830, ROOT_MSR_HV },		/* x2APIC ICR: INIT/SIPI */
	{ 0xc0000080, 0xc0000080, ROOT_MSR_HV },	/* EFER */
	{ 0xc0000104, 0xc0000104, ROOT_MSR_DENIED },	/* TSC ratio */
	{ 0xc000010f, 0xc000010f, ROOT_MSR_DENIED },	/* LBR v2 config */
	{ 0xc0010000, 0xc0010003, ROOT_MSR_FILTERED },	/* PerfEvtSel0-3 */
	{ 0xc0010010, 0xc0010010, ROOT_MSR_READ_ONLY },	/* SYSCFG */
	{ MSR_HWCR, MSR_HWCR, ROOT_MSR_FILTERED },
	{ 0xc0010016, 0xc0010019, ROOT_MSR_READ_ONLY },	/* IORRs */
	{ 0xc001001a, 0xc001001a, ROOT_MSR_READ_ONLY },	/* TOP_MEM */
	{ 0xc001001d, 0xc001001d, ROOT_MSR_READ_ONLY },	/* TOM2 */
	{ 0xc0010058, 0xc0010058, ROOT_MSR_READ_ONLY },	/* MMIO config base */
	{ 0xc0010111, 0xc0010113, ROOT_MSR_READ_ONLY },	/* SMM base, TSEG */
	{ 0xc0010114, 0xc0010114, ROOT_MSR_HV },	/* VM_CR */
	{ 0xc0010116, 0xc0010116, ROOT_MSR_DENIED },	/* SMM_CTL */
	{ 0xc0010117, 0xc0010117, ROOT_MSR_HV },	/* VM_HSAVE_PA */
	{ 0xc0010118, 0xc0010118, ROOT_MSR_DENIED },	/* SVM lock key */
	{ 0xc0010200, 0xc001020b, ROOT_MSR_FILTERED },	/* PerfEvtSel/Ctr */
	{ 0xc0010300, 0xc001031f, ROOT_MSR_HIDDEN },	/* LBR v2 stack */
	{ 0xc0011030, 0xc001103f, ROOT_MSR_DENIED },	/* IBS */
};
const u32 root_msr_nr_ranges = ARRAY_SIZE(root_msr_ranges);

enum root_msr_rule root_msr_rule(u32 msr)
{
	u32 lo = 0, hi = root_msr_nr_ranges;

	while (lo < hi) {	/* the last range starting at or below msr */
		u32 mid = (lo + hi) / 2;

		if (root_msr_ranges[mid].first <= msr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && msr <= root_msr_ranges[lo - 1].last)
		return root_msr_ranges[lo - 1].rule;
	return ROOT_MSR_PASS;
}

bool root_msr_intercepts_read(enum root_msr_rule rule)
{
	return rule == ROOT_MSR_HV || rule == ROOT_MSR_HIDDEN ||
	       rule == ROOT_MSR_DENIED;
}

bool root_msr_intercepts_write(enum root_msr_rule rule)
{
	return rule != ROOT_MSR_PASS;
}

#define MSR_MTRR_DEF_TYPE 0x2ff
#define MTRR_DEF_TYPE_E BIT(11)

int root_mtrr_index(u32 msr)
{
	if (msr >= 0x200 && msr <= 0x21f)
		return (int)(msr - 0x200);
	if (msr == 0x250)
		return 32;
	if (msr == 0x258 || msr == 0x259)
		return 33 + (int)(msr - 0x258);
	if (msr >= 0x268 && msr <= 0x26f)
		return 35 + (int)(msr - 0x268);
	return msr == MSR_MTRR_DEF_TYPE ? 43 : -1;
}

bool root_mtrr_write_ok(u32 msr, u64 old, u64 boot, u64 val)
{
	if (val == old || val == boot)
		return true;
	return msr == MSR_MTRR_DEF_TYPE && !(val & MTRR_DEF_TYPE_E);
}

/* Event selects: count only in guest mode, never in the hypervisor. */
static bool is_perf_select(u32 msr)
{
	return (msr >= 0xc0010000 && msr <= 0xc0010003) ||
	       (msr >= 0xc0010200 && msr <= 0xc001020b && !(msr & 1));
}

bool root_msr_filter(u32 msr, u64 old, u64 *val)
{
	if (is_perf_select(msr)) {
		*val = (*val | PERF_GUEST_ONLY) & ~PERF_HOST_ONLY;
		return true;
	}
	switch (root_msr_rule(msr)) {
	case ROOT_MSR_READ_ONLY:
		return *val == old;
	case ROOT_MSR_FILTERED:
		break;
	default:
		return false;
	}
	if (msr == MSR_DEBUGCTL)	/* LBR and the rest record or trap us */
		return !(*val & ~DEBUGCTL_BTF);
	if (msr == MSR_HWCR)
		return !((*val ^ old) & ~HWCR_ROOT_BITS);
	return true;	/* a performance counter: the root's */
}
