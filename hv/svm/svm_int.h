/* Inside the AMD-V backend only. */
#ifndef SVM_INT_H
#define SVM_INT_H

#include <hv/vp.h>
#include "vmcb.h"

#define VMCB_ATTR_CODE64 0xa9b
#define VMCB_ATTR_CODE32 0xc9b
#define VMCB_ATTR_DATA32 0xc93
#define VMCB_ATTR_DATA16 0x093
#define VMCB_ATTR_CODE16 0x09b
#define VMCB_ATTR_LDT 0x082
#define VMCB_ATTR_TSS_BUSY 0x08b

#define SVM_VINTR_MASKING BIT(24)
#define SVM_NP_ENABLE BIT(0)
#define SVM_TLB_FLUSH_ASID 3

/* EVENTINJ */
#define SVM_EVTINJ_VALID BIT(31)
#define SVM_EVTINJ_ERROR_VALID BIT(11)
#define SVM_EVTINJ_TYPE_NMI (2u << 8)
#define SVM_EVTINJ_TYPE_EXCEPTION (3u << 8)

static inline struct vmcb *vp_vmcb(struct vp *vp)
{
	return vp->vmcb;
}

extern hpa_t svm_iopm_child, svm_iopm_root, svm_msrpm_child, svm_msrpm_root;

/* Hyper-V segment attributes <-> the VMCB's packed 12 bits. */
static inline u16 hv_attr_from_vmcb(u16 a)
{
	return (u16)((a & 0xff) | ((a & 0xf00) << 4));
}

static inline u16 vmcb_attr_from_hv(u16 a)
{
	return (u16)((a & 0xff) | ((a >> 4) & 0xf00));
}

/* intercept.c: a child exit becomes a message for the root. */
void svm_post_io_intercept(struct vp *vp);
void svm_post_memory_intercept(struct vp *vp);
void svm_post_msr_intercept(struct vp *vp);
void svm_post_exception_intercept(struct vp *vp, u32 vector);
void svm_post_simple_intercept(struct vp *vp, u32 type, u8 insn_len);
void svm_post_hypercall_intercept(struct vp *vp);

void svm_inject_exception(struct vp *vp, u8 vector, bool has_error,
			  u32 error);

/* vmrun.S: load guest GPRs, VMLOAD, VMRUN, VMSAVE, save GPRs, VMLOAD host. */
void svm_vmrun(struct vp_gprs *gprs, u64 vmcb_pa, u64 host_vmcb_pa);

/* Reads the CPU's register limits (regs.c); once, at boot. */
void svm_regs_init(void);
/* A context's control registers and mode: would VMRUN take them? */
bool svm_context_valid(const struct hv_initial_vp_context *c);

#endif
