/*
 * PCI functions the root must not configure. The root owns the PCI bus,
 * but an IOMMU's own function holds the base address of its registers:
 * a root that rewrote it could move them out from under the hypervisor
 * and program the IOMMU itself. Such functions are read-only to the
 * root, through both ways in: ports 0xCF8/0xCFC (trapped only once a
 * function is protected) and the ECAM page of the function (left out
 * of the root's NPT and emulated). Everything else passes through.
 */
#ifndef HV_ROOTPCI_H
#define HV_ROOTPCI_H

#include <hv/types.h>

struct vp;

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc

/*
 * Pure: the function and register a data-port access (port 0xCFC-0xCFF)
 * reaches under CONFIG_ADDRESS cf8; false if the address is disabled.
 */
bool pci_cf8_target(u32 cf8, u16 port, u16 *bdf, u32 *reg);

/* Boot, before the root runs: bdf (segment 0) becomes read-only to it. */
void root_pci_protect(u16 bdf);

/*
 * The root's port I/O to 0xCF8-0xCFF (trapped once something is
 * protected): true if done, *val holding what an IN reads.
 */
bool root_pci_port_io(u16 port, u32 size, bool in, u32 *val);

/* A root NPF at gpa: true if it was a protected ECAM page, emulated. */
bool root_pci_ecam_mmio(struct vp *vp, u64 gpa);

#endif
