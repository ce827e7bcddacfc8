/*
 * The child's ACPI tables, built by the worker into a buffer that will sit
 * at a given guest-physical address (see hyperv-guest-abi.md section 5):
 *
 *   RSDP (rev 2) -> XSDT -> FACP (rev 6, HW_REDUCED_ACPI) -> DSDT
 *                        -> APIC (one enabled LAPIC per VP, no IOAPIC)
 *
 * The DSDT holds \_S5, \_SB.VMOD (ACPI0004) with \_SB.VMOD.VMBS ("VMBus",
 * where Linux's hv_vmbus binds) and \_SB.COM1 (PNP0501 at 0x3F8 with no
 * IRQ, so 8250_pnp registers ttyS0 polled). Pure code, host unit-tested.
 */
#ifndef WORKER_PLATFORM_ACPI_H
#define WORKER_PLATFORM_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "pm.h"

/* xAPIC ids are 8 bits and 0xFF is the broadcast id. */
#define ACPI_MAX_VPS 255

#define ACPI_DEFAULT_OEM_ID "MHV"
#define ACPI_DEFAULT_OEM_TABLE_ID "MICROHV"
#define ACPI_HYPERVISOR_VENDOR "MICROHV"	/* FADT vendor identity */

struct acpi_config {
	uint32_t n_vps;			/* 1..255; APIC id = VP index */
	struct pm_config pm;		/* sleep and reset registers */
	uint64_t mmio_base;		/* \_SB.VMOD _CRS window for VMBus */
	uint64_t mmio_size;		/* 0: VMOD gets no _CRS */
	const char *oem_id;		/* up to 6 chars; NULL: default */
	const char *oem_table_id;	/* up to 8 chars; NULL: default */
};

struct acpi_tables {
	size_t size;			/* bytes used (or needed) */
	uint64_t rsdp_gpa;		/* for boot_params.acpi_rsdp_addr */
};

/*
 * Builds every table into buf, which the guest will see at base_gpa
 * (16-byte aligned, as the RSDP must be). The RSDP comes first, so
 * rsdp_gpa == base_gpa. Returns 0; -EINVAL for a bad config or base;
 * -ENOSPC if buf_size is too small, with out->size saying how much is
 * needed (buf may be NULL to ask).
 */
int acpi_build(const struct acpi_config *cfg, uint64_t base_gpa, void *buf,
	       size_t buf_size, struct acpi_tables *out);

#endif
