/*
 * Virtual processors. A child VP runs only inside a DispatchVp from the
 * root, on the root's CPU; a root VP is bound to one physical CPU.
 */
#ifndef HV_VP_H
#define HV_VP_H

#include <hv/interrupts.h>
#include <hv/partition.h>
#include <hv/synic.h>

/* Guest GPRs the hardware does not keep (RAX and RSP live in the VMCB). */
struct vp_gprs {
	u64 rbx, rcx, rdx, rsi, rdi, rbp;
	u64 r8, r9, r10, r11, r12, r13, r14, r15;
};
/* svm/vmrun.S hard-codes these offsets. */
static_assert(__builtin_offsetof(struct vp_gprs, rdi) == 32, "gprs.rdi");
static_assert(__builtin_offsetof(struct vp_gprs, r15) == 104, "gprs.r15");

/* Legend: [I] immutable, [R] only the CPU running the VP, [L] part->lock. */
struct vp {
	struct partition *part;		/* [I] */
	u32 index;			/* [I] */
	hpa_t self;			/* [I] the page holding this struct */
	hpa_t vmcb_pa;			/* [I] */
	void *vmcb;			/* [I] vendor control block */
	struct vp_gprs gprs;		/* [R] */
	u8 fpu[512] __aligned(16);	/* [R] FXSAVE image */
	bool explicit_suspend;		/* [L] */
	bool intercept_suspend;		/* [L] */
	bool dispatch_suspend;		/* [L] */
	bool started;			/* [A] root VP: runnable */
	bool init_pending;		/* [A] root VP: INIT arrived while running */
	u32 sipi_vector;		/* [A] root VP: SIPI vector + 1, or 0 */
	bool running;			/* [A] on some CPU right now */
	hpa_t state_page;		/* [L] intercept message page */
	struct hv_message msg;		/* [R] the last intercept, if no page */
	u64 pending_event;		/* [R] to inject on next entry */
	u32 pending_irq;		/* [A] vector + 1 to raise, or 0 */
	bool pending_nmi;		/* [A] */
	u32 asid;			/* [R] */
	u64 asid_gen;			/* [R] */
	s32 asid_cpu;			/* [R] */
	u64 tlb_gen;			/* [R] partition tlb_gen last seen */
	void *xsave;			/* [I] root VPs: XSAVE area */
	u64 tsc_aux;			/* [R] child: RDTSCP/RDPID's value */
	u64 dr[4];			/* [R] child: DR0-3 while not running */
	struct spinlock start_lock;	/* root VP: StartVp against SIPI */
	/* LAPIC partitions only (partition_has_lapic). */
	struct vp_irq irq;
	struct vp_synic synic;
};
static_assert(sizeof(struct vp) <= 4096, "a VP fits in one page");

/* Allocates a VP of p (from p's pool, or the hypervisor's for the root). */
enum hv_status vp_create(struct partition *p, u32 index, struct vp **out);
void vp_destroy(struct vp *vp);

/* Makes the CPU running vp (if another) leave guest mode once. */
void vp_kick(struct vp *vp);

/* x86 INIT, then SIPI with vector: real mode at vector << 12. */
void vp_reset_to_sipi(struct vp *vp, u32 vector);

/*
 * Starts an intercept message for the root, in the VP's intercept page
 * if the root mapped one (else in vp->msg), and suspends the VP. The
 * caller fills in the returned payload of size bytes; it is written once.
 */
void *vp_intercept_payload(struct vp *vp, u32 type, u32 size);

#endif
