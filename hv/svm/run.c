/*
 * Running VPs on AMD-V. enter() is one VMRUN with its bookkeeping
 * (ASID, TLB, pending events, GIF). The root's exits and a child's exits
 * each go through one short switch; a child exit the hypervisor does not
 * own becomes an intercept message for the root (intercept.c).
 */
#include <hv/cpuid.h>
#include <hv/exit.h>
#include <hv/hypercall.h>
#include <hv/interrupts.h>
#include <hv/log.h>
#include <hv/msr.h>
#include <hv/percpu.h>
#include <hv/vmm.h>
#include <hv/rootapic.h>
#include <hv/rootioapic.h>
#include <hv/rootpci.h>
#include <hv/virt.h>
#include <x86/cpu.h>
#include <x86/msr.h>
#include <hv/svm.h>
#include "svm_int.h"

#define RFLAGS_IF BIT(9)
#define CR4_OSXSAVE BIT(18)
#define CR4_PKE BIT(22)
#define V_TPR_MASK 0xfull
#define V_IRQ BIT(8)
#define V_IGN_TPR BIT(20)
#define V_INTR_PRIO_SHIFT 16
#define V_INTR_FIELDS (V_TPR_MASK | V_IRQ | V_IGN_TPR | \
		       (0xfull << V_INTR_PRIO_SHIFT) | (0xffull << 32))
#define SVM_EXIT_EXCP_BASE 0x40

enum exit_action {
	EXIT_CONTINUE,		/* handled: run the guest on */
	EXIT_INTERCEPT,		/* a message for the root is posted */
	EXIT_PREEMPTED,		/* the root has something to take */
	EXIT_BLOCKED,		/* halted: nothing to run until woken */
	EXIT_WAKE,		/* other VPs' root threads must wake */
};

/* VMEXIT_INVALID is -1; some implementations store it 32 bits wide. */
static u64 exit_code(const struct vmcb *v)
{
	u64 code = v->control.exit_code;

	return (u32)code == 0xffffffffu ? SVM_EXIT_INVALID : code;
}

static bool have_nrips(void)
{
	return virt_caps.features & SVM_FEAT_NRIPS;
}

static void advance_rip(struct vmcb *v, u32 len)
{
	v->save.rip = have_nrips() && v->control.next_rip ?
			      v->control.next_rip : v->save.rip + len;
	v->control.interrupt_shadow = 0;
}

/* A fresh ASID per (VP, CPU, generation); a new generation flushes all. */
static void assign_asid(struct percpu *cpu, struct vp *vp)
{
	struct vmcb *v = vp_vmcb(vp);

	if (vp->asid_cpu == (s32)cpu->index && vp->asid_gen == cpu->asid_gen)
		return;
	if (cpu->next_asid == 0 || cpu->next_asid >= virt_caps.nr_asids) {
		cpu->asid_gen++;
		cpu->next_asid = 1;
		v->control.tlb_control = SVM_TLB_FLUSH_ALL;
	}
	vp->asid = cpu->next_asid++;
	vp->asid_gen = cpu->asid_gen;
	vp->asid_cpu = (s32)cpu->index;
	v->control.asid = vp->asid;
}

static void prepare_events(struct percpu *cpu, struct vp *vp)
{
	struct vmcb *v = vp_vmcb(vp);
	u32 irq = __atomic_exchange_n(&vp->pending_irq, 0, __ATOMIC_ACQUIRE);

	if (vp->part->is_root && cpu->root_nmi_pending && !vp->pending_event) {
		cpu->root_nmi_pending = false;
		vp->pending_event = SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_NMI | 2;
	}
	if (!vp->pending_event &&
	    __atomic_exchange_n(&vp->pending_nmi, false, __ATOMIC_ACQUIRE))
		vp->pending_event = SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_NMI | 2;
	v->control.event_inject = vp->pending_event;
	vp->pending_event = 0;
	if (irq)	/* a virtual interrupt, taken when the guest allows */
		v->control.vintr = (v->control.vintr & 0xff00ffffull) | V_IRQ |
				   V_IGN_TPR | (0xfull << V_INTR_PRIO_SHIFT) |
				   ((u64)(irq - 1) << 32);
}

