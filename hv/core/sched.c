/*
 * Which VP runs where. Root scheduler (TLFS scheduler type 4): root VP
 * n runs on CPU n for ever; children run only inside the root's
 * DispatchVp calls. CPUs reach each other with NMIs (the hypervisor has
 * no interrupt handlers of its own), tagged with a reason.
 */
#include <hv/hvmem.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/percpu.h>
#include <hv/rootapic.h>
#include <hv/virt.h>
#include <hv/vp.h>
#include <x86/cpu.h>
#include <x86/exception.h>
#include <x86/lapic.h>

void idle_wait(const volatile bool *flag);
extern const char idle_hlt_insn[];

/*
 * One NMI in flight per batch of reasons: its handler takes them all, so
 * a second NMI would find none and pass for the root's own. Reasons are
 * only set here and only cleared by the handler, so a non-zero word
 * means an NMI is on its way that will see the new reason too.
 */
void cpu_send_nmi(u32 cpu, u32 reason)
{
	if (!__atomic_fetch_or(&cpus[cpu].nmi_reasons, reason,
			       __ATOMIC_SEQ_CST))
		lapic_send_nmi(cpus[cpu].apic_id);
}

void cpu_wake(u32 cpu)
{
	if (cpu < nr_cpus && cpu != this_cpu_index())
		cpu_send_nmi(cpu, NMI_WAKE);
}

void vp_kick(struct vp *vp)
{
	u32 me = this_cpu_index();

	for (u32 i = 0; i < nr_cpus; i++)
		if (i != me && READ_ONCE(cpus[i].guest_vp) == vp)
			cpu_send_nmi(i, NMI_KICK);
}

/* Called from the NMI exception handler. */
void nmi_handle(struct exc_frame *f)
{
	struct percpu *c = this_cpu();
	u32 reasons = __atomic_exchange_n(&c->nmi_reasons, 0, __ATOMIC_SEQ_CST);

	if (f->rip == (u64)(uintptr_t)idle_hlt_insn)
		f->rip += 1;	/* do not go (back) to sleep: recheck */
	if (!reasons)
		c->root_nmi_pending = true;	/* a real NMI: the root's */
}

/* Hypercall staging pages, each between guard pages (see vmm.h). */
bool cpu_virt_setup(struct percpu *cpu)
{
	for (u32 i = 0; i < 2; i++) {
		cpu->hc_in[i] = vmm_alloc_guarded_page(cpu->index, 2 * i);
		cpu->hc_out[i] = vmm_alloc_guarded_page(cpu->index, 2 * i + 1);
		if (!cpu->hc_in[i] || !cpu->hc_out[i])
			return false;
	}
	cpu->next_asid = 1;
	cpu->asid_gen = 1;
	return true;
}

static bool root_vp_ready[HV_MAX_CPUS];

void sched_release_aps(void)
{
	for (u32 i = 1; i < nr_cpus; i++) {
		__atomic_store_n(&root_vp_ready[i], true, __ATOMIC_RELEASE);
		cpu_wake(i);
	}
}

/*
 * A root VP's life on its CPU: wait until it is started (by
 * StartVirtualProcessor or an INIT/SIPI from the root), run it, and on
 * an INIT go back to waiting for a SIPI.
 */
__noreturn void root_partition_run(u32 index)
{
	struct vp *vp;

	idle_wait(&root_vp_ready[index]);
	vp = cpus[index].root_vp;
	for (;;) {
		u32 sipi;

		idle_wait(&vp->started);
		sipi = __atomic_exchange_n(&vp->sipi_vector, 0, __ATOMIC_ACQUIRE);
		if (sipi)
			vp_reset_to_sipi(vp, sipi - 1);
		pr_debug("cpu%u: root VP %u runs%s", index, vp->index,
			 sipi ? " from a SIPI" : "");
		virt_run_root(vp);
		/* INIT: stopped first, so a SIPI now is taken (rootapic.c). */
		__atomic_store_n(&vp->started, false, __ATOMIC_SEQ_CST);
		__atomic_store_n(&vp->init_pending, false, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&vp->sipi_vector, __ATOMIC_SEQ_CST))
			__atomic_store_n(&vp->started, true, __ATOMIC_SEQ_CST);
	}
}

void sched_boot_root(void)
{
	__atomic_store_n(&root_vp_ready[0], true, __ATOMIC_RELEASE);
	sched_release_aps();
	root_partition_run(0);
}
