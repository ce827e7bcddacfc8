/*
 * The root's I/O APIC (hv/rootioapic.h): its registers read and write
 * as on hardware, but a redirection entry that would deliver INIT or
 * SMI to a CPU (the hypervisor's) is written masked. QEMU puts the
 * I/O APIC at 0xfec00000.
 */
#include "../lib/tk.h"

#define IOAPIC ((volatile u32 *)0xfec00000ul)
#define ENTRY_LOW(n) (0x10 + 2 * (n))
#define MASKED (1u << 16)

static u32 ioapic_read(u32 index)
{
	IOAPIC[0] = index;
	return IOAPIC[4];
}

static void ioapic_write(u32 index, u32 val)
{
	IOAPIC[0] = index;
	IOAPIC[4] = val;
}

static void check_entry(u32 n, u32 written, u32 expected)
{
	u32 got;

	ioapic_write(ENTRY_LOW(n), written);
	got = ioapic_read(ENTRY_LOW(n));
	if ((got & 0x1ffff) != expected)
		tk_fail("entry %u: wrote 0x%x, reads 0x%x, expected 0x%x", n,
			written, got, expected);
}

void test_main(void)
{
	u32 version, old;

	if (tk_role != TK_ROOT)
		tk_skip("needs microhv");
	version = ioapic_read(1);
	TK_CHECK((version & 0xff) >= 0x11);	/* an I/O APIC answers */
	TK_CHECK_EQ(IOAPIC[0] & 0xff, 1);	/* IOREGSEL reads back */
	old = ioapic_read(ENTRY_LOW(2));
	ioapic_write(ENTRY_LOW(2) + 1, 1u << 24);	/* to CPU 1 */
	check_entry(2, 0x10030, 0x10030);	/* fixed, masked: as is */
	check_entry(2, 0x00031, 0x00031);	/* fixed, unmasked */
	check_entry(2, 0x00431, 0x00431);	/* NMI */
	check_entry(2, 0x00500, 0x10500);	/* INIT: masked */
	check_entry(2, 0x00200, 0x10200);	/* SMI: masked */
	check_entry(2, 0x00600, 0x10600);	/* reserved: masked */
	ioapic_write(ENTRY_LOW(2), old | MASKED);
	tk_printf("root_ioapic: INIT and SMI entries are written masked\n");
}
