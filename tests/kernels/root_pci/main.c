/*
 * An IOMMU's PCI function is read-only to the root (hv/rootpci.h): its
 * config writes are dropped through ports 0xCF8/0xCFC and through its
 * ECAM page, while every other function still takes them. Needs
 * -machine q35 -device amd-iommu (QEMU's q35 puts ECAM at 0xb0000000).
 */
#include "../lib/tk.h"

#define PCI_STATUS_CAPS (1u << 20)
#define PCI_CAP_PTR 0x34
#define PCI_CAP_IOMMU 0x0f		/* "secure device": an AMD IOMMU */
#define PCI_INTERRUPT_LINE 0x3c
#define Q35_ECAM 0xb0000000ul

static volatile u32 *ecam(u32 bdf, u32 off)
{
	return (volatile u32 *)(Q35_ECAM + ((u64)bdf << 12) + off);
}

static bool is_iommu(u32 bdf)
{
	if (!(tk_pci_read(bdf, 4) & PCI_STATUS_CAPS))
		return false;
	for (u32 p = tk_pci_read(bdf, PCI_CAP_PTR) & 0xfc; p;
	     p = (tk_pci_read(bdf, p) >> 8) & 0xfc)
		if ((tk_pci_read(bdf, p) & 0xff) == PCI_CAP_IOMMU)
			return true;
	return false;
}

/* The IOMMU's function and another one, on bus 0. */
static void find(u32 *iommu, u32 *other)
{
	*iommu = *other = ~0u;
	for (u32 bdf = 0; bdf < 256; bdf++) {
		if ((tk_pci_read(bdf, 0) & 0xffff) == 0xffff)
			continue;
		if (is_iommu(bdf))
			*iommu = bdf;
		else if (*other == ~0u)
			*other = bdf;
	}
}

static void check_line(u32 bdf, bool through_ecam, bool writable)
{
	u32 old = tk_pci_read(bdf, PCI_INTERRUPT_LINE), now;
	u32 want = old ^ 0x5;

	if (through_ecam)
		*ecam(bdf, PCI_INTERRUPT_LINE) = want;
	else
		tk_pci_write(bdf, PCI_INTERRUPT_LINE, want);
	now = tk_pci_read(bdf, PCI_INTERRUPT_LINE);
	if ((now == want) != writable)
		tk_fail("%02x.%u via %s: wrote 0x%x over 0x%x, reads 0x%x",
			bdf >> 3, bdf & 7, through_ecam ? "ECAM" : "0xcfc",
			want, old, now);
	tk_pci_write(bdf, PCI_INTERRUPT_LINE, old);
}

void test_main(void)
{
	u32 iommu, other;

	if (tk_role != TK_ROOT)
		tk_skip("needs microhv");
	find(&iommu, &other);
	if (iommu == ~0u)
		tk_skip("no IOMMU function (needs -device amd-iommu)");
	TK_CHECK(other != ~0u);
	/* CONFIG_ADDRESS reads back; ECAM and the ports agree. */
	tk_outl(0xcf8, 0x80001234u);	/* CONFIG_ADDRESS */
	TK_CHECK_EQ(tk_inl(0xcf8), 0x80001234u);
	TK_CHECK_EQ(*ecam(iommu, 0), tk_pci_read(iommu, 0));
	check_line(iommu, false, false);
	check_line(iommu, true, false);
	check_line(other, false, true);
	check_line(other, true, true);
	tk_printf("root_pci: the IOMMU's function %02x.%u is read-only; "
		  "%02x.%u is not\n", iommu >> 3, iommu & 7, other >> 3,
		  other & 7);
}
