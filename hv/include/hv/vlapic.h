/*
 * A child's virtual local APIC (xAPIC register model). Pure code: the
 * caller supplies "now" (nanoseconds of the partition's clock; the
 * timer runs at 1 GHz, so one count is one nanosecond before the
 * divider) and turns ICR writes into IPIs. Unit-tested.
 */
#ifndef HV_VLAPIC_H
#define HV_VLAPIC_H

#include <hv/types.h>

#define VLAPIC_BASE 0xfee00000ull
#define VLAPIC_TIMER_HZ 1000000000ull	/* reported in HV_X64_MSR_APIC_FREQUENCY */
#define VLAPIC_MIN_PERIOD_NS 200000ull	/* periodic timers: 200 us at least */

/* Register offsets. */
#define APIC_ID 0x020
#define APIC_LVR 0x030
#define APIC_TASKPRI 0x080
#define APIC_PROCPRI 0x0a0
#define APIC_EOI 0x0b0
#define APIC_LDR 0x0d0
#define APIC_DFR 0x0e0
#define APIC_SPIV 0x0f0
#define APIC_ISR 0x100
#define APIC_TMR 0x180
#define APIC_IRR 0x200
#define APIC_ESR 0x280
#define APIC_ICR 0x300
#define APIC_ICR2 0x310
#define APIC_LVTT 0x320
#define APIC_LVTTHMR 0x330
#define APIC_LVTPC 0x340
#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_LVTERR 0x370
#define APIC_TMICT 0x380
#define APIC_TMCCT 0x390
#define APIC_TDCR 0x3e0

#define APIC_LVT_MASKED BIT(16)
#define APIC_TIMER_PERIODIC BIT(17)
#define APIC_SPIV_ENABLED BIT(8)

struct vlapic {
	u32 id;			/* APIC id (the VP index) */
	u32 tpr, ldr, dfr, svr, esr, icr_high;
	u32 irr[8], isr[8], tmr[8];
	u32 lvt[7];		/* timer, thermal, perf, LINT0, LINT1, error, CMCI */
	u32 timer_initial, timer_divide;
	u64 timer_start;	/* now at the last (re)arm */
	u64 timer_deadline;	/* 0: not armed */
};

/* What an ICR write asks the caller to do. */
struct vlapic_icr {
	bool send;
	u32 dest;		/* ICR2 bits 31:24 */
	u32 low;		/* vector, delivery mode, shorthand, ... */
};

void vlapic_reset(struct vlapic *a, u32 id);
u32 vlapic_read(struct vlapic *a, u32 off, u64 now);
void vlapic_write(struct vlapic *a, u32 off, u32 val, u64 now,
		  struct vlapic_icr *icr);

/* A fixed interrupt arrives (edge). */
void vlapic_set_irr(struct vlapic *a, u8 vector);
/* The highest vector deliverable now (above the processor priority),
 * or -1. Disabled APIC: nothing is delivered. */
int vlapic_pending(const struct vlapic *a);
/* The CPU took vector: IRR -> ISR. */
void vlapic_accept(struct vlapic *a, u8 vector);
/* Fires the timer if due (IRR, re-arm when periodic). */
void vlapic_timer_tick(struct vlapic *a, u64 now);

#endif
