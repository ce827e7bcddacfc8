#include <hv/svm.h>
#include <hv/vmx.h>
#include <x86/msr.h>
#include "harness.h"

static char why[VIRT_WHY_LEN];
static struct virt_caps caps;

static struct svm_probe_input good(void)
{
	return (struct svm_probe_input){
		.max_ext_leaf = 0x8000001f,
		.ext1_ecx = BIT(2),
		.svm_eax = 1,
		.svm_ebx = 16,
		.svm_edx = SVM_FEAT_NPT | SVM_FEAT_NRIPS,
		.vm_cr_readable = true,
	};
}

TEST(svm_usable)
{
	struct svm_probe_input in = good();

	CHECK_EQ(svm_evaluate(&in, &caps, why), VIRT_OK);
	CHECK_EQ(caps.revision, 1);
	CHECK_EQ(caps.nr_asids, 16);
	svm_describe(caps.features, why, sizeof(why));
	CHECK_STR(why, "NPT NRIPS");
	svm_describe(0, why, sizeof(why));
	CHECK_STR(why, "none");
}

TEST(svm_refusals_say_why)
{
	struct svm_probe_input in = good();

	in.ext1_ecx = 0;
	CHECK_EQ(svm_evaluate(&in, &caps, why), VIRT_NO_SUPPORT);
	CHECK(strstr(why, "no AMD-V"));
	in = good();
	in.vm_cr = VM_CR_SVMDIS | VM_CR_LOCK;
	CHECK_EQ(svm_evaluate(&in, &caps, why), VIRT_DISABLED);
	CHECK(strstr(why, "VM_CR.SVMDIS") && strstr(why, "locked"));
	in = good();
	in.svm_edx = SVM_FEAT_NRIPS;
	CHECK_EQ(svm_evaluate(&in, &caps, why), VIRT_NO_SUPPORT);
	CHECK(strstr(why, "nested paging"));
	in = good();
	in.max_ext_leaf = 0x80000008;
	CHECK_EQ(svm_evaluate(&in, &caps, why), VIRT_NO_SUPPORT);
	in = good();
	in.svm_ebx = 1;
	CHECK_EQ(svm_evaluate(&in, &caps, why), VIRT_NO_SUPPORT);
	/* VM_CR unreadable (some emulators): not a reason to refuse. */
	in = good();
	in.vm_cr_readable = false;
	in.vm_cr = VM_CR_SVMDIS;
	CHECK_EQ(svm_evaluate(&in, &caps, why), VIRT_OK);
}

TEST(vmx_detects_and_refuses_clearly)
{
	struct vmx_probe_input in = { .cpuid1_ecx = 0 };

	CHECK_EQ(vmx_evaluate(&in, why), VIRT_NO_SUPPORT);
	CHECK(strstr(why, "no VT-x"));
	in.cpuid1_ecx = BIT(5);
	in.feature_control_readable = true;
	in.feature_control = FEATURE_CONTROL_LOCK;
	CHECK_EQ(vmx_evaluate(&in, why), VIRT_DISABLED);
	in.feature_control |= FEATURE_CONTROL_VMX_OUTSIDE_SMX;
	CHECK_EQ(vmx_evaluate(&in, why), VIRT_NOT_IMPLEMENTED);
	CHECK(strstr(why, "not implemented"));
}

TEST(vendor_ids)
{
	CHECK_EQ(cpu_vendor_from_id("AuthenticAMD"), VENDOR_AMD);
	CHECK_EQ(cpu_vendor_from_id("HygonGenuine"), VENDOR_AMD);
	CHECK_EQ(cpu_vendor_from_id("GenuineIntel"), VENDOR_INTEL);
	CHECK_EQ(cpu_vendor_from_id("CentaurHauls"), VENDOR_UNKNOWN);
	CHECK_STR(virt_backend_name(VENDOR_AMD), "svm (AMD-V)");
}
