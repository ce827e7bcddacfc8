/*
 * The child's ACPI power-management registers: the hardware-reduced
 * SLEEP_CONTROL / SLEEP_STATUS registers and the FADT reset register,
 * all 8-bit I/O ports. The same pm_config feeds the FADT and the \_S5
 * package (acpi.h), so the guest writes exactly what pm_io_write expects.
 * Pure code, host unit-tested.
 */
#ifndef WORKER_PLATFORM_PM_H
#define WORKER_PLATFORM_PM_H

#include <stdbool.h>
#include <stdint.h>

/* SLEEP_CONTROL_REG fields (ACPI: "Sleep Control and Status Registers"). */
#define PM_SLP_TYP_SHIFT 2
#define PM_SLP_TYP_MASK 0x07
#define PM_SLP_EN 0x20

/* Suggested values; 0xCF9/0x06 is the PIIX-style reset control register. */
#define PM_DEFAULT_SLEEP_CONTROL_PORT 0x600
#define PM_DEFAULT_SLEEP_STATUS_PORT 0x601
#define PM_DEFAULT_S5_SLP_TYP 5
#define PM_DEFAULT_RESET_PORT 0xcf9
#define PM_DEFAULT_RESET_VALUE 0x06

struct pm_config {
	uint16_t sleep_control_port;
	uint16_t sleep_status_port;
	uint8_t s5_slp_typ;		/* 0..7, the \_S5 SLP_TYPa value */
	uint16_t reset_port;
	uint8_t reset_value;
};

enum pm_action {
	PM_ACTION_NONE,
	PM_ACTION_POWER_OFF,
	PM_ACTION_RESET,
};

/*
 * Ports non-zero (ACPICA treats a zero address as "no register"), SLP_TYP
 * fits its 3 bits, and the reset port is not the sleep control port.
 */
bool pm_config_valid(const struct pm_config *pm);

/* Whether port is one of the registers (the worker's dispatch test). */
bool pm_owns_port(const struct pm_config *pm, uint16_t port);

/*
 * An OUT of size bytes (1, 2 or 4) starting at port. Only the byte at the
 * register's own port counts, so a wider access that merely overlaps a
 * register (OUTL 0xCF8 for PCI config, say) is not mistaken for it.
 */
enum pm_action pm_io_write(const struct pm_config *pm, uint16_t port,
			   unsigned int size, uint32_t value);

/*
 * An IN from port: true and *value = 0 for our registers (no wake status
 * is ever pending), false if the port is not ours.
 */
bool pm_io_read(const struct pm_config *pm, uint16_t port, unsigned int size,
		uint32_t *value);

#endif
