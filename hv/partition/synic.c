/* The SynIC and synthetic timers of a child VP (see hv/synic.h). */
#include <hv/interrupts.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/msr.h>
#include <hv/string.h>
#include <hv/vp.h>

#define SINT_WRITABLE (0xffull | HV_SINT_MASKED | HV_SINT_AUTO_EOI | \
		       HV_SINT_POLLING)
#define PAGE_MSR_WRITABLE (PAGE_MASK | HV_MSR_PAGE_ENABLE)
#define MESSAGE_PENDING 0x1u

static u64 page_base(u64 msr)
{
	return msr & PAGE_MASK;
}

static bool synic_on(const struct vp *vp)
{
	return vp->synic.scontrol & 1;
}

/* ------------------------------------------------------------ SINTs */

/* Interrupts the VP with sint's vector unless the SINT is masked. */
static void assert_sint(struct vp *vp, u32 sint, struct vp *from)
{
	u64 v = READ_ONCE(vp->synic.sint[sint]);

	if (v & HV_SINT_MASKED || HV_SINT_VECTOR(v) < 16)
		return;
	irq_fixed(vp, HV_SINT_VECTOR(v), from);
}

/* Auto-EOI vectors, for irq_accepted (lock held). */
static void update_auto_eoi(struct vp *vp)
{
	memset(vp->irq.auto_eoi, 0, sizeof(vp->irq.auto_eoi));
	for (u32 i = 0; i < HV_SINT_COUNT; i++) {
		u64 v = vp->synic.sint[i];
		u8 vec = HV_SINT_VECTOR(v);

		if ((v & HV_SINT_AUTO_EOI) && !(v & HV_SINT_MASKED))
			vp->irq.auto_eoi[vec / 32] |= BIT(vec % 32);
	}
}

static bool write_sint(struct vp *vp, u32 sint, u64 val)
{
	if (!(val & HV_SINT_MASKED) && HV_SINT_VECTOR(val) < 16)
		return false;	/* TLFS: vectors 0-15 are invalid */
	spin_lock(&vp->irq.lock);
	vp->synic.sint[sint] = (vp->synic.sint[sint] & ~SINT_WRITABLE) |
			       (val & SINT_WRITABLE);
	update_auto_eoi(vp);
	spin_unlock(&vp->irq.lock);
	return true;
}

/* ------------------------------------------------------------ messages */

enum slot_result { SLOT_DELIVERED, SLOT_BUSY, SLOT_FAULT };

/*
 * Writes m into the guest's slot, type last, if the slot is free; else
 * sets MessagePending there so the guest writes EOM when it frees it.
 * Only the VP's own CPU calls this, between two runs of the VP.
 */
static enum slot_result slot_write(struct vp *vp, u32 sint,
				   const struct hv_message *m)
{
	struct partition *p = vp->part;
	u64 g = page_base(READ_ONCE(vp->synic.simp)) + sint * HV_MESSAGE_SIZE;
	enum slot_result r = SLOT_FAULT;
	struct hv_message *slot;
	hpa_t h;

	spin_lock(&p->lock);
	if (gpa_to_hpa(p, gpa(g), HV_MESSAGE_SIZE, true, &h)) {
		slot = hpa_to_hva(h);
		if (__atomic_load_n(&slot->header.message_type,
				    __ATOMIC_ACQUIRE)) {
			__atomic_fetch_or(&slot->header.message_flags,
					  MESSAGE_PENDING, __ATOMIC_SEQ_CST);
			r = SLOT_BUSY;
		} else {
			memcpy((u8 *)slot + 4, (const u8 *)m + 4,
			       HV_MESSAGE_SIZE - 4);
			__atomic_store_n(&slot->header.message_type,
					 m->header.message_type,
					 __ATOMIC_RELEASE);
			r = SLOT_DELIVERED;
		}
	}
	spin_unlock(&p->lock);
	return r;
}

/* The oldest queued message for sint, copied out; false if none. */
static bool queue_peek(struct vp *vp, u32 sint, struct hv_message *out)
{
	struct synic_queue *q = vp->synic.queue;
	bool found = false;

	spin_lock(&vp->irq.lock);
	for (u32 i = 0; i < q->count && !found; i++) {
		if (q->sint[i] != sint)
			continue;
		memcpy(out, &q->msg[i], sizeof(*out));
		found = true;
	}
	if (!found)
		vp->irq.synic_pending &= ~BIT(sint);
	spin_unlock(&vp->irq.lock);
	return found;
}

/* Drops the oldest message for sint (the one queue_peek returned). */
static void queue_pop(struct vp *vp, u32 sint)
{
	struct synic_queue *q = vp->synic.queue;
	u32 i;

	spin_lock(&vp->irq.lock);
	for (i = 0; i < q->count && q->sint[i] != sint; i++)
		;
	if (i < q->count) {
		memmove(&q->sint[i], &q->sint[i + 1], q->count - i - 1);
		memmove(&q->msg[i], &q->msg[i + 1],
			(q->count - i - 1) * sizeof(q->msg[0]));
		q->count--;
	}
	spin_unlock(&vp->irq.lock);
}

