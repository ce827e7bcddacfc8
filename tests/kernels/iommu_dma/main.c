/*
 * DMA isolation (AMD IOMMU). QEMU's edu device (docs/specs/edu.rst) is a
 * DMA engine the root owns: it copies between RAM and a 4 KiB buffer of
 * its own. As the root:
 *   (a) DMA into a root page arrives;
 *   (b) DMA from the hypervisor's image is refused: the device's buffer
 *       keeps what it held (and a write there changes nothing the
 *       hypervisor needs: it still answers hypercalls);
 *   (c) a page deposited into the hypervisor (DepositMemory into SELF)
 *       is refused to DMA as well;
 *   (d) once withdrawn, DMA into it arrives again.
 * With module argument iommu=0 (a machine without an IOMMU) only (a)
 * runs: nothing would stop the DMA into the hypervisor.
 */
#include <hv/string.h>
#include "../lib/child.h"

#define PCI_COMMAND 0x04
#define PCI_CMD_MEMORY 0x2
#define PCI_CMD_MASTER 0x4
#define PCI_BAR0 0x10
#define EDU_ID 0x11e81234u		/* device << 16 | vendor */
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_CMD_RUN 0x1
#define EDU_CMD_TO_RAM 0x2
#define EDU_BUF 0x40000ull		/* its buffer, in its DMA space */
#define EDU_DMA_LIMIT (1ull << 28)	/* its default DMA mask */
#define HV_IMAGE 0x100000ull		/* where microhv is loaded */
/* Not the whole buffer: QEMU 7.2's edu refuses a transfer that ends at
 * its buffer's end (its range check is off by one) and stops QEMU. */
#define DMA_LEN 2048

static volatile u8 *edu;

/* Bus 0 is enough: QEMU puts -device edu there. */
static bool find_edu(void)
{
	for (u32 dev = 0; dev < 32; dev++) {
		u32 bdf = dev << 3;

		if (tk_pci_read(bdf, 0) != EDU_ID)
			continue;
		tk_pci_write(bdf, PCI_COMMAND, tk_pci_read(bdf, PCI_COMMAND) |
			  PCI_CMD_MEMORY | PCI_CMD_MASTER);
		edu = (volatile u8 *)(uintptr_t)(tk_pci_read(bdf, PCI_BAR0) &
						 ~0xfu);
		tk_printf("iommu_dma: edu at 00:%02x.0, registers at %p\n",
			  dev, (void *)edu);
		return true;
	}
	return false;
}

static void edu_write(u32 reg, u64 v)
{
	*(volatile u64 *)(edu + reg) = v;
}

/* One transfer; the device does it from a 100 ms timer. */
static void dma(u64 src, u64 dst, bool to_ram)
{
	edu_write(EDU_DMA_SRC, src);
	edu_write(EDU_DMA_DST, dst);
	edu_write(EDU_DMA_COUNT, DMA_LEN);
	edu_write(EDU_DMA_CMD, EDU_CMD_RUN | (to_ram ? EDU_CMD_TO_RAM : 0));
	for (u64 i = 0; *(volatile u32 *)(edu + EDU_DMA_CMD) & EDU_CMD_RUN;
	     i++)
		if (i > 2000000000ull)
			tk_fail("edu: the DMA never finished");
}

static void fill(void *p, u8 v)
{
	memset(p, v, 4096);
}

/* Every byte a transfer reaches is v. */
static bool holds(const void *p, u8 v)
{
	const u8 *b = p;

	for (u32 i = 0; i < DMA_LEN; i++)
		if (b[i] != v)
			return false;
	return true;
}

static void *low_page(void)
{
	void *p = tk_alloc_pages(1);

	if ((u64)(uintptr_t)p >= EDU_DMA_LIMIT)
		tk_exit(TK_ERROR);	/* edu would clamp the address */
	return p;
}

