/*
 * Get/SetVpRegisters for AMD-V: Hyper-V register names to VMCB fields.
 * The TLFS says these calls check values but have no side effects.
 */
#include <hv/virt.h>
#include <x86/cpu.h>
#include <x86/msr.h>
#include <x86/regcheck.h>
#include "svm_int.h"

/* What this CPU allows in CR3 and CR4 (set once, at boot). */
static struct x86_reg_limits limits;

void svm_regs_init(void)
{
	x86_reg_limits_read(&limits);
}

#define GPR(r) (u8)(__builtin_offsetof(struct vp_gprs, r) / 8)
/* Hyper-V order (RAX RCX RDX RBX RSP RBP RSI RDI R8-R15) -> vp_gprs. */
static const u8 gpr_index[16] = {
	0xff, GPR(rcx), GPR(rdx), GPR(rbx), 0xff, GPR(rbp), GPR(rsi),
	GPR(rdi), GPR(r8), GPR(r9), GPR(r10), GPR(r11), GPR(r12), GPR(r13),
	GPR(r14), GPR(r15),
};

static u64 *gpr_slot(struct vp *vp, u32 name)
{
	u32 i = name - HV_REG_RAX;

	if (name >= HV_REG_DR0 && name <= HV_REG_DR3)
		return &vp->dr[name - HV_REG_DR0];	/* run.c loads them */
	if (i >= 16)
		return NULL;
	if (name == HV_REG_RAX)
		return &vp_vmcb(vp)->save.rax;
	if (name == HV_REG_RSP)
		return &vp_vmcb(vp)->save.rsp;
	return (u64 *)&vp->gprs + gpr_index[i];
}

/* Registers that are plain 64-bit VMCB fields. */
static u64 *plain_slot(struct vmcb *v, u32 name)
{
	switch (name) {
	case HV_REG_RIP: return &v->save.rip;
	case HV_REG_CR0: return &v->save.cr0;
	case HV_REG_CR2: return &v->save.cr2;
	case HV_REG_CR3: return &v->save.cr3;
	case HV_REG_CR4: return &v->save.cr4;
	case HV_REG_DR6: return &v->save.dr6;
	case HV_REG_DR7: return &v->save.dr7;
	case HV_REG_PAT: return &v->save.g_pat;
	case HV_REG_KERNEL_GS_BASE: return &v->save.kernel_gs_base;
	case HV_REG_SYSENTER_CS: return &v->save.sysenter_cs;
	case HV_REG_SYSENTER_EIP: return &v->save.sysenter_eip;
	case HV_REG_SYSENTER_ESP: return &v->save.sysenter_esp;
	case HV_REG_STAR: return &v->save.star;
	case HV_REG_LSTAR: return &v->save.lstar;
	case HV_REG_CSTAR: return &v->save.cstar;
	case HV_REG_SFMASK: return &v->save.sfmask;
	default: return NULL;
	}
}

static struct vmcb_seg *seg_slot(struct vmcb *v, u32 name)
{
	struct vmcb_seg *const segs[8] = {
		&v->save.es, &v->save.cs, &v->save.ss, &v->save.ds,
		&v->save.fs, &v->save.gs, &v->save.ldtr, &v->save.tr,
	};

	if (name >= HV_REG_ES && name <= HV_REG_TR)
		return segs[name - HV_REG_ES];
	return NULL;
}

#define EFER_SETTABLE (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | \
		       BIT(13) | BIT(14) | BIT(15))

static enum hv_status get_special(struct vp *vp, u32 name, u64 *lo, u64 *hi)
{
	struct vmcb *v = vp_vmcb(vp);

