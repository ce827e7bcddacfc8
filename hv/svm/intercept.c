/*
 * Child exits the root must handle, as TLFS intercept messages
 * (hv_x64_*_intercept_message), written in place into the VP's
 * intercept page. Every field is set; instruction bytes are only
 * meaningful up to instruction_byte_count.
 */
#include <hv/string.h>
#include <x86/msr.h>
#include <hv/svm.h>
#include "svm_int.h"

#define CR0_PE_BIT BIT(0)
#define CR0_AM_BIT BIT(18)

static struct hv_x64_segment_register hv_seg(const struct vmcb_seg *s)
{
	return (struct hv_x64_segment_register){
		s->base, s->limit, s->selector, hv_attr_from_vmcb(s->attrib)
	};
}

static void header(struct vp *vp, struct hv_x64_intercept_message_header *h,
		   u8 access, u8 insn_len)
{
	struct vmcb *v = vp_vmcb(vp);

	h->vp_index = vp->index;
	h->instruction_length = insn_len & 0xf;
	h->intercept_access_type = access;
	h->execution_state = (u16)((v->save.cpl & 3) |
		((v->save.cr0 & CR0_PE_BIT) ? BIT(2) : 0) |
		((v->save.cr0 & CR0_AM_BIT) ? BIT(3) : 0) |
		((v->save.efer & EFER_LMA) ? BIT(4) : 0) |
		((v->control.interrupt_shadow & 1) ? BIT(12) : 0));
	h->cs = hv_seg(&v->save.cs);
	h->rip = v->save.rip;
	h->rflags = v->save.rflags;
}

/* EXITINFO1 for IOIO: bit 0 IN, 2 string, 3 REP, 4-6 size, 31:16 port. */
void svm_post_io_intercept(struct vp *vp)
{
	struct vmcb *v = vp_vmcb(vp);
	u64 info = v->control.exit_info1;
	struct hv_x64_io_port_intercept_message *m = vp_intercept_payload(
		vp, HVMSG_X64_IO_PORT_INTERCEPT, sizeof(*m));
	u8 size = (info & BIT(4)) ? 1 : (info & BIT(5)) ? 2 : 4;

	/* EXITINFO2 is the next RIP for IOIO, with or without NRIP save. */
	header(vp, &m->header, (info & 1) ? HV_INTERCEPT_ACCESS_TYPE_READ :
					    HV_INTERCEPT_ACCESS_TYPE_WRITE,
	       (u8)(v->control.exit_info2 - v->save.rip));
	m->port_number = (u16)(info >> 16);
	m->access_info = size | ((info & BIT(2)) ? HV_IO_ACCESS_STRING : 0) |
			 ((info & BIT(3)) ? HV_IO_ACCESS_REP : 0);
	m->instruction_byte_count = 0;
	m->reserved = 0;
	m->rax = v->save.rax;
	m->ds = hv_seg(&v->save.ds);
	m->es = hv_seg(&v->save.es);
	m->rcx = vp->gprs.rcx;
	m->rsi = vp->gprs.rsi;
	m->rdi = vp->gprs.rdi;
}

/* EXITINFO1 for NPF: bit 0 present, 1 write, 4 fetch; EXITINFO2 = GPA. */
void svm_post_memory_intercept(struct vp *vp)
{
	struct vmcb *v = vp_vmcb(vp);
	u64 info = v->control.exit_info1;
	struct hv_x64_memory_intercept_message *m = vp_intercept_payload(
		vp, (info & 1) ? HVMSG_GPA_INTERCEPT : HVMSG_UNMAPPED_GPA,
		sizeof(*m));
	u8 access = (info & BIT(4)) ? HV_INTERCEPT_ACCESS_TYPE_EXECUTE :
		    (info & BIT(1)) ? HV_INTERCEPT_ACCESS_TYPE_WRITE :
				      HV_INTERCEPT_ACCESS_TYPE_READ;

	memset(m, 0, sizeof(*m));
	header(vp, &m->header, access, 0);
	m->cache_type = 6;	/* WB */
	m->guest_physical_address = v->control.exit_info2;
	/* Decode assists (not on every CPU) give the instruction bytes. */
	if (virt_caps.features & SVM_FEAT_DECODE_ASSISTS) {
		m->instruction_byte_count = MIN(v->control.insn_len, 15);
		memcpy(m->instruction_bytes, v->control.insn_bytes,
		       m->instruction_byte_count);
	}
}

void svm_post_msr_intercept(struct vp *vp)
{
	struct vmcb *v = vp_vmcb(vp);
	struct hv_x64_msr_intercept_message *m = vp_intercept_payload(
		vp, HVMSG_X64_MSR_INTERCEPT, sizeof(*m));
	bool write = v->control.exit_info1 == 1;

	header(vp, &m->header, write ? HV_INTERCEPT_ACCESS_TYPE_WRITE :
				       HV_INTERCEPT_ACCESS_TYPE_READ, 2);
	m->msr_number = (u32)vp->gprs.rcx;
	m->reserved = 0;
	m->rdx = vp->gprs.rdx;
	m->rax = v->save.rax;
}

void svm_post_exception_intercept(struct vp *vp, u32 vector)
{
	struct vmcb *v = vp_vmcb(vp);
	struct hv_x64_exception_intercept_message *m = vp_intercept_payload(
		vp, HVMSG_X64_EXCEPTION_INTERCEPT, sizeof(*m));
	bool has_error = vector == 8 || (vector >= 10 && vector <= 14) ||
			 vector == 17;

	memset(m, 0, sizeof(*m));
	header(vp, &m->header, HV_INTERCEPT_ACCESS_TYPE_EXECUTE, 0);
	m->exception_vector = (u16)vector;
	m->exception_info = has_error ? 1 : 0;
	m->error_code = (u32)v->control.exit_info1;
	m->exception_parameter = vector == 14 ? v->control.exit_info2 : 0;
}

void svm_post_simple_intercept(struct vp *vp, u32 type, u8 insn_len)
{
	struct hv_x64_intercept_message_header *h =
		vp_intercept_payload(vp, type, sizeof(*h));

	header(vp, h, HV_INTERCEPT_ACCESS_TYPE_EXECUTE, insn_len);
}

/* A hypercall the root serves (PostMessage, SignalEvent); not done yet:
 * the root sets RAX and moves RIP past the VMMCALL. */
void svm_post_hypercall_intercept(struct vp *vp)
{
	struct vmcb *v = vp_vmcb(vp);
	struct hv_x64_hypercall_intercept_message *m = vp_intercept_payload(
		vp, HVMSG_HYPERCALL_INTERCEPT, sizeof(*m));

	memset(m, 0, sizeof(*m));
	header(vp, &m->header, HV_INTERCEPT_ACCESS_TYPE_EXECUTE, 3);
	m->rax = v->save.rax;
	m->rbx = vp->gprs.rbx;
	m->rcx = vp->gprs.rcx;
	m->rdx = vp->gprs.rdx;
	m->r8 = vp->gprs.r8;
	m->rsi = vp->gprs.rsi;
	m->rdi = vp->gprs.rdi;
}
