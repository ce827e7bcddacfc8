/* MSR emulation for partitions (see hv/msr.h). */
#include <hv/interrupts.h>
#include <hv/mm.h>
#include <hv/msr.h>
#include <hv/rootapic.h>
#include <hv/rootmsr.h>
#include <hv/log.h>
#include <hv/string.h>
#include <hv/virt.h>
#include <x86/cpu.h>
#include <x86/msr.h>
#include <x86/tsc.h>

#define MSR_TSC 0x10
#define HYPERCALL_GPFN_MASK 0xfffffffffffff000ull

/*
 * One formula for TIME_REF_COUNT, the TSC page and the timers (TLFS):
 * ((tsc * scale) >> 64) + offset, the offset making it 0 at creation.
 */
u64 partition_reference_time(struct partition *p)
{
	return (u64)(((unsigned __int128)rdtsc() * tsc_ref_scale()) >> 64) +
	       (u64)p->ref_offset;
}

/* Children run with the host's TSC (no offset), so the page is exact. */
static enum msr_result write_tsc_page_msr(struct partition *p, u64 val)
{
	struct hv_reference_tsc_page page = {
		.tsc_scale = tsc_ref_scale(), .tsc_offset = p->ref_offset,
	};
	u64 old = READ_ONCE(p->tsc_page_msr);

	val &= PAGE_MASK | HV_MSR_PAGE_ENABLE;
	/* A new, non-zero sequence number each time it is (re)written. */
	page.tsc_sequence = (u32)((old >> 32) + 1) | 1;
	if ((val & HV_MSR_PAGE_ENABLE) &&
	    !partition_copy(p, val & PAGE_MASK, &page, sizeof(page), true))
		return MSR_GP;
	WRITE_ONCE(p->tsc_page_msr, val);
	return MSR_DONE;
}

/* VMMCALL; RET. ENDBR64 first, so kernels with IBT accept the page. */
static const u8 hypercall_code[] = {
	0xf3, 0x0f, 0x1e, 0xfa, 0x0f, 0x01, 0xd9, 0xc3,
};

static bool write_hypercall_page(struct partition *p, u64 gpfn)
{
	hpa_t page;
	bool ok;

	spin_lock(&p->lock);	/* the NPT must not change meanwhile */
	ok = gpa_to_hpa(p, gpa(gpfn << PAGE_SHIFT), PAGE_SIZE, true, &page);
	if (ok) {
		memset(hpa_to_hva(page), 0xcc, PAGE_SIZE);
		memcpy(hpa_to_hva(page), hypercall_code,
		       sizeof(hypercall_code));
	}
	spin_unlock(&p->lock);
	return ok;
}

static enum msr_result write_hypercall_msr(struct partition *p, u64 val)
{
	u64 old = READ_ONCE(p->hypercall_msr);

	if (old & HV_MSR_HYPERCALL_LOCKED)
		return MSR_DONE;	/* TLFS: locked means ignored */
	if (!READ_ONCE(p->guest_os_id))
		val &= ~HV_MSR_HYPERCALL_ENABLE;
	val &= HYPERCALL_GPFN_MASK | HV_MSR_HYPERCALL_ENABLE |
	       HV_MSR_HYPERCALL_LOCKED;
	if ((val & HV_MSR_HYPERCALL_ENABLE) &&
	    !write_hypercall_page(p, val >> PAGE_SHIFT))
		return MSR_GP;
	WRITE_ONCE(p->hypercall_msr, val);
	return MSR_DONE;
}

static bool is_crash_msr(u32 msr)
{
	return msr >= HV_MSR_CRASH_P0 && msr <= HV_MSR_CRASH_CTL;
}

/* The enlightenments of LAPIC partitions (hyperv-guest-abi.md 2.1). */
static enum msr_result read_lapic_synthetic(struct vp *vp, u32 msr, u64 *val)
{
	bool gp;

	switch (msr) {
	case HV_MSR_REFERENCE_TSC: *val = READ_ONCE(vp->part->tsc_page_msr);
		return MSR_DONE;
	case HV_MSR_TSC_FREQUENCY: *val = tsc_khz() * 1000; return MSR_DONE;
	case HV_MSR_APIC_FREQUENCY: *val = VLAPIC_TIMER_HZ; return MSR_DONE;
	}
	if (is_crash_msr(msr))
		return MSR_TO_ROOT;	/* the worker logs the crash */
	if (synic_msr_read(vp, msr, val, &gp))
		return gp ? MSR_GP : MSR_DONE;
	return MSR_GP;
}

