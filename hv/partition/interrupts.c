/* Interrupts for the VPs of a LAPIC partition (see hv/interrupts.h). */
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/mmio.h>
#include <hv/msr.h>
#include <hv/string.h>
#include <hv/virt.h>
#include <hv/vp.h>
#include <x86/msr.h>

#define ICR_VECTOR(low) ((u8)(low))
#define ICR_MODE(low) (((low) >> 8) & 7)
#define ICR_LOGICAL BIT(11)
#define ICR_ASSERT BIT(14)
#define ICR_SHORTHAND(low) (((low) >> 18) & 3)
#define ICR_MODE_FIXED 0
#define ICR_MODE_LOWEST 1
#define ICR_MODE_NMI 4
#define ICR_MODE_INIT 5
#define ICR_MODE_SIPI 6

void irq_vp_init(struct vp *vp)
{
	vp->irq.lock = (struct spinlock)SPINLOCK_INIT;
	vlapic_reset(&vp->irq.apic, vp->index);
	/* As on hardware, only the bootstrap processor runs from reset. */
	vp->irq.activity = vp->index ? VP_WAIT_SIPI : VP_ACTIVE;
	for (u32 i = 0; i < HV_SINT_COUNT; i++)
		vp->synic.sint[i] = HV_SINT_MASKED;
}

static u64 now_ns(struct vp *vp)
{
	return irq_ref_to_ns(partition_reference_time(vp->part));
}

/*
 * t has something new to do (caller holds t's lock). A blocked VP's
 * root thread must be woken: a sibling reports that to the root, the
 * root's own calls wake it themselves. true: kick t after unlocking,
 * it may be in guest mode somewhere.
 */
static bool wake_locked(struct vp *t, struct vp *from)
{
	if (!t->irq.blocked)
		return true;
	t->irq.blocked = false;
	if (from && from != t)
		from->irq.wake_vps |= BIT(t->index);
	return false;
}

void irq_poke(struct vp *t, struct vp *from)
{
	bool kick;

	spin_lock(&t->irq.lock);
	kick = wake_locked(t, from);
	spin_unlock(&t->irq.lock);
	if (kick)
		vp_kick(t);
}

void irq_fixed(struct vp *t, u8 vector, struct vp *from)
{
	bool kick;

	spin_lock(&t->irq.lock);
	vlapic_set_irr(&t->irq.apic, vector);
	kick = wake_locked(t, from);
	spin_unlock(&t->irq.lock);
	if (kick)
		vp_kick(t);
}

void irq_nmi(struct vp *t, struct vp *from)
{
	__atomic_store_n(&t->pending_nmi, true, __ATOMIC_RELEASE);
	irq_poke(t, from);
}

void irq_init(struct vp *t, struct vp *from)
{
	bool kick;

	spin_lock(&t->irq.lock);
	t->irq.init_pending = true;
	kick = wake_locked(t, from);
	spin_unlock(&t->irq.lock);
	if (kick)
		vp_kick(t);
}

void irq_sipi(struct vp *t, u8 vector, struct vp *from)
{
	bool kick = false;

	spin_lock(&t->irq.lock);
	/* Only a VP waiting for a SIPI (or about to, after an INIT). */
	if (t->irq.activity == VP_WAIT_SIPI || t->irq.init_pending) {
		t->irq.sipi_vector = (u32)vector + 1;
		kick = wake_locked(t, from);
	}
	spin_unlock(&t->irq.lock);
	if (kick)
		vp_kick(t);
}

/* ------------------------------------------------------------ IPIs */

static bool logical_match(const struct vlapic *a, u32 dest)
{
	u32 ldr = READ_ONCE(a->ldr) >> 24;

	if ((READ_ONCE(a->dfr) >> 28) == 0xf)		/* flat */
		return ldr & dest;
	return (ldr >> 4) == (dest >> 4) && (ldr & dest & 0xf);	/* cluster */
}

