/*
 * Deciding whether AMD-V is usable, from CPUID and VM_CR. Pure code, so
 * every refusal (no SVM, disabled by firmware, no nested paging) is
 * unit-tested; svm.c only gathers the inputs.
 */
#include <hv/printf.h>
#include <hv/string.h>
#include <hv/svm.h>
#include <x86/msr.h>

#define CPUID_SVM_LEAF 0x8000000au
#define EXT1_ECX_SVM BIT(2)

enum virt_status svm_evaluate(const struct svm_probe_input *in,
			      struct virt_caps *caps, char why[VIRT_WHY_LEN])
{
	why[0] = '\0';
	if (in->max_ext_leaf < 0x80000001u || !(in->ext1_ecx & EXT1_ECX_SVM)) {
		hv_snprintf(why, VIRT_WHY_LEN, "this AMD CPU has no AMD-V "
			    "(CPUID 8000_0001h:ECX.SVM = 0)");
		return VIRT_NO_SUPPORT;
	}
	if (in->vm_cr_readable && (in->vm_cr & VM_CR_SVMDIS)) {
		hv_snprintf(why, VIRT_WHY_LEN,
			    "AMD-V is disabled by the firmware (VM_CR.SVMDIS "
			    "= 1%s); enable SVM in the BIOS setup",
			    (in->vm_cr & VM_CR_LOCK) ? ", locked" : "");
		return VIRT_DISABLED;
	}
	if (in->max_ext_leaf < CPUID_SVM_LEAF) {
		hv_snprintf(why, VIRT_WHY_LEN,
			    "AMD-V present but CPUID leaf 8000_000Ah is missing");
		return VIRT_NO_SUPPORT;
	}
	caps->revision = in->svm_eax & 0xff;
	caps->nr_asids = in->svm_ebx;
	caps->features = in->svm_edx;
	if (!(caps->features & SVM_FEAT_NPT)) {
		hv_snprintf(why, VIRT_WHY_LEN, "AMD-V present but without "
			    "nested paging (NPT), which microhv requires");
		return VIRT_NO_SUPPORT;
	}
	if (caps->nr_asids < 2) {
		hv_snprintf(why, VIRT_WHY_LEN, "AMD-V reports %u ASIDs; "
			    "at least 2 are needed", caps->nr_asids);
		return VIRT_NO_SUPPORT;
	}
	return VIRT_OK;
}

void svm_describe(u32 f, char *buf, size_t len)
{
	static const struct {
		u32 bit;
		const char *name;
	} names[] = {
		{ SVM_FEAT_NPT, "NPT" },
		{ SVM_FEAT_LBRV, "LbrVirt" },
		{ SVM_FEAT_SVML, "SVML" },
		{ SVM_FEAT_NRIPS, "NRIPS" },
		{ SVM_FEAT_TSC_RATE, "TscRate" },
		{ SVM_FEAT_VMCB_CLEAN, "VmcbClean" },
		{ SVM_FEAT_FLUSH_BY_ASID, "FlushByAsid" },
		{ SVM_FEAT_DECODE_ASSISTS, "DecodeAssists" },
		{ SVM_FEAT_PAUSE_FILTER, "PauseFilter" },
		{ SVM_FEAT_PAUSE_THRESHOLD, "PauseFilterThreshold" },
		{ SVM_FEAT_AVIC, "AVIC" },
		{ SVM_FEAT_VMSAVE_VIRT, "VMSAVEvirt" },
		{ SVM_FEAT_VGIF, "VGIF" },
		{ SVM_FEAT_GMET, "GMET" },
		{ SVM_FEAT_X2AVIC, "x2AVIC" },
		{ SVM_FEAT_VNMI, "vNMI" },
	};
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
		if (f & names[i].bit && n < len)
			n += (size_t)hv_snprintf(buf + n, len - n, "%s%s",
						 n ? " " : "", names[i].name);
	}
	if (!n)
		hv_snprintf(buf, len, "none");
}