/*
 * A LAPIC partition's VP: offer the highest deliverable vector as a
 * virtual interrupt, which the guest takes when it allows without an
 * exit. Runs after guest_vp is published: an IPI that lands after this
 * read is followed by a kick, which ends the coming VMRUN at once.
 */
static void arm_virtual_interrupt(struct vp *vp)
{
	struct vmcb *v = vp_vmcb(vp);
	int vec = irq_pending_vector(vp);
	u64 vintr = (v->control.vintr & ~V_INTR_FIELDS) |
		    (READ_ONCE(vp->irq.apic.tpr) >> 4);

	vp->irq.armed_vector = 0;
	if (vec >= 0) {
		vintr |= V_IRQ | V_IGN_TPR | ((u64)(vec >> 4) << V_INTR_PRIO_SHIFT) |
			 ((u64)vec << 32);
		vp->irq.armed_vector = (u32)vec + 1;
	}
	v->control.vintr = vintr;
}

/* After the exit: was it taken (V_IRQ cleared)? Did CR8 change? */
static void reconcile_virtual_interrupt(struct vp *vp)
{
	struct vmcb *v = vp_vmcb(vp);
	u32 tpr = (u32)(v->control.vintr & V_TPR_MASK) << 4;

	if (vp->irq.armed_vector && !(v->control.vintr & V_IRQ))
		irq_accepted(vp, (u8)(vp->irq.armed_vector - 1));
	vp->irq.armed_vector = 0;
	v->control.vintr &= ~V_IRQ;
	if ((READ_ONCE(vp->irq.apic.tpr) & 0xf0) != tpr)
		irq_set_tpr(vp, tpr);
}

/* Inlined: it runs at every exit a child's VP does not leave for. */
static __always_inline void enter(struct percpu *cpu, struct vp *vp,
				  bool host_if)
{
	struct vmcb *v = vp_vmcb(vp);
	struct partition *p = vp->part;
	u64 gen;

	assign_asid(cpu, vp);
	prepare_events(cpu, vp);
	v->control.ncr3 = hpa_u64(p->npt.root);
	if (!p->is_root)
		v->control.intercept_exceptions = BIT(1) | BIT(17) |
			__atomic_load_n(&p->exception_intercepts,
					__ATOMIC_RELAXED);
	__asm__ __volatile__("clgi" ::: "memory");
	WRITE_ONCE(cpu->guest_vp, vp);
	__atomic_store_n(&cpu->in_guest, p, __ATOMIC_SEQ_CST);
	if (partition_has_lapic(p))
		arm_virtual_interrupt(vp);
	gen = __atomic_load_n(&p->tlb_gen, __ATOMIC_SEQ_CST);
	if (vp->tlb_gen != gen) {
		vp->tlb_gen = gen;
		if (v->control.tlb_control != SVM_TLB_FLUSH_ALL)
			v->control.tlb_control =
				virt_caps.features & SVM_FEAT_FLUSH_BY_ASID ?
					SVM_TLB_FLUSH_ASID : SVM_TLB_FLUSH_ALL;
	}
	if (host_if)
		__asm__ __volatile__("sti" ::: "memory");
	svm_vmrun(&vp->gprs, hpa_u64(vp->vmcb_pa), hpa_u64(cpu->host_vmcb));
	__asm__ __volatile__("cli" ::: "memory");
	__atomic_store_n(&cpu->in_guest, NULL, __ATOMIC_SEQ_CST);
	WRITE_ONCE(cpu->guest_vp, NULL);
	__asm__ __volatile__("stgi" ::: "memory");	/* NMIs land here */
	if (partition_has_lapic(p))
		reconcile_virtual_interrupt(vp);
	v->control.tlb_control = 0;
	v->control.event_inject = 0;
	/* An event cut short by the exit is delivered again next time. */
	if (v->control.exit_int_info & SVM_EVTINJ_VALID)
		vp->pending_event = v->control.exit_int_info;
}

