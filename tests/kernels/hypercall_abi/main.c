/*
 * The hypercall interface as the root sees it: CPUID leaves, synthetic
 * MSRs and the hypercall page, and every decode-level refusal the TLFS
 * names (code, reserved bits, reps, alignment, overlap, unmapped GPAs).
 */
#include <hv/string.h>
#include "../lib/child.h"

static u8 scratch[3 * 4096] __aligned(4096);

static void check_cpuid(void)
{
	u32 r[4];

	tk_cpuid(HV_CPUID_VENDOR, 0, r);
	TK_CHECK(r[0] >= 0x40000005);
	TK_CHECK_EQ(r[1], HV_VENDOR_MICROHV_EBX);
	tk_cpuid(HV_CPUID_INTERFACE, 0, r);
	TK_CHECK_EQ(r[0], HV_INTERFACE_HV1);
	tk_cpuid(HV_CPUID_FEATURES, 0, r);
	TK_CHECK(r[0] & (u32)HV_PRIV_HYPERCALL_MSRS);
	TK_CHECK(r[1] & (u32)(HV_PRIV_CREATE_PARTITIONS >> 32));
	TK_CHECK(r[1] & (u32)(HV_PRIV_ACCESS_MEMORY_POOL >> 32));
	TK_CHECK(!(r[1] & (u32)(HV_PRIV_CPU_MANAGEMENT >> 32)));
	tk_cpuid(0x80000001u, 0, r);
	TK_CHECK(!(r[2] & BIT(2)));		/* no SVM for the root */
	tk_cpuid(0x8000000au, 0, r);
	TK_CHECK_EQ(r[0] | r[1] | r[2] | r[3], 0);
	tk_cpuid(0x40000100u, 0, r);		/* unimplemented: zeros */
	TK_CHECK_EQ(r[0] | r[1] | r[2] | r[3], 0);
}

static void check_msrs(void)
{
	u64 v, t0, t1;
	u8 *page = scratch;

	TK_CHECK(!(tk_rdmsr(0xc0000080) & BIT(12)));	/* EFER.SVME hidden */
	tk_wrmsr(0xc0000080, tk_rdmsr(0xc0000080) | BIT(12));
	TK_CHECK(!(tk_rdmsr(0xc0000080) & BIT(12)));
	TK_CHECK_EQ(tk_probe_rdmsr(0xc0010114, &v), 13);	/* VM_CR */
	TK_CHECK_EQ(tk_probe_wrmsr(0xc0010117, 0x1000), 13);	/* HSAVE */
	TK_CHECK_EQ(tk_rdmsr(HV_MSR_VP_INDEX), 0);
	TK_CHECK_EQ(tk_probe_wrmsr(HV_MSR_VP_INDEX, 5), 13);
	TK_CHECK_EQ(tk_probe_rdmsr(0x400000ff, &v), 13);	/* unknown */
	t0 = tk_rdmsr(HV_MSR_TIME_REF_COUNT);
	for (volatile int i = 0; i < 100000; i++)
		;
	t1 = tk_rdmsr(HV_MSR_TIME_REF_COUNT);
	TK_CHECK(t1 > t0);
	/* No hypercall page until a guest OS id is set. */
	tk_wrmsr(HV_MSR_HYPERCALL, (u64)(uintptr_t)page | 1);
	TK_CHECK_EQ(tk_rdmsr(HV_MSR_HYPERCALL) & 1, 0);
	tk_wrmsr(HV_MSR_GUEST_OS_ID, 0x8100000601c00000ull);
	TK_CHECK_EQ(tk_rdmsr(HV_MSR_GUEST_OS_ID), 0x8100000601c00000ull);
	tk_wrmsr(HV_MSR_HYPERCALL, (u64)(uintptr_t)page | 1);
	TK_CHECK_EQ(tk_rdmsr(HV_MSR_HYPERCALL), (u64)(uintptr_t)page | 1);
	TK_CHECK(!memcmp(page + 4, "\x0f\x01\xd9\xc3", 4));	/* VMMCALL; RET */
	/* Call through the page: the null hypercall. */
	u64 (*hc)(u64, u64, u64) = (void *)page;
	register u64 r8 __asm__("r8") = 0;
	u64 rax, rcx = HV_HC_MAKE(HVCALL_NOTIFY_LONG_SPIN_WAIT, 1, 0, 0);
	__asm__ __volatile__("call *%[f]" : "=a"(rax), "+c"(rcx), "+r"(r8)
			     : [f] "r"(hc), "d"(0ull) : "r9", "r10", "r11",
			     "memory");
	TK_CHECK_EQ(rax, HV_STATUS_SUCCESS);
	tk_wrmsr(HV_MSR_GUEST_OS_ID, 0);	/* disables the page */
	TK_CHECK_EQ(tk_rdmsr(HV_MSR_HYPERCALL) & 1, 0);
}

