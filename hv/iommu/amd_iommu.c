/*
 * The AMD IOMMU: the root partition's devices reach only root memory.
 *
 * Boot: the IVRS names the IOMMUs. All of them share one device table
 * (every entry valid, translating, in domain ROOT_DOMAIN) and one v1
 * page table, the root's DMA domain, first built as a copy of the
 * root's NPT (so it never holds hypervisor memory) without the IOMMUs'
 * own registers. Each IOMMU has its own command buffer and event log.
 * Everything the IOMMUs read lives in the hypervisor's pool, which no
 * device can reach. The root cannot reprogram them: their registers
 * leave its NPT and the IVRS leaves its ACPI tables.
 *
 * Afterwards the domain follows the root's pages: a deposited page is
 * unmapped and the IOTLBs invalidated, with a completion wait, before
 * the hypervisor uses it; a withdrawn one comes back. Table pages that
 * fall empty are freed only after that wait, so no IOMMU can walk a
 * page the pool has handed out again.
 *
 * Faults are not interrupts here (the hypervisor takes none): the event
 * logs are read after every flush and whenever the root touches its
 * local APIC (iommu_poll), and each entry is logged.
 *
 * Lock: iommu.lock guards the domain, the device table, the rings and
 * the deferred table pages.
 */
#include <hv/acpi.h>
#include <hv/exit.h>
#include <hv/hvmem.h>
#include <hv/iommu.h>
#include <hv/ivrs.h>
#include <hv/log.h>
#include <hv/rootpci.h>
#include <hv/mm.h>
#include <hv/partition.h>
#include <hv/pgtable.h>
#include <hv/string.h>
#include <hv/vmm.h>
#include <x86/amd_iommu.h>
#include <x86/cpu.h>
#include <x86/tsc.h>

#define RING_LOG2 8ull			/* 256 entries: one page each */
#define CMD_ENTRIES (1u << RING_LOG2)
#define EVT_ENTRIES (1u << RING_LOG2)
#define ROOT_DOMAIN 1			/* Linux keeps 0 for itself too */
#define SYNC_TIMEOUT_US 100000
#define EVENTS_PER_POLL 16
#define DOMAIN_LARGE (PT_LARGE_2M | PT_LARGE_1G)

struct amd_iommu {
	volatile u8 *regs;
	u64 base;
	struct amdvi_cmd *cmds;
	u32 cmd_tail;			/* next free entry */
	volatile struct amdvi_event *events;
	u32 evt_head;			/* next entry to read */
};

static struct {
	struct spinlock lock;
	bool on;
	u32 n;
	struct amd_iommu units[IVRS_MAX_IOMMUS];
	struct pgtable dma;		/* the root's DMA domain */
	volatile u64 *sem;		/* COMPLETION_WAIT stores 1 here */
	hpa_t deferred;			/* freed tables awaiting a flush */
} iommu = { .lock = SPINLOCK_INIT, .deferred = INVALID_HPA };

static u64 reg_read(const struct amd_iommu *u, u32 off)
{
	return *(volatile u64 *)(u->regs + off);
}

static void reg_write(struct amd_iommu *u, u32 off, u64 v)
{
	*(volatile u64 *)(u->regs + off) = v;
}

static void *pool_pages(u64 n, const char *what)
{
	hpa_t p = page_alloc(n);

	if (!hpa_valid(p))
		hv_fatal(HV_EXIT_NO_MEMORY, "iommu: no memory for the %s", what);
	return hpa_to_hva(p);
}

/* Table pages: from the pool, back to it only after the next flush. */
static hpa_t table_alloc(void *ctx)
{
	return palloc_alloc(ctx, 1);
}

static void table_defer(void *ctx, hpa_t page)
{
	/* The link sits in entry 0: page aligned, so it is not present. */
	*(u64 *)hpa_to_hva(page) = hpa_u64(iommu.deferred);
	iommu.deferred = page;
}

static void release_deferred(void)
{
	while (hpa_valid(iommu.deferred)) {
		hpa_t page = iommu.deferred;

		iommu.deferred = hpa(*(u64 *)hpa_to_hva(page));
		palloc_free(&hv_pool, page, 1);
	}
}

/* --- commands --- */

