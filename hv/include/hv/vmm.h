/*
 * The hypervisor's own address space. RAM and the image are mapped at
 * VA == PA: the image by section (text RX, rodata R, data RW), RAM RW
 * and never executable, ACPI memory read-only. Page 0 is never mapped.
 * Per-CPU stacks live apart, above HV_STACKS_BASE, with unmapped guard
 * pages between them. No mapping is both writable and executable.
 */
#ifndef HV_VMM_H
#define HV_VMM_H

#include <hv/types.h>

#define HV_STACKS_BASE 0xffffc00000000000ull

struct cpu_stacks {
	u64 main_top;
	u64 ist_top[3];		/* #DF, NMI, #MC */
};

/* Early: maps [4 GiB, end) into the boot page tables (1 GiB pages). */
bool vmm_boot_map_high(u64 end);
bool cpu_has_1g_pages(void);

void vmm_init(void);
u64 vmm_cr3(void);

bool vmm_alloc_stacks(u32 cpu, struct cpu_stacks *out);
/*
 * The n-th (< HV_GUARDED_PAGES) per-CPU page with unmapped pages on
 * both sides, in the CPU's stack slot: an overrun faults at once.
 */
#define HV_GUARDED_PAGES 4
void *vmm_alloc_guarded_page(u32 cpu, u32 n);
bool vmm_map_mmio(hpa_t pa, u64 size);

/* Makes one page executable and read-only, or back to RW and NX. */
bool vmm_set_code_page(hpa_t pa, bool code);

/* phys_reader_fn for firmware tables: maps them read-only on demand. */
const void *fw_read(u64 pa, u64 len, void *ctx);

/* Walks the live tables; returns the number of W+X mappings found. */
u64 vmm_audit_wx(u64 *leaves);

#endif
