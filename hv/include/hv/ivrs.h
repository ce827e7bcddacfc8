/*
 * The ACPI IVRS table (AMD I/O Virtualization Reporting Structure, AMD
 * IOMMU spec 48882 section 5): where each IOMMU's registers are and which
 * DeviceIDs it translates. Pure code: the table is checked (lengths,
 * entry sizes) before use and unit-tested on fake and random tables.
 */
#ifndef HV_IVRS_H
#define HV_IVRS_H

#include <hv/acpi.h>

#define IVRS_MAX_IOMMUS 8
#define IVRS_ALL_DEVICES 0xffffu

struct ivrs_iommu {
	u64 mmio_base;		/* its 16 KiB of registers */
	u16 devid;		/* its own PCI function (bus << 8 | devfn) */
	u16 cap_off;		/* its capability in that function's config */
	u16 segment;		/* PCI segment group */
	u8 ivhd_type;		/* 0x10, 0x11 or 0x40: the first one seen */
};

struct ivrs_info {
	u32 n_iommus;
	struct ivrs_iommu iommus[IVRS_MAX_IOMMUS];
	u32 max_devid;		/* highest DeviceID an IVHD names */
	u32 n_over_limit;	/* IOMMUs beyond IVRS_MAX_IOMMUS */
};

/*
 * Reads the IVHD blocks. One IOMMU may be described by several IVHD
 * types (legacy 0x10 and extended 0x11/0x40): it is listed once. An
 * entry of unknown length ends that block and makes max_devid cover
 * every DeviceID, so nothing a device may use is left out.
 */
const char *ivrs_parse(const struct acpi_table_header *ivrs,
		       struct ivrs_info *out);

#endif