/* The device's buffer now holds v (by way of a page of ours). */
static void load_buffer(void *via, u8 v)
{
	fill(via, v);
	dma((u64)(uintptr_t)via, EDU_BUF, false);
}

/* What the device's buffer holds, copied into out. */
static void read_buffer(void *out)
{
	fill(out, 0);
	dma(EDU_BUF, (u64)(uintptr_t)out, true);
}

static void dma_reaches_root_page(void *src, void *dst)
{
	load_buffer(src, 0xa5);
	read_buffer(dst);
	TK_CHECK(holds(dst, 0xa5));
	tk_printf("iommu_dma: (a) DMA into a root page arrived\n");
}

/*
 * A refused read leaves the device's buffer as it was (the PCIe way: an
 * abort) or fills it with zeros (QEMU: reads of nothing are 0). What
 * addr holds is neither: the hypervisor's image starts with its
 * Multiboot header, a deposited page with what the test put there.
 */
static void dma_refused(u64 addr, void *via, void *out, const char *what)
{
	load_buffer(via, 0x5a);
	dma(addr, EDU_BUF, false);	/* from addr: must not arrive */
	read_buffer(out);
	if (!holds(out, 0x5a) && !holds(out, 0))
		tk_fail("DMA from %s 0x%llx went through: it read 0x%llx",
			what, addr, *(u64 *)out);
	load_buffer(via, 0xee);
	dma(EDU_BUF, addr, true);	/* into addr: must not arrive */
}

static u64 deposit_self(void *page)
{
	return tk_status(tk_deposit(HV_PARTITION_ID_SELF, &page, 1));
}

static u64 withdraw_self(void)
{
	struct hv_input_withdraw_memory *in = tk_hc_in();
	u64 r;

	in->partition_id = HV_PARTITION_ID_SELF;
	in->proximity_domain_info = 0;
	r = tk_hvcall(HVCALL_WITHDRAW_MEMORY, 1, 0);
	TK_CHECK_EQ(tk_status(r), 0);
	TK_CHECK_EQ(HV_RESULT_REPS(r), 1);
	return ((u64 *)tk_hc_out())[0] << 12;
}

static void deposited_page_refused(void *via, void *out)
{
	void *dep = low_page();
	u64 back;

	fill(dep, 0x77);
	TK_CHECK_EQ(deposit_self(dep), 0);
	dma_refused((u64)(uintptr_t)dep, via, out, "deposited page");
	tk_printf("iommu_dma: (c) DMA to and from a deposited page was "
		  "refused\n");
	back = withdraw_self();
	TK_CHECK_EQ(back, (u64)(uintptr_t)dep);
	TK_CHECK(holds(dep, 0));	/* the hypervisor zeroed it */
	load_buffer(via, 0x3c);
	read_buffer(dep);
	TK_CHECK(holds(dep, 0x3c));
	tk_printf("iommu_dma: (d) withdrawn, it takes DMA again\n");
}

void test_main(void)
{
	void *src, *dst;

	if (tk_role != TK_ROOT)
		tk_skip("needs microhv");
	if (!find_edu())
		tk_skip("needs QEMU's edu device (-device edu)");
	src = low_page();
	dst = low_page();
	dma_reaches_root_page(src, dst);
	if (!tk_cmdline_u64("iommu", 1)) {
		tk_printf("iommu_dma: no IOMMU on this machine: stopping "
			  "before DMA into the hypervisor\n");
		return;
	}
	dma_refused(HV_IMAGE, src, dst, "the hypervisor's image");
	TK_CHECK_EQ(deposit_self(src), 0);	/* the hypervisor still answers */
	TK_CHECK_EQ(withdraw_self(), (u64)(uintptr_t)src);
	tk_printf("iommu_dma: (b) DMA to and from the hypervisor's image at "
		  "0x%llx was refused; the hypervisor still answers\n",
		  HV_IMAGE);
	deposited_page_refused(src, dst);
}
