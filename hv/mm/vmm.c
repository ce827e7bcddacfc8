/* The hypervisor's own page tables (see hv/vmm.h for the layout). */
#include <hv/exit.h>
#include <hv/hvmem.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/pgtable.h>
#include <hv/vmm.h>
#include <x86/cpu.h>

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __image_end[];
extern u64 boot_pml4[512];

/*
 * The PML4 lives in the image, below 4 GiB, because application
 * processors load CR3 from 32-bit code on their way to long mode.
 */
static u64 hv_pml4[512] __aligned(4096);
static struct pgtable hv_pt;
static struct spinlock vmm_lock = SPINLOCK_INIT;
static bool live;

#define STACK_SLOT_PAGES 32ull
#define MAIN_STACK_PAGES 8ull
/* Page offsets in a slot; every gap between them is a guard page. */
static const u64 ist_page[3] = { 10, 12, 14 };
static const u64 guarded_page[HV_GUARDED_PAGES] = { 16, 18, 20, 22 };

void *hpa_to_hva(hpa_t pa)
{
	return (void *)(uintptr_t)hpa_u64(pa);
}

hpa_t hva_to_hpa(const void *va)
{
	u64 v = (u64)(uintptr_t)va;
	struct pt_leaf leaf;

	if (v < HV_STACKS_BASE)
		return hpa(v);
	if (!pt_lookup(&hv_pt, v, &leaf))
		return INVALID_HPA;
	return hpa_add(leaf.pa, v - leaf.va);
}

bool cpu_has_1g_pages(void)
{
	return cpuid(0x80000001, 0).edx & BIT(26);
}

bool vmm_boot_map_high(u64 end)
{
	u64 *pdpt = hpa_to_hva(hpa(boot_pml4[0] & PTE_ADDR));

	if (!cpu_has_1g_pages() || end > 512 * SZ_1G)
		return false;
	for (u64 gb = 4; gb * SZ_1G < end; gb++)
		pdpt[gb] = (gb * SZ_1G) | PTE_P | PTE_W | PTE_PS;
	flush_tlb_all();
	return true;
}

static u32 large_flags(void)
{
	return PT_LARGE_2M | (cpu_has_1g_pages() ? PT_LARGE_1G : 0);
}

static void map_or_die(u64 va, u64 pa, u64 size, u32 flags)
{
	enum pt_status s = pt_map(&hv_pt, va, hpa(pa), size, flags);

	if (s)
		hv_fatal(HV_EXIT_PANIC, "vmm: mapping %llx+%llx failed (%d)",
			 va, size, s);
}

static void map_image(void)
{
	u64 text = (u64)(uintptr_t)__text_start;
	u64 rodata = (u64)(uintptr_t)__rodata_start;
	u64 data = (u64)(uintptr_t)__data_start;
	u64 end = ALIGN_UP((u64)(uintptr_t)__image_end, PAGE_SIZE);

	map_or_die(text, text, (u64)(uintptr_t)__text_end - text, PT_EXEC);
	map_or_die(rodata, rodata, (u64)(uintptr_t)__rodata_end - rodata, 0);
	map_or_die(data, data, end - data, PT_WRITE);
}

static void map_region(const struct mem_region *r)
{
	u64 base = MAX(r->base, PAGE_SIZE);	/* keep NULL unmapped */
	u32 flags;

	switch (r->type) {
	case MEM_RAM:
	case MEM_HV_POOL:
	case MEM_BOOT_MODULE:
	case MEM_HV_BOOT:
		flags = PT_WRITE | large_flags();
		break;
	case MEM_ACPI:
	case MEM_NVS:
		flags = large_flags();
		break;
	default:
		return;	/* the image is mapped by section; the rest on demand */
	}
	if (base < r->end)
		map_or_die(base, base, r->end - base, flags);
}

void vmm_init(void)
{
	for (unsigned i = 0; i < 512; i++)
		hv_pml4[i] = 0;
	hv_pt.pages = pt_pages_from_palloc(&hv_pool);
	hv_pt.root = hva_to_hpa(hv_pml4);
	map_image();
	for (u32 i = 0; i < hv_memmap.n; i++)
		map_region(&hv_memmap.r[i]);
	write_cr3(hpa_u64(hv_pt.root));
	live = true;
	pr_info("vmm: own page tables live (%llu table pages)",
		pt_table_pages(&hv_pt));
}

u64 vmm_cr3(void)
{
	return hpa_u64(hv_pt.root);
}

