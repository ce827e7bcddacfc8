/* Intel VT-x backend: detection only, until it is written. */
#include <hv/printf.h>
#include <hv/vmx.h>
#include <x86/cpu.h>
#include <x86/msr.h>

enum virt_status vmx_probe(struct virt_caps *caps, char why[VIRT_WHY_LEN])
{
	struct vmx_probe_input in = { .cpuid1_ecx = cpuid(1, 0).ecx };

	(void)caps;
	in.feature_control_readable =
		rdmsr_safe(MSR_FEATURE_CONTROL, &in.feature_control);
	return vmx_evaluate(&in, why);
}

enum virt_status vmx_cpu_enable(struct percpu *cpu, char why[VIRT_WHY_LEN])
{
	(void)cpu;
	hv_snprintf(why, VIRT_WHY_LEN, "vmx backend not implemented");
	return VIRT_NOT_IMPLEMENTED;
}

bool vmx_cpu_selftest(struct percpu *cpu)
{
	(void)cpu;
	return false;
}
