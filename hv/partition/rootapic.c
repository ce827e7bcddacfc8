/* The root partition's local APIC (see hv/rootapic.h). */
#include <hv/decode.h>
#include <hv/gwalk.h>
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

static u64 reg(struct vp *vp, u32 name)
{
	struct hv_register_value v;

	virt_vp_get_reg(vp, name, &v);
	return v.low;
}

static void set_reg(struct vp *vp, u32 name, u64 value)
{
	struct hv_register_value v = { value, 0 };

	virt_vp_set_reg(vp, name, &v);
}

/* Root memory for the page walker: only the root's own RAM. */
static const void *root_read(u64 pa, u64 len, void *ctx)
{
	(void)ctx;
	if (!len || frame_owner(&frames, pa >> PAGE_SHIFT) != FRAME_ROOT ||
	    frame_owner(&frames, (pa + len - 1) >> PAGE_SHIFT) != FRAME_ROOT)
		return NULL;
	return hpa_to_hva(hpa(pa));
}

/* Up to 15 instruction bytes at the root VP's RIP; how many were read. */
static u32 fetch(struct vp *vp, u8 *buf, bool *long_mode)
{
	struct hv_register_value csv;
	struct hv_x64_segment_register cs;
	struct gwalk_regs r = { reg(vp, HV_REG_CR0), reg(vp, HV_REG_CR3),
				reg(vp, HV_REG_CR4), reg(vp, HV_REG_EFER) };
	u64 rip, n = 0;

	virt_vp_get_reg(vp, HV_REG_CS, &csv);
	memcpy(&cs, &csv, sizeof(cs));
	*long_mode = (r.efer & EFER_LMA) && (cs.attributes & BIT(13));
	rip = cs.base + reg(vp, HV_REG_RIP);
	while (n < 15) {
		u64 gpa_, chunk = MIN(15 - n, PAGE_SIZE - ((rip + n) & 0xfff));
		const u8 *p;

		if (!gva_to_gpa(&r, rip + n, root_read, NULL, &gpa_) ||
		    !(p = root_read(gpa_, chunk, NULL)))
			break;
		memcpy(buf + n, p, chunk);
		n += chunk;
	}
	return (u32)n;
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
	if (READ_ONCE(target->started) &&
	    !__atomic_load_n(&target->init_pending, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&target->sipi_vector, (low & 0xff) + 1,
			 __ATOMIC_RELEASE);
	__atomic_store_n(&target->started, true, __ATOMIC_RELEASE);
	cpu_wake(target->index);
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
	struct mmio_insn in;
	u8 code[15];
	bool lm;
	u32 n, off = (u32)(gpa_ & 0xfff);
	const char *err;

	if (!apic_page || (gpa_ & PAGE_MASK) != apic_page)
		return false;
	n = fetch(vp, code, &lm);
	err = decode_mmio(code, n, lm, &in);
	if (err) {
		pr_warn("root: LAPIC access at 0x%x not emulated (%s)", off, err);
		return false;
	}
	if (in.write) {
		u64 v = in.has_imm ? in.imm : reg(vp, HV_REG_RAX + in.reg);

		if (in.size == 4 && !(off & 3))
			apic_write(vp, off, (u32)v);
	} else {
		u32 v = (in.size == 4 && !(off & 3)) ? apic_read(off) : 0;

		set_reg(vp, HV_REG_RAX + in.reg, v);	/* zero-extends */
	}
	set_reg(vp, HV_REG_RIP, reg(vp, HV_REG_RIP) + in.len);
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

void root_vp_reset_to_sipi(struct vp *vp, u32 vector)
{
	struct hv_x64_segment_register cs = {
		(u64)vector << 12, 0xffff, (u16)(vector << 8), 0x9b
	};
	struct hv_register_value v;

	virt_vp_init(vp);
	memcpy(&v, &cs, sizeof(cs));
	virt_vp_set_reg(vp, HV_REG_CS, &v);
	set_reg(vp, HV_REG_RIP, 0);
}