static bool cmd_post(struct amd_iommu *u, u64 lo, u64 hi)
{
	u32 next = (u->cmd_tail + 1) % CMD_ENTRIES;

	for (u32 us = 0; next == reg_read(u, AMDVI_CMD_HEAD) / 16; us++) {
		if (us == SYNC_TIMEOUT_US)
			return false;
		udelay(1);
	}
	u->cmds[u->cmd_tail] = (struct amdvi_cmd){ lo, hi };
	mfence();	/* the command is in memory before the tail moves */
	u->cmd_tail = next;
	reg_write(u, AMDVI_CMD_TAIL, (u64)next * sizeof(struct amdvi_cmd));
	return true;
}

/* Waits until every command posted before has been carried out. */
static bool cmd_sync(struct amd_iommu *u)
{
	u64 sem = hpa_u64(hva_to_hpa((void *)iommu.sem));

	*iommu.sem = 0;
	if (!cmd_post(u, sem | CMD_CW_STORE |
		      CMD_COMPLETION_WAIT << CMD_OPCODE_SHIFT, 1))
		return false;
	for (u32 us = 0; READ_ONCE(*iommu.sem) != 1; us++) {
		if (us == SYNC_TIMEOUT_US)
			return false;
		udelay(1);
	}
	return true;
}

static void drain_events(struct amd_iommu *u);

/*
 * Drops every cached translation of the domain. Whole-domain rather
 * than per page: an unmap may have split a large page any IOTLB holds.
 */
static bool flush_domain(void)
{
	bool ok = true;

	for (u32 i = 0; i < iommu.n; i++) {
		struct amd_iommu *u = &iommu.units[i];

		ok = cmd_post(u, (u64)ROOT_DOMAIN << 32 |
			      CMD_INV_IOMMU_PAGES << CMD_OPCODE_SHIFT,
			      CMD_INV_ALL_ADDRESSES | CMD_INV_PDE |
			      CMD_INV_SIZE) && cmd_sync(u) && ok;
		drain_events(u);
	}
	if (ok)
		release_deferred();
	else	/* freed tables stay out of the pool: it may still walk them */
		pr_err("iommu: an invalidation did not complete");
	return ok;
}

/* --- the event log --- */

static bool event_empty(const volatile struct amdvi_event *e)
{
	return !(e->dw[0] | e->dw[1] | e->dw[2] | e->dw[3]);
}

/*
 * An entry is new when it is not zero: we zero each one we read. That
 * needs no tail register read per poll, and works with QEMU 7.2, whose
 * tail register never moves.
 */
static bool take_event(struct amd_iommu *u, struct amdvi_event *out)
{
	volatile struct amdvi_event *e = &u->events[u->evt_head];

	if (event_empty(e))
		return false;
	for (u32 i = 0; i < 4; i++) {
		out->dw[i] = e->dw[i];
		e->dw[i] = 0;
	}
	u->evt_head = (u->evt_head + 1) % EVT_ENTRIES;
	reg_write(u, AMDVI_EVT_HEAD, (u64)u->evt_head * 16);
	return true;
}

static void drain_events(struct amd_iommu *u)
{
	struct amdvi_event e;
	char line[128];
	u32 n = 0;

	while (take_event(u, &e)) {
		if (n++ >= EVENTS_PER_POLL)
			continue;
		amdvi_event_describe(&e, line, sizeof(line));
		/* A root device's doing, not the hypervisor's: info. */
		pr_info("iommu: %s", line);
	}
	if (n > EVENTS_PER_POLL)
		pr_info("iommu: %u more events", n - EVENTS_PER_POLL);
	if (n && (reg_read(u, AMDVI_STATUS) & AMDVI_STATUS_EVT_OVERFLOW)) {
		pr_info("iommu: the event log overflowed; events were lost");
		reg_write(u, AMDVI_STATUS, AMDVI_STATUS_EVT_OVERFLOW);
	}
}

void iommu_poll(void)
{
	if (!READ_ONCE(iommu.on) || !spin_trylock(&iommu.lock))
		return;		/* off, or another CPU is reading them */
	for (u32 i = 0; i < iommu.n; i++)
		drain_events(&iommu.units[i]);
	spin_unlock(&iommu.lock);
}

/* --- the root's pages --- */

bool iommu_root_unmap(u64 pfn)
{
	enum pt_status s;
	bool ok;

	if (!READ_ONCE(iommu.on))
		return true;
	spin_lock(&iommu.lock);
	s = pt_unmap(&iommu.dma, pfn << PAGE_SHIFT, PAGE_SIZE);
	ok = flush_domain() && s == PT_OK;
	spin_unlock(&iommu.lock);
	return ok;
}

