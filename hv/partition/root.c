/*
 * The root partition. At boot it gets an identity NPT over the whole
 * physical address space except the hypervisor's memory, one VP per CPU,
 * and module 0 loaded as a Multiboot 1 kernel. Afterwards this file
 * keeps the root's NPT in step with deposits and withdrawals.
 */
#include <hv/exit.h>
#include <hv/hvmem.h>
#include <hv/iommu.h>
#include <hv/linuxboot.h>
#include <hv/log.h>
#include <hv/msr.h>
#include <hv/mbimage.h>
#include <hv/mm.h>
#include <hv/percpu.h>
#include <hv/root.h>
#include <hv/rootapic.h>
#include <hv/rootioapic.h>
#include <hv/string.h>
#include <hv/virt.h>
#include <hv/vp.h>
#include <x86/cpu.h>
#include <x86/lapic.h>
#include <x86/tsc.h>

#define ROOT_NPT_FLAGS (PT_WRITE | PT_EXEC | PT_USER)
#define MB1_BOOT_INFO_PA 0x10000ull	/* where the root's MB1 info goes */
#define MB1_BOOT_INFO_SIZE 0x4000ull
#define MB1_LOADER_MAGIC 0x2badb002u
#define LINUX_BOOT_PARAMS_PA 0x10000ull	/* the zero page */
#define LINUX_CMDLINE_PA 0x11000ull
#define LINUX_LOW_LIMIT (16 * SZ_1M)	/* kernels go at or above this */

u64 acpi_rsdp_pa;	/* set by smp_discover when it scanned for it */


static u32 npt_large_flags(void)
{
	return PT_LARGE_2M | (cpu_has_1g_pages() ? PT_LARGE_1G : 0);
}

/* Guest-physical reach of the root: the CPU's physical address width. */
static u64 root_npt_top(void)
{
	u32 bits = cpuid(0x80000000u, 0).eax >= 0x80000008u ?
			   cpuid(0x80000008u, 0).eax & 0xff : 36;

	return 1ull << MIN(bits, 46u);
}

static bool hypervisor_owned(enum mem_type t)
{
	return t == MEM_HV_IMAGE || t == MEM_HV_POOL;
}

static void map_root_range(struct partition *r, u64 start, u64 end)
{
	if (start < end && pt_map(&r->npt, start, hpa(start), end - start,
				  ROOT_NPT_FLAGS | npt_large_flags()))
		hv_fatal(HV_EXIT_NO_MEMORY, "root: cannot build its NPT");
}

static void build_root_npt(struct partition *r)
{
	struct pt_pages pages = pt_pages_from_palloc(&hv_pool);
	u64 cursor = 0;

	if (pt_init(&r->npt, &pages))
		hv_fatal(HV_EXIT_NO_MEMORY, "root: no memory for its NPT");
	for (u32 i = 0; i < hv_memmap.n; i++) {
		const struct mem_region *m = &hv_memmap.r[i];

		if (!hypervisor_owned(m->type))
			continue;
		map_root_range(r, cursor, m->base);
		cursor = m->end;
	}
	map_root_range(r, cursor, root_npt_top());
	r->npt_ready = true;
}

/* End of the highest RAM the root could name (not firmware ranges). */
static u64 ram_end(void)
{
	u64 end = 0;

	for (u32 i = 0; i < hv_memmap.n; i++) {
		const struct mem_region *m = &hv_memmap.r[i];

		if (m->type == MEM_RAM || m->type == MEM_BOOT_MODULE ||
		    m->type == MEM_HV_POOL || m->type == MEM_HV_IMAGE)
			end = MAX(end, m->end);
	}
	return end;
}

static void build_frame_table(void)
{
	u64 nframes = ram_end() / PAGE_SIZE;
	u64 pages = ALIGN_UP(nframes * sizeof(struct frame), PAGE_SIZE) /
		    PAGE_SIZE;
	hpa_t store = page_alloc(pages);

	if (!hpa_valid(store))
		hv_fatal(HV_EXIT_NO_MEMORY, "root: no memory for the frame "
			 "table (%llu pages); raise hv_mem=", pages);
	frame_table_init(&frames, hpa_to_hva(store), nframes);
	for (u32 i = 0; i < hv_memmap.n; i++) {
		const struct mem_region *m = &hv_memmap.r[i];

		if (m->type == MEM_RAM || m->type == MEM_BOOT_MODULE)
			frame_set_root(&frames, m->base / PAGE_SIZE,
				       (m->end - m->base) / PAGE_SIZE);
	}
}

