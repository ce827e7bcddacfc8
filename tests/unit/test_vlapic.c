#include <hv/vlapic.h>
#include "harness.h"

static struct vlapic a;
static struct vlapic_icr icr;

static void enable(void)
{
	vlapic_reset(&a, 3);
	vlapic_write(&a, APIC_SPIV, APIC_SPIV_ENABLED | 0xff, 0, &icr);
}

TEST(vlapic_reset_state)
{
	vlapic_reset(&a, 3);
	CHECK_EQ(vlapic_read(&a, APIC_ID, 0), 3u << 24);
	CHECK_EQ(vlapic_read(&a, APIC_LVR, 0) & 0xff, 0x14);
	CHECK_EQ(vlapic_read(&a, APIC_LVTT, 0), APIC_LVT_MASKED);
	CHECK_EQ(vlapic_read(&a, APIC_DFR, 0), 0xffffffffu);
	/* Disabled: interrupts stay pending. */
	vlapic_set_irr(&a, 0x40);
	CHECK_EQ(vlapic_pending(&a), -1);
	CHECK_EQ(vlapic_read(&a, APIC_IRR + 0x20, 0), 1);	/* bit 0x40 */
}

TEST(vlapic_priorities_and_eoi)
{
	enable();
	vlapic_set_irr(&a, 0x31);
	vlapic_set_irr(&a, 0x52);
	vlapic_set_irr(&a, 0x5);	/* vectors below 16 are refused */
	CHECK_EQ(vlapic_pending(&a), 0x52);
	vlapic_accept(&a, 0x52);
	CHECK_EQ(vlapic_read(&a, APIC_ISR + 0x20, 0), BIT(0x12));
	/* 0x31 is a lower class than the one in service: wait. */
	CHECK_EQ(vlapic_pending(&a), -1);
	CHECK_EQ(vlapic_read(&a, APIC_PROCPRI, 0), 0x50);
	vlapic_set_irr(&a, 0x61);
	CHECK_EQ(vlapic_pending(&a), 0x61);	/* higher class nests */
	vlapic_accept(&a, 0x61);
	vlapic_write(&a, APIC_EOI, 0, 0, &icr);	/* ends 0x61 */
	CHECK_EQ(vlapic_pending(&a), -1);
	vlapic_write(&a, APIC_EOI, 0, 0, &icr);	/* ends 0x52 */
	CHECK_EQ(vlapic_pending(&a), 0x31);
	/* TPR holds a class back. */
	vlapic_write(&a, APIC_TASKPRI, 0x30, 0, &icr);
	CHECK_EQ(vlapic_pending(&a), -1);
	vlapic_write(&a, APIC_TASKPRI, 0x20, 0, &icr);
	CHECK_EQ(vlapic_pending(&a), 0x31);
	vlapic_accept(&a, 0x99);		/* not pending: no change */
	CHECK_EQ(vlapic_read(&a, APIC_ISR + 0x40, 0), 0);
}

TEST(vlapic_timer_one_shot_and_periodic)
{
	enable();
	vlapic_write(&a, APIC_TDCR, 0xb, 0, &icr);	/* divide by 1 */
	vlapic_write(&a, APIC_LVTT, 0xec, 0, &icr);
	vlapic_write(&a, APIC_TMICT, 1000, 100, &icr);
	CHECK_EQ(a.timer_deadline, 1100);
	CHECK_EQ(vlapic_read(&a, APIC_TMCCT, 600), 500);
	vlapic_timer_tick(&a, 1099);
	CHECK_EQ(vlapic_pending(&a), -1);		/* never early */
	vlapic_timer_tick(&a, 1100);
	CHECK_EQ(vlapic_pending(&a), 0xec);
	CHECK_EQ(a.timer_deadline, 0);			/* one shot */
	CHECK_EQ(vlapic_read(&a, APIC_TMCCT, 5000), 0);
	vlapic_accept(&a, 0xec);
	vlapic_write(&a, APIC_EOI, 0, 0, &icr);
	/* Periodic, divide by 2: 100000 counts = 200 us. */
	vlapic_write(&a, APIC_TDCR, 0x0, 0, &icr);
	vlapic_write(&a, APIC_LVTT, 0xec | APIC_TIMER_PERIODIC, 0, &icr);
	vlapic_write(&a, APIC_TMICT, 100000, 0, &icr);
	CHECK_EQ(a.timer_deadline, 200000);
	vlapic_timer_tick(&a, 1050000);			/* five periods late */
	CHECK_EQ(vlapic_pending(&a), 0xec);
	CHECK_EQ(a.timer_deadline, 1200000);		/* caught up, not 5x */
	CHECK_EQ(vlapic_read(&a, APIC_TMCCT, 1100000), 50000);
	/* Masked: counts but raises nothing. */
	vlapic_accept(&a, 0xec);
	vlapic_write(&a, APIC_EOI, 0, 0, &icr);
	vlapic_write(&a, APIC_LVTT, 0xec | APIC_LVT_MASKED, 0, &icr);
	vlapic_write(&a, APIC_TMICT, 10, 0, &icr);
	vlapic_timer_tick(&a, 1000000);
	CHECK_EQ(vlapic_pending(&a), -1);
	vlapic_write(&a, APIC_TMICT, 0, 0, &icr);	/* stops it */
	CHECK_EQ(a.timer_deadline, 0);
}

