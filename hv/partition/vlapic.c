/* Virtual local APIC. Pure code: unit-tested on the host. */
#include <hv/string.h>
#include <hv/vlapic.h>

#define LVT_TIMER 0
#define LVT_ERROR 5
#define APIC_VERSION 0x50014	/* 6 LVT entries + 1, version 0x14 */

static bool test(const u32 *map, u8 v)
{
	return map[v / 32] & BIT(v % 32);
}

static void set(u32 *map, u8 v, bool on)
{
	if (on)
		map[v / 32] |= (u32)BIT(v % 32);
	else
		map[v / 32] &= ~(u32)BIT(v % 32);
}

static int highest(const u32 *map)
{
	for (int w = 7; w >= 0; w--)
		if (map[w])
			return w * 32 + 31 - __builtin_clz(map[w]);
	return -1;
}

void vlapic_reset(struct vlapic *a, u32 id)
{
	memset(a, 0, sizeof(*a));
	a->id = id;
	a->dfr = 0xffffffffu;
	a->svr = 0xff;
	for (int i = 0; i < 7; i++)
		a->lvt[i] = APIC_LVT_MASKED;
}

static u32 ppr(const struct vlapic *a)
{
	int isr = highest(a->isr);
	u32 isrv = isr < 0 ? 0 : (u32)isr & 0xf0;

	return (a->tpr & 0xf0) >= isrv ? a->tpr & 0xff : isrv;
}

static u64 divisor(u32 tdcr)
{
	u32 code = ((tdcr & 8) >> 1) | (tdcr & 3);

	return code == 7 ? 1 : 2ull << code;
}

static u32 current_count(const struct vlapic *a, u64 now)
{
	u64 elapsed, period = (u64)a->timer_initial * divisor(a->timer_divide);

	if (!a->timer_deadline || !period)
		return 0;
	elapsed = now - a->timer_start;
	if (a->lvt[LVT_TIMER] & APIC_TIMER_PERIODIC)
		elapsed %= period;
	else if (elapsed >= period)
		return 0;
	return (u32)((period - elapsed) / divisor(a->timer_divide));
}

u32 vlapic_read(struct vlapic *a, u32 off, u64 now)
{
	u32 r = off & 0xff0;

	if (r >= APIC_ISR && r < APIC_ISR + 0x80)
		return a->isr[(r - APIC_ISR) / 16];
	if (r >= APIC_TMR && r < APIC_TMR + 0x80)
		return a->tmr[(r - APIC_TMR) / 16];
	if (r >= APIC_IRR && r < APIC_IRR + 0x80)
		return a->irr[(r - APIC_IRR) / 16];
	if (r >= APIC_LVTT && r <= APIC_LVTERR)
		return a->lvt[(r - APIC_LVTT) / 16];
	switch (r) {
	case APIC_ID: return a->id << 24;
	case APIC_LVR: return APIC_VERSION;
	case APIC_TASKPRI: return a->tpr;
	case APIC_PROCPRI: return ppr(a);
	case APIC_LDR: return a->ldr;
	case APIC_DFR: return a->dfr;
	case APIC_SPIV: return a->svr;
	case APIC_ESR: return a->esr;
	case APIC_ICR: return 0;		/* delivery is immediate */
	case APIC_ICR2: return a->icr_high;
	case APIC_TMICT: return a->timer_initial;
	case APIC_TMCCT: return current_count(a, now);
	case APIC_TDCR: return a->timer_divide;
	default: return 0;
	}
}

/*
 * A periodic timer runs no faster than VLAPIC_MIN_PERIOD_NS (as KVM's
 * min_timer_period_us): a 1 ns period would keep the VP's CPU busy
 * delivering it. The count the guest reads is still its own.
 */
static void arm_timer(struct vlapic *a, u64 now)
{
	u64 period = (u64)a->timer_initial * divisor(a->timer_divide);

	if (period && (a->lvt[LVT_TIMER] & APIC_TIMER_PERIODIC) &&
	    period < VLAPIC_MIN_PERIOD_NS)
		period = VLAPIC_MIN_PERIOD_NS;
	a->timer_start = now;
	a->timer_deadline = period ? now + period : 0;
}

static void eoi(struct vlapic *a)
{
	int v = highest(a->isr);

	if (v >= 0)
		set(a->isr, (u8)v, false);
}

void vlapic_write(struct vlapic *a, u32 off, u32 val, u64 now,
		  struct vlapic_icr *icr)
{
	u32 r = off & 0xff0;

	icr->send = false;
	if (r >= APIC_LVTT && r <= APIC_LVTERR) {
		u32 *lvt = &a->lvt[(r - APIC_LVTT) / 16];

		/* A software-disabled APIC keeps every LVT masked. */
		*lvt = val | ((a->svr & APIC_SPIV_ENABLED) ? 0 : APIC_LVT_MASKED);
		return;
	}
	switch (r) {
	case APIC_TASKPRI: a->tpr = val & 0xff; break;
	case APIC_EOI: eoi(a); break;
	case APIC_LDR: a->ldr = val & 0xff000000u; break;
	case APIC_DFR: a->dfr = val | 0x0fffffffu; break;
	case APIC_SPIV:
		a->svr = val & 0x3ff;
		if (!(val & APIC_SPIV_ENABLED))
			for (int i = 0; i < 7; i++)
				a->lvt[i] |= APIC_LVT_MASKED;
		break;
	case APIC_ESR: a->esr = 0; break;
	case APIC_ICR2: a->icr_high = val & 0xff000000u; break;
	case APIC_ICR:
		*icr = (struct vlapic_icr){ true, a->icr_high >> 24,
					    val & ~(u32)BIT(12) };
		break;
	case APIC_TMICT: a->timer_initial = val; arm_timer(a, now); break;
	case APIC_TDCR: a->timer_divide = val & 0xb; break;
	default: break;	/* read-only or unimplemented: ignored */
	}
}

void vlapic_set_irr(struct vlapic *a, u8 vector)
{
	if (vector >= 16)
		set(a->irr, vector, true);
}

int vlapic_pending(const struct vlapic *a)
{
	int v = highest(a->irr);

	if (v < 0 || !(a->svr & APIC_SPIV_ENABLED))
		return -1;
	return ((u32)v & 0xf0) > (ppr(a) & 0xf0) ? v : -1;
}

void vlapic_accept(struct vlapic *a, u8 vector)
{
	if (!test(a->irr, vector))
		return;
	set(a->irr, vector, false);
	set(a->isr, vector, true);
}

void vlapic_timer_tick(struct vlapic *a, u64 now)
{
	u32 lvt = a->lvt[LVT_TIMER];

	if (!a->timer_deadline || now < a->timer_deadline)
		return;
	if (!(lvt & APIC_LVT_MASKED))
		vlapic_set_irr(a, (u8)lvt);
	if (lvt & APIC_TIMER_PERIODIC) {
		u64 period = a->timer_deadline - a->timer_start;

		if (period < VLAPIC_MIN_PERIOD_NS)	/* made periodic later */
			period = VLAPIC_MIN_PERIOD_NS;
		/* Catch up without firing once per missed period. */
		a->timer_start = a->timer_deadline +
				 (now - a->timer_deadline) / period * period;
		a->timer_deadline = a->timer_start + period;
	} else {
		a->timer_deadline = 0;
	}
}
