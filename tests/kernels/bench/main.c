/*
 * Path lengths for make bench (run under QEMU -icount shift=0, where the
 * TSC advances one tick per instruction executed, at every level):
 *   null_hypercall - a child's fast hypercall the hypervisor answers
 *                    itself (HvCallNotifyLongSpinWait) and back;
 *   io_roundtrip   - a child's OUT, intercepted to the root test kernel,
 *                    completed (SetVpRegisters) and dispatched again.
 * The child times N of each with RDTSC and prints the means.
 */
#include "../lib/child.h"

#define N 2000

static inline u64 tsc(void)
{
	u32 lo, hi;

	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

void child_main(void)
{
	u64 t0, t1, t2;

	u64 n = N;

	/* Tight loops: the round trip, not the C around it, is measured. */
	t0 = tsc();
	__asm__ __volatile__("1: movq %[code], %%rcx\n\t"
			     "vmmcall\n\t"
			     "decq %[n]\n\t"
			     "jnz 1b"
			     : [n] "+r"(n)
			     : [code] "i"(HV_HC_MAKE(HVCALL_NOTIFY_LONG_SPIN_WAIT,
						    1, 0, 0))
			     : "rax", "rcx", "rdx", "r8", "memory");
	t1 = tsc();
	n = N;
	__asm__ __volatile__("1: outb %%al, $0x80\n\t"
			     "decq %[n]\n\t"
			     "jnz 1b"
			     : [n] "+r"(n) : "a"(0) : "memory");
	t2 = tsc();
	tk_printf("bench: null_hypercall %llu\n", (t1 - t0) / N);
	tk_printf("bench: io_roundtrip %llu\n", (t2 - t1) / N);
	tk_pass();
}

static struct tk_child c;

void test_main(void)
{
	if (tk_role != TK_ROOT)
		tk_skip("needs microhv");
	tk_child_create(&c, 0, 2048);
	tk_child_load_self(&c, 0);
	tk_child_run(&c);
	TK_CHECK_EQ(c.result, TK_SUCCESS);
	tk_child_destroy(&c);
}
