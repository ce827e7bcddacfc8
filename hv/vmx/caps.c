/*
 * Intel VT-x detection. Pure code, unit-tested. The backend itself is
 * not written yet: on a capable Intel CPU the answer is a clear refusal.
 */
#include <hv/printf.h>
#include <hv/vmx.h>
#include <x86/msr.h>

#define CPUID1_ECX_VMX BIT(5)

enum virt_status vmx_evaluate(const struct vmx_probe_input *in,
			      char why[VIRT_WHY_LEN])
{
	u64 fc = in->feature_control;

	if (!(in->cpuid1_ecx & CPUID1_ECX_VMX)) {
		hv_snprintf(why, VIRT_WHY_LEN, "this Intel CPU has no VT-x "
			    "(CPUID 1:ECX.VMX = 0)");
		return VIRT_NO_SUPPORT;
	}
	if (in->feature_control_readable && (fc & FEATURE_CONTROL_LOCK) &&
	    !(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		hv_snprintf(why, VIRT_WHY_LEN, "VT-x is disabled by the "
			    "firmware (IA32_FEATURE_CONTROL locked without "
			    "VMX outside SMX)");
		return VIRT_DISABLED;
	}
	hv_snprintf(why, VIRT_WHY_LEN, "Intel VT-x is present, but the vmx "
		    "backend is not implemented yet; microhv runs on AMD-V "
		    "only for now");
	return VIRT_NOT_IMPLEMENTED;
}
