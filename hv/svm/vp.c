/*
 * VMCB set-up and register access for root and child VPs. Intercepts are
 * fixed per partition kind: the root passes most things through and
 * keeps SVM for the hypervisor; a child leaves to the root for all I/O,
 * every MSR the hypervisor does not own and every unmapped GPA.
 */
#include <hv/hvmem.h>
#include <hv/mm.h>
#include <hv/percpu.h>
#include <hv/rootmsr.h>
#include <hv/string.h>
#include <hv/virt.h>
#include <x86/cpu.h>
#include <x86/msr.h>
#include "svm_int.h"

hpa_t svm_iopm_child, svm_iopm_root, svm_msrpm_child, svm_msrpm_root;

#define IOPM_PAGES 3
#define MSRPM_PAGES 2
#define DEFAULT_PAT 0x0007040600070406ull

/* MSRPM: 2 bits per MSR (read, write) in three 2 KiB ranges. */
static bool msrpm_bit(u32 msr, u64 *byte, u32 *bit)
{
	u32 base;

	if (msr <= 0x1fff)
		base = 0;
	else if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
		base = 0x800, msr -= 0xc0000000u;
	else if (msr >= 0xc0010000u && msr <= 0xc0011fffu)
		base = 0x1000, msr -= 0xc0010000u;
	else
		return false;
	*byte = base + msr / 4;
	*bit = (msr % 4) * 2;
	return true;
}

static void msrpm_set_rw(u8 *map, u32 msr, bool read, bool write)
{
	u64 byte;
	u32 bit;

	if (!msrpm_bit(msr, &byte, &bit))
		return;	/* outside the map: always intercepted */
	map[byte] &= (u8)~(3u << bit);
	map[byte] |= (u8)(((read ? 1u : 0) | (write ? 2u : 0)) << bit);
}

static void msrpm_set(u8 *map, u32 msr, bool intercept)
{
	msrpm_set_rw(map, msr, intercept, intercept);
}

/* State the VMCB holds and VMLOAD/VMRUN switch: safe to pass through. */
static const u32 child_passthrough_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE,
	0x174, 0x175, 0x176,			/* SYSENTER_CS/ESP/EIP */
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,	/* STAR.. SFMASK */
};

/* The root's MSR policy (hv/rootmsr.h) decides what is intercepted. */
static void root_msrpm_init(u8 *map)
{
	for (u32 i = 0; i < root_msr_nr_ranges; i++) {
		const struct root_msr_range *r = &root_msr_ranges[i];

		for (u64 msr = r->first; msr <= r->last; msr++)
			msrpm_set_rw(map, (u32)msr,
				     root_msr_intercepts_read(r->rule),
				     root_msr_intercepts_write(r->rule));
	}
}

bool virt_global_init(void)
{
	u8 *map;

	svm_iopm_child = page_alloc(IOPM_PAGES);
	svm_iopm_root = page_alloc(IOPM_PAGES);
	svm_msrpm_child = page_alloc(MSRPM_PAGES);
	svm_msrpm_root = page_alloc(MSRPM_PAGES);
	if (!hpa_valid(svm_iopm_child) || !hpa_valid(svm_iopm_root) ||
	    !hpa_valid(svm_msrpm_child) || !hpa_valid(svm_msrpm_root))
		return false;
	memset(hpa_to_hva(svm_iopm_root), 0, IOPM_PAGES * PAGE_SIZE);
	svm_regs_init();
	memset(hpa_to_hva(svm_iopm_child), 0xff, IOPM_PAGES * PAGE_SIZE);
	map = hpa_to_hva(svm_msrpm_child);
	memset(map, 0xff, MSRPM_PAGES * PAGE_SIZE);
	for (unsigned i = 0; i < ARRAY_SIZE(child_passthrough_msrs); i++)
		msrpm_set(map, child_passthrough_msrs[i], false);
	root_msrpm_init(hpa_to_hva(svm_msrpm_root));
	return true;
}

void virt_root_trap_ports(u16 first, u16 last)
{
	u8 *map = hpa_to_hva(svm_iopm_root);

	for (u32 port = first; port <= last; port++)
		map[port / 8] |= (u8)BIT(port % 8);
}

static void seg(struct vmcb_seg *s, u16 sel, u16 attr, u32 limit, u64 base)
{
	*s = (struct vmcb_seg){ sel, attr, limit, base };
}

static void child_intercepts(struct vmcb *v)
{
	/* RDPMC: a child has no PMU, and the counters are the host's. */
	v->control.intercept_misc1 = SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI |
		SVM_INTERCEPT_SMI | SVM_INTERCEPT_INIT | SVM_INTERCEPT_RDPMC |
		SVM_INTERCEPT_CPUID | SVM_INTERCEPT_HLT | SVM_INTERCEPT_INVD |
		SVM_INTERCEPT_INVLPGA | SVM_INTERCEPT_IOIO |
		SVM_INTERCEPT_MSR | SVM_INTERCEPT_SHUTDOWN;
	v->control.intercept_misc2 = SVM_INTERCEPT_SVM_INSNS |
		SVM_INTERCEPT_VMMCALL | SVM_INTERCEPT_MONITOR |
		SVM_INTERCEPT_MWAIT | SVM_INTERCEPT_XSETBV;
	/* #DB and #AC: a guest must not be able to wedge the CPU in them. */
	v->control.intercept_exceptions = BIT(1) | BIT(17);
	v->control.iopm_base_pa = hpa_u64(svm_iopm_child);
	v->control.msrpm_base_pa = hpa_u64(svm_msrpm_child);
	v->control.vintr = SVM_VINTR_MASKING;
}

