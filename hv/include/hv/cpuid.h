/*
 * What a partition sees through CPUID: the host's answer, filtered.
 * Children see "Microsoft Hv" / "Hv#1" and the leaves Linux needs to
 * bind its Hyper-V drivers; the root sees microhv's own vendor string
 * (so stock Linux takes its native paths) with the privilege to manage
 * partitions. Nobody sees SVM. Pure code: unit-tested.
 */
#ifndef HV_CPUID_H
#define HV_CPUID_H

#include <hv/types.h>

struct cpuid_result {
	u32 eax, ebx, ecx, edx;
};

struct cpuid_view {
	bool root;
	u64 privileges;		/* HV_PRIV_* of the partition */
	u32 vp_index;
	u32 max_vps;
	u32 max_lps;
	bool osxsave;		/* the partition's own CR4.OSXSAVE */
	bool pke;		/* the partition's own CR4.PKE */
	bool lapic;		/* a LAPIC partition: SynIC, timers, ... */
};

/*
 * Turns the host's answer for (leaf, subleaf), already in *r, into the
 * partition's. Hypervisor leaves (0x40000000-0x4fffffff) ignore *r.
 */
void cpuid_filter(const struct cpuid_view *v, u32 leaf, u32 subleaf,
		  struct cpuid_result *r);

/* The privileges each kind of partition gets. */
u64 cpuid_root_privileges(void);
u64 cpuid_child_privileges(bool lapic);

#endif
