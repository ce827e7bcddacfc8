/* Carving the hypervisor's memory out of what the firmware reported. */
#include <hv/exit.h>
#include <hv/hvmem.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/string.h>
#include <hv/vmm.h>

struct memmap hv_memmap;
struct palloc hv_pool;
static hpa_t ap_trampoline = INVALID_HPA;

extern char __image_start[], __image_end[];

#define POOL_MIN (32 * SZ_1M)
#define POOL_MAX (256 * SZ_1M)
#define LOW_MEM_END 0xa0000ull

static u64 auto_pool_size(u64 ram)
{
	u64 size = ALIGN_UP(ram / 16, SZ_2M);

	return MIN(MAX(size, POOL_MIN), POOL_MAX);
}

/*
 * The highest two RAM pages under 640 KiB (never page 0) for the AP
 * start: the trampoline code and its per-AP parameters.
 */
static void reserve_trampoline(void)
{
	for (u64 pa = LOW_MEM_END - 2 * PAGE_SIZE; pa >= PAGE_SIZE;
	     pa -= PAGE_SIZE) {
		if (memmap_type_at(&hv_memmap, pa) == MEM_RAM &&
		    memmap_type_at(&hv_memmap, pa + PAGE_SIZE) == MEM_RAM &&
		    memmap_claim(&hv_memmap, pa, 2 * PAGE_SIZE, MEM_HV_BOOT)) {
			ap_trampoline = hpa(pa);
			return;
		}
	}
	hv_fatal(HV_EXIT_NO_MEMORY,
		 "no free RAM below 640 KiB to start the other CPUs");
}

static void claim_boot_ranges(const struct boot_info *bi)
{
	u64 start = (u64)(uintptr_t)__image_start;
	u64 size = (u64)(uintptr_t)__image_end - start;

	if (!memmap_claim(&hv_memmap, start, size, MEM_HV_IMAGE))
		hv_fatal(HV_EXIT_BAD_CONFIG,
			 "the loader put microhv at 0x%llx outside usable RAM",
			 start);
	for (u32 i = 0; i < bi->n_mod; i++) {
		const struct boot_module *m = &bi->mods[i];

		if (!memmap_claim(&hv_memmap, hpa_u64(m->start), m->size,
				  MEM_BOOT_MODULE))
			hv_fatal(HV_EXIT_BAD_CONFIG,
				 "module %u at 0x%llx is not in usable RAM", i,
				 hpa_u64(m->start));
	}
	reserve_trampoline();
}

static void print_map(void)
{
	for (u32 i = 0; i < hv_memmap.n; i++) {
		const struct mem_region *r = &hv_memmap.r[i];

		pr_debug("mem: [%016llx-%016llx) %s", r->base, r->end,
			 mem_type_name(r->type));
	}
}

static u64 ram_above_4g(void)
{
	u64 sum = 0;

	for (u32 i = 0; i < hv_memmap.n; i++) {
		const struct mem_region *r = &hv_memmap.r[i];

		if (r->type != MEM_RESERVED && r->type != MEM_ACPI &&
		    r->type != MEM_NVS && r->type != MEM_UNUSABLE &&
		    r->end > SZ_4G)
			sum += r->end - MAX(r->base, SZ_4G);
	}
	return sum;
}

static void carve_pool(u64 size, u64 ceiling)
{
	struct mem_region pieces[PALLOC_MAX_REGIONS];
	u32 n = memmap_take_top(&hv_memmap, size, SZ_1M, ceiling, MEM_HV_POOL,
				pieces, ARRAY_SIZE(pieces));
	u64 top = 0;

	if (!n)
		hv_fatal(HV_EXIT_NO_MEMORY,
			 "not enough RAM for a %llu MiB hypervisor pool "
			 "(hv_mem=)", size >> 20);
	for (u32 i = 0; i < n; i++)
		top = MAX(top, pieces[i].end);
	if (top > SZ_4G && !vmm_boot_map_high(top))
		hv_fatal(HV_EXIT_PANIC, "cannot map the pool at 0x%llx", top);
	palloc_init(&hv_pool);
	for (u32 i = 0; i < n; i++) {
		u64 pages = (pieces[i].end - pieces[i].base) / PAGE_SIZE;

		if (!palloc_add_region(&hv_pool, hpa(pieces[i].base), pages))
			hv_fatal(HV_EXIT_PANIC, "pool region rejected");
		pr_info("mem: hypervisor pool [%llx-%llx) %llu MiB",
			pieces[i].base, pieces[i].end,
			(pieces[i].end - pieces[i].base) >> 20);
	}
}

void mem_init(const struct boot_info *bi, const struct hv_options *o)
{
	u64 ram, size, ceiling;

	if (!memmap_init(&hv_memmap, bi->mem, bi->n_mem))
		hv_fatal(HV_EXIT_BAD_CONFIG, "firmware memory map too large");
	ram = memmap_total(&hv_memmap, MEM_RAM);
	claim_boot_ranges(bi);
	size = o->hv_mem ? o->hv_mem : auto_pool_size(ram);
	/* Early page tables reach past 4 GiB only with 1 GiB pages. */
	ceiling = cpu_has_1g_pages() ? 512 * SZ_1G : SZ_4G;
	carve_pool(size, ceiling);
	print_map();
	pr_info("mem: RAM %llu MiB, %llu MiB above 4 GiB; root partition "
		"gets %llu MiB", ram >> 20, ram_above_4g() >> 20,
		memmap_total(&hv_memmap, MEM_RAM) >> 20);
}

hpa_t mem_ap_trampoline_page(void)
{
	return ap_trampoline;
}

hpa_t page_alloc(u64 npages)
{
	hpa_t pa = palloc_alloc(&hv_pool, npages);

	if (hpa_valid(pa))
		memset(hpa_to_hva(pa), 0, npages * PAGE_SIZE);
	return pa;
}

void page_free(hpa_t pa, u64 npages)
{
	if (!palloc_free(&hv_pool, pa, npages))
		pr_err("mem: bad free of %llu pages at 0x%llx", npages,
		       hpa_u64(pa));
}

#define PAGE_TAG 0x6d6963726f68760aull	/* "microhv\n" */

bool mem_selftest(void)
{
	u64 before = palloc_free_pages(&hv_pool), n = 0, high = 0;
	hpa_t head = INVALID_HPA, pa;
	bool ok = true;

	/* Chain every free page through its own first word. */
	while (hpa_valid(pa = palloc_alloc(&hv_pool, 1))) {
		u64 *p = hpa_to_hva(pa);

		p[0] = hpa_u64(head);
		p[1] = hpa_u64(pa) ^ PAGE_TAG;
		p[511] = ~hpa_u64(pa);
		head = pa;
		n++;
		high += hpa_u64(pa) >= SZ_4G;
	}
	while (hpa_valid(head)) {
		u64 *p = hpa_to_hva(head);
		hpa_t next = hpa(p[0]);

		if (p[1] != (hpa_u64(head) ^ PAGE_TAG) ||
		    p[511] != ~hpa_u64(head) || !palloc_owns(&hv_pool, head))
			ok = false;
		if (!palloc_free(&hv_pool, head, 1))
			ok = false;
		head = next;
	}
	ok = ok && n == before && palloc_free_pages(&hv_pool) == before;
	pr_info("selftest mem: cycled %llu pages (%llu above 4 GiB): %s", n,
		high, ok ? "all intact, pool restored" : "FAILED");
	return ok;
}