static bool queue_push(struct vp *vp, u32 sint, const struct hv_message *m)
{
	struct synic_queue *q = vp->synic.queue;

	if (q->count == SYNIC_QUEUE_LEN)
		return false;
	q->sint[q->count] = (u8)sint;
	memcpy(&q->msg[q->count++], m, sizeof(*m));
	vp->irq.synic_pending |= BIT(sint);
	return true;
}

/* Moves queued messages into free slots, one per SINT at a time. */
static void deliver_messages(struct vp *vp)
{
	u32 pending = READ_ONCE(vp->irq.synic_pending);
	struct hv_message m;

	if (!pending || !synic_on(vp) ||
	    !(READ_ONCE(vp->synic.simp) & HV_MSR_PAGE_ENABLE))
		return;
	for (u32 sint = 0; sint < HV_SINT_COUNT; sint++) {
		if (!(pending & BIT(sint)) || !queue_peek(vp, sint, &m))
			continue;
		if (slot_write(vp, sint, &m) != SLOT_DELIVERED)
			continue;	/* busy: the guest will write EOM */
		queue_pop(vp, sint);
		assert_sint(vp, sint, vp);
	}
}

enum hv_status synic_post(struct vp *vp, u32 sint, const struct hv_message *m)
{
	bool ok;

	if (sint >= HV_SINT_COUNT || !m->header.message_type ||
	    (m->header.message_type & 0x80000000u) ||
	    m->header.payload_size > HV_MESSAGE_PAYLOAD_BYTES)
		return HV_STATUS_INVALID_PARAMETER;
	if (!synic_on(vp) || !(READ_ONCE(vp->synic.simp) & HV_MSR_PAGE_ENABLE))
		return HV_STATUS_INVALID_SYNIC_STATE;
	spin_lock(&vp->irq.lock);
	ok = queue_push(vp, sint, m);
	spin_unlock(&vp->irq.lock);
	if (!ok)
		return HV_STATUS_INSUFFICIENT_BUFFERS;
	irq_poke(vp, NULL);	/* it delivers before it runs again */
	return HV_STATUS_SUCCESS;
}

enum hv_status synic_signal(struct vp *vp, u32 sint, u32 flag,
			    bool *newly_signaled)
{
	u64 siefp = READ_ONCE(vp->synic.siefp), old, bit = BIT(flag % 64);
	u64 g = page_base(siefp) + sint * HV_MESSAGE_SIZE + flag / 64 * 8;

	if (sint >= HV_SINT_COUNT || flag >= HV_SYNIC_EVENT_FLAGS_PER_SINT)
		return HV_STATUS_INVALID_PARAMETER;
	if (!synic_on(vp) || !(siefp & HV_MSR_PAGE_ENABLE))
		return HV_STATUS_INVALID_SYNIC_STATE;
	if (!partition_atomic_or_locked(vp->part, g, bit, &old))
		return HV_STATUS_INVALID_SYNIC_STATE;
	*newly_signaled = !(old & bit);
	if (*newly_signaled)
		assert_sint(vp, sint, NULL);
	return HV_STATUS_SUCCESS;
}

/* ------------------------------------------------------------ timers */

/* A timer message into the queue; false if the queue is full. */
static bool send_timer_message(struct vp *vp, u32 n, u64 expired, u64 now)
{
	struct stimer *t = &vp->synic.stimer[n];
	struct hv_timer_message_payload *pl;
	struct hv_message m = { 0 };
	bool sent;

	m.header.message_type = HVMSG_TIMER_EXPIRED;
	m.header.payload_size = sizeof(*pl);
	pl = (void *)m.payload;
	*pl = (struct hv_timer_message_payload){ n, 0, expired, now };
	spin_lock(&vp->irq.lock);
	sent = queue_push(vp, HV_STIMER_SINT(t->config), &m);
	spin_unlock(&vp->irq.lock);
	return sent;
}

/*
 * An expiry whose message finds the queue full is kept (undelivered)
 * and sent once the guest has made room; meanwhile the timer is re-armed
 * (periodic) or disarmed (one-shot) as if it had been sent, so its
 * deadline never stays in the past and the VP's root thread can sleep.
 * Later expiries of a timer with one undelivered are dropped.
 */
static void fire_timer(struct vp *vp, u32 n, u64 now)
{
	struct stimer *t = &vp->synic.stimer[n];

	if (t->config & HV_STIMER_DIRECT)
		irq_fixed(vp, HV_STIMER_VECTOR(t->config), vp);
	else if (!t->undelivered && !send_timer_message(vp, n, t->deadline,
							now))
		t->undelivered = t->deadline;
	t->deadline = stimer_rearm(t->config, t->count, t->deadline, now);
	if (!t->deadline)	/* one-shot: disarmed once it fired */
		t->config &= ~HV_STIMER_ENABLE;
}