static void emulate_cpuid(struct vp *vp)
{
	struct vmcb *v = vp_vmcb(vp);
	u32 leaf = (u32)v->save.rax, subleaf = (u32)vp->gprs.rcx;
	struct cpuid_regs h = cpuid(leaf, subleaf);
	struct cpuid_result r = { h.eax, h.ebx, h.ecx, h.edx };
	struct cpuid_view view = {
		.root = vp->part->is_root,
		.privileges = vp->part->privileges,
		.vp_index = vp->index,
		.max_vps = MAX_VPS,
		.max_lps = nr_cpus,
		.osxsave = v->save.cr4 & CR4_OSXSAVE,
		.pke = v->save.cr4 & CR4_PKE,
		.lapic = partition_has_lapic(vp->part),
	};

	cpuid_filter(&view, leaf, subleaf, &r);
	v->save.rax = r.eax;
	vp->gprs.rbx = r.ebx;
	vp->gprs.rcx = r.ecx;
	vp->gprs.rdx = r.edx;
	advance_rip(v, 2);
}

/* MSR access the hypervisor owns; TO_ROOT is left to the caller. */
static enum msr_result emulate_msr(struct vp *vp)
{
	struct vmcb *v = vp_vmcb(vp);
	u32 msr = (u32)vp->gprs.rcx;
	bool write = v->control.exit_info1 == 1;
	enum msr_result r;
	u64 val = 0;

	if (write)
		r = msr_write(vp, msr, (v->save.rax & 0xffffffffull) |
				       (vp->gprs.rdx << 32));
	else
		r = msr_read(vp, msr, &val);
	if (r == MSR_GP)
		svm_inject_exception(vp, 13, true, 0);
	if (r != MSR_DONE)
		return r;
	if (!write) {
		v->save.rax = (u32)val;
		vp->gprs.rdx = val >> 32;
	}
	advance_rip(v, 2);
	return MSR_DONE;
}

/* TLFS: hypercalls only from 64-bit code at CPL 0 (else #UD). */
static enum exit_action do_hypercall(struct vp *vp)
{
	struct vmcb *v = vp_vmcb(vp);
	u64 rax;

	if (v->save.cpl || !(v->save.efer & EFER_LMA) ||
	    !(v->save.cs.attrib & BIT(9))) {
		svm_inject_exception(vp, 6, false, 0);
		return EXIT_CONTINUE;
	}
	rax = hypercall(vp, vp->gprs.rcx, vp->gprs.rdx, vp->gprs.r8);
	if (rax == HYPERCALL_TO_ROOT) {
		svm_post_hypercall_intercept(vp);
		return EXIT_INTERCEPT;
	}
	v->save.rax = rax;
	advance_rip(v, 3);
	return EXIT_CONTINUE;
}

static __noreturn void root_fatal(struct vp *vp, const char *what)
{
	struct vmcb *v = vp_vmcb(vp);

	for (u32 i = 0; i < nr_cpus; i++)
		pr_err("cpu%u: hsave 0x%llx host vmcb 0x%llx root VP vmcb 0x%llx",
		       i, hpa_u64(cpus[i].svm_hsave), hpa_u64(cpus[i].host_vmcb),
		       hpa_u64(cpus[i].root_vp->vmcb_pa));
	pr_err("root VP %u: cr3 0x%llx (the hypervisor's is 0x%llx); this "
	       "CPU's VM_HSAVE_PA 0x%llx", vp->index, v->save.cr3, vmm_cr3(),
	       rdmsr(MSR_VM_HSAVE_PA));

	hv_fatal(HV_EXIT_PANIC, "root VP %u: %s (exit 0x%llx info 0x%llx/"
		 "0x%llx) at rip 0x%llx", vp->index, what,
		 v->control.exit_code, v->control.exit_info1,
		 v->control.exit_info2, v->save.rip);
}