static struct partition *new_root(void)
{
	hpa_t page = page_alloc(1);
	struct partition *r;

	if (!hpa_valid(page))
		hv_fatal(HV_EXIT_NO_MEMORY, "root: no memory");
	r = hpa_to_hva(page);
	r->id = HV_ROOT_PARTITION_ID;
	r->slot = 0;
	r->is_root = true;
	r->privileges = cpuid_root_privileges();
	r->refs = 1;
	r->lock = (struct spinlock)SPINLOCK_INIT;
	r->state = PARTITION_INITIALIZED;
	r->ref_time_tsc0 = rdtsc();
	pool_init(&r->pool);
	return r;
}

/* Room for everything XSAVE can hold, to park the root's FPU state. */
static void *xsave_area(void)
{
	u64 size, pages;
	hpa_t area;

	if (!(cpuid(1, 0).ecx & BIT(26)))
		return NULL;
	size = cpuid(0xd, 0).ecx;
	pages = ALIGN_UP(MAX(size, 576ull), PAGE_SIZE) / PAGE_SIZE;
	area = page_alloc(pages);
	if (!hpa_valid(area))
		hv_fatal(HV_EXIT_NO_MEMORY, "root: no memory for XSAVE areas");
	return hpa_to_hva(area);
}

static void create_root_vps(struct partition *r)
{
	for (u32 i = 0; i < nr_cpus; i++) {
		struct vp *vp;

		if (vp_create(r, i, &vp))
			hv_fatal(HV_EXIT_NO_MEMORY, "root: no memory for VP %u", i);
		vp->xsave = xsave_area();
		r->vps[i] = vp;
		cpus[i].root_vp = vp;
	}
}

/* Every page the root kernel lands on must be the root's own RAM. */
static bool root_owns(u64 base, u64 size)
{
	for (u64 pa = ALIGN_DOWN(base, PAGE_SIZE); pa < base + size;
	     pa += PAGE_SIZE)
		if (frame_owner(&frames, pa >> PAGE_SHIFT) != FRAME_ROOT)
			return false;
	return size != 0;
}

static bool overlaps_module(const struct boot_info *bi, u64 base, u64 size)
{
	for (u32 i = 0; i < bi->n_mod; i++) {
		u64 m = hpa_u64(bi->mods[i].start);

		if (base < m + bi->mods[i].size && m < base + size)
			return true;
	}
	return false;
}