static u16 raw(u64 control, u64 in, u64 out)
{
	return HV_RESULT_STATUS(tk_hypercall(control, in, out));
}

static void check_decode(void)
{
	u64 in = (u64)(uintptr_t)tk_hc_in(), out = (u64)(uintptr_t)tk_hc_out();
	u64 code = HVCALL_GET_SYSTEM_PROPERTY;

	*(u32 *)tk_hc_in() = HV_SYSTEM_PROPERTY_SCHEDULER_TYPE;
	((u32 *)tk_hc_in())[1] = 0;
	TK_CHECK_EQ(raw(code, in, out), HV_STATUS_SUCCESS);
	TK_CHECK_EQ(*(u32 *)tk_hc_out(), HV_SCHEDULER_TYPE_ROOT);
	TK_CHECK_EQ(raw(0x7ff0, in, out), HV_STATUS_INVALID_HYPERCALL_CODE);
	TK_CHECK_EQ(raw(0xffff, in, out), HV_STATUS_INVALID_HYPERCALL_CODE);
	TK_CHECK_EQ(raw(code | (1ull << 27), in, out),
		    HV_STATUS_INVALID_HYPERCALL_INPUT);	/* reserved bit */
	TK_CHECK_EQ(raw(code | (1ull << 17), in, out),
		    HV_STATUS_INVALID_HYPERCALL_INPUT);	/* var header */
	TK_CHECK_EQ(raw(code | (3ull << 32), in, out),
		    HV_STATUS_INVALID_HYPERCALL_INPUT);	/* reps, not a rep call */
	TK_CHECK_EQ(raw(code | HV_HC_FAST, 15, 0),
		    HV_STATUS_INVALID_HYPERCALL_INPUT);	/* no fast form */
	TK_CHECK_EQ(raw(code, in + 4, out), HV_STATUS_INVALID_ALIGNMENT);
	TK_CHECK_EQ(raw(code, in, out + 4), HV_STATUS_INVALID_ALIGNMENT);
	TK_CHECK_EQ(raw(code, in + 4092, out), HV_STATUS_INVALID_ALIGNMENT);
	TK_CHECK_EQ(raw(code, in, in), HV_STATUS_INVALID_PARAMETER);
	/* The hypervisor's own image is not root memory. */
	TK_CHECK_EQ(raw(code, 0x100000, out),
		    HV_STATUS_INVALID_HYPERCALL_INPUT);
	TK_CHECK_EQ(raw(code, in, 0x100000),
		    HV_STATUS_INVALID_HYPERCALL_INPUT);
	((u32 *)tk_hc_in())[0] = 99;
	TK_CHECK_EQ(raw(code, in, out), HV_STATUS_INVALID_PARAMETER);
	/* Rep start past rep count. */
	TK_CHECK_EQ(raw(HV_HC_MAKE(HVCALL_DEPOSIT_MEMORY, 0, 2, 5), in, out),
		    HV_STATUS_INVALID_HYPERCALL_INPUT);
	/* A rep list running past the input page. */
	TK_CHECK_EQ(raw(HV_HC_MAKE(HVCALL_DEPOSIT_MEMORY, 0, 600, 0), in, out),
		    HV_STATUS_INVALID_HYPERCALL_INPUT);
	TK_CHECK_EQ(tk_hvcall_fast(HVCALL_NOTIFY_LONG_SPIN_WAIT, 0, 0),
		    HV_STATUS_SUCCESS);
	TK_CHECK_EQ(tk_status(tk_hvcall(HVCALL_GET_PARTITION_ID, 0, 0)),
		    HV_STATUS_SUCCESS);
	TK_CHECK_EQ(*(u64 *)tk_hc_out(), HV_ROOT_PARTITION_ID);
}

/* As a child: the same interface from the other side. */
void child_main(void)
{
	tk_check_child_abi();
	tk_pass();
}

void test_main(void)
{
	if (tk_role != TK_ROOT)
		tk_skip("needs microhv");
	check_cpuid();
	check_msrs();
	check_decode();
}