/* Said once per page (a root retrying would flood the console). */
static void root_refused(struct vp *vp, u64 gpa_)
{
	static u64 last_gpa = ~0ull, repeats;
	struct vmcb *v = vp_vmcb(vp);

	if (gpa_ >> PAGE_SHIFT == last_gpa >> PAGE_SHIFT) {
		if (++repeats % 10000 == 0)
			pr_info("root: GPA 0x%llx refused %llu more times",
				gpa_, repeats);
		return;
	}
	last_gpa = gpa_;
	repeats = 0;
	pr_info("root: access to GPA 0x%llx refused (#GP) at rip 0x%llx; "
		"page owner %u", gpa_, v->save.rip,
		frame_owner(&frames, gpa_ >> PAGE_SHIFT));
}

/* IOIO exit information (APM 15.10.2). */
#define IOIO_IN BIT(0)
#define IOIO_STRING BIT(2)
#define IOIO_SIZE(info) (((info) >> 4) & 7)	/* 1, 2 or 4 bytes */
#define IOIO_PORT(info) ((u16)((info) >> 16))

/* The few ports the root has trapped (hv/rootpci.h); EXITINFO2 = next RIP. */
static void root_port_io(struct vp *vp)
{
	struct vmcb *v = vp_vmcb(vp);
	u64 info = v->control.exit_info1;
	u32 size = IOIO_SIZE(info), val = (u32)v->save.rax;
	bool in = info & IOIO_IN;

	if ((info & IOIO_STRING) ||
	    !root_pci_port_io(IOIO_PORT(info), size, in, &val)) {
		svm_inject_exception(vp, 13, true, 0);
		return;
	}
	if (in && size == 4)
		v->save.rax = val;	/* a 32-bit IN clears bits 63:32 */
	else if (in)
		v->save.rax = (v->save.rax & ~(BIT(size * 8) - 1)) | val;
	v->save.rip = v->control.exit_info2;
	v->control.interrupt_shadow = 0;
}

static void handle_root_exit(struct vp *vp)
{
	struct vmcb *v = vp_vmcb(vp);
	struct partition *p = vp->part;

	switch (exit_code(v)) {
	case SVM_EXIT_CPUID:
		partition_count_exit(p, HV_EXIT_STAT_CPUID);
		emulate_cpuid(vp);
		break;
	case SVM_EXIT_MSR:
		partition_count_exit(p, HV_EXIT_STAT_MSR);
		emulate_msr(vp);
		break;
	case SVM_EXIT_VMMCALL:
		partition_count_exit(p, HV_EXIT_STAT_HYPERCALL);
		(void)do_hypercall(vp);	/* the root's are never intercepted */
		break;
	case SVM_EXIT_NPF:
		partition_count_exit(p, HV_EXIT_STAT_NPF);
		if (root_apic_mmio(vp, v->control.exit_info2) ||
		    root_ioapic_mmio(vp, v->control.exit_info2) ||
		    root_pci_ecam_mmio(vp, v->control.exit_info2))
			break;
		/* Hypervisor memory or a deposited page: refused. */
		root_refused(vp, v->control.exit_info2);
		svm_inject_exception(vp, 13, true, 0);
		break;
	case SVM_EXIT_NMI:
		partition_count_exit(p, HV_EXIT_STAT_NMI);
		break;
	case SVM_EXIT_IOIO:
		partition_count_exit(p, HV_EXIT_STAT_IO);
		root_port_io(vp);
		break;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMLOAD ... SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
		partition_count_exit(p, HV_EXIT_STAT_OTHER);
		svm_inject_exception(vp, 6, false, 0);
		break;
	case SVM_EXIT_SHUTDOWN:
		partition_count_exit(p, HV_EXIT_STAT_SHUTDOWN);
		root_fatal(vp, "the root partition triple-faulted");
	default:
		partition_count_exit(p, HV_EXIT_STAT_INVALID);
		root_fatal(vp, "unexpected exit");
	}
}

