/*
 * The local APIC, as far as the hypervisor itself needs it: its ID and
 * the INIT/SIPI sequence that starts the other CPUs. Works in xAPIC
 * (MMIO) and x2APIC (MSR) mode, whichever the firmware left on.
 */
#ifndef X86_LAPIC_H
#define X86_LAPIC_H

#include <hv/types.h>

bool lapic_init(u64 madt_base);
bool lapic_x2apic_mode(void);
u32 lapic_id(void);
bool lapic_send_init(u32 apic_id);
bool lapic_send_sipi(u32 apic_id, u8 vector);
bool lapic_send_nmi(u32 apic_id);

/* Raw register access on this CPU's LAPIC, for the root's emulation. */
u64 lapic_mmio_base(void);
u32 lapic_read(u32 reg);
void lapic_write(u32 reg, u32 val);
/* ICR in one go: destination (xAPIC: bits 31:24) and command. */
void lapic_write_icr(u32 dest, u32 low);

#endif