void iommu_root_map(u64 pfn)
{
	u64 pa = pfn << PAGE_SHIFT;
	enum pt_status s;
	hpa_t freed[2];
	u32 n = 0;

	if (!READ_ONCE(iommu.on))
		return;
	spin_lock(&iommu.lock);
	s = pt_map(&iommu.dma, pa, hpa(pa), PAGE_SIZE, PT_WRITE);
	if (s == PT_OK)
		pt_merge(&iommu.dma, pa, DOMAIN_LARGE, freed, &n);
	for (u32 i = 0; i < n; i++)
		table_defer(NULL, freed[i]);
	flush_domain();
	spin_unlock(&iommu.lock);
	if (s)
		pr_warn("iommu: page 0x%llx stays out of the root's DMA "
			"domain (error %d)", pa, s);
}

/* --- boot --- */

static void no_iommu(enum iommu_mode mode, const char *why)
{
	if (mode == IOMMU_REQUIRED)
		hv_fatal(HV_EXIT_BAD_CONFIG, "iommu=required, but %s", why);
	pr_warn("iommu: %s: DMA from the root's devices is NOT isolated "
		"from hypervisor memory", why);
}

static bool mirror_leaf(const struct pt_leaf *l, void *ctx)
{
	enum pt_status *s = ctx;

	*s = pt_map(&iommu.dma, l->va, l->pa, l->size,
		    PT_WRITE | DOMAIN_LARGE);
	return *s == PT_OK;
}

/* The registers leave the root's NPT first, so the copy lacks them too. */
static void build_domain(struct partition *root, const struct ivrs_info *info)
{
	struct pt_pages pages = { table_alloc, table_defer, &hv_pool };
	enum pt_status s = PT_OK;

	for (u32 i = 0; i < info->n_iommus; i++)
		if (pt_unmap(&root->npt, info->iommus[i].mmio_base,
			     AMDVI_MMIO_SIZE))
			hv_fatal(HV_EXIT_NO_MEMORY, "iommu: cannot take its "
				 "registers out of the root's NPT");
	if (pt_init_iommu(&iommu.dma, &pages))
		hv_fatal(HV_EXIT_NO_MEMORY, "iommu: no memory for the DMA domain");
	pt_for_each_leaf(&root->npt, mirror_leaf, &s);
	if (s)
		hv_fatal(HV_EXIT_NO_MEMORY, "iommu: cannot build the DMA domain");
}

/*
 * All 65536 DeviceIDs, not only those the IVRS lists: a device it does
 * not name (hot-plugged, an SR-IOV function) still gets the root's
 * domain, and QEMU 7.2 reads entries past the table's end as if they
 * were in it (an invalid one lets the device through untranslated).
 * Interrupts: a device's MSI may not be INIT (it would reset a
 * hypervisor CPU) nor ExtINT; SMIs are target-aborted too (SysMgt 0).
 */
static hpa_t build_devtab(u32 *pages, bool intr_pass)
{
	u64 intr = intr_pass ? 0 : DTE_ROOT_INTERRUPTS;
	u32 entries = DTE_ENTRIES;
	struct amdvi_dte *dt;

	*pages = (u32)(entries / DTE_PER_PAGE);
	dt = pool_pages(*pages, "device table");
	for (u32 i = 0; i < entries; i++)
		dt[i] = (struct amdvi_dte){ {
			DTE_V | DTE_TV | 4ull << DTE_MODE_SHIFT |
			hpa_u64(iommu.dma.root) | DTE_IR | DTE_IW,
			ROOT_DOMAIN, intr, 0 } };
	return hva_to_hpa(dt);
}