void virt_run_root(struct vp *vp)
{
	struct percpu *cpu = this_cpu();

	/*
	 * Debugging aids for the multi-threaded TCG failure (tests/e2e/
	 * cases.py): before VMRUN the VMCB must not already hold our state
	 * (something wrote it meanwhile, e.g. a VMRUN whose host-save area
	 * aliases it); after, VMRUN itself or the exit produced it.
	 */
	while (!__atomic_load_n(&vp->init_pending, __ATOMIC_ACQUIRE)) {
		if (vp_vmcb(vp)->save.cr3 == vmm_cr3())
			root_fatal(vp, "the root VP's VMCB held the hypervisor's "
				   "state before VMRUN");
		enter(cpu, vp, false);
		if (vp_vmcb(vp)->save.cr3 == vmm_cr3())
			root_fatal(vp, "the root VP holds the hypervisor's state");
		handle_root_exit(vp);
	}
}

/* FPU state: the root's (all of XCR0) out, the child's (x87/SSE) in. */
static u64 fpu_to_child(struct vp *root, struct vp *child)
{
	u64 xcr0 = 0;

	if (root->xsave) {
		u32 lo, hi;

		__asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		xcr0 = ((u64)hi << 32) | lo;
		__asm__ __volatile__("xsave64 (%0)" ::"r"(root->xsave),
				     "a"(~0u), "d"(~0u) : "memory");
		__asm__ __volatile__("xsetbv" ::"a"(3u), "d"(0u), "c"(0));
	} else {
		__asm__ __volatile__("fxsave64 (%0)" ::"r"(root->fpu)
				     : "memory");
	}
	__asm__ __volatile__("fxrstor64 (%0)" ::"r"(child->fpu) : "memory");
	return xcr0;
}

static void fpu_to_root(struct vp *root, struct vp *child, u64 xcr0)
{
	__asm__ __volatile__("fxsave64 (%0)" ::"r"(child->fpu) : "memory");
	if (root->xsave) {
		__asm__ __volatile__("xsetbv" ::"a"((u32)xcr0),
				     "d"((u32)(xcr0 >> 32)), "c"(0));
		__asm__ __volatile__("xrstor64 (%0)" ::"r"(root->xsave),
				     "a"(~0u), "d"(~0u) : "memory");
	} else {
		__asm__ __volatile__("fxrstor64 (%0)" ::"r"(root->fpu)
				     : "memory");
	}
}

/*
 * DR0-3 are not in the VMCB: the child's are loaded while it runs and
 * the root's put back after, so neither sees nor moves the other's
 * breakpoints. Only registers that differ are written (usually none).
 */
static void switch_dr0_3(u64 save[4], const u64 load[4])
{
	read_dr0_3(save);
	if (save[0] != load[0])
		write_dr0(load[0]);
	if (save[1] != load[1])
		write_dr1(load[1]);
	if (save[2] != load[2])
		write_dr2(load[2]);
	if (save[3] != load[3])
		write_dr3(load[3]);
}

static enum exit_action child_exit(struct percpu *cpu, struct vp *vp);
static enum exit_action child_exit_rare(struct vp *vp, u64 code);

static bool interruptible(struct vp *vp)
{
	struct vmcb *v = vp_vmcb(vp);

	return (v->save.rflags & RFLAGS_IF) && !(v->control.interrupt_shadow & 1);
}

/*
 * After an exit a LAPIC VP handled itself: leave for the root if other
 * VPs' threads must wake, or if the guest armed a timer earlier than
 * the one the root's thread waits for.
 */
static enum exit_action lapic_after_exit(struct vp *vp)
{
	u64 d;