static enum msr_result write_lapic_synthetic(struct vp *vp, u32 msr, u64 val)
{
	bool gp;

	if (msr == HV_MSR_REFERENCE_TSC)
		return write_tsc_page_msr(vp->part, val);
	if (is_crash_msr(msr))
		return MSR_TO_ROOT;
	if (synic_msr_write(vp, msr, val, &gp))
		return gp ? MSR_GP : MSR_DONE;
	return MSR_GP;
}

static enum msr_result read_synthetic(struct vp *vp, u32 msr, u64 *val)
{
	struct partition *p = vp->part;

	switch (msr) {
	case HV_MSR_GUEST_OS_ID: *val = READ_ONCE(p->guest_os_id); break;
	case HV_MSR_HYPERCALL: *val = READ_ONCE(p->hypercall_msr); break;
	case HV_MSR_VP_INDEX: *val = vp->index; break;
	case HV_MSR_TIME_REF_COUNT: *val = partition_reference_time(p); break;
	default:
		if (partition_has_lapic(p))
			return read_lapic_synthetic(vp, msr, val);
		return MSR_GP;
	}
	return MSR_DONE;
}

static enum msr_result write_synthetic(struct vp *vp, u32 msr, u64 val)
{
	struct partition *p = vp->part;

	switch (msr) {
	case HV_MSR_GUEST_OS_ID:
		WRITE_ONCE(p->guest_os_id, val);
		if (!val)
			WRITE_ONCE(p->hypercall_msr, READ_ONCE(p->hypercall_msr) &
				   ~HV_MSR_HYPERCALL_ENABLE);
		return MSR_DONE;
	case HV_MSR_HYPERCALL:
		return write_hypercall_msr(p, val);
	case HV_MSR_RESET:
		return p->is_root ? MSR_GP : MSR_TO_ROOT;
	default:
		if (partition_has_lapic(p))
			return write_lapic_synthetic(vp, msr, val);
		return MSR_GP;	/* read-only or unknown */
	}
}

/* The x2APIC range: a LAPIC partition's APIC is an xAPIC only. */
static bool is_x2apic(u32 msr)
{
	return msr >= 0x800 && msr <= 0x8ff;
}

static bool is_synthetic(u32 msr)
{
	return msr >= 0x40000000u && msr <= 0x400000ffu;
}

static enum msr_result reg_read(struct vp *vp, u32 name, u64 *val)
{
	struct hv_register_value v;

	virt_vp_get_reg(vp, name, &v);
	*val = v.low;
	return MSR_DONE;
}

static enum msr_result reg_write(struct vp *vp, u32 name, u64 val)
{
	struct hv_register_value v = { val, 0 };

	return virt_vp_set_reg(vp, name, &v) ? MSR_GP : MSR_DONE;
}

/* Said once per MSR, for the first few: a root retrying must not flood. */
static void root_msr_refused(u32 msr, bool write, u64 val)
{
	static u32 said[16];
	static u32 nr_said;

	for (u32 i = 0; i < nr_said && i < ARRAY_SIZE(said); i++)
		if (said[i] == msr)
			return;
	if (nr_said >= ARRAY_SIZE(said))
		return;
	said[nr_said++] = msr;
	if (write)
		pr_info("root: MSR 0x%x write of 0x%llx refused (#GP; "
			"docs/abi.md, the root's MSRs)", msr, val);
	else
		pr_info("root: MSR 0x%x read refused (#GP)", msr);
}

/* The firmware's MTRRs on the boot CPU (hv/rootmsr.h), and which exist. */
static u64 boot_mtrr[ROOT_MTRR_COUNT];
static bool boot_mtrr_read[ROOT_MTRR_COUNT];

void root_msr_capture_boot_mtrrs(void)
{
	for (u32 msr = 0x200; msr <= 0x2ff; msr++) {
		int i = root_mtrr_index(msr);

		if (i >= 0)
			boot_mtrr_read[i] = rdmsr_safe(msr, &boot_mtrr[i]);
	}
}

static bool mtrr_write_ok(u32 msr, u64 old, u64 val)
{
	int i = root_mtrr_index(msr);

	return i >= 0 && boot_mtrr_read[i] &&
	       root_mtrr_write_ok(msr, old, boot_mtrr[i], val);
}