/*
 * The root runs with EFER.SVME set (VMRUN needs it), so every SVM
 * instruction would work on host-physical addresses: VMLOAD/VMSAVE read
 * and write any page, CLGI stalls a CPU a shootdown waits for, INVLPGA
 * reaches other ASIDs. All of them are #UD for the root.
 */
static void root_intercepts(struct vmcb *v)
{
	v->control.intercept_misc1 = SVM_INTERCEPT_NMI | SVM_INTERCEPT_CPUID |
		SVM_INTERCEPT_INVLPGA | SVM_INTERCEPT_IOIO |
		SVM_INTERCEPT_MSR | SVM_INTERCEPT_SHUTDOWN;
	v->control.intercept_misc2 = SVM_INTERCEPT_SVM_INSNS |
		SVM_INTERCEPT_VMMCALL;
	/* Empty unless virt_root_trap_ports() marked some ports. */
	v->control.iopm_base_pa = hpa_u64(svm_iopm_root);
	v->control.msrpm_base_pa = hpa_u64(svm_msrpm_root);
}

/* The architectural state after RESET (APM vol. 2, 14.1.3). */
static void reset_state(struct vp *vp)
{
	struct vmcb *v = vp_vmcb(vp);

	seg(&v->save.cs, 0xf000, VMCB_ATTR_CODE16, 0xffff, 0xffff0000ull);
	seg(&v->save.ds, 0, VMCB_ATTR_DATA16, 0xffff, 0);
	v->save.es = v->save.ss = v->save.fs = v->save.gs = v->save.ds;
	seg(&v->save.gdtr, 0, 0, 0xffff, 0);
	seg(&v->save.idtr, 0, 0, 0xffff, 0);
	seg(&v->save.ldtr, 0, VMCB_ATTR_LDT, 0xffff, 0);
	seg(&v->save.tr, 0, VMCB_ATTR_TSS_BUSY, 0xffff, 0);
	v->save.rip = 0xfff0;
	v->save.rflags = 0x2;
	v->save.cr0 = 0x60000010;
	v->save.efer = EFER_SVME;	/* VMRUN requires it; guests never see it */
	v->save.g_pat = DEFAULT_PAT;
	v->save.dr6 = 0xffff0ff0;
	v->save.dr7 = 0x400;
	memset(&vp->gprs, 0, sizeof(vp->gprs));
	vp->gprs.rdx = cpuid(1, 0).eax;
	v->save.rax = 0;
	v->save.rsp = 0;
	/* FXSAVE image of FNINIT + default MXCSR. */
	memset(vp->fpu, 0, sizeof(vp->fpu));
	*(u16 *)&vp->fpu[0] = 0x37f;
	*(u32 *)&vp->fpu[24] = 0x1f80;
}

void virt_vp_init(struct vp *vp)
{
	struct vmcb *v = vp_vmcb(vp);

	memset(v, 0, sizeof(*v));
	if (vp->part->is_root)
		root_intercepts(v);
	else
		child_intercepts(v);
	v->control.np_control = SVM_NP_ENABLE;
	reset_state(vp);
	vp->asid_cpu = -1;
}

void virt_vp_load_flat32(struct vp *vp, u64 entry, u32 eax, u32 ebx)
{
	struct vmcb *v = vp_vmcb(vp);

	seg(&v->save.cs, 0x08, VMCB_ATTR_CODE32, 0xffffffffu, 0);
	seg(&v->save.ds, 0x10, VMCB_ATTR_DATA32, 0xffffffffu, 0);
	v->save.es = v->save.ss = v->save.fs = v->save.gs = v->save.ds;
	v->save.cr0 = CR0_PE | CR0_ET;
	v->save.rip = entry;
	v->save.rax = eax;
	vp->gprs.rbx = ebx;
}

static void seg_from_hv(struct vmcb_seg *s, const struct hv_x64_segment_register *r)
{
	seg(s, r->selector, vmcb_attr_from_hv(r->attributes), r->limit,
	    r->base);
}

enum hv_status virt_vp_load_context(struct vp *vp,
				    const struct hv_initial_vp_context *c)
{
	struct vmcb *v = vp_vmcb(vp);

	if (!svm_context_valid(c))
		return HV_STATUS_INVALID_PARAMETER;
	v->save.rip = c->rip;
	v->save.rsp = c->rsp;
	v->save.rflags = c->rflags | 0x2;
	seg_from_hv(&v->save.cs, &c->cs);
	seg_from_hv(&v->save.ds, &c->ds);
	seg_from_hv(&v->save.es, &c->es);
	seg_from_hv(&v->save.fs, &c->fs);
	seg_from_hv(&v->save.gs, &c->gs);
	seg_from_hv(&v->save.ss, &c->ss);
	seg_from_hv(&v->save.tr, &c->tr);
	seg_from_hv(&v->save.ldtr, &c->ldtr);
	seg(&v->save.idtr, 0, 0, c->idtr.limit, c->idtr.base);
	seg(&v->save.gdtr, 0, 0, c->gdtr.limit, c->gdtr.base);
	v->save.efer = c->efer | EFER_SVME;
	v->save.cr0 = c->cr0;
	v->save.cr3 = c->cr3;
	v->save.cr4 = c->cr4;
	v->save.g_pat = c->msr_cr_pat ? c->msr_cr_pat : DEFAULT_PAT;
	v->save.cpl = (u8)(c->cs.selector & 3);
	return HV_STATUS_SUCCESS;
}

void svm_inject_exception(struct vp *vp, u8 vector, bool has_error,
			  u32 error)
{
	vp->pending_event = SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_EXCEPTION |
			    vector | (has_error ? SVM_EVTINJ_ERROR_VALID : 0) |
			    ((u64)error << 32);
}