static u64 load_multiboot_kernel(const struct boot_info *bi)
{
	const struct boot_module *k = &bi->mods[0];
	const u8 *img = hpa_to_hva(k->start);
	struct mbimage_plan plan;
	const char *err = mbimage_parse(img, k->size, &plan);

	if (err)
		hv_fatal(HV_EXIT_BAD_CONFIG, "root kernel (module 0): %s", err);
	for (u32 i = 0; i < plan.nseg; i++) {
		const struct mbimage_segment *s = &plan.seg[i];

		if (!root_owns(s->paddr, s->memsz) ||
		    overlaps_module(bi, s->paddr, s->memsz))
			hv_fatal(HV_EXIT_BAD_CONFIG, "root kernel: segment at "
				 "0x%llx+0x%llx is not free root RAM",
				 s->paddr, s->memsz);
	}
	for (u32 i = 0; i < plan.nseg; i++) {
		const struct mbimage_segment *s = &plan.seg[i];
		u8 *dst = hpa_to_hva(hpa(s->paddr));

		memcpy(dst, img + s->file_off, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	return plan.entry;
}

/* The root's view of memory, in E820 types. */
static u32 root_mem_type(enum mem_type t)
{
	switch (t) {
	case MEM_RAM:
	case MEM_BOOT_MODULE: return 1;
	case MEM_ACPI: return 3;
	case MEM_NVS: return 4;
	case MEM_UNUSABLE: return 5;
	default: return 2;	/* firmware reserved and the hypervisor's */
	}
}

struct mb1_writer {
	u8 *base;
	u64 pa, used;
};

static u64 mb1_put(struct mb1_writer *w, const void *data, u64 len)
{
	u64 at = w->used;

	if (w->used + len > MB1_BOOT_INFO_SIZE)
		hv_fatal(HV_EXIT_BAD_CONFIG, "root boot information too large");
	memcpy(w->base + at, data, len);
	w->used = ALIGN_UP(w->used + len, 8);
	return w->pa + at;
}

static u64 mb1_mmap(struct mb1_writer *w, u32 *len)
{
	u64 start = w->pa + w->used;

	for (u32 i = 0; i < hv_memmap.n; i++) {
		const struct mem_region *m = &hv_memmap.r[i];
		struct { u32 size; u64 base, len; u32 type; } __packed e = {
			20, m->base, m->end - m->base, root_mem_type(m->type)
		};
		mb1_put(w, &e, sizeof(e));	/* 24 bytes: stays packed */
	}
	*len = (u32)(hv_memmap.n * 24);
	return start;
}

/* Multiboot 1 information for the root, in its own low RAM. */
static u32 build_root_mb1_info(const struct boot_info *bi)
{
	struct mb1_writer w = { hpa_to_hva(hpa(MB1_BOOT_INFO_PA)),
				MB1_BOOT_INFO_PA, 0 };
	u32 info[22] = { 0 };
	u32 mods[4 * BOOT_MAX_MODULES], nmods = 0, mmap_len;

	if (!root_owns(MB1_BOOT_INFO_PA, MB1_BOOT_INFO_SIZE) ||
	    overlaps_module(bi, MB1_BOOT_INFO_PA, MB1_BOOT_INFO_SIZE))
		hv_fatal(HV_EXIT_BAD_CONFIG, "root: 0x%llx is not free RAM",
			 MB1_BOOT_INFO_PA);
	w.used = sizeof(info);
	info[0] = BIT(0) | BIT(2) | BIT(3) | BIT(6) | BIT(9);
	info[1] = 639;
	info[2] = (u32)(memmap_total(&hv_memmap, MEM_RAM) >> 10);
	info[4] = (u32)mb1_put(&w, bi->mods[0].cmdline,
			       strlen(bi->mods[0].cmdline) + 1);
	for (u32 i = 1; i < bi->n_mod; i++, nmods++) {
		const struct boot_module *m = &bi->mods[i];

		mods[4 * nmods] = (u32)hpa_u64(m->start);
		mods[4 * nmods + 1] = (u32)(hpa_u64(m->start) + m->size);
		mods[4 * nmods + 2] = (u32)mb1_put(&w, m->cmdline,
						   strlen(m->cmdline) + 1);
		mods[4 * nmods + 3] = 0;
	}
	info[5] = nmods;
	info[6] = nmods ? (u32)mb1_put(&w, mods, nmods * 16) : 0;
	info[12] = (u32)mb1_mmap(&w, &mmap_len);
	info[11] = mmap_len;
	info[16] = (u32)mb1_put(&w, "microhv", 8);
	memcpy(w.base, info, sizeof(info));
	return (u32)MB1_BOOT_INFO_PA;
}

static bool free_root_range(const struct boot_info *bi, u64 base, u64 size,
			    int except_module)
{
	for (u32 i = 0; i < bi->n_mod; i++) {
		u64 m = hpa_u64(bi->mods[i].start);

		if ((int)i != except_module && base < m + bi->mods[i].size &&
		    m < base + size)
			return false;
	}
	return root_owns(base, size);
}

/* Where the kernel runs: its preferred address, else the first aligned
 * free root RAM above 16 MiB (below 4 GiB: code32_start is 32 bits). */
static u64 place_kernel(const struct boot_info *bi,
			const struct linux_image *li)
{
	u64 a = li->pref_address;

	if (a >= LINUX_LOW_LIMIT && free_root_range(bi, a, li->init_size, -1))
		return a;
	if (!li->relocatable)
		return 0;
	for (a = ALIGN_UP(LINUX_LOW_LIMIT, li->alignment);
	     a + li->init_size <= SZ_4G; a += li->alignment)
		if (free_root_range(bi, a, li->init_size, -1))
			return a;
	return 0;
}

/* The initrd may not sit where the kernel decompresses: move it up. */
static u64 place_initrd(const struct boot_info *bi, u64 kbase, u64 ksize,
			u64 limit)
{
	const struct boot_module *m = &bi->mods[1];
	u64 at = hpa_u64(m->start), size = ALIGN_UP(m->size, PAGE_SIZE);

	if (!(at < kbase + ksize && kbase < at + size) && at + size <= limit)
		return at;
	for (u32 i = hv_memmap.n; i-- > 0;) {
		const struct mem_region *r = &hv_memmap.r[i];
		u64 end = MIN(r->end, limit), cand;

		if ((r->type != MEM_RAM && r->type != MEM_BOOT_MODULE) ||
		    end < r->base + size)
			continue;
		cand = ALIGN_DOWN(end - size, PAGE_SIZE);
		if (cand >= r->base && !(cand < kbase + ksize &&
					 kbase < cand + size) &&
		    free_root_range(bi, cand, size, 1)) {
			memmove(hpa_to_hva(hpa(cand)), hpa_to_hva(m->start),
				m->size);
			return cand;
		}
	}
	hv_fatal(HV_EXIT_BAD_CONFIG, "root: no room to move the initrd "
		 "out of the kernel's way");
}

static u32 linux_e820(struct linux_e820 *e)
{
	u32 n = 0;

	for (u32 i = 0; i < hv_memmap.n && n < LINUX_E820_MAX; i++) {
		const struct mem_region *m = &hv_memmap.r[i];
		u32 type = root_mem_type(m->type);

		if (n && e[n - 1].type == type &&
		    e[n - 1].addr + e[n - 1].size == m->base)
			e[n - 1].size += m->end - m->base;
		else
			e[n++] = (struct linux_e820){ m->base,
						      m->end - m->base, type };
	}
	return n;
}

static void load_linux_kernel(const struct boot_info *bi, struct vp *vp)
{
	const struct boot_module *k = &bi->mods[0];
	const u8 *img = hpa_to_hva(k->start);
	static struct linux_e820 e820[LINUX_E820_MAX];
	struct linux_image li;
	struct linux_boot_args a = { .cmdline_addr = LINUX_CMDLINE_PA,
				     .rsdp_addr = acpi_rsdp_pa };
	const char *err = linux_image_parse(img, k->size, &li);

	if (err)
		hv_fatal(HV_EXIT_BAD_CONFIG, "root kernel (module 0): %s", err);
	a.kernel_addr = place_kernel(bi, &li);
	if (!a.kernel_addr)
		hv_fatal(HV_EXIT_BAD_CONFIG, "root: no room for a %llu MiB "
			 "kernel", li.init_size >> 20);
	memcpy(hpa_to_hva(hpa(a.kernel_addr)), img + li.setup_size,
	       li.kernel_size);
	if (bi->n_mod > 1) {
		a.initrd_size = bi->mods[1].size;
		a.initrd_addr = place_initrd(bi, a.kernel_addr, li.init_size,
					     MIN((u64)li.initrd_max + 1, SZ_4G));
	}
	if (!free_root_range(bi, LINUX_BOOT_PARAMS_PA, 2 * PAGE_SIZE, -1))
		hv_fatal(HV_EXIT_BAD_CONFIG, "root: 0x%llx is not free RAM",
			 LINUX_BOOT_PARAMS_PA);
	hv_strlcpy(hpa_to_hva(hpa(LINUX_CMDLINE_PA)), k->cmdline, PAGE_SIZE);
	a.e820 = e820;
	a.n_e820 = linux_e820(e820);
	err = linux_boot_params(hpa_to_hva(hpa(LINUX_BOOT_PARAMS_PA)), img, &a);
	if (err)
		hv_fatal(HV_EXIT_BAD_CONFIG, "root: %s", err);
	/* 32-bit boot protocol: flat segments, ESI = boot_params. */
	virt_vp_load_flat32(vp, a.kernel_addr, 0, 0);
	vp->gprs.rsi = LINUX_BOOT_PARAMS_PA;
	pr_info("root: Linux (boot protocol %u.%02u) at 0x%llx, initrd "
		"0x%llx+%llu KiB, '%s'", li.version >> 8, li.version & 0xff,
		a.kernel_addr, a.initrd_addr, a.initrd_size >> 10, k->cmdline);
}

static bool is_bzimage(const struct boot_module *m)
{
	const u8 *img = hpa_to_hva(m->start);

	return m->size > 0x210 && !memcmp(img + 0x202, "HdrS", 4);
}

void root_build(const struct boot_info *bi)
{
	struct partition *r;

	if (!bi->n_mod)
		return;
	memmap_release(&hv_memmap, MEM_HV_BOOT);	/* APs are up */
	root_msr_capture_boot_mtrrs();
	build_frame_table();
	r = new_root();
	partition_register_root(r);
	build_root_npt(r);
	root_apic_init();
	root_ioapic_init();
	create_root_vps(r);
	pr_info("root: partition %llu, %u VPs, NPT %llu table pages", r->id,
		nr_cpus, pt_table_pages(&r->npt));
	if (is_bzimage(&bi->mods[0])) {
		load_linux_kernel(bi, cpus[0].root_vp);
	} else {
		u64 entry = load_multiboot_kernel(bi);

		virt_vp_load_flat32(cpus[0].root_vp, entry, MB1_LOADER_MAGIC,
				    build_root_mb1_info(bi));
		pr_info("root: Multiboot kernel entry 0x%llx, '%s'", entry,
			bi->mods[0].cmdline);
	}
	cpus[0].root_vp->started = true;
}

static void root_npt_update(u64 pfn, bool present)
{
	struct partition *r = root_partition;
	u64 pa = pfn << PAGE_SHIFT;

	hpa_t freed[2];
	u32 n = 0;

	spin_lock(&r->lock);
	if (present) {
		pt_map(&r->npt, pa, hpa(pa), PAGE_SIZE, ROOT_NPT_FLAGS);
		/* Large pages again where the whole span is the root's. */
		pt_merge(&r->npt, pa, npt_large_flags(), freed, &n);
	} else {
		pt_unmap(&r->npt, pa, PAGE_SIZE);
	}
	spin_unlock(&r->lock);
	if (!present || n)
		partition_flush_tlbs(r);	/* before tables are reused */
	for (u32 i = 0; i < n; i++)
		pt_free_table(&r->npt, freed[i]);
}

/*
 * The caller flushes the root's TLBs before it uses the page; devices
 * lose it before this returns (iommu_root_unmap waits for that).
 */
bool root_give_page(struct partition *to, u64 pfn)
{
	struct partition *r = root_partition;

	enum pt_status s;

	if (!frame_deposit(&frames, pfn, (u16)(to->slot + 1)))
		return false;
	if (!iommu_root_unmap(pfn))
		goto err_frame;
	spin_lock(&r->lock);
	s = pt_unmap(&r->npt, pfn << PAGE_SHIFT, PAGE_SIZE);
	spin_unlock(&r->lock);
	if (s)	/* no table page to split a large mapping: undo */
		goto err_iommu;
	return true;

err_iommu:
	iommu_root_map(pfn);
err_frame:
	frame_withdraw(&frames, pfn, (u16)(to->slot + 1));
	return false;
}

void root_reclaim_page(struct partition *p, hpa_t page)
{
	u64 pfn = hpa_u64(page) >> PAGE_SHIFT;

	/* Whatever the hypervisor kept there is not the root's to read. */
	memset(hpa_to_hva(page), 0, PAGE_SIZE);
	if (frame_withdraw(&frames, pfn, (u16)(p->slot + 1))) {
		root_npt_update(pfn, true);
		iommu_root_map(pfn);
	}
}

bool root_share_page(hpa_t page)
{
	struct partition *r = root_partition;
	bool ok;

	spin_lock(&r->lock);
	ok = pt_map(&r->npt, hpa_u64(page), page, PAGE_SIZE,
		    PT_WRITE | PT_USER) == PT_OK;
	spin_unlock(&r->lock);
	return ok;
}

void root_unshare_page(hpa_t page)
{
	root_npt_update(hpa_u64(page) >> PAGE_SHIFT, false);
}

void tlb_shootdown(struct partition *p)
{
	u32 me = this_cpu_index();
	bool asked[HV_MAX_CPUS] = { false };

	mfence();
	for (u32 i = 0; i < nr_cpus; i++) {
		if (i == me || READ_ONCE(cpus[i].in_guest) != p)
			continue;
		cpu_send_nmi(i, NMI_FLUSH);
		asked[i] = true;
	}
	/* Done when each has left guest mode or taken the NMI. */
	for (u32 i = 0; i < nr_cpus; i++) {
		struct percpu *c = &cpus[i];

		while (asked[i] && (READ_ONCE(c->nmi_reasons) & NMI_FLUSH) &&
		       READ_ONCE(c->in_guest) == p)
			cpu_relax();
	}
}