TEST(vlapic_periodic_timer_floor)
{
	enable();
	vlapic_write(&a, APIC_TDCR, 0xb, 0, &icr);	/* divide by 1 */
	vlapic_write(&a, APIC_LVTT, 0xec | APIC_TIMER_PERIODIC, 0, &icr);
	vlapic_write(&a, APIC_TMICT, 1, 1000, &icr);	/* 1 ns asked */
	CHECK_EQ(a.timer_deadline, 1000 + VLAPIC_MIN_PERIOD_NS);
	vlapic_timer_tick(&a, 1000 + VLAPIC_MIN_PERIOD_NS);
	CHECK_EQ(a.timer_deadline, 1000 + 2 * VLAPIC_MIN_PERIOD_NS);
	/* One-shot: as short as asked (it fires once). */
	vlapic_write(&a, APIC_LVTT, 0xec, 0, &icr);
	vlapic_write(&a, APIC_TMICT, 1, 5000, &icr);
	CHECK_EQ(a.timer_deadline, 5001);
}

TEST(vlapic_icr_and_software_disable)
{
	enable();
	vlapic_write(&a, APIC_ICR2, 0x02000000, 0, &icr);
	CHECK(!icr.send);
	vlapic_write(&a, APIC_ICR, 0x4061 | BIT(12), 0, &icr);
	CHECK(icr.send);
	CHECK_EQ(icr.dest, 2);
	CHECK_EQ(icr.low, 0x4061);			/* busy bit not kept */
	CHECK_EQ(vlapic_read(&a, APIC_ICR, 0) & BIT(12), 0);
	/* Software disable masks every LVT and blocks delivery. */
	vlapic_write(&a, APIC_LVTT, 0xec, 0, &icr);
	vlapic_write(&a, APIC_SPIV, 0xff, 0, &icr);
	CHECK(vlapic_read(&a, APIC_LVTT, 0) & APIC_LVT_MASKED);
	vlapic_write(&a, APIC_LVTT, 0xec, 0, &icr);	/* stays masked */
	CHECK(vlapic_read(&a, APIC_LVTT, 0) & APIC_LVT_MASKED);
	vlapic_set_irr(&a, 0x80);
	CHECK_EQ(vlapic_pending(&a), -1);
	vlapic_write(&a, 0xfff, 1, 0, &icr);		/* unknown: ignored */
}

/* Synthetic timers (hv/partition/stimer.c). */
#include <hv/synic.h>

TEST(stimer_one_shot_never_early)
{
	u64 on = HV_STIMER_ENABLE;

	CHECK_EQ(stimer_deadline(0, 500, 100), 0);		/* disabled */
	CHECK_EQ(stimer_deadline(on, 0, 100), 0);		/* count 0 */
	CHECK_EQ(stimer_deadline(on, 500, 100), 500);	/* absolute */
	CHECK_EQ(stimer_deadline(on, 50, 100), 100);	/* past: now */
	CHECK_EQ(stimer_rearm(on, 500, 500, 600), 0);	/* one-shot */
}

TEST(stimer_periodic_drops_missed_periods)
{
	u64 per = HV_STIMER_ENABLE | HV_STIMER_PERIODIC;

	CHECK_EQ(stimer_deadline(per, 3000, 100), 3100);
	CHECK_EQ(stimer_rearm(per, 3000, 3100, 3100), 6100);
	CHECK_EQ(stimer_rearm(per, 3000, 3100, 3500), 6100);
	/* Late by three periods: the next one still lies on the grid. */
	CHECK_EQ(stimer_rearm(per, 3000, 3100, 12100), 15100);
	CHECK_EQ(stimer_rearm(per, 3000, 3100, 12000), 12100);
	CHECK(stimer_rearm(per, 3000, 3100, 100000) > 100000);
}

TEST(stimer_periodic_floor)
{
	u64 per = HV_STIMER_ENABLE | HV_STIMER_PERIODIC;

	/* 100 ns asked: 200 us given, so a VP cannot spin its CPU. */
	CHECK_EQ(stimer_deadline(per, 1, 100), 100 + STIMER_MIN_PERIOD);
	CHECK_EQ(stimer_rearm(per, 1, 2100, 2100), 2100 + STIMER_MIN_PERIOD);
	CHECK_EQ(stimer_deadline(HV_STIMER_ENABLE, 1, 100), 100);	/* once */
}