	if (vp->irq.wake_vps)
		return EXIT_WAKE;
	if (!vp->irq.timers_changed)
		return EXIT_CONTINUE;
	vp->irq.timers_changed = false;
	d = irq_next_deadline(vp);
	return d && (!vp->irq.root_deadline || d < vp->irq.root_deadline) ?
		       EXIT_PREEMPTED : EXIT_CONTINUE;
}

static const enum dispatch_result dispatch_results[] = {
	[EXIT_CONTINUE] = DISPATCH_PREEMPTED,
	[EXIT_INTERCEPT] = DISPATCH_INTERCEPT,
	[EXIT_PREEMPTED] = DISPATCH_PREEMPTED,
	[EXIT_BLOCKED] = DISPATCH_BLOCKED,
	[EXIT_WAKE] = DISPATCH_WAKE,
};

enum dispatch_result virt_vp_dispatch(struct vp *vp)
{
	struct percpu *cpu = this_cpu();
	struct vp *root = cpu->root_vp;
	bool root_if = vp_vmcb(root)->save.rflags & RFLAGS_IF;
	bool lapic = partition_has_lapic(vp->part);
	enum exit_action a = EXIT_PREEMPTED;
	u64 xcr0 = fpu_to_child(root, vp);
	/* RDTSCP and RDPID read the real MSR: the child's, while it runs. */
	u64 root_tsc_aux = cpu_has_tsc_aux() ? rdmsr(MSR_TSC_AUX) : 0;
	u64 root_dr[4];

	switch_dr0_3(root_dr, vp->dr);
	if (cpu_has_tsc_aux())
		wrmsr(MSR_TSC_AUX, vp->tsc_aux);
	while (READ_ONCE(vp->part->state) == PARTITION_INITIALIZED) {
		if (lapic && irq_before_entry(vp, interruptible(vp)) ==
				     IRQ_BLOCKED) {
			a = EXIT_BLOCKED;
			break;
		}
		enter(cpu, vp, root_if);
		a = child_exit(cpu, vp);
		if (a == EXIT_CONTINUE && lapic)
			a = lapic_after_exit(vp);
		if (a != EXIT_CONTINUE)
			break;
		a = EXIT_PREEMPTED;
	}
	if (cpu_has_tsc_aux())
		wrmsr(MSR_TSC_AUX, root_tsc_aux);
	switch_dr0_3(vp->dr, root_dr);
	fpu_to_root(root, vp, xcr0);
	return dispatch_results[a];
}

/* Exits a child gets #UD for: instructions it has no business with. */
static bool undefined_for_child(u64 code)
{
	return code == SVM_EXIT_VMRUN || code == SVM_EXIT_INVLPGA ||
	       (code >= SVM_EXIT_VMLOAD && code <= SVM_EXIT_SKINIT) ||
	       code == SVM_EXIT_MONITOR || code == SVM_EXIT_MWAIT ||
	       code == SVM_EXIT_XSETBV;
}

static enum exit_action child_exit(struct percpu *cpu, struct vp *vp)
{
	struct vmcb *v = vp_vmcb(vp);
	struct partition *p = vp->part;
	u64 code = exit_code(v);