static void start_unit(struct amd_iommu *u, u64 base, hpa_t devtab,
		       u32 devtab_pages)
{
	if (!vmm_map_mmio(hpa(base), AMDVI_MMIO_SIZE))
		hv_fatal(HV_EXIT_NO_MEMORY, "iommu: cannot map its registers");
	u->base = base;
	u->regs = (volatile u8 *)(uintptr_t)base;
	u->cmds = pool_pages(1, "command buffer");
	u->events = pool_pages(1, "event log");
	reg_write(u, AMDVI_CONTROL, 0);	/* whatever firmware left on */
	reg_write(u, AMDVI_DEVTAB_BASE, hpa_u64(devtab) | (devtab_pages - 1));
	reg_write(u, AMDVI_CMDBUF_BASE, hpa_u64(hva_to_hpa(u->cmds)) |
		  RING_LOG2 << AMDVI_LEN_SHIFT);
	reg_write(u, AMDVI_EVTLOG_BASE, hpa_u64(hva_to_hpa((void *)u->events)) |
		  RING_LOG2 << AMDVI_LEN_SHIFT);
	reg_write(u, AMDVI_CMD_HEAD, 0);
	reg_write(u, AMDVI_CMD_TAIL, 0);
	reg_write(u, AMDVI_EVT_HEAD, 0);
	reg_write(u, AMDVI_EVT_TAIL, 0);
	reg_write(u, AMDVI_CONTROL, AMDVI_CTL_IOMMU_EN | AMDVI_CTL_EVTLOG_EN |
		  AMDVI_CTL_CMDBUF_EN);
}

/* A stock root kernel that found the IVRS would drive the IOMMU itself. */
static void hide_ivrs(u64 ivrs_pa)
{
	const struct acpi_table_header *rt =
		fw_read(acpi_tables.table_pa, sizeof(*rt), NULL);
	u64 first = ALIGN_DOWN(acpi_tables.table_pa, PAGE_SIZE);

	if (!rt)
		hv_fatal(HV_EXIT_PANIC, "iommu: the ACPI root table is gone");
	for (u64 pa = first; pa < acpi_tables.table_pa + rt->length;
	     pa += PAGE_SIZE)
		if (!vmm_set_code_page(hpa(pa), false))	/* RW, NX */
			hv_fatal(HV_EXIT_NO_MEMORY, "iommu: cannot edit the "
				 "ACPI root table");
	if (!acpi_root_remove((struct acpi_table_header *)rt,
			      acpi_tables.xsdt, ivrs_pa))
		hv_fatal(HV_EXIT_PANIC, "iommu: IVRS not in the root table");
}

static bool find_iommus(enum iommu_mode mode, struct ivrs_info *info,
			u64 *ivrs_pa)
{
	const struct acpi_table_header *t;
	const char *err;

	t = acpi_find_table(&acpi_tables, "IVRS", fw_read, NULL, ivrs_pa);
	if (!t) {
		no_iommu(mode, "no AMD IOMMU (no ACPI IVRS table)");
		return false;
	}
	err = ivrs_parse(t, info);
	if (err) {
		no_iommu(mode, err);
		return false;
	}
	if (info->n_over_limit)
		pr_warn("iommu: %u IOMMUs beyond the first %u left alone",
			info->n_over_limit, IVRS_MAX_IOMMUS);
	return true;
}

void iommu_init(struct partition *root, enum iommu_mode mode,
		bool intr_pass)
{
	struct ivrs_info info;
	u32 devtab_pages;
	hpa_t devtab;
	u64 ivrs_pa;

	if (mode == IOMMU_OFF) {
		no_iommu(mode, "iommu=off");
		return;
	}
	if (!find_iommus(mode, &info, &ivrs_pa))
		return;
	build_domain(root, &info);
	devtab = build_devtab(&devtab_pages, intr_pass);
	if (intr_pass)
		pr_warn("iommu: iommu_intr=pass: a device's MSI may still "
			"carry INIT or SMI to a CPU");
	iommu.sem = pool_pages(1, "completion semaphore");
	iommu.n = info.n_iommus;
	for (u32 i = 0; i < iommu.n; i++)
		start_unit(&iommu.units[i], info.iommus[i].mmio_base, devtab,
			   devtab_pages);
	if (!flush_domain())
		hv_fatal(HV_EXIT_PANIC, "iommu: the IOMMU at 0x%llx does not "
			 "carry out commands", iommu.units[0].base);
	hide_ivrs(ivrs_pa);
	for (u32 i = 0; i < iommu.n; i++)	/* its base stays where it is */
		if (!info.iommus[i].segment)
			root_pci_protect(info.iommus[i].devid);
	WRITE_ONCE(iommu.on, true);
	pr_info("iommu: %u AMD IOMMU(s), registers at 0x%llx; all DeviceIDs "
		"(the IVRS names up to 0x%x) in one DMA domain (%llu table "
		"pages): root DMA reaches only root memory", iommu.n,
		iommu.units[0].base, info.max_devid,
		pt_table_pages(&iommu.dma));
}
