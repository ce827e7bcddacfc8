/*
 * The VMCB (AMD APM vol. 2, appendix B): a 1 KiB control area followed
 * by the guest state save area, one 4 KiB page in all. Offsets are
 * pinned by static_assert.
 */
#ifndef SVM_VMCB_H
#define SVM_VMCB_H

#include <hv/types.h>

struct vmcb_seg {
	u16 selector;
	u16 attrib;		/* descriptor bits 40-47 and 52-55, packed */
	u32 limit;
	u64 base;
};
static_assert(sizeof(struct vmcb_seg) == 16, "VMCB segment");

struct vmcb_control {
	u32 intercept_cr;	/* 0x000: reads 15:0, writes 31:16 */
	u32 intercept_dr;	/* 0x004 */
	u32 intercept_exceptions;	/* 0x008 */
	u32 intercept_misc1;	/* 0x00c */
	u32 intercept_misc2;	/* 0x010 */
	u32 intercept_misc3;	/* 0x014 */
	u8 reserved1[0x3c - 0x18];
	u16 pause_filter_threshold;	/* 0x03c */
	u16 pause_filter_count;	/* 0x03e */
	u64 iopm_base_pa;	/* 0x040 */
	u64 msrpm_base_pa;	/* 0x048 */
	u64 tsc_offset;		/* 0x050 */
	u32 asid;		/* 0x058 */
	u8 tlb_control;		/* 0x05c */
	u8 reserved2[3];
	u64 vintr;		/* 0x060: V_TPR, V_IRQ, V_INTR_* */
	u64 interrupt_shadow;	/* 0x068 */
	u64 exit_code;		/* 0x070 */
	u64 exit_info1;		/* 0x078 */
	u64 exit_info2;		/* 0x080 */
	u64 exit_int_info;	/* 0x088 */
	u64 np_control;		/* 0x090: bit 0 = nested paging */
	u64 avic_apic_bar;	/* 0x098 */
	u64 ghcb_pa;		/* 0x0a0 */
	u64 event_inject;	/* 0x0a8 */
	u64 ncr3;		/* 0x0b0 */
	u64 virt_ext;		/* 0x0b8: LBR virt, VMSAVE/VMLOAD virt */
	u32 clean_bits;		/* 0x0c0 */
	u32 reserved3;
	u64 next_rip;		/* 0x0c8 (NRIP save only) */
	u8 insn_len;		/* 0x0d0 (decode assists only) */
	u8 insn_bytes[15];	/* 0x0d1 */
	u64 avic_backing_page;	/* 0x0e0 */
	u64 reserved4;
	u64 avic_logical_table;	/* 0x0f0 */
	u64 avic_physical_table;	/* 0x0f8 */
	u64 reserved5;
	u64 vmsa_pa;		/* 0x108 */
	u8 reserved6[0x400 - 0x110];
};
static_assert(sizeof(struct vmcb_control) == 0x400, "VMCB control area");

struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs;	/* 0x400 */
	struct vmcb_seg gdtr, ldtr, idtr, tr;	/* 0x460 */
	u8 reserved1[0x4cb - 0x4a0];
	u8 cpl;			/* 0x4cb */
	u32 reserved2;
	u64 efer;		/* 0x4d0 */
	u8 reserved3[0x548 - 0x4d8];
	u64 cr4;		/* 0x548 */
	u64 cr3;		/* 0x550 */
	u64 cr0;		/* 0x558 */
	u64 dr7;		/* 0x560 */
	u64 dr6;		/* 0x568 */
	u64 rflags;		/* 0x570 */
	u64 rip;		/* 0x578 */
	u8 reserved4[0x5d8 - 0x580];
	u64 rsp;		/* 0x5d8 */
	u64 s_cet;		/* 0x5e0 */
	u64 ssp;		/* 0x5e8 */
	u64 isst_addr;		/* 0x5f0 */
	u64 rax;		/* 0x5f8 */
	u64 star;		/* 0x600 */
	u64 lstar;		/* 0x608 */
	u64 cstar;		/* 0x610 */
	u64 sfmask;		/* 0x618 */
	u64 kernel_gs_base;	/* 0x620 */
	u64 sysenter_cs;	/* 0x628 */
	u64 sysenter_esp;	/* 0x630 */
	u64 sysenter_eip;	/* 0x638 */
	u64 cr2;		/* 0x640 */
	u8 reserved5[0x668 - 0x648];
	u64 g_pat;		/* 0x668 */
	u64 dbgctl;		/* 0x670 */
	u64 br_from;		/* 0x678 */
	u64 br_to;		/* 0x680 */
	u64 last_excp_from;	/* 0x688 */
	u64 last_excp_to;	/* 0x690 */
	u8 reserved6[0x1000 - 0x698];
};

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
};
static_assert(sizeof(struct vmcb) == 0x1000, "VMCB is one page");
static_assert(__builtin_offsetof(struct vmcb, save.cpl) == 0x4cb, "CPL");
static_assert(__builtin_offsetof(struct vmcb, save.efer) == 0x4d0, "EFER");
static_assert(__builtin_offsetof(struct vmcb, save.cr4) == 0x548, "CR4");
static_assert(__builtin_offsetof(struct vmcb, save.rip) == 0x578, "RIP");
static_assert(__builtin_offsetof(struct vmcb, save.rsp) == 0x5d8, "RSP");
static_assert(__builtin_offsetof(struct vmcb, save.rax) == 0x5f8, "RAX");
static_assert(__builtin_offsetof(struct vmcb, save.cr2) == 0x640, "CR2");
static_assert(__builtin_offsetof(struct vmcb, save.g_pat) == 0x668, "PAT");
static_assert(__builtin_offsetof(struct vmcb, control.exit_code) == 0x70,
	      "EXITCODE");
