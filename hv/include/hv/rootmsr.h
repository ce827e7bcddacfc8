/*
 * What the root partition may do with each MSR. The root owns the
 * machine's devices and most of its MSRs, but never the ones that
 * would let it reach under the hypervisor: memory typing and ranges
 * (MTRRs, SYSCFG, TOP_MEM/TOM2, IORRs, SMM), the host's time base
 * (TSC, TSC ratio), SVM itself, and the records of where the CPU has
 * been (LBR, IBS), which hold hypervisor addresses. docs/abi.md gives
 * each rule its reason. Pure: the table and the value filters.
 */
#ifndef HV_ROOTMSR_H
#define HV_ROOTMSR_H

#include <hv/types.h>

enum root_msr_rule {
	ROOT_MSR_PASS,		/* the root's own: not intercepted */
	ROOT_MSR_HV,		/* emulated by the hypervisor (msr.c) */
	ROOT_MSR_READ_ONLY,	/* real value read; a write must not change it */
	ROOT_MSR_HIDDEN,	/* reads 0; writes of 0 ignored, others #GP */
	ROOT_MSR_DENIED,	/* #GP */
	ROOT_MSR_FILTERED,	/* real value read; writes filtered */
	ROOT_MSR_MTRR,		/* real value read; writes: the firmware's */
};

struct root_msr_range {
	u32 first, last;
	enum root_msr_rule rule;
};

extern const struct root_msr_range root_msr_ranges[];
extern const u32 root_msr_nr_ranges;

enum root_msr_rule root_msr_rule(u32 msr);

/* Is a read (or write) of a rule's MSR intercepted at all? */
bool root_msr_intercepts_read(enum root_msr_rule rule);
bool root_msr_intercepts_write(enum root_msr_rule rule);

/*
 * A write of val over old to a FILTERED or READ_ONLY MSR: the value to
 * write (*val, possibly changed), or false for #GP.
 */
bool root_msr_filter(u32 msr, u64 old, u64 *val);

/*
 * MTRRs: the root may write back what the firmware set on the boot CPU
 * (boot, read there before the root ran), as Linux does when it makes
 * every CPU match the first, and may turn MTRRs off in MTRRdefType (all
 * memory uncached: slower, never less isolated) around such an update.
 * It can never give hypervisor memory a type the firmware did not.
 */
bool root_mtrr_write_ok(u32 msr, u64 old, u64 boot, u64 val);

/* The MTRRs whose boot values are kept: an index, or -1. */
int root_mtrr_index(u32 msr);
#define ROOT_MTRR_COUNT 44	/* 32 variable, 11 fixed, the default type */

#endif
