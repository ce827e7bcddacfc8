/* Decoding CONFIG_ADDRESS (hv/rootpci.h). Pure. */
#include <hv/rootpci.h>

#define CF8_ENABLE BIT(31)

bool pci_cf8_target(u32 cf8, u16 port, u16 *bdf, u32 *reg)
{
	if (!(cf8 & CF8_ENABLE) || port < PCI_CONFIG_DATA ||
	    port > PCI_CONFIG_DATA + 3 || ((cf8 >> 24) & 0x7f))
		return false;	/* off, not a data port, or extended bits */
	*bdf = (u16)(cf8 >> 8);
	*reg = (cf8 & 0xfc) | (port & 3);
	return true;
}