void synic_before_entry(struct vp *vp, u64 now)
{
	for (u32 n = 0; n < HV_STIMER_COUNT; n++) {
		struct stimer *t = &vp->synic.stimer[n];

		if (t->undelivered &&
		    send_timer_message(vp, n, t->undelivered, now))
			t->undelivered = 0;
		if (t->deadline && now >= t->deadline)
			fire_timer(vp, n, now);
	}
	deliver_messages(vp);
}

u64 synic_next_deadline(const struct vp *vp)
{
	u64 next = 0;

	for (u32 n = 0; n < HV_STIMER_COUNT; n++) {
		u64 d = vp->synic.stimer[n].deadline;

		if (d && (!next || d < next))
			next = d;
	}
	return next;
}

/* A non-direct timer needs a SINT; the TLFS treats SINT 0 as none. */
static void arm_timer(struct vp *vp, struct stimer *t)
{
	if (!(t->config & HV_STIMER_DIRECT) && !HV_STIMER_SINT(t->config))
		t->config &= ~HV_STIMER_ENABLE;
	t->deadline = stimer_deadline(t->config, t->count,
				      partition_reference_time(vp->part));
	vp->irq.timers_changed = true;
}

static bool write_stimer(struct vp *vp, u32 msr, u64 val)
{
	u32 n = (msr - HV_MSR_STIMER0_CONFIG) / 2;
	struct stimer *t = &vp->synic.stimer[n];

	if (!((msr - HV_MSR_STIMER0_CONFIG) & 1)) {		/* CONFIG */
		if (val & HV_STIMER_RSVD_MASK ||
		    ((val & HV_STIMER_DIRECT) && HV_STIMER_VECTOR(val) < 16 &&
		     (val & HV_STIMER_ENABLE)))
			return false;
		t->config = val;
	} else {						/* COUNT */
		t->count = val;
		if (!val)
			t->config &= ~HV_STIMER_ENABLE;
		else if (t->config & HV_STIMER_AUTO_ENABLE)
			t->config |= HV_STIMER_ENABLE;
	}
	arm_timer(vp, t);
	return true;
}

/* ------------------------------------------------------------ MSRs */

static bool is_stimer(u32 msr)
{
	return msr >= HV_MSR_STIMER0_CONFIG &&
	       msr < HV_MSR_STIMER0_CONFIG + 2 * HV_STIMER_COUNT;
}

static bool is_sint(u32 msr)
{
	return msr >= HV_MSR_SINT0 && msr < HV_MSR_SINT0 + HV_SINT_COUNT;
}

bool synic_msr_read(struct vp *vp, u32 msr, u64 *val, bool *gp)
{
	struct vp_synic *s = &vp->synic;

	*gp = false;
	if (is_sint(msr))
		*val = READ_ONCE(s->sint[msr - HV_MSR_SINT0]);
	else if (is_stimer(msr))
		*val = (msr & 1) ? s->stimer[(msr - HV_MSR_STIMER0_CONFIG) / 2].count :
				   s->stimer[(msr - HV_MSR_STIMER0_CONFIG) / 2].config;
	else if (msr == HV_MSR_SCONTROL)
		*val = s->scontrol;
	else if (msr == HV_MSR_SVERSION)
		*val = 1;
	else if (msr == HV_MSR_SIEFP)
		*val = READ_ONCE(s->siefp);
	else if (msr == HV_MSR_SIMP)
		*val = READ_ONCE(s->simp);
	else if (msr == HV_MSR_EOM)
		*val = 0;
	else if (msr == HV_MSR_VP_ASSIST_PAGE)
		*val = s->vp_assist;
	else
		return false;
	return true;
}

static void set_page_msr(struct vp *vp, u64 *reg, u64 val)
{
	spin_lock(&vp->irq.lock);
	*reg = val & PAGE_MSR_WRITABLE;
	spin_unlock(&vp->irq.lock);
}

bool synic_msr_write(struct vp *vp, u32 msr, u64 val, bool *gp)
{
	struct vp_synic *s = &vp->synic;

	*gp = false;
	if (is_sint(msr))
		*gp = !write_sint(vp, msr - HV_MSR_SINT0, val);
	else if (is_stimer(msr))
		*gp = !write_stimer(vp, msr, val);
	else if (msr == HV_MSR_SCONTROL)
		s->scontrol = val & 1;
	else if (msr == HV_MSR_SIEFP)
		set_page_msr(vp, &s->siefp, val);
	else if (msr == HV_MSR_SIMP)
		set_page_msr(vp, &s->simp, val);
	else if (msr == HV_MSR_EOM)
		deliver_messages(vp);	/* a slot was freed: refill it */
	else if (msr == HV_MSR_VP_ASSIST_PAGE)
		s->vp_assist = val & PAGE_MSR_WRITABLE;
	else if (msr == HV_MSR_SVERSION)
		*gp = true;		/* read-only */
	else
		return false;
	return true;
}
