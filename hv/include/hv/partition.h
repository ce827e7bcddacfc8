/*
 * Partitions: isolation domains with their own guest-physical space
 * (NPT), virtual processors and memory pool. Partition 1 is the root;
 * the root creates children with hypercalls (hv/hypercall/).
 *
 * Lifetime: a partition is found through partition_get(), which takes a
 * reference; partition_put() drops it. DeletePartition unlinks it from
 * the table (once: it moves the state to DELETED under the lock) and the
 * last reference frees it. Lock order: partition table, then
 * partition->lock, then the root partition's lock, then a page pool or
 * the frame table.
 *
 * A child's VP lives until DeleteVp or FinalizePartition frees it. Code
 * outside the partition lock may use one only while it holds the VP's
 * claim (vp->running, taken under the lock while the partition is
 * INITIALIZED: partition_claim_vp); DeleteVp refuses a claimed VP and
 * finalize waits for claims to end. Otherwise hold the lock.
 */
#ifndef HV_PARTITION_H
#define HV_PARTITION_H

#include <microhv/hvabi.h>
#include <hv/frame.h>
#include <hv/pgtable.h>
#include <hv/pool.h>
#include <hv/cpuid.h>
#include <hv/acpi.h>

#define MAX_PARTITIONS 64
#define MAX_VPS HV_MAX_CPUS

/*
 * Every transition happens under partition->lock and checks the state it
 * leaves, so of two racing calls exactly one makes it (the other gets
 * INVALID_PARTITION_STATE). Deposits and VP claims also check the state
 * under the lock, so none lands once finalize or delete has begun.
 */
enum partition_state {
	PARTITION_CREATED,	/* properties and deposits only */
	PARTITION_INITIALIZED,	/* NPT and VPs exist; it can run */
	PARTITION_FINALIZING,	/* finalize is tearing it down */
	PARTITION_FINALIZED,	/* torn down; withdraw and delete only */
	PARTITION_DELETED,	/* unlinked; only references keep it */
};

struct vp;

/* Legend: [I] immutable after creation, [L] under lock, [A] atomics. */
struct partition {
	u64 id;				/* [I] */
	u16 slot;			/* [I] table index; frame owner slot+1 */
	bool is_root;			/* [I] */
	u64 creation_flags;		/* [I] */
	u64 privileges;			/* [I] HV_PRIV_* */
	u32 refs;			/* [A] */
	struct spinlock lock;
	enum partition_state state;	/* [L] */
	struct page_pool pool;		/* deposited pages; own lock */
	struct pgtable npt;		/* [L] valid once initialized */
	bool npt_ready;			/* [L] */
	u64 tlb_gen;			/* [A] bumped when a mapping goes */
	struct vp *vps[MAX_VPS];	/* [L] */
	u64 mapped_pages;		/* [L] child GPA pages mapped */
	u64 exit_stats[HV_EXIT_STAT_COUNT];	/* [A] */
	u64 guest_os_id;		/* [A] synthetic MSRs */
	u64 hypercall_msr;		/* [A] */
	u64 ref_time_tsc0;		/* [I] TSC at creation */
	s64 ref_offset;			/* [I] reference time at TSC 0 */
	u64 tsc_page_msr;		/* [A] HV_MSR_REFERENCE_TSC */
	u64 synthetic_proc_features;	/* [L] early property */
	u32 unimplemented_msr_action;	/* [L] */
	u32 exception_intercepts;	/* [A] vectors sent to the root */
	bool hypercall_intercept;	/* [A] PostMessage/SignalEvent to root */
};

static inline bool partition_has_lapic(const struct partition *p)
{
	return p->creation_flags & HV_PARTITION_CREATION_LAPIC;
}

extern struct partition *root_partition;
extern struct frame_table frames;

/* The partition with this id, with a reference; NULL if there is none. */
struct partition *partition_get(u64 id);
void partition_put(struct partition *p);

/*
 * A new child of the root, charged to the root's pool. Returns a status;
 * *out holds a reference on success.
 */
enum hv_status partition_create(u64 flags, struct partition **out);
enum hv_status partition_initialize(struct partition *p);
enum hv_status partition_finalize(struct partition *p);
enum hv_status partition_delete(struct partition *p);

/*
 * A VP of p by index, or NULL. No claim: only for the root's VPs (never
 * freed) or under p->lock.
 */
struct vp *partition_vp(struct partition *p, u32 index);

/*
 * Claims VP index of an initialized child for exclusive use outside the
 * lock (see above): HV_STATUS_SUCCESS and *out, or why not (no such VP,
 * not initialized, claimed by another call or running).
 */
enum hv_status partition_claim_vp(struct partition *p, u32 index,
				  struct vp **out);
void partition_release_vp(struct vp *vp);

/* InstallIntercept (TLFS); see docs/abi.md for what is supported. */
enum hv_status partition_install_intercept(struct partition *p, u32 type,
					   u32 access, u64 parameter);

struct partition_census {
	u64 children;		/* partitions other than the root */
	u64 deposited;		/* pages in every pool, the root's included */
};
void partition_census(struct partition_census *c);

/* Makes every VP of p forget cached translations before it runs again. */
void partition_flush_tlbs(struct partition *p);

static inline void partition_count_exit(struct partition *p,
					enum hv_exit_stat s)
{
	__atomic_fetch_add(&p->exit_stats[s], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&p->exit_stats[HV_EXIT_STAT_TOTAL], 1,
			   __ATOMIC_RELAXED);
}

/*
 * Guest-physical to host-physical through p's NPT, for an access of len
 * bytes that stays in one page. write asks for a writable mapping.
 */
bool gpa_to_hpa(struct partition *p, gpa_t gpa, u64 len, bool write,
		hpa_t *out);

/*
 * Copies to or from p's memory at gpa (within one page), atomically
 * with respect to changes of p's NPT. false if not (writable) memory.
 */
bool partition_copy(struct partition *p, u64 gpa, void *buf, u64 len,
		    bool to_guest);
/* Atomically ORs bits into the u64 at gpa (8-aligned); *old its value.
 * The caller holds p->lock. */
bool partition_atomic_or_locked(struct partition *p, u64 gpa, u64 bits,
				u64 *old);

/* Root partition set-up at boot (partition/root.c). */
void root_partition_create(void);
__noreturn void root_partition_run(u32 cpu);

#endif