static bool map_stack_pages(u64 va, u64 pages)
{
	for (u64 i = 0; i < pages; i++) {
		hpa_t pa = page_alloc(1);

		if (!hpa_valid(pa) || pt_map(&hv_pt, va + i * PAGE_SIZE, pa,
					     PAGE_SIZE, PT_WRITE))
			return false;
	}
	return true;
}

bool vmm_alloc_stacks(u32 cpu, struct cpu_stacks *out)
{
	u64 slot = HV_STACKS_BASE + cpu * STACK_SLOT_PAGES * PAGE_SIZE;
	bool ok;

	spin_lock(&vmm_lock);
	ok = map_stack_pages(slot + PAGE_SIZE, MAIN_STACK_PAGES);
	out->main_top = slot + (1 + MAIN_STACK_PAGES) * PAGE_SIZE;
	for (unsigned i = 0; ok && i < 3; i++) {
		ok = map_stack_pages(slot + ist_page[i] * PAGE_SIZE, 1);
		out->ist_top[i] = slot + (ist_page[i] + 1) * PAGE_SIZE;
	}
	spin_unlock(&vmm_lock);
	return ok;
}

void *vmm_alloc_guarded_page(u32 cpu, u32 n)
{
	u64 va;
	bool ok;

	if (n >= HV_GUARDED_PAGES)
		return NULL;
	va = HV_STACKS_BASE + (cpu * STACK_SLOT_PAGES + guarded_page[n]) *
			      PAGE_SIZE;
	spin_lock(&vmm_lock);
	ok = map_stack_pages(va, 1);
	spin_unlock(&vmm_lock);
	return ok ? (void *)(uintptr_t)va : NULL;
}

bool vmm_map_mmio(hpa_t pa, u64 size)
{
	u64 base = ALIGN_DOWN(hpa_u64(pa), PAGE_SIZE);
	u64 end = ALIGN_UP(hpa_u64(pa) + size, PAGE_SIZE);
	bool ok;

	spin_lock(&vmm_lock);
	ok = pt_map(&hv_pt, base, hpa(base), end - base, PT_WRITE | PT_UC) ==
	     PT_OK;
	spin_unlock(&vmm_lock);
	return ok;
}

bool vmm_set_code_page(hpa_t pa, bool code)
{
	u64 va = hpa_u64(pa);
	bool ok;

	spin_lock(&vmm_lock);
	ok = pt_unmap(&hv_pt, va, PAGE_SIZE) == PT_OK &&
	     pt_map(&hv_pt, va, pa, PAGE_SIZE, code ? PT_EXEC : PT_WRITE) ==
		     PT_OK;
	invlpg((void *)(uintptr_t)va);
	spin_unlock(&vmm_lock);
	return ok;
}

const void *fw_read(u64 pa, u64 len, void *ctx)
{
	u64 end = pa + len, page;
	struct pt_leaf leaf;
	bool ok = true;

	(void)ctx;
	if (!len || end < pa || pa < PAGE_SIZE || end > (1ull << 47))
		return NULL;
	if (!live)	/* boot map: identity below 4 GiB */
		return end <= SZ_4G ? (const void *)(uintptr_t)pa : NULL;
	spin_lock(&vmm_lock);
	for (page = ALIGN_DOWN(pa, PAGE_SIZE); ok && page < end;
	     page += PAGE_SIZE)
		if (!pt_lookup(&hv_pt, page, &leaf))
			ok = pt_map(&hv_pt, page, hpa(page), PAGE_SIZE, 0) ==
			     PT_OK;
	spin_unlock(&vmm_lock);
	return ok ? (const void *)(uintptr_t)pa : NULL;
}

struct wx_count {
	u64 leaves, wx;
};

static bool count_wx(const struct pt_leaf *leaf, void *ctx)
{
	struct wx_count *c = ctx;

	c->leaves++;
	if ((leaf->pte & PTE_W) && !(leaf->pte & PTE_NX)) {
		c->wx++;
		pr_err("vmm: W+X mapping at 0x%llx (%llu bytes)", leaf->va,
		       leaf->size);
	}
	return true;
}

u64 vmm_audit_wx(u64 *leaves)
{
	struct wx_count c = { 0, 0 };

	spin_lock(&vmm_lock);
	pt_for_each_leaf(&hv_pt, count_wx, &c);
	spin_unlock(&vmm_lock);
	*leaves = c.leaves;
	return c.wx;
}