static_assert(__builtin_offsetof(struct vmcb, control.next_rip) == 0xc8,
	      "NRIP");

/* intercept_misc1 */
#define SVM_INTERCEPT_INTR BIT(0)
#define SVM_INTERCEPT_NMI BIT(1)
#define SVM_INTERCEPT_SMI BIT(2)
#define SVM_INTERCEPT_INIT BIT(3)
#define SVM_INTERCEPT_RDPMC BIT(15)
#define SVM_INTERCEPT_CPUID BIT(18)
#define SVM_INTERCEPT_INVD BIT(22)
#define SVM_INTERCEPT_HLT BIT(24)
#define SVM_INTERCEPT_INVLPGA BIT(26)
#define SVM_INTERCEPT_IOIO BIT(27)
#define SVM_INTERCEPT_MSR BIT(28)
#define SVM_INTERCEPT_SHUTDOWN BIT(31)
/* intercept_misc2 */
#define SVM_INTERCEPT_VMRUN BIT(0)
#define SVM_INTERCEPT_VMMCALL BIT(1)
#define SVM_INTERCEPT_VMLOAD BIT(2)
#define SVM_INTERCEPT_VMSAVE BIT(3)
#define SVM_INTERCEPT_STGI BIT(4)
#define SVM_INTERCEPT_CLGI BIT(5)
#define SVM_INTERCEPT_SKINIT BIT(6)
#define SVM_INTERCEPT_MONITOR BIT(10)
#define SVM_INTERCEPT_MWAIT BIT(11)
#define SVM_INTERCEPT_XSETBV BIT(13)
/* What only the hypervisor may run: SVM itself, and INVLPGA (any ASID). */
#define SVM_INTERCEPT_SVM_INSNS (SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMLOAD | \
	SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI | \
	SVM_INTERCEPT_SKINIT)

/* Exit codes. */
#define SVM_EXIT_INTR 0x060
#define SVM_EXIT_NMI 0x061
#define SVM_EXIT_SMI 0x062
#define SVM_EXIT_INIT 0x063
#define SVM_EXIT_RDPMC 0x06f
#define SVM_EXIT_CPUID 0x072
#define SVM_EXIT_INVD 0x076
#define SVM_EXIT_HLT 0x078
#define SVM_EXIT_INVLPGA 0x07a
#define SVM_EXIT_IOIO 0x07b
#define SVM_EXIT_MSR 0x07c
#define SVM_EXIT_SHUTDOWN 0x07f
#define SVM_EXIT_VMRUN 0x080
#define SVM_EXIT_VMMCALL 0x081
#define SVM_EXIT_VMLOAD 0x082
#define SVM_EXIT_SKINIT 0x086
#define SVM_EXIT_MONITOR 0x08a
#define SVM_EXIT_MWAIT 0x08b
#define SVM_EXIT_XSETBV 0x08d
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID ((u64)-1)

#define SVM_TLB_FLUSH_ALL 1

/* Runs the guest in the VMCB at vmcb_pa until its next #VMEXIT. */
void svm_vmrun_raw(u64 vmcb_pa);

#endif
