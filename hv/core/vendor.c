/* CPU vendor names. Pure code: unit-tested on the host. */
#include <hv/string.h>
#include <hv/virt.h>

enum cpu_vendor cpu_vendor_from_id(const char id[12])
{
	if (!memcmp(id, "AuthenticAMD", 12) || !memcmp(id, "HygonGenuine", 12))
		return VENDOR_AMD;
	if (!memcmp(id, "GenuineIntel", 12))
		return VENDOR_INTEL;
	return VENDOR_UNKNOWN;
}

const char *virt_backend_name(enum cpu_vendor v)
{
	switch (v) {
	case VENDOR_AMD: return "svm (AMD-V)";
	case VENDOR_INTEL: return "vmx (Intel VT-x)";
	default: return "none";
	}
}
