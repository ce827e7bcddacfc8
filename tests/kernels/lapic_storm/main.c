/*
 * The root's trapped local APIC under load on two CPUs at once: every
 * access to the page is a nested page fault the hypervisor decodes and
 * forwards. Both root VPs read and write it in a loop with their timers
 * firing, halt for interrupts and send each other IPIs, while the first
 * also runs a child that makes hypercalls in between. Every interrupt
 * must arrive, no VP may lose its state, and the child must finish.
 */
#include <hv/string.h>
#include "../lib/child.h"

#define ROUNDS 2
#define N 20000ull
#define TIMER_VECTOR 0x40
#define IPI_VECTOR 0x41

#define APIC_ID 0x20
#define APIC_TPR 0x80
#define APIC_EOI 0xb0
#define APIC_SVR 0xf0
#define APIC_ICR_LOW 0x300
#define APIC_ICR_HIGH 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_DIVIDE 0x3e0

extern volatile u32 tk_irq_counts[256];

void child_main(void)
{
	for (u64 i = 0; i < 10000; i++)
		__asm__ __volatile__("vmmcall"
				     : : "c"(HV_HC_MAKE(
					 HVCALL_NOTIFY_LONG_SPIN_WAIT, 1, 0, 0))
				     : "rax", "rdx", "r8", "memory");
	tk_pass();
}

static volatile u32 *apic = (volatile u32 *)(uintptr_t)0xfee00000ull;
static volatile bool ap_done;
static struct tk_child c;

static void reg_write(u32 reg, u32 val)
{
	apic[reg / 4] = val;
}

static u32 reg_read(u32 reg)
{
	return apic[reg / 4];
}

static void storm(void)
{
	u32 other = reg_read(APIC_ID) ? 0 : 1;	/* the other CPU's APIC ID */

	reg_write(APIC_SVR, 0x1ff);		/* enabled, spurious 0xff */
	reg_write(APIC_TIMER_DIVIDE, 0xb);	/* by 1 */
	reg_write(APIC_LVT_TIMER, TIMER_VECTOR | (1u << 17));	/* periodic */
	reg_write(APIC_TIMER_INITIAL, 20000);
	__asm__ __volatile__("sti");
	for (u64 i = 0; i < N; i++) {
		(void)reg_read(APIC_ID);
		reg_write(APIC_TPR, 0);
		reg_write(APIC_EOI, 0);
		if (i % 16 == 0) {
			reg_write(APIC_ICR_HIGH, other << 24);
			reg_write(APIC_ICR_LOW, IPI_VECTOR);
		}
		if (i % 64 == 0) {	/* EOI what came since, wait for more */
			__asm__ __volatile__("cli");
			reg_write(APIC_EOI, 0);
			__asm__ __volatile__("sti; hlt");
		}
	}
	__asm__ __volatile__("cli");
	reg_write(APIC_TIMER_INITIAL, 0);
	reg_write(APIC_EOI, 0);
}

static void ap(void *arg)
{
	(void)arg;
	for (int r = 0; r < ROUNDS; r++)
		storm();
	__atomic_store_n(&ap_done, true, __ATOMIC_RELEASE);
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

void test_main(void)
{
	if (tk_role != TK_ROOT)
		tk_skip("needs microhv");
	if (tk_nr_cpus() < 2)
		tk_skip("needs two CPUs");
	TK_CHECK_EQ(tk_start_ap(1, ap, NULL), 0);
	for (int r = 0; r < ROUNDS; r++) {
		tk_child_create(&c, 0, 2048);
		tk_child_load_self(&c, 0);
		storm();
		tk_child_run(&c);
		TK_CHECK_EQ(c.result, TK_SUCCESS);
		tk_child_destroy(&c);
	}
	while (!__atomic_load_n(&ap_done, __ATOMIC_ACQUIRE))
		__asm__ __volatile__("pause");
	TK_CHECK(tk_irq_counts[TIMER_VECTOR] > 0);
	TK_CHECK(tk_irq_counts[IPI_VECTOR] > 0);
	tk_printf("lapic_storm: %u timer interrupts and %u IPIs taken\n",
		  tk_irq_counts[TIMER_VECTOR], tk_irq_counts[IPI_VECTOR]);
}
