/*
 * Checks a child can make whatever its parent is: what CPUID says, the
 * synthetic MSRs and the hypercall page, and that root-only hypercalls
 * are refused. Any miss ends the test with FAILURE.
 */
#include <hv/string.h>
#include "child.h"

static u8 hcpage[4096] __aligned(4096);

#define CHILD_CHECK(c) do { if (!(c)) child_fail(__LINE__); } while (0)

static __noreturn void child_fail(int line)
{
	tk_printf("child check failed at line %d\n", line);
	tk_exit(TK_FAILURE);
}

static void check_cpuid_and_msrs(void)
{
	u32 r[4];
	u64 v;

	tk_cpuid(1, 0, r);
	CHILD_CHECK(r[2] & BIT(31));		/* hypervisor present */
	CHILD_CHECK(!(r[2] & BIT(26)));		/* no XSAVE for children */
	tk_cpuid(HV_CPUID_VENDOR, 0, r);
	CHILD_CHECK(r[0] >= 0x40000005 && r[1] == HV_VENDOR_MICROSOFT_EBX &&
		    r[2] == HV_VENDOR_MICROSOFT_ECX &&
		    r[3] == HV_VENDOR_MICROSOFT_EDX);
	tk_cpuid(HV_CPUID_INTERFACE, 0, r);
	CHILD_CHECK(r[0] == HV_INTERFACE_HV1);
	tk_cpuid(HV_CPUID_FEATURES, 0, r);
	CHILD_CHECK((r[0] & 0x60) == 0x60);	/* hypercall + VP index MSRs */
	CHILD_CHECK(!(r[1] & BIT(0)) && !(r[1] & BIT(12)));
	tk_cpuid(0x80000001u, 0, r);
	CHILD_CHECK(!(r[2] & BIT(2)));
	CHILD_CHECK(tk_rdmsr(HV_MSR_VP_INDEX) == 0);
	CHILD_CHECK(tk_probe_rdmsr(HV_MSR_HYPERCALL, &v) == -1 && v == 0);
	tk_wrmsr(HV_MSR_GUEST_OS_ID, 0x8100000601c00000ull);
	tk_wrmsr(HV_MSR_HYPERCALL, (u64)(uintptr_t)hcpage | 1);
	CHILD_CHECK(tk_rdmsr(HV_MSR_HYPERCALL) & 1);
	CHILD_CHECK(hcpage[4] == 0x0f && hcpage[6] == 0xd9);
	CHILD_CHECK(tk_rdmsr(HV_MSR_TIME_REF_COUNT) > 0);
	CHILD_CHECK(tk_probe_wrmsr(HV_MSR_TIME_REF_COUNT, 0) == 13);
}

static void check_hypercalls(void)
{
	struct hv_input_create_partition *in = tk_hc_in();

	memset(in, 0, sizeof(*in));
	CHILD_CHECK(tk_status(tk_hvcall(HVCALL_CREATE_PARTITION, 0, 0)) ==
		    HV_STATUS_ACCESS_DENIED);
	CHILD_CHECK(tk_status(tk_hvcall(HVCALL_DEPOSIT_MEMORY, 1, 0)) ==
		    HV_STATUS_ACCESS_DENIED);
	CHILD_CHECK(tk_status(tk_hvcall(HVCALL_DISPATCH_VP, 0, 0)) ==
		    HV_STATUS_ACCESS_DENIED);
	CHILD_CHECK(tk_status(tk_hvcall(HVCALL_GET_PARTITION_ID, 0, 0)) ==
		    HV_STATUS_ACCESS_DENIED);
	CHILD_CHECK(tk_status(tk_hvcall_fast(HVCALL_INITIALIZE_PARTITION,
					     1, 0)) == HV_STATUS_ACCESS_DENIED);
	CHILD_CHECK(tk_status(tk_hvcall(0x7777, 0, 0)) ==
		    HV_STATUS_INVALID_HYPERCALL_CODE);
	CHILD_CHECK(tk_hvcall_fast(HVCALL_NOTIFY_LONG_SPIN_WAIT, 0, 0) == 0);
}

void tk_check_child_abi(void)
{
	check_cpuid_and_msrs();
	check_hypercalls();
}