	switch (name) {
	case HV_REG_RFLAGS:
		*lo = v->save.rflags;
		return HV_STATUS_SUCCESS;
	case HV_REG_EFER:
		*lo = v->save.efer & ~EFER_SVME;
		return HV_STATUS_SUCCESS;
	case HV_REG_CR8:
		*lo = v->control.vintr & 0xf;
		return HV_STATUS_SUCCESS;
	case HV_REG_TSC:
		*lo = rdtsc() + v->control.tsc_offset;
		return HV_STATUS_SUCCESS;
	case HV_REG_INTERRUPT_STATE:
		*lo = v->control.interrupt_shadow & 1;
		return HV_STATUS_SUCCESS;
	case HV_REG_IDTR:
	case HV_REG_GDTR: {
		struct vmcb_seg *s = name == HV_REG_IDTR ? &v->save.idtr :
							    &v->save.gdtr;
		*lo = (u64)(u16)s->limit << 48;
		*hi = s->base;
		return HV_STATUS_SUCCESS;
	}
	default:
		return HV_STATUS_INVALID_PARAMETER;
	}
}

enum hv_status virt_vp_get_reg(struct vp *vp, u32 name,
			       struct hv_register_value *val)
{
	struct vmcb *v = vp_vmcb(vp);
	u64 *slot = gpr_slot(vp, name);
	struct vmcb_seg *s;

	val->low = val->high = 0;
	if (!slot)
		slot = plain_slot(v, name);
	if (slot) {
		val->low = *slot;
		return HV_STATUS_SUCCESS;
	}
	s = seg_slot(v, name);
	if (s) {
		struct hv_x64_segment_register r = {
			s->base, s->limit, s->selector,
			hv_attr_from_vmcb(s->attrib)
		};
		__builtin_memcpy(val, &r, sizeof(r));
		return HV_STATUS_SUCCESS;
	}
	u64 lo = 0, hi = 0;
	enum hv_status st = get_special(vp, name, &lo, &hi);

	val->low = lo;
	val->high = hi;
	return st;
}

static enum hv_status set_special(struct vp *vp, u32 name, u64 lo, u64 hi)
{
	struct vmcb *v = vp_vmcb(vp);

	switch (name) {
	case HV_REG_RFLAGS:
		v->save.rflags = lo | 0x2;
		return HV_STATUS_SUCCESS;
	case HV_REG_EFER:
			if (lo & ~EFER_SETTABLE)
			return HV_STATUS_INVALID_PARAMETER;
		v->save.efer = lo | EFER_SVME;
		return HV_STATUS_SUCCESS;
	case HV_REG_CR8:
		if (lo > 0xf)
			return HV_STATUS_INVALID_PARAMETER;
		v->control.vintr = (v->control.vintr & ~0xfull) | lo;
		return HV_STATUS_SUCCESS;
	case HV_REG_TSC:
		v->control.tsc_offset = lo - rdtsc();
		return HV_STATUS_SUCCESS;
	case HV_REG_INTERRUPT_STATE:
		v->control.interrupt_shadow = lo & 1;
		return HV_STATUS_SUCCESS;
	case HV_REG_IDTR:
	case HV_REG_GDTR: {
		struct vmcb_seg *s = name == HV_REG_IDTR ? &v->save.idtr :
							    &v->save.gdtr;
		s->limit = (u16)(lo >> 48);
		s->base = hi;
		return HV_STATUS_SUCCESS;
	}
	default:
		return HV_STATUS_INVALID_PARAMETER;
	}
}

/* A value the register may hold on its own (x86/regcheck.h). */
static bool value_valid(u32 name, u64 v)
{
	switch (name) {
	case HV_REG_CR0: return x86_cr0_valid(v);
	case HV_REG_CR3: return x86_cr3_valid(&limits, v);
	case HV_REG_CR4: return x86_cr4_valid(&limits, v);
	case HV_REG_DR6:
	case HV_REG_DR7: return x86_dr6_dr7_valid(v);
	case HV_REG_PAT: return x86_pat_valid(v);
	default: return true;
	}
}

bool svm_context_valid(const struct hv_initial_vp_context *c)
{
	return value_valid(HV_REG_CR0, c->cr0) &&
	       value_valid(HV_REG_CR3, c->cr3) &&
	       value_valid(HV_REG_CR4, c->cr4) && x86_efer_valid(c->efer) &&
	       (!c->msr_cr_pat || x86_pat_valid(c->msr_cr_pat)) &&
	       x86_mode_consistent(c->cr0, c->cr4, c->efer, c->cs.attributes);
}

