/*
 * ACPI sleep and reset registers. Linux 6.1 powers off a hardware-reduced
 * platform by writing WAK_STS to SLEEP_STATUS, then (SLP_TYP << 2) |
 * SLP_EN to SLEEP_CONTROL (acpi_hw_extended_sleep); it resets by writing
 * RESET_VALUE to RESET_REG (acpi_reset).
 */
#include "pm.h"

static bool valid_size(unsigned int size)
{
	return size == 1 || size == 2 || size == 4;
}

bool pm_config_valid(const struct pm_config *pm)
{
	return pm->sleep_control_port && pm->sleep_status_port &&
	       pm->reset_port && pm->s5_slp_typ <= PM_SLP_TYP_MASK &&
	       pm->reset_port != pm->sleep_control_port;
}

bool pm_owns_port(const struct pm_config *pm, uint16_t port)
{
	return port == pm->sleep_control_port ||
	       port == pm->sleep_status_port || port == pm->reset_port;
}

static bool is_s5_request(const struct pm_config *pm, uint8_t v)
{
	uint8_t typ = (v >> PM_SLP_TYP_SHIFT) & PM_SLP_TYP_MASK;

	return (v & PM_SLP_EN) && typ == pm->s5_slp_typ;
}

enum pm_action pm_io_write(const struct pm_config *pm, uint16_t port,
			   unsigned int size, uint32_t value)
{
	uint8_t v = (uint8_t)value;	/* the byte at port itself */

	if (!valid_size(size))
		return PM_ACTION_NONE;
	if (port == pm->sleep_control_port && is_s5_request(pm, v))
		return PM_ACTION_POWER_OFF;
	if (port == pm->reset_port && v == pm->reset_value)
		return PM_ACTION_RESET;
	/* WAK_STS clears and other sleep types are accepted and ignored. */
	return PM_ACTION_NONE;
}

bool pm_io_read(const struct pm_config *pm, uint16_t port, unsigned int size,
		uint32_t *value)
{
	if (!valid_size(size) || !pm_owns_port(pm, port))
		return false;
	*value = 0;
	return true;
}