static bool icr_targets(const struct vp *from, const struct vp *t,
			const struct vlapic_icr *icr)
{
	switch (ICR_SHORTHAND(icr->low)) {
	case 1: return t == from;
	case 2: return true;
	case 3: return t != from;
	}
	if (icr->low & ICR_LOGICAL)
		return logical_match(&t->irq.apic, icr->dest);
	return icr->dest == 0xff || icr->dest == t->index;
}

/* Returns false once a lowest-priority interrupt found its one VP. */
static bool icr_deliver(struct vp *t, const struct vlapic_icr *icr,
			struct vp *from)
{
	u32 low = icr->low;

	switch (ICR_MODE(low)) {
	case ICR_MODE_FIXED:
		irq_fixed(t, ICR_VECTOR(low), from);
		return true;
	case ICR_MODE_LOWEST:
		irq_fixed(t, ICR_VECTOR(low), from);
		return false;
	case ICR_MODE_NMI:
		irq_nmi(t, from);
		return true;
	case ICR_MODE_INIT:
		if (low & ICR_ASSERT)	/* the level de-assert is a no-op */
			irq_init(t, from);
		return true;
	case ICR_MODE_SIPI:
		irq_sipi(t, ICR_VECTOR(low), from);
		return true;
	default:
		return true;	/* SMI, ExtINT: nothing to deliver them to */
	}
}

static void icr_send(struct vp *from, const struct vlapic_icr *icr)
{
	struct partition *p = from->part;

	/* The partition lock keeps every VP we find alive. */
	spin_lock(&p->lock);
	for (u32 i = 0; i < MAX_VPS; i++) {
		struct vp *t = p->vps[i];

		if (t && icr_targets(from, t, icr) &&
		    !icr_deliver(t, icr, from))
			break;
	}
	spin_unlock(&p->lock);
}

/* ------------------------------------------------------------ the page */

static bool timer_register(u32 off)
{
	return off == APIC_LVTT || off == APIC_TMICT || off == APIC_TDCR;
}

bool irq_apic_mmio(struct vp *vp, u64 gpa_)
{
	u32 off = (u32)(gpa_ & 0xff0);
	struct vlapic_icr icr = { 0 };
	struct mmio_insn in;
	u64 val = 0;

	if ((gpa_ & PAGE_MASK) != VLAPIC_BASE || !mmio_decode(vp, &in))
		return false;
	/* Only aligned 32-bit accesses reach registers; others read 0. */
	if (in.size == 4 && !(gpa_ & 0xf)) {
		spin_lock(&vp->irq.lock);
		if (in.write)
			vlapic_write(&vp->irq.apic, off,
				     (u32)mmio_write_value(vp, &in),
				     now_ns(vp), &icr);
		else
			val = vlapic_read(&vp->irq.apic, off, now_ns(vp));
		spin_unlock(&vp->irq.lock);
	}
	if (in.write && timer_register(off))
		vp->irq.timers_changed = true;
	mmio_complete(vp, &in, val);
	if (icr.send)
		icr_send(vp, &icr);
	return true;
}

bool irq_apic_base_write(struct vp *vp, u64 val)
{
	/* Enabled, xAPIC mode, at the architectural base: nothing else. */
	return (val & ~(u64)APIC_BASE_BSP) == (VLAPIC_BASE | APIC_BASE_EN);
}

/* ------------------------------------------------------------ entry */

/* INIT and SIPI take effect here, on the VP's own CPU. */
static void apply_init_sipi(struct vp *vp)
{
	u32 sipi = 0;

	spin_lock(&vp->irq.lock);
	if (vp->irq.init_pending) {
		vp->irq.init_pending = false;
		vp->irq.activity = VP_WAIT_SIPI;
		vlapic_reset(&vp->irq.apic, vp->index);
	}
	if (vp->irq.activity == VP_WAIT_SIPI && vp->irq.sipi_vector) {
		sipi = vp->irq.sipi_vector;
		vp->irq.sipi_vector = 0;
		vp->irq.activity = VP_ACTIVE;
	}
	spin_unlock(&vp->irq.lock);
	if (sipi)
		vp_reset_to_sipi(vp, sipi - 1);
}

