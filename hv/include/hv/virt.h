/*
 * The one interface between the core and a vendor backend: svm/ (AMD-V)
 * implements it now, vmx/ (Intel VT-x) is the seam for later. The
 * backend is picked once, at boot, from the CPU vendor (as Hyper-V picks
 * hvax64 or hvix64). Calls go through a switch on that choice: these
 * are cold paths; the hot run loop lives inside each backend.
 */
#ifndef HV_VIRT_H
#define HV_VIRT_H

#include <hv/types.h>

enum cpu_vendor {
	VENDOR_UNKNOWN = 0,
	VENDOR_AMD,		/* AuthenticAMD, HygonGenuine */
	VENDOR_INTEL,		/* GenuineIntel */
};

enum virt_status {
	VIRT_OK = 0,
	VIRT_NO_SUPPORT,	/* the CPU lacks the extension (or NPT/EPT) */
	VIRT_DISABLED,		/* present, but the firmware turned it off */
	VIRT_NOT_IMPLEMENTED,	/* the backend for this vendor is not written */
	VIRT_FAILED,		/* enabling it on a CPU failed */
};

#define VIRT_WHY_LEN 160

struct virt_caps {
	enum cpu_vendor vendor;
	char vendor_id[13];
	u32 revision;		/* SVM revision */
	u32 nr_asids;
	u32 features;		/* CPUID 8000_000Ah EDX on AMD */
};

enum cpu_vendor cpu_vendor_from_id(const char id[12]);
const char *virt_backend_name(enum cpu_vendor v);

/* BSP, once: fills caps, or says exactly why not in why. */
enum virt_status virt_probe(struct virt_caps *caps, char why[VIRT_WHY_LEN]);

struct percpu;
/* Each CPU, after a successful probe: turn the extension on. */
enum virt_status virt_cpu_enable(struct percpu *cpu,
				 char why[VIRT_WHY_LEN]);

/* Each CPU: enter a guest and come back, to prove it works. */
bool virt_cpu_selftest(struct percpu *cpu);

/* Printable feature list (e.g. "NPT NRIPS DecodeAssists"). */
void virt_describe(const struct virt_caps *caps, char *buf, size_t len);

extern struct virt_caps virt_caps;

/*
 * Virtual processors. The vendor keeps a VP's architectural state in its
 * control block (vp->vmcb); the core reaches it only through these.
 */
struct vp;
struct hv_register_value;
struct hv_initial_vp_context;

enum dispatch_result {
	DISPATCH_INTERCEPT,	/* the VP needs the root: message posted */
	DISPATCH_PREEMPTED,	/* the root has an interrupt to take */
	DISPATCH_BLOCKED,	/* halted (LAPIC partitions): nothing to run */
	DISPATCH_WAKE,		/* it made sibling VPs runnable */
};

/* x86 power-on state (child) or the root's own set-up (root). */
void virt_vp_init(struct vp *vp);
enum hv_status virt_vp_get_reg(struct vp *vp, u32 name,
			       struct hv_register_value *val);
enum hv_status virt_vp_set_reg(struct vp *vp, u32 name,
			       const struct hv_register_value *val);
/* TLFS PendingInterruption register: an event to inject at next entry. */
enum hv_status virt_vp_set_pending_interruption(struct vp *vp, u64 value);
/* StartVirtualProcessor's context, refused if entry would fail on it. */
enum hv_status virt_vp_load_context(struct vp *vp,
				    const struct hv_initial_vp_context *ctx);
/* Flat 32-bit protected mode, paging off, as Multiboot enters kernels. */
void virt_vp_load_flat32(struct vp *vp, u64 entry, u32 eax, u32 ebx);

/* Runs a child VP on this CPU until the root must act. */
enum dispatch_result virt_vp_dispatch(struct vp *vp);
/* Runs this CPU's root VP until an INIT arrives for it. */
void virt_run_root(struct vp *vp);

/* Boot, before the root runs: its accesses to these ports exit. */
void virt_root_trap_ports(u16 first, u16 last);

/* Shared intercept bitmaps; once, at boot. */
bool virt_global_init(void);

#endif
