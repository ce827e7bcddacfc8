/*
 * The root partition's I/O APICs. The root programs them as it likes,
 * but one thing must not reach the hardware: a redirection entry that
 * delivers INIT or SMI (or a reserved mode) would reset, or take into
 * SMM, a CPU the hypervisor runs on. So each I/O APIC page is left out
 * of the root's NPT; accesses are decoded and forwarded, and such an
 * entry is written masked. (MSIs can carry INIT too: the IOMMU's
 * device table entries stop those; see docs/abi.md.)
 */
#ifndef HV_ROOTIOAPIC_H
#define HV_ROOTIOAPIC_H

#include <hv/types.h>

struct vp;

#define IOAPIC_REGSEL 0x00
#define IOAPIC_WINDOW 0x10
#define IOAPIC_REDIR_BASE 0x10	/* entry n: 0x10 + 2n (low), + 1 (high) */
#define IOAPIC_REDIR_MASKED BIT(16)

/*
 * Pure: what a write of val to I/O APIC register index may put in the
 * hardware. Returns val, or val masked if it is a redirection entry's
 * low half whose delivery mode the root may not use.
 */
u32 ioapic_filter_write(u32 index, u32 val);

/* Boot: takes the I/O APIC pages out of the root's NPT. */
void root_ioapic_init(void);

/* A root NPF at gpa: true if it was an I/O APIC and has been emulated. */
bool root_ioapic_mmio(struct vp *vp, u64 gpa);

#endif
