/*
 * Architectural register values a VP may be given. VMRUN (AMD APM
 * vol. 2, 15.5.1) and VM entry (Intel SDM vol. 3, 26.3.1) refuse a
 * guest state that breaks these rules; the hypervisor refuses such
 * values when the root sets them instead, so entry never fails on them.
 * Pure: the caller passes what the CPU supports.
 */
#ifndef X86_REGCHECK_H
#define X86_REGCHECK_H

#include <hv/types.h>

/* What this CPU allows: CR4 bits and the physical address width. */
struct x86_reg_limits {
	u64 cr4_allowed;
	u32 phys_bits;
};

/* One register on its own (reserved bits, illegal combinations). */
bool x86_cr0_valid(u64 cr0);
bool x86_cr3_valid(const struct x86_reg_limits *l, u64 cr3);
bool x86_cr4_valid(const struct x86_reg_limits *l, u64 cr4);
bool x86_efer_valid(u64 efer);
bool x86_pat_valid(u64 pat);
bool x86_dr6_dr7_valid(u64 dr);

/*
 * The registers together: long mode needs paging with PAE and
 * protection, and a 64-bit code segment cannot also be 32-bit.
 * cs_attr is the descriptor's attribute word (bits 40-47, 52-55 packed
 * as in the TLFS: L is bit 13, D bit 14).
 */
bool x86_mode_consistent(u64 cr0, u64 cr4, u64 efer, u16 cs_attr);

/* The limits of the CPU we run on (non-pure: uses CPUID). */
void x86_reg_limits_read(struct x86_reg_limits *l);

#endif
