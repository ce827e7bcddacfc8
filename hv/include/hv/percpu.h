/*
 * Per-CPU state. GS base points at the CPU's own entry, whose first
 * field points at itself, so this_cpu() is one load.
 *
 * Legend: [B] set by the BSP before the CPU starts, [C] written only by
 * the CPU itself, [A] read or written by any CPU (atomically).
 */
#ifndef HV_PERCPU_H
#define HV_PERCPU_H

#include <hv/acpi.h>
#include <hv/vmm.h>

struct vp;
struct partition;
#include <x86/desc.h>

enum cpu_state {
	CPU_ABSENT = 0,
	CPU_STARTING,		/* INIT/SIPI sent */
	CPU_ONLINE,		/* in the hypervisor, virtualization on */
	CPU_PARKED,		/* stopped after a fault; never resumes */
	CPU_FAILED,		/* started but could not enable AMD-V */
};

struct percpu {
	struct percpu *self;		/* [B] must stay first: gs:0 */
	u32 index;			/* [B] 0 is the BSP */
	u32 apic_id;			/* [B] */
	enum cpu_state state;		/* [A] */
	struct cpu_stacks stacks;	/* [B] mapped by the BSP */
	struct cpu_desc_tables desc;	/* [C] GDT and TSS */
	u32 exception_depth;		/* [C] faults inside the handler */
	u64 probe_rip;			/* [C] see probe_exec() */
	bool probe_faulted;		/* [C] */
	hpa_t svm_hsave;		/* [C] host save area */
	hpa_t host_vmcb;		/* [C] VMSAVE image of the host */
	struct vp *root_vp;		/* [B] the root VP bound here */
	struct partition *in_guest;	/* [A] partition running here */
	struct vp *guest_vp;		/* [A] VP running here */
	u32 nmi_reasons;		/* [A] NMI_* asked of this CPU */
	u32 next_asid;			/* [C] */
	u64 asid_gen;			/* [C] */
	bool root_nmi_pending;		/* [C] an NMI owed to the root */
	/*
	 * [C] hypercall input copy and output, a page each; [0] for the
	 * root's calls, [1] for a child's, which run nested inside the
	 * root's DispatchVp on the same CPU.
	 */
	u8 *hc_in[2];
	u8 *hc_out[2];
};

extern struct percpu cpus[HV_MAX_CPUS];
extern u32 nr_cpus;			/* entries of cpus[] in use */

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	__asm__ __volatile__("movq %%gs:0, %0" : "=r"(p));
	return p;
}

/* Safe before GS is set up (it reads 0 there: the BSP). */
u32 this_cpu_index(void);

/* Points GS at cpus[index] on the calling CPU. */
void percpu_bind(u32 index);

/* Why another CPU sent us an NMI. Anything else is the root's NMI. */
#define NMI_FLUSH BIT(0)	/* drop stale translations (tlb_shootdown) */
#define NMI_WAKE BIT(1)		/* a root VP was started */
#define NMI_KICK BIT(2)		/* leave guest mode once */

void cpu_send_nmi(u32 cpu, u32 reason);
void cpu_wake(u32 cpu);

static inline enum cpu_state cpu_state(const struct percpu *c)
{
	return __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
}

static inline void set_cpu_state(struct percpu *c, enum cpu_state s)
{
	__atomic_store_n(&c->state, s, __ATOMIC_RELEASE);
}

#endif
