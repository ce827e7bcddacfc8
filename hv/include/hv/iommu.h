/*
 * DMA isolation for the root partition (AMD IOMMU). Every DeviceID the
 * IVRS names gets one device table entry pointing at one page table,
 * the root's DMA domain: it maps what the root's NPT maps at boot and
 * then follows the root's pages as they are deposited and withdrawn, so
 * a device the root owns reaches exactly the memory the root owns and
 * never the hypervisor's. Without an IOMMU nothing is isolated (said
 * once at boot); iommu=required makes that fatal.
 *
 * Lock order: a partition's lock, then the IOMMU's (iommu_root_* may be
 * called with neither held; they take only the IOMMU's).
 */
#ifndef HV_IOMMU_H
#define HV_IOMMU_H

#include <hv/options.h>

struct partition;

/*
 * Boot, after root_build and before the root runs. intr_pass leaves the
 * device table's interrupt controls off (iommu_intr=pass, docs/boot.md).
 */
void iommu_init(struct partition *root, enum iommu_mode mode,
		bool intr_pass);

/*
 * A root page leaves the root (deposit): when this returns true no
 * device can read or write it any more (IOTLBs invalidated, completion
 * waited for). False if a large mapping could not be split.
 */
bool iommu_root_unmap(u64 pfn);
/* The page is the root's again (withdraw). */
void iommu_root_map(u64 pfn);

/* Logs what the IOMMUs' event logs hold; cheap when they are empty. */
void iommu_poll(void);

#endif
