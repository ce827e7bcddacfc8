/* Picks the vendor backend once and forwards the cold-path calls to it. */
#include <hv/printf.h>
#include <hv/string.h>
#include <hv/svm.h>
#include <hv/vmx.h>
#include <x86/cpu.h>

struct virt_caps virt_caps;

static void read_vendor_id(char id[13])
{
	struct cpuid_regs r = cpuid(0, 0);

	memcpy(id, &r.ebx, 4);
	memcpy(id + 4, &r.edx, 4);
	memcpy(id + 8, &r.ecx, 4);
	id[12] = '\0';
}

enum virt_status virt_probe(struct virt_caps *caps, char why[VIRT_WHY_LEN])
{
	memset(caps, 0, sizeof(*caps));
	read_vendor_id(caps->vendor_id);
	caps->vendor = cpu_vendor_from_id(caps->vendor_id);
	switch (caps->vendor) {
	case VENDOR_AMD:
		return svm_probe(caps, why);
	case VENDOR_INTEL:
		return vmx_probe(caps, why);
	default:
		hv_snprintf(why, VIRT_WHY_LEN,
			    "unknown CPU vendor '%s': no virtualization backend",
			    caps->vendor_id);
		return VIRT_NO_SUPPORT;
	}
}

enum virt_status virt_cpu_enable(struct percpu *cpu, char why[VIRT_WHY_LEN])
{
	if (virt_caps.vendor == VENDOR_AMD)
		return svm_cpu_enable(cpu, why);
	return vmx_cpu_enable(cpu, why);
}

bool virt_cpu_selftest(struct percpu *cpu)
{
	if (virt_caps.vendor == VENDOR_AMD)
		return svm_cpu_selftest(cpu);
	return vmx_cpu_selftest(cpu);
}

void virt_describe(const struct virt_caps *caps, char *buf, size_t len)
{
	if (caps->vendor == VENDOR_AMD)
		svm_describe(caps->features, buf, len);
	else
		hv_snprintf(buf, len, "-");
}