/* The root's architectural MSRs (hv/rootmsr.h); ours are handled above. */
static enum msr_result root_msr_read(u32 msr, u64 *val)
{
	switch (root_msr_rule(msr)) {
	case ROOT_MSR_HIDDEN:
		*val = 0;
		return MSR_DONE;
	case ROOT_MSR_DENIED:
		root_msr_refused(msr, false, 0);
		return MSR_GP;
	default:
		return rdmsr_safe(msr, val) ? MSR_DONE : MSR_GP;
	}
}

static enum msr_result root_msr_write(u32 msr, u64 val)
{
	enum root_msr_rule rule = root_msr_rule(msr);
	u64 old;

	if (rule == ROOT_MSR_PASS)
		return wrmsr_safe(msr, val) ? MSR_DONE : MSR_GP;
	if (rule == ROOT_MSR_HIDDEN && !val)
		return MSR_DONE;
	if (rule == ROOT_MSR_MTRR && rdmsr_safe(msr, &old) &&
	    mtrr_write_ok(msr, old, val))
		return val == old || wrmsr_safe(msr, val) ? MSR_DONE : MSR_GP;
	if ((rule == ROOT_MSR_READ_ONLY || rule == ROOT_MSR_FILTERED) &&
	    rdmsr_safe(msr, &old) && root_msr_filter(msr, old, &val)) {
		if (val == old)
			return MSR_DONE;
		return wrmsr_safe(msr, val) ? MSR_DONE : MSR_GP;
	}
	root_msr_refused(msr, true, val);
	return MSR_GP;
}

enum msr_result msr_read(struct vp *vp, u32 msr, u64 *val)
{
	if (is_synthetic(msr))
		return read_synthetic(vp, msr, val);
	switch (msr) {
	case MSR_EFER: return reg_read(vp, HV_REG_EFER, val);
	case MSR_PAT: return reg_read(vp, HV_REG_PAT, val);
	case MSR_TSC: return reg_read(vp, HV_REG_TSC, val);
	case MSR_TSC_AUX:
		if (vp->part->is_root)
			break;
		*val = vp->tsc_aux;
		return MSR_DONE;
	case MSR_VM_CR:
	case MSR_VM_HSAVE_PA:
		return MSR_GP;	/* SVM is not there for partitions */
	case MSR_APIC_BASE:
		if (vp->part->is_root)
			break;
		*val = 0xfee00000ull | APIC_BASE_EN |
		       (vp->index ? 0 : APIC_BASE_BSP);
		return MSR_DONE;
	}
	if (vp->part->is_root)
		return root_msr_read(msr, val);
	if (is_x2apic(msr) && partition_has_lapic(vp->part))
		return MSR_GP;
	return MSR_TO_ROOT;
}

enum msr_result msr_write(struct vp *vp, u32 msr, u64 val)
{
	if (is_synthetic(msr))
		return write_synthetic(vp, msr, val);
	switch (msr) {
	case MSR_EFER:
		return reg_write(vp, HV_REG_EFER, val & ~EFER_SVME);
	case MSR_PAT:
		return reg_write(vp, HV_REG_PAT, val);	/* checks the types */
	case MSR_TSC:
		return reg_write(vp, HV_REG_TSC, val);
	case MSR_TSC_AUX:
		if (vp->part->is_root)
			break;
		if ((val >> 32) || !cpu_has_tsc_aux())
			return MSR_GP;
		/* Live now: the child's value is loaded while it runs. */
		vp->tsc_aux = val;
		wrmsr(MSR_TSC_AUX, val);
		return MSR_DONE;
	case MSR_VM_CR:
	case MSR_VM_HSAVE_PA:
		return MSR_GP;
	case MSR_APIC_BASE:
	case 0x830:	/* x2APIC ICR */
		if (vp->part->is_root)
			return root_apic_msr_write(vp, msr, val);
		if (msr == MSR_APIC_BASE && partition_has_lapic(vp->part))
			return irq_apic_base_write(vp, val) ? MSR_DONE : MSR_GP;
		break;
	}
	if (vp->part->is_root)
		return root_msr_write(msr, val);
	if (is_x2apic(msr) && partition_has_lapic(vp->part))
		return MSR_GP;
	return MSR_TO_ROOT;
}
