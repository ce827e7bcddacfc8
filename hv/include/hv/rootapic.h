/*
 * The root partition's local APIC. The root owns its LAPIC, but one
 * command must never reach the hardware: INIT/SIPI would reset a CPU
 * the hypervisor runs on. So the xAPIC page is left out of the root's
 * NPT (and the x2APIC ICR MSR is intercepted); accesses are decoded and
 * forwarded to the real LAPIC, and INIT/SIPI start the root VP bound to
 * the target CPU instead, as real hardware would start the CPU.
 */
#ifndef HV_ROOTAPIC_H
#define HV_ROOTAPIC_H

#include <hv/msr.h>

/* Boot: takes the LAPIC page out of the root's NPT. */
void root_apic_init(void);

/* A root NPF at gpa: true if it was the LAPIC and has been emulated. */
bool root_apic_mmio(struct vp *vp, u64 gpa);

/*
 * StartVirtualProcessor for a root VP: loads the context and starts it,
 * unless it runs, is being reset by INIT or has a SIPI on its way. The
 * VP's start_lock orders this against a SIPI, so one of the two wins
 * and nothing writes the VMCB of a VP that has started running.
 */
enum hv_status root_vp_start(struct vp *vp,
			     const struct hv_initial_vp_context *ctx);

/* x2APIC ICR and APIC_BASE writes from the root. */
enum msr_result root_apic_msr_write(struct vp *vp, u32 msr, u64 val);

#endif
