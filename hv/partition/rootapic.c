/* The root partition's local APIC (see hv/rootapic.h). */
#include <hv/mmio.h>
#include <hv/iommu.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/percpu.h>
#include <hv/rootapic.h>
#include <hv/root.h>
#include <hv/string.h>
#include <hv/virt.h>
#include <x86/cpu.h>
#include <x86/lapic.h>
#include <x86/msr.h>

#define APIC_ICR_LOW 0x300
#define APIC_ICR_HIGH 0x310
#define ICR_DM_SHIFT 8
#define ICR_DM_INIT 5
#define ICR_DM_STARTUP 6
#define ICR_LOGICAL BIT(11)
#define ICR_ASSERT BIT(14)
#define ICR_SHORTHAND_SHIFT 18
#define X2APIC_ICR_MSR 0x830

static u64 apic_page;
/* The root's ICR high half, per CPU: sending is one step for us. */
static u32 icr_high[HV_MAX_CPUS];

void root_apic_init(void)
{
	struct partition *r = root_partition;

	apic_page = lapic_mmio_base();
	if (!apic_page)
		return;	/* x2APIC from boot: the MSR intercept does it all */
	spin_lock(&r->lock);
	if (pt_unmap(&r->npt, apic_page, PAGE_SIZE))
		pr_warn("root: cannot trap the LAPIC page");
	spin_unlock(&r->lock);
}

static struct vp *root_vp_by_apic(u32 apic_id)
{
	for (u32 i = 0; i < nr_cpus; i++)
		if (cpus[i].apic_id == apic_id)
			return cpus[i].root_vp;
	return NULL;
}

static void deliver_init_sipi(struct vp *target, u32 mode, u32 low)
{
	if (mode == ICR_DM_INIT) {
		if (!(low & ICR_ASSERT) || !READ_ONCE(target->started))
			return;	/* de-assert, or already waiting for SIPI */
		__atomic_store_n(&target->init_pending, true, __ATOMIC_RELEASE);
		vp_kick(target);
		return;
	}
	/* SIPI: only a CPU waiting for one (or about to) takes it. */
	spin_lock(&target->start_lock);
	if (!READ_ONCE(target->started) ||
	    __atomic_load_n(&target->init_pending, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&target->sipi_vector, (low & 0xff) + 1,
				 __ATOMIC_RELEASE);
		__atomic_store_n(&target->started, true, __ATOMIC_RELEASE);
		cpu_wake(target->index);
	}
	spin_unlock(&target->start_lock);
}

enum hv_status root_vp_start(struct vp *vp,
			     const struct hv_initial_vp_context *ctx)
{
	enum hv_status s = HV_STATUS_INVALID_VP_STATE;

	spin_lock(&vp->start_lock);
	if (!__atomic_load_n(&vp->started, __ATOMIC_ACQUIRE) &&
	    !__atomic_load_n(&vp->init_pending, __ATOMIC_ACQUIRE) &&
	    !__atomic_load_n(&vp->sipi_vector, __ATOMIC_ACQUIRE))
		s = virt_vp_load_context(vp, ctx);
	if (!s) {
		__atomic_store_n(&vp->started, true, __ATOMIC_RELEASE);
		cpu_wake(vp->index);
	}
	spin_unlock(&vp->start_lock);
	return s;
}

/* An ICR write by the root: INIT/SIPI are ours, the rest is sent. */
static void icr_write(struct vp *self, u32 dest, u32 low)
{
	u32 mode = (low >> ICR_DM_SHIFT) & 7;
	u32 shorthand = (low >> ICR_SHORTHAND_SHIFT) & 3;

	if (mode != ICR_DM_INIT && mode != ICR_DM_STARTUP) {
		lapic_write_icr(dest, low);
		return;
	}
	if (shorthand == 2 || shorthand == 3) {
		for (u32 i = 0; i < nr_cpus; i++)
			if (cpus[i].root_vp != self)
				deliver_init_sipi(cpus[i].root_vp, mode, low);
	} else if (shorthand == 0 && !(low & ICR_LOGICAL)) {
		struct vp *t = root_vp_by_apic(dest);

		if (t && t != self)
			deliver_init_sipi(t, mode, low);
	}
	/* INIT/SIPI to itself or by logical destination: dropped. */
}

static void apic_write(struct vp *vp, u32 off, u32 val)
{
	u32 cpu = this_cpu_index();

	if (off == APIC_ICR_HIGH)
		icr_high[cpu] = val;
	else if (off == APIC_ICR_LOW)
		icr_write(vp, icr_high[cpu] >> 24, val);
	else
		lapic_write(off, val);
}

static u32 apic_read(u32 off)
{
	return off == APIC_ICR_HIGH ? icr_high[this_cpu_index()] :
				      lapic_read(off);
}

bool root_apic_mmio(struct vp *vp, u64 gpa_)
{
	u32 off = (u32)(gpa_ & 0xfff);
	struct mmio_insn in;
	u64 val = 0;

	if (!apic_page || (gpa_ & PAGE_MASK) != apic_page ||
	    !mmio_decode(vp, &in))
		return false;
	iommu_poll();	/* the root exits here often: a cheap moment */
	if (in.size == 4 && !(off & 3)) {
		if (in.write)
			apic_write(vp, off, (u32)mmio_write_value(vp, &in));
		else
			val = apic_read(off);
	}
	mmio_complete(vp, &in, val);
	return true;
}

enum msr_result root_apic_msr_write(struct vp *vp, u32 msr, u64 val)
{
	if (msr == X2APIC_ICR_MSR) {
		icr_write(vp, (u32)(val >> 32), (u32)val);
		return MSR_DONE;
	}
	/* APIC_BASE: the mode may change, the address may not. */
	if ((val & 0x000ffffffffff000ull) != (rdmsr(MSR_APIC_BASE) &
					      0x000ffffffffff000ull))
		return MSR_GP;
	return wrmsr_safe(MSR_APIC_BASE, val) ? MSR_DONE : MSR_GP;
}