static bool mode_consistent(const struct vmcb *v)
{
	return x86_mode_consistent(v->save.cr0, v->save.cr4, v->save.efer,
				   hv_attr_from_vmcb(v->save.cs.attrib));
}

static enum hv_status set_one(struct vp *vp, u32 name,
			      const struct hv_register_value *val)
{
	struct vmcb *v = vp_vmcb(vp);
	u64 *slot = gpr_slot(vp, name);
	struct vmcb_seg *s;

	if (!slot)
		slot = plain_slot(v, name);
	if (slot) {
		if (!value_valid(name, val->low))
			return HV_STATUS_INVALID_PARAMETER;
		*slot = val->low;
		if (name == HV_REG_CR0 || name == HV_REG_CR4 ||
		    name == HV_REG_CR3)
			v->control.tlb_control = SVM_TLB_FLUSH_ALL;
		return HV_STATUS_SUCCESS;
	}
	s = seg_slot(v, name);
	if (s) {
		struct hv_x64_segment_register r;

		__builtin_memcpy(&r, val, sizeof(r));
		*s = (struct vmcb_seg){ r.selector,
					vmcb_attr_from_hv(r.attributes),
					r.limit, r.base };
		if (name == HV_REG_CS || name == HV_REG_SS)
			v->save.cpl = (u8)((v->save.ss.attrib >> 5) & 3);
		return HV_STATUS_SUCCESS;
	}
	return set_special(vp, name, val->low, val->high);
}

static bool changes_mode(u32 name)
{
	return name == HV_REG_CR0 || name == HV_REG_CR4 ||
	       name == HV_REG_EFER || name == HV_REG_CS;
}

/*
 * A root VP runs again at once, and VMRUN would refuse an inconsistent
 * mode: such a change is undone and refused. A child's registers may
 * pass through inconsistent states while the root sets them one by one;
 * if it runs so, it stops with an INVALID_VP_REGISTER_VALUE message.
 */
enum hv_status virt_vp_set_reg(struct vp *vp, u32 name,
			       const struct hv_register_value *val)
{
	struct vmcb *v = vp_vmcb(vp);
	u64 cr0 = v->save.cr0, cr4 = v->save.cr4, efer = v->save.efer;
	struct vmcb_seg cs = v->save.cs;
	u8 cpl = v->save.cpl;
	enum hv_status st = set_one(vp, name, val);

	if (st || !vp->part->is_root || !changes_mode(name) ||
	    mode_consistent(v))
		return st;
	v->save.cr0 = cr0;
	v->save.cr4 = cr4;
	v->save.efer = efer;
	v->save.cs = cs;
	v->save.cpl = cpl;
	return HV_STATUS_INVALID_PARAMETER;
}

/*
 * TLFS pending interruption: bit 0 pending, 3:1 type, 4 error code
 * valid, 31:16 vector, 63:32 error code. Types 0 (external), 2 (NMI),
 * 3 (exception) and 4 (software interrupt) map onto EVENTINJ.
 */
enum hv_status virt_vp_set_pending_interruption(struct vp *vp, u64 value)
{
	u32 type = (value >> 1) & 7, vector = (value >> 16) & 0xffff;
	bool err = value & BIT(4);

	if (!(value & 1)) {
		vp->pending_event = 0;
		return HV_STATUS_SUCCESS;
	}
	if (vector > 255 || (type != 0 && type != 2 && type != 3 &&
			     type != 4) || (type == 3 && vector > 31) ||
	    (err && type != 3) || (value & 0xfe00ull))
		return HV_STATUS_INVALID_PARAMETER;
	vp->pending_event = SVM_EVTINJ_VALID | ((u64)type << 8) | vector |
			    (err ? SVM_EVTINJ_ERROR_VALID : 0) |
			    (value & 0xffffffff00000000ull);
	return HV_STATUS_SUCCESS;
}
