/* PCI functions the root may not configure (see hv/rootpci.h). */
#include <hv/acpi.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/mmio.h>
#include <hv/partition.h>
#include <hv/percpu.h>
#include <hv/rootpci.h>
#include <hv/spinlock.h>
#include <hv/virt.h>
#include <hv/vmm.h>
#include <x86/cpu.h>

#define MAX_PROTECTED 8
#define MCFG_ENTRIES_OFFSET 44

struct protected_fn {
	u16 bdf;
	u64 ecam;		/* its ECAM page, or 0 */
};

static struct protected_fn protected[MAX_PROTECTED];
static u32 nr_protected;
static u32 cf8_shadow[HV_MAX_CPUS];	/* each root VP's CONFIG_ADDRESS */
static struct spinlock port_lock = SPINLOCK_INIT;	/* 0xCF8 is global */
static bool said_refused;

static bool is_protected(u16 bdf)
{
	for (u32 i = 0; i < nr_protected; i++)
		if (protected[i].bdf == bdf)
			return true;
	return false;
}

static void refused(u16 bdf, u32 reg)
{
	if (said_refused)
		return;
	said_refused = true;	/* once: the root may retry for ever */
	pr_info("root: config write to %02x:%02x.%u register 0x%x refused "
		"(an IOMMU's function is read-only to the root)", bdf >> 8,
		(bdf >> 3) & 0x1f, bdf & 7, reg);
}

/* The function's page in the first MCFG entry that covers its bus. */
static u64 ecam_page(u16 bdf)
{
	const struct acpi_table_header *t;
	const u8 *p;
	u64 pa;

	t = acpi_find_table(&acpi_tables, "MCFG", fw_read, NULL, &pa);
	if (!t)
		return 0;
	p = (const u8 *)t;
	for (u32 off = MCFG_ENTRIES_OFFSET; off + 16 <= t->length; off += 16) {
		u64 base;
		u16 segment;

		__builtin_memcpy(&base, p + off, 8);
		__builtin_memcpy(&segment, p + off + 8, 2);
		if (segment == 0 && (bdf >> 8) >= p[off + 10] &&
		    (bdf >> 8) <= p[off + 11])
			return base + ((u64)(bdf - (p[off + 10] << 8)) << 12);
	}
	return 0;
}

/* Out of the root's NPT, into ours: accesses become NPFs we emulate. */
static u64 trap_ecam_page(u16 bdf)
{
	struct partition *r = root_partition;
	u64 page = ecam_page(bdf);
	bool ok;

	if (!page || !vmm_map_mmio(hpa(page), PAGE_SIZE))
		return 0;
	spin_lock(&r->lock);
	ok = pt_unmap(&r->npt, page, PAGE_SIZE) == PT_OK;
	spin_unlock(&r->lock);
	return ok ? page : 0;
}

void root_pci_protect(u16 bdf)
{
	struct protected_fn *f;

	if (nr_protected == MAX_PROTECTED || is_protected(bdf))
		return;
	f = &protected[nr_protected++];
	f->bdf = bdf;
	f->ecam = trap_ecam_page(bdf);
	virt_root_trap_ports(PCI_CONFIG_ADDRESS, PCI_CONFIG_DATA + 3);
	pr_info("root: PCI function %02x:%02x.%u is read-only to the root "
		"(ports 0xcf8/0xcfc%s)", bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7,
		f->ecam ? " and its ECAM page" : "");
}

static u32 port_in(u16 port, u32 size)
{
	return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

static void port_out(u16 port, u32 size, u32 val)
{
	if (size == 1)
		outb(port, (u8)val);
	else if (size == 2)
		outw(port, (u16)val);
	else
		outl(port, val);
}

bool root_pci_port_io(u16 port, u32 size, bool in, u32 *val)
{
	u32 *cf8 = &cf8_shadow[this_cpu_index()], reg;
	u16 bdf;

	if (port == PCI_CONFIG_ADDRESS && size == 4) {	/* the address */
		if (in)
			*val = *cf8;
		else
			*cf8 = *val;
		return true;
	}
	spin_lock(&port_lock);
	if (pci_cf8_target(*cf8, port, &bdf, &reg)) {
		if (!in && is_protected(bdf)) {
			spin_unlock(&port_lock);
			refused(bdf, reg);
			return true;
		}
		outl(PCI_CONFIG_ADDRESS, *cf8);
	}
	/* A data port with the address off, or 0xCF9 (reset): as asked. */
	if (in)
		*val = port_in(port, size);
	else
		port_out(port, size, *val);
	spin_unlock(&port_lock);
	return true;
}

static u64 ecam_read(const volatile void *p, u32 size)
{
	switch (size) {
	case 1: return *(const volatile u8 *)p;
	case 2: return *(const volatile u16 *)p;
	case 4: return *(const volatile u32 *)p;
	default: return *(const volatile u64 *)p;
	}
}

bool root_pci_ecam_mmio(struct vp *vp, u64 gpa_)
{
	struct mmio_insn in;
	u64 val = 0;
	u32 i;

	for (i = 0; i < nr_protected; i++)
		if (protected[i].ecam && protected[i].ecam == (gpa_ & PAGE_MASK))
			break;
	if (i == nr_protected || !mmio_decode(vp, &in))
		return false;
	if (in.write)
		refused(protected[i].bdf, (u32)(gpa_ & 0xfff));
	else
		val = ecam_read(hpa_to_hva(hpa(gpa_)), in.size);
	mmio_complete(vp, &in, val);
	return true;
}
