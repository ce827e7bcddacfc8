/* The root's I/O APICs, trapped and forwarded (see hv/rootioapic.h). */
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/mmio.h>
#include <hv/partition.h>
#include <hv/rootioapic.h>
#include <hv/smp.h>
#include <hv/spinlock.h>
#include <hv/vmm.h>
#include <hv/vp.h>

struct trapped_ioapic {
	u64 base;
	volatile u32 *mmio;
	u32 regsel;		/* the root's view of IOREGSEL */
	u64 said[4];		/* entries whose refusal was logged */
	struct spinlock lock;	/* IOREGSEL and the window go together */
};

static struct trapped_ioapic ioapics[ACPI_MAX_IOAPICS];
static u32 nr_ioapics;

void root_ioapic_init(void)
{
	const struct acpi_madt_info *m = smp_madt();
	struct partition *r = root_partition;

	for (u32 i = 0; i < m->n_ioapics; i++) {
		struct trapped_ioapic *io = &ioapics[nr_ioapics];
		u64 base = m->ioapics[i].base & PAGE_MASK;

		if (!vmm_map_mmio(hpa(base), PAGE_SIZE)) {
			pr_warn("root: cannot map the I/O APIC at 0x%llx", base);
			continue;
		}
		spin_lock(&r->lock);
		if (pt_unmap(&r->npt, base, PAGE_SIZE) != PT_OK) {
			spin_unlock(&r->lock);
			pr_warn("root: cannot trap the I/O APIC at 0x%llx", base);
			continue;
		}
		spin_unlock(&r->lock);
		io->base = base;
		io->mmio = (volatile u32 *)hpa_to_hva(hpa(base));
		io->lock = (struct spinlock)SPINLOCK_INIT;
		nr_ioapics++;
	}
}

static struct trapped_ioapic *find(u64 page)
{
	for (u32 i = 0; i < nr_ioapics; i++)
		if (ioapics[i].base == page)
			return &ioapics[i];
	return NULL;
}

static void window_write(struct trapped_ioapic *io, u32 val)
{
	u32 allowed = ioapic_filter_write(io->regsel, val);
	u32 entry = (io->regsel - IOAPIC_REDIR_BASE) / 2 % 256;

	if (allowed != val && !(io->said[entry / 64] & BIT(entry % 64))) {
		io->said[entry / 64] |= BIT(entry % 64);	/* once each */
		pr_info("root: I/O APIC 0x%llx entry %u: delivery mode %u "
			"refused; written masked", io->base,
			entry, (val >> 8) & 7);
	}
	io->mmio[IOAPIC_REGSEL / 4] = io->regsel;
	io->mmio[IOAPIC_WINDOW / 4] = allowed;
}

/* One 32-bit access at off; anything else reads as ones, writes nothing. */
static u32 access(struct trapped_ioapic *io, u32 off, bool write, u32 val)
{
	u32 r = ~0u;

	spin_lock(&io->lock);
	if (off == IOAPIC_REGSEL && write) {
		io->regsel = val & 0xff;
	} else if (off == IOAPIC_REGSEL) {
		r = io->regsel;
	} else if (off == IOAPIC_WINDOW && write) {
		window_write(io, val);
	} else if (off == IOAPIC_WINDOW) {
		io->mmio[IOAPIC_REGSEL / 4] = io->regsel;
		r = io->mmio[IOAPIC_WINDOW / 4];
	} else if (off == 0x40 && write) {	/* EOI (version 0x20 and up) */
		io->mmio[0x40 / 4] = val;
	}
	spin_unlock(&io->lock);
	return r;
}

bool root_ioapic_mmio(struct vp *vp, u64 gpa_)
{
	struct trapped_ioapic *io = find(gpa_ & PAGE_MASK);
	u32 off = (u32)(gpa_ & 0xfff);
	struct mmio_insn in;
	u64 val = ~0ull;

	if (!io || !mmio_decode(vp, &in))
		return false;
	if (in.size == 4 && !(off & 3))
		val = access(io, off, in.write, in.write ?
			     (u32)mmio_write_value(vp, &in) : 0);
	mmio_complete(vp, &in, val);
	return true;
}
