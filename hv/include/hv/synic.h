/*
 * The synthetic interrupt controller (TLFS "Inter-Partition
 * Communication") and synthetic timers of a child VP: SIMP message
 * slots, SIEF event flags, SINTs, EOM, and four timers (direct mode or
 * messages). Messages from the root wait in a per-VP queue and are
 * written into the guest's slot only by the VP's own CPU, between two
 * runs, so the guest never sees a half-written slot.
 */
#ifndef HV_SYNIC_H
#define HV_SYNIC_H

#include <microhv/hvabi.h>
#include <hv/types.h>

struct vp;

/* Pending messages for one VP, FIFO across its SINTs. */
#define SYNIC_QUEUE_LEN 15
struct synic_queue {
	u32 count;
	u8 sint[SYNIC_QUEUE_LEN];
	struct hv_message msg[SYNIC_QUEUE_LEN];
};
static_assert(sizeof(struct synic_queue) <= 4096, "queue fits a page");

struct stimer {
	u64 config;
	u64 count;
	u64 deadline;		/* reference time it fires; 0: not armed */
	u64 undelivered;	/* expired at this time, message not yet sent */
};

/*
 * The shortest period a periodic timer runs at (reference time, 100 ns
 * units): 200 us, KVM's floor for periodic APIC timers. Faster, a timer
 * would only keep the CPU behind the VP's root thread busy.
 */
#define STIMER_MIN_PERIOD 2000ull

/* Legend: [R] the VP's own CPU, [L] vp->irq.lock. */
struct vp_synic {
	u64 scontrol;			/* [R] */
	u64 siefp, simp;		/* [L] */
	u64 sint[HV_SINT_COUNT];	/* [L] */
	u64 vp_assist;			/* [R] stored, not used */
	struct stimer stimer[HV_STIMER_COUNT];	/* [R] */
	struct synic_queue *queue;	/* [L] contents */
	hpa_t queue_page;		/* [I] */
};

/* SynIC and stimer MSRs of a LAPIC partition's VP (0x40000073, 0x80-
 * 0x9f, 0xb0-0xb7). false: not one of them. */
bool synic_msr_read(struct vp *vp, u32 msr, u64 *val, bool *gp);
bool synic_msr_write(struct vp *vp, u32 msr, u64 val, bool *gp);

/* Root calls, with vp->part->lock held (it keeps vp alive). */
/* Queue a message for (vp, sint). INSUFFICIENT_BUFFERS if full. */
enum hv_status synic_post(struct vp *vp, u32 sint,
			  const struct hv_message *m);
/* Set flag in (vp, sint)'s SIEF slot; assert the SINT if new. */
enum hv_status synic_signal(struct vp *vp, u32 sint, u32 flag,
			    bool *newly_signaled);

/* The VP's own CPU, before running it: write queued messages, fire
 * expired timers. now is reference time. */
void synic_before_entry(struct vp *vp, u64 now);
/* The earliest armed timer's reference time, or 0. */
u64 synic_next_deadline(const struct vp *vp);

/*
 * Pure timer arithmetic (unit-tested): when a timer with this config
 * and count, armed at now, first fires; 0 if it does not.
 */
u64 stimer_deadline(u64 config, u64 count, u64 now);
/* After it fired at now: the next deadline (periodic) or 0. */
u64 stimer_rearm(u64 config, u64 count, u64 deadline, u64 now);

#endif