static bool wakes_from_halt(struct vp *vp, bool interruptible)
{
	if (__atomic_load_n(&vp->pending_nmi, __ATOMIC_ACQUIRE))
		return true;
	return interruptible && vlapic_pending(&vp->irq.apic) >= 0;
}

enum irq_entry irq_before_entry(struct vp *vp, bool interruptible)
{
	struct vp_irq *q = &vp->irq;
	u64 now = partition_reference_time(vp->part);
	enum irq_entry r = IRQ_RUN;

	if (q->init_pending || q->sipi_vector)
		apply_init_sipi(vp);
	synic_before_entry(vp, now);
	spin_lock(&q->lock);
	vlapic_timer_tick(&q->apic, irq_ref_to_ns(now));
	if (q->activity == VP_HALTED && wakes_from_halt(vp, interruptible))
		q->activity = VP_ACTIVE;
	/* Not runnable: the root's thread sleeps until woken or a timer. */
	q->blocked = q->activity != VP_ACTIVE;
	if (q->blocked)
		r = IRQ_BLOCKED;
	spin_unlock(&q->lock);
	return r;
}

void irq_halt(struct vp *vp)
{
	spin_lock(&vp->irq.lock);
	vp->irq.activity = VP_HALTED;
	spin_unlock(&vp->irq.lock);
}

int irq_pending_vector(struct vp *vp)
{
	int v;

	spin_lock(&vp->irq.lock);
	v = vlapic_pending(&vp->irq.apic);
	spin_unlock(&vp->irq.lock);
	return v;
}

void irq_accepted(struct vp *vp, u8 vector)
{
	struct vlapic_icr icr;

	spin_lock(&vp->irq.lock);
	vlapic_accept(&vp->irq.apic, vector);
	if (vp->irq.auto_eoi[vector / 32] & BIT(vector % 32))
		vlapic_write(&vp->irq.apic, APIC_EOI, 0, 0, &icr);
	spin_unlock(&vp->irq.lock);
}

u64 irq_next_deadline(struct vp *vp)
{
	u64 apic_ns, apic_ref = 0, synic = synic_next_deadline(vp);

	spin_lock(&vp->irq.lock);
	apic_ns = vp->irq.apic.timer_deadline;
	spin_unlock(&vp->irq.lock);
	if (apic_ns)
		apic_ref = (apic_ns + 99) / 100;	/* never early */
	if (!synic || (apic_ref && apic_ref < synic))
		return apic_ref;
	return synic;
}

void irq_set_tpr(struct vp *vp, u32 tpr)
{
	spin_lock(&vp->irq.lock);
	vp->irq.apic.tpr = tpr & 0xff;
	spin_unlock(&vp->irq.lock);
}

u64 irq_activity_state(struct vp *vp)
{
	enum vp_activity a;

	spin_lock(&vp->irq.lock);
	a = vp->irq.activity;
	spin_unlock(&vp->irq.lock);
	return a == VP_WAIT_SIPI ? HV_ACTIVITY_STARTUP_SUSPEND :
	       a == VP_HALTED ? HV_ACTIVITY_HALT_SUSPEND : 0;
}

enum hv_status irq_set_activity_state(struct vp *vp, u64 value)
{
	if (value > HV_ACTIVITY_STARTUP_SUSPEND)
		return HV_STATUS_INVALID_PARAMETER;
	spin_lock(&vp->irq.lock);
	vp->irq.activity = value ? VP_WAIT_SIPI : VP_ACTIVE;
	spin_unlock(&vp->irq.lock);
	return HV_STATUS_SUCCESS;
}
