/*
 * Guest page-table walks (to fetch the instruction behind an MMIO
 * exit): paging off, 4-level or 5-level long mode. Pure code.
 */
#ifndef HV_GWALK_H
#define HV_GWALK_H

#include <hv/bootinfo.h>

struct gwalk_regs {
	u64 cr0, cr3, cr4, efer;
};

/* Guest-virtual to guest-physical; false if not mapped. read gives
 * 8 bytes of a guest-physical address. */
bool gva_to_gpa(const struct gwalk_regs *r, u64 gva, phys_reader_fn read,
		void *ctx, u64 *gpa_out);

#endif
