/*
 * Interrupts for the VPs of a LAPIC partition: each VP has a virtual
 * local APIC (hv/vlapic.h) that the guest reaches through its xAPIC
 * page, IPIs between VPs (fixed, NMI, INIT, SIPI), and the VP's
 * activity (running, halted, waiting for a SIPI).
 *
 * Root scheduler rules: a VP that halts with nothing to take makes its
 * DispatchVp return BLOCKED; the root's thread sleeps until the VP's
 * next timer (hv_microhv_run_state) or until something wakes it. A
 * sibling VP that wakes it reports that in its own dispatch (event
 * MICROHV_WAKE); a call from the root wakes it through the root's
 * driver. A VP running on another CPU is kicked out of guest mode.
 */
#ifndef HV_INTERRUPTS_H
#define HV_INTERRUPTS_H

#include <microhv/hvabi.h>
#include <hv/spinlock.h>
#include <hv/vlapic.h>

struct vp;

enum vp_activity {
	VP_ACTIVE,
	VP_HALTED,		/* HLT: until an interrupt */
	VP_WAIT_SIPI,		/* after INIT (and APs from creation) */
};

/* Legend: [L] lock, [R] only the CPU running the VP. */
struct vp_irq {
	struct spinlock lock;
	struct vlapic apic;		/* [L] */
	enum vp_activity activity;	/* [L] */
	bool blocked;			/* [L] the root's thread sleeps */
	bool init_pending;		/* [L] */
	u32 sipi_vector;		/* [L] vector + 1, or 0 */
	u32 synic_pending;		/* [L] SINTs with queued messages */
	u32 auto_eoi[8];		/* [L] vectors of auto-EOI SINTs */
	u32 armed_vector;		/* [R] vector + 1 offered to the guest */
	u64 wake_vps;			/* [R] VPs this one made runnable */
	u64 root_deadline;		/* [R] ref time the root was told; 0 none */
	bool timers_changed;		/* [R] a timer was (re)armed */
};

/* Set-up of a new VP in a LAPIC partition: APs wait for a SIPI. */
void irq_vp_init(struct vp *vp);

/*
 * Deliveries to target; from is the VP doing it (a sibling in the
 * same partition) or NULL for the root. Any CPU.
 */
void irq_fixed(struct vp *target, u8 vector, struct vp *from);
void irq_nmi(struct vp *target, struct vp *from);
void irq_init(struct vp *target, struct vp *from);
void irq_sipi(struct vp *target, u8 vector, struct vp *from);
/* target has other new work (SynIC messages): wake or kick it. */
void irq_poke(struct vp *target, struct vp *from);

/*
 * The TLFS InternalActivityState register: bit 0 startup suspend (wait
 * for SIPI), bit 1 halt suspend. The root may set 0 or bit 0.
 */
#define HV_ACTIVITY_STARTUP_SUSPEND 0x1ull
#define HV_ACTIVITY_HALT_SUSPEND 0x2ull
u64 irq_activity_state(struct vp *vp);
enum hv_status irq_set_activity_state(struct vp *vp, u64 value);

/* The VP executed HLT (its own CPU). */
void irq_halt(struct vp *vp);
/* The guest changed CR8 (V_TPR) without an exit. */
void irq_set_tpr(struct vp *vp, u32 tpr);

/* A guest access to its APIC page at gpa; false if not emulated. */
bool irq_apic_mmio(struct vp *vp, u64 gpa);
/* APIC_BASE writes: the base is fixed, x2APIC is not offered. */
bool irq_apic_base_write(struct vp *vp, u64 val);

enum irq_entry {
	IRQ_RUN,		/* enter the guest */
	IRQ_BLOCKED,		/* halted with nothing to do: back to the root */
};

/*
 * The VP's own CPU before each entry: INIT/SIPI, timers, SynIC
 * messages, and whether a halted VP wakes. interruptible: the guest's
 * RFLAGS.IF (and no interrupt shadow).
 */
enum irq_entry irq_before_entry(struct vp *vp, bool interruptible);

/* The vector to offer the guest now, or -1 (VP's CPU). */
int irq_pending_vector(struct vp *vp);
/* The guest took vector (VP's CPU). */
void irq_accepted(struct vp *vp, u8 vector);

/* Reference time of the VP's next timer, or 0 (VP's CPU). */
u64 irq_next_deadline(struct vp *vp);

/* Partition time in nanoseconds, the LAPIC timer's clock. */
static inline u64 irq_ref_to_ns(u64 ref)
{
	return ref * 100;
}

#endif
