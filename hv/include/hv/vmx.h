/* Intel VT-x backend: the seam. It detects and refuses, clearly. */
#ifndef HV_VMX_H
#define HV_VMX_H

#include <hv/virt.h>

struct vmx_probe_input {
	u32 cpuid1_ecx;		/* bit 5 = VMX */
	bool feature_control_readable;
	u64 feature_control;
};

enum virt_status vmx_evaluate(const struct vmx_probe_input *in,
			      char why[VIRT_WHY_LEN]);

enum virt_status vmx_probe(struct virt_caps *caps, char why[VIRT_WHY_LEN]);
enum virt_status vmx_cpu_enable(struct percpu *cpu, char why[VIRT_WHY_LEN]);
bool vmx_cpu_selftest(struct percpu *cpu);

#endif
