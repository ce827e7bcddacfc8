/*
 * A device's MSI cannot reset a hypervisor CPU (AMD IOMMU interrupt
 * controls, docs/abi.md). QEMU's edu device raises an MSI whose data
 * the root programs. As the root:
 *   (a) a fixed MSI to CPU 0 arrives as an interrupt;
 *   (b) an MSI with delivery mode INIT aimed at CPU 1 is stopped by the
 *       IOMMU: CPU 1 (a hypervisor CPU) still starts and runs root VP 1.
 * Without the IOMMU's interrupt controls (b) would put CPU 1 back into
 * wait-for-SIPI under the hypervisor, which then never runs VP 1.
 * Needs -machine q35 -device amd-iommu,intremap=on -device edu.
 *
 * Module argument fixed=0 skips (a): QEMU 7.2 applies the device
 * table's interrupt controls only with intremap=on, and there it turns
 * a fixed MSI that the entry forwards unmapped into vector 0 (it
 * rebuilds the message from an IRTE it never read). Fixed MSIs through
 * the IOMMU are shown by root Linux's virtio devices (linux/root-iommu,
 * intremap=off) and by (a) here without an IOMMU.
 */
#include "../lib/tk.h"

#define PCI_COMMAND 0x04
#define PCI_STATUS_CAPS (1u << 20)
#define PCI_CAP_PTR 0x34
#define PCI_CAP_MSI 0x05
#define PCI_BAR0 0x10
#define EDU_ID 0x11e81234u
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64
#define MSI_VECTOR 0x41
#define APIC ((volatile u32 *)0xfee00000ul)
#define APIC_SVR 0xf0
#define APIC_EOI 0xb0

static volatile u8 *edu;
static u32 edu_bdf, msi_cap;

static u32 find_cap(u32 bdf, u32 id)
{
	u32 ptr;

	if (!(tk_pci_read(bdf, PCI_COMMAND) & PCI_STATUS_CAPS))
		return 0;
	for (ptr = tk_pci_read(bdf, PCI_CAP_PTR) & 0xfc; ptr;
	     ptr = (tk_pci_read(bdf, ptr) >> 8) & 0xfc)
		if ((tk_pci_read(bdf, ptr) & 0xff) == id)
			return ptr;
	return 0;
}

static bool find_edu(void)
{
	for (u32 dev = 0; dev < 32; dev++) {
		u32 bdf = dev << 3;

		if (tk_pci_read(bdf, 0) != EDU_ID)
			continue;
		tk_pci_write(bdf, PCI_COMMAND, tk_pci_read(bdf, PCI_COMMAND) | 0x6);
		edu = (volatile u8 *)(uintptr_t)(tk_pci_read(bdf, PCI_BAR0) &
						 ~0xfu);
		edu_bdf = bdf;
		msi_cap = find_cap(bdf, PCI_CAP_MSI);
		return msi_cap != 0;
	}
	return false;
}

/* MSI to one APIC id with this data (delivery mode and vector). */
static void program_msi(u32 apic_id, u32 data)
{
	bool is64 = tk_pci_read(edu_bdf, msi_cap) & (1u << 23);

	tk_pci_write(edu_bdf, msi_cap + 4, 0xfee00000u | apic_id << 12);
	if (is64)
		tk_pci_write(edu_bdf, msi_cap + 8, 0);
	tk_pci_write(edu_bdf, msi_cap + (is64 ? 12 : 8), data);
	tk_pci_write(edu_bdf, msi_cap, tk_pci_read(edu_bdf, msi_cap) | 1u << 16);
}

static void raise(void)
{
	*(volatile u32 *)(edu + EDU_IRQ_RAISE) = 1;
}

static void ack(void)
{
	*(volatile u32 *)(edu + EDU_IRQ_ACK) =
		*(volatile u32 *)(edu + EDU_IRQ_STATUS);
}

static volatile bool vp1_ran;

static void vp1(void *arg)
{
	(void)arg;
	__atomic_store_n(&vp1_ran, true, __ATOMIC_RELEASE);
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

static void fixed_msi_arrives(void)
{
	APIC[APIC_SVR / 4] = 0x1ff;
	program_msi(0, MSI_VECTOR);
	__asm__ __volatile__("sti");
	raise();
	for (u64 i = 0; !tk_irq_counts[MSI_VECTOR]; i++)
		if (i > 500000000ull)
			tk_fail("a fixed MSI never arrived");
	__asm__ __volatile__("cli");
	APIC[APIC_EOI / 4] = 0;
	ack();
	tk_printf("iommu_msi: (a) a fixed MSI arrived\n");
}

static void init_msi_stopped(void)
{
	program_msi(1, 0x500);	/* INIT to APIC id 1 */
	raise();
	for (volatile u64 i = 0; i < 20000000ull; i++)
		;		/* let it land, if it is going to */
	ack();
	TK_CHECK_EQ(tk_start_ap(1, vp1, NULL), 0);
	for (u64 i = 0; !__atomic_load_n(&vp1_ran, __ATOMIC_ACQUIRE); i++)
		if (i > 2000000000ull)
			tk_fail("CPU 1 no longer runs its root VP: the INIT "
				"MSI reached it");
	tk_printf("iommu_msi: (b) an INIT MSI was stopped; CPU 1 runs\n");
}

void test_main(void)
{
	if (tk_role != TK_ROOT)
		tk_skip("needs microhv");
	if (tk_nr_cpus() < 2)
		tk_skip("needs two CPUs");
	if (!find_edu())
		tk_skip("needs QEMU's edu device with MSI (-device edu)");
	if (tk_cmdline_u64("fixed", 1))
		fixed_msi_arrives();
	if (tk_cmdline_u64("init", 1))
		init_msi_stopped();
}
