/* Which I/O APIC writes the root may make (hv/rootioapic.h). Pure. */
#include <hv/rootioapic.h>

#define DELIVERY_MODE(low) (((low) >> 8) & 7)

/* Fixed, lowest priority, NMI, ExtINT: ordinary interrupts. */
static bool mode_allowed(u32 mode)
{
	return mode == 0 || mode == 1 || mode == 4 || mode == 7;
}

u32 ioapic_filter_write(u32 index, u32 val)
{
	bool entry_low = index >= IOAPIC_REDIR_BASE && !(index & 1);

	if (entry_low && !mode_allowed(DELIVERY_MODE(val)))
		return val | IOAPIC_REDIR_MASKED;
	return val;
}
