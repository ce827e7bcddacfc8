/*
 * MSRs the hypervisor emulates itself: the synthetic Hyper-V MSRs for
 * every partition, and for children the architectural ones it owns
 * (EFER, PAT, TSC, APIC base). Anything else a child touches goes to
 * the root as an intercept.
 */
#ifndef HV_MSR_H
#define HV_MSR_H

#include <hv/vp.h>

enum msr_result {
	MSR_DONE,	/* emulated */
	MSR_GP,		/* inject #GP */
	MSR_TO_ROOT,	/* a child's access the root must handle */
};

enum msr_result msr_read(struct vp *vp, u32 msr, u64 *val);
enum msr_result msr_write(struct vp *vp, u32 msr, u64 val);

/* On the boot CPU before the root runs: the MTRRs the root may restore. */
void root_msr_capture_boot_mtrrs(void);

/* Reference time: 100 ns units since the partition was created. */
u64 partition_reference_time(struct partition *p);

#endif