	switch (code) {
	case SVM_EXIT_INTR:
		partition_count_exit(p, HV_EXIT_STAT_INTR);
		return EXIT_PREEMPTED;
	case SVM_EXIT_NMI:
		partition_count_exit(p, HV_EXIT_STAT_NMI);
		return cpu->root_nmi_pending ? EXIT_PREEMPTED : EXIT_CONTINUE;
	case SVM_EXIT_CPUID:
		partition_count_exit(p, HV_EXIT_STAT_CPUID);
		emulate_cpuid(vp);
		return EXIT_CONTINUE;
	case SVM_EXIT_MSR:
		partition_count_exit(p, HV_EXIT_STAT_MSR);
		if (emulate_msr(vp) != MSR_TO_ROOT)
			return EXIT_CONTINUE;
		svm_post_msr_intercept(vp);
		return EXIT_INTERCEPT;
	case SVM_EXIT_VMMCALL:
		partition_count_exit(p, HV_EXIT_STAT_HYPERCALL);
		return do_hypercall(vp);
	case SVM_EXIT_IOIO:
		partition_count_exit(p, HV_EXIT_STAT_IO);
		svm_post_io_intercept(vp);
		return EXIT_INTERCEPT;
	case SVM_EXIT_NPF:
		partition_count_exit(p, HV_EXIT_STAT_NPF);
		if (partition_has_lapic(p) &&
		    irq_apic_mmio(vp, v->control.exit_info2))
			return EXIT_CONTINUE;
		svm_post_memory_intercept(vp);
		return EXIT_INTERCEPT;
	case SVM_EXIT_HLT:
		partition_count_exit(p, HV_EXIT_STAT_HLT);
		if (partition_has_lapic(p)) {	/* it waits for an interrupt */
			advance_rip(v, 1);
			irq_halt(vp);
			return EXIT_CONTINUE;
		}
		svm_post_simple_intercept(vp, HVMSG_X64_HALT, 1);
		return EXIT_INTERCEPT;
	case SVM_EXIT_SHUTDOWN:
		partition_count_exit(p, HV_EXIT_STAT_SHUTDOWN);
		svm_post_simple_intercept(vp, HVMSG_UNRECOVERABLE_EXCEPTION, 0);
		virt_vp_init(vp);	/* state is undefined after shutdown */
		vp->intercept_suspend = true;
		return EXIT_INTERCEPT;
	case SVM_EXIT_INVALID:
		partition_count_exit(p, HV_EXIT_STAT_INVALID);
		svm_post_simple_intercept(vp, HVMSG_INVALID_VP_REGISTER_VALUE, 0);
		return EXIT_INTERCEPT;
	default:
		return child_exit_rare(vp, code);
	}
}

static enum exit_action child_exit_rare(struct vp *vp, u64 code)
{
	struct vmcb *v = vp_vmcb(vp);
	struct partition *p = vp->part;
	u32 vector = (u32)(code - SVM_EXIT_EXCP_BASE);

	if (code >= SVM_EXIT_EXCP_BASE && code < SVM_EXIT_EXCP_BASE + 32) {
		partition_count_exit(p, HV_EXIT_STAT_EXCEPTION);
		if (__atomic_load_n(&p->exception_intercepts, __ATOMIC_RELAXED) &
		    BIT(vector)) {
			svm_post_exception_intercept(vp, vector);
			return EXIT_INTERCEPT;
		}
		/* #DB and #AC: intercepted only so they cannot loop for ever. */
		svm_inject_exception(vp, (u8)vector, vector == 17,
				     (u32)v->control.exit_info1);
		return EXIT_CONTINUE;
	}
	partition_count_exit(p, HV_EXIT_STAT_OTHER);
	if (undefined_for_child(code)) {
		svm_inject_exception(vp, 6, false, 0);
		return EXIT_CONTINUE;
	}
	switch (code) {
	case SVM_EXIT_SMI:	/* the host's SMM ran it */
	case SVM_EXIT_INIT:	/* no virtual LAPIC yet; ignored */
		return EXIT_CONTINUE;
	case SVM_EXIT_RDPMC:	/* no counter exists: every index is bad */
		svm_inject_exception(vp, 13, true, 0);
		return EXIT_CONTINUE;
	case SVM_EXIT_INVD:	/* never drop the host's caches */
		advance_rip(v, 2);
		return EXIT_CONTINUE;
	default:
		pr_debug("partition %llu VP %u: unexpected exit 0x%llx",
			 p->id, vp->index, code);
		svm_post_simple_intercept(vp, HVMSG_UNRECOVERABLE_EXCEPTION, 0);
		return EXIT_INTERCEPT;
	}
}
