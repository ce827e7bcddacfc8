/* CPUID as partitions see it. Pure code: unit-tested on the host. */
#include <microhv/hvabi.h>
#include <hv/cpuid.h>

#define LEAF1_ECX_MONITOR BIT(3)
#define LEAF1_ECX_VMX BIT(5)
#define LEAF1_ECX_XSAVE BIT(26)
#define LEAF1_ECX_OSXSAVE BIT(27)
#define LEAF1_ECX_AVX BIT(28)
#define LEAF1_ECX_HYPERVISOR BIT(31)
#define LEAF1_ECX_X2APIC BIT(21)
#define EDX_MCE_MCA (BIT(7) | BIT(14))	/* leaf 1 and 0x80000001 */
#define LEAF1_ECX_TSC_DEADLINE BIT(24)
#define LEAF7_EBX_TSC_ADJUST BIT(1)
#define LEAF7_EBX_AVX2 BIT(5)
#define LEAF7_EBX_AVX512 (0xffffull << 16)
#define LEAF7_ECX_PKU BIT(3)
#define LEAF7_ECX_OSPKE BIT(4)
#define EXT1_ECX_SVM BIT(2)
#define EXT1_ECX_IBS BIT(10)
#define PERFMON_EAX_LBR_V2 BIT(1)

/* Hyper-V feature bits (CPUID 0x40000003 EDX, 0x40000004 EAX). */
#define HV_BUILD 0x00004a61	/* microhv's own build number */

u64 cpuid_root_privileges(void)
{
	return HV_PRIV_TIME_REF_COUNT | HV_PRIV_HYPERCALL_MSRS |
	       HV_PRIV_VP_INDEX | HV_PRIV_CREATE_PARTITIONS |
	       HV_PRIV_ACCESS_PARTITION_ID | HV_PRIV_ACCESS_MEMORY_POOL |
	       HV_PRIV_ACCESS_VP_REGISTERS | HV_PRIV_START_VP;
}

/*
 * Every child gets the hypercall page, VP index and reference counter;
 * a LAPIC partition also the SynIC, synthetic timers, the reference TSC
 * page, the frequency MSRs and post/signal (hyperv-guest-abi.md 1.2).
 */
u64 cpuid_child_privileges(bool lapic)
{
	u64 base = HV_PRIV_TIME_REF_COUNT | HV_PRIV_HYPERCALL_MSRS |
		   HV_PRIV_VP_INDEX;

	if (!lapic)
		return base;
	return base | HV_PRIV_SYNIC_REGS | HV_PRIV_SYNTIMER_REGS |
	       HV_PRIV_REFERENCE_TSC | HV_PRIV_FREQUENCY_REGS |
	       HV_PRIV_POST_MESSAGES | HV_PRIV_SIGNAL_EVENTS;
}

static void hypervisor_leaf(const struct cpuid_view *v, u32 leaf,
			    struct cpuid_result *r)
{
	*r = (struct cpuid_result){ 0, 0, 0, 0 };
	switch (leaf) {
	case HV_CPUID_VENDOR:
		r->eax = HV_CPUID_MAX_LEAF;
		r->ebx = v->root ? HV_VENDOR_MICROHV_EBX : HV_VENDOR_MICROSOFT_EBX;
		r->ecx = v->root ? HV_VENDOR_MICROHV_ECX : HV_VENDOR_MICROSOFT_ECX;
		r->edx = v->root ? HV_VENDOR_MICROHV_EDX : HV_VENDOR_MICROSOFT_EDX;
		break;
	case HV_CPUID_INTERFACE:
		r->eax = HV_INTERFACE_HV1;
		break;
	case HV_CPUID_VERSION:
		r->eax = HV_BUILD;
		r->ebx = 0x000a0000;	/* 10.0 */
		break;
	case HV_CPUID_FEATURES:
		r->eax = (u32)v->privileges;
		r->ebx = (u32)(v->privileges >> 32);
		if (v->lapic)
			/* Crash MSRs are the root's: they leave as intercepts. */
			r->edx = HV_FEATURE_FREQUENCY_MSRS_AVAILABLE |
				 HV_FEATURE_GUEST_CRASH_MSRS_AVAILABLE |
				 HV_FEATURE_DIRECT_SYNTHETIC_TIMERS;
		break;
	case HV_CPUID_HINTS:
		/* A plain EOI, never auto-EOI (hyperv-guest-abi.md 4.4). */
		r->eax = v->lapic ? HV_HINT_DEPRECATING_AEOI : 0;
		r->ebx = 0xffffffffu;	/* never notify about spinlocks */
		break;
	case HV_CPUID_LIMITS:
		r->eax = v->max_vps;
		r->ebx = v->max_lps;
		break;
	default:
		break;	/* every other hypervisor leaf reads as zeros */
	}
}

void cpuid_filter(const struct cpuid_view *v, u32 leaf, u32 subleaf,
		  struct cpuid_result *r)
{
	if (leaf >= 0x40000000u && leaf <= 0x4fffffffu) {
		hypervisor_leaf(v, leaf, r);
		return;
	}
	switch (leaf) {
	case 1:
		r->ecx |= LEAF1_ECX_HYPERVISOR;
		r->ecx &= ~LEAF1_ECX_VMX;
		if (!v->root)
			/* No XSAVE: XCR0 stays the root's (see docs/abi.md). */
			r->ecx &= ~(LEAF1_ECX_MONITOR | LEAF1_ECX_XSAVE |
				    LEAF1_ECX_OSXSAVE | LEAF1_ECX_AVX);
		/* OSXSAVE mirrors the caller's CR4, not the hypervisor's. */
		r->ecx &= ~LEAF1_ECX_OSXSAVE;
		if (v->root && v->osxsave)
			r->ecx |= LEAF1_ECX_OSXSAVE;
		if (!v->root) {
			/* Initial APIC id = VP index; an xAPIC only. */
			r->ebx = (r->ebx & 0x00ffffffu) | (v->vp_index << 24);
			r->ecx &= ~(LEAF1_ECX_X2APIC | LEAF1_ECX_TSC_DEADLINE);
			/* Machine checks are the host's business. */
			r->edx &= ~(u32)EDX_MCE_MCA;
		}
		break;
	case 7:
		if (subleaf != 0)
			break;
		/* OSPKE mirrors the caller's CR4.PKE, as OSXSAVE does. */
		r->ecx &= ~(u32)LEAF7_ECX_OSPKE;
		if (v->root && v->pke)
			r->ecx |= LEAF7_ECX_OSPKE;
		/* PKRU is XSAVE state, which is not switched for children. */
		if (!v->root) {
			r->ebx &= ~(u32)(LEAF7_EBX_AVX2 | LEAF7_EBX_AVX512 |
					 LEAF7_EBX_TSC_ADJUST);
			r->ecx &= ~(u32)LEAF7_ECX_PKU;
		}
		break;
	case 0xd:
		if (!v->root)
			*r = (struct cpuid_result){ 0, 0, 0, 0 };
		break;
	case 0x80000001u:
		/* IBS records the hypervisor's addresses (hv/rootmsr.h). */
		r->ecx &= ~(EXT1_ECX_SVM | EXT1_ECX_IBS);
		if (!v->root)
			r->edx &= ~(u32)EDX_MCE_MCA;
		break;
	case 0x8000000au:
		*r = (struct cpuid_result){ 0, 0, 0, 0 };
		break;
	case 0x80000022u:	/* the LBR stack, likewise */
		r->eax &= ~(u32)PERFMON_EAX_LBR_V2;
		break;
	}
}
