/* Bitmap page allocator. Pure code: unit-tested on the host. */
#include <hv/mm.h>
#include <hv/palloc.h>
#include <hv/string.h>

#define BITS_PER_WORD 64

static bool test_bit(const u64 *map, u64 i)
{
	return map[i / BITS_PER_WORD] & BIT(i % BITS_PER_WORD);
}

static void set_bits(u64 *map, u64 i, u64 n, bool on)
{
	for (; n; n--, i++) {
		if (on)
			map[i / BITS_PER_WORD] |= BIT(i % BITS_PER_WORD);
		else
			map[i / BITS_PER_WORD] &= ~BIT(i % BITS_PER_WORD);
	}
}

void palloc_init(struct palloc *p)
{
	memset(p, 0, sizeof(*p));
}

static u64 bitmap_pages(u64 npages)
{
	u64 bytes = ALIGN_UP(npages, BITS_PER_WORD) / 8;

	return ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE;
}

static bool overlaps(const struct palloc *p, u64 base, u64 end)
{
	for (u32 i = 0; i < p->nregions; i++) {
		const struct palloc_region *r = &p->r[i];

		if (base < r->base + r->npages * PAGE_SIZE && r->base < end)
			return true;
	}
	return false;
}

bool palloc_add_region(struct palloc *p, hpa_t base, u64 npages)
{
	u64 b = hpa_u64(base), meta = bitmap_pages(npages);
	struct palloc_region *r;
	bool ok = false;

	spin_lock(&p->lock);
	if (!IS_ALIGNED(b, PAGE_SIZE) || npages <= meta ||
	    p->nregions == PALLOC_MAX_REGIONS ||
	    npages > (~0ull - b) / PAGE_SIZE ||
	    overlaps(p, b, b + npages * PAGE_SIZE))
		goto out;
	r = &p->r[p->nregions++];
	r->base = b;
	r->npages = npages;
	r->bitmap = hpa_to_hva(base);
	memset(r->bitmap, 0, meta * PAGE_SIZE);
	set_bits(r->bitmap, 0, meta, true);
	r->hint = meta;
	p->total_pages += npages - meta;
	p->free_pages += npages - meta;
	ok = true;
out:
	spin_unlock(&p->lock);
	return ok;
}

/* First run of n free pages at or after start, or r->npages. */
static u64 find_run(const struct palloc_region *r, u64 start, u64 n)
{
	u64 run = 0;

	for (u64 i = start; i < r->npages; i++) {
		if (!(i % BITS_PER_WORD) && r->bitmap[i / BITS_PER_WORD] ==
		    ~0ull && i + BITS_PER_WORD <= r->npages) {
			run = 0;
			i += BITS_PER_WORD - 1;
			continue;
		}
		run = test_bit(r->bitmap, i) ? 0 : run + 1;
		if (run == n)
			return i + 1 - n;
	}
	return r->npages;
}

static hpa_t alloc_in(struct palloc_region *r, u64 n)
{
	u64 i = find_run(r, r->hint, n);

	if (i == r->npages && r->hint)
		i = find_run(r, 0, n);
	if (i == r->npages)
		return INVALID_HPA;
	set_bits(r->bitmap, i, n, true);
	if (i == r->hint)
		r->hint = i + n;
	return hpa(r->base + i * PAGE_SIZE);
}

hpa_t palloc_alloc(struct palloc *p, u64 npages)
{
	hpa_t pa = INVALID_HPA;

	if (!npages)
		return pa;
	spin_lock(&p->lock);
	if (npages <= p->free_pages) {
		for (u32 i = 0; i < p->nregions && !hpa_valid(pa); i++)
			pa = alloc_in(&p->r[i], npages);
		if (hpa_valid(pa))
			p->free_pages -= npages;
	}
	spin_unlock(&p->lock);
	return pa;
}

static struct palloc_region *region_of(const struct palloc *p, u64 pa)
{
	for (u32 i = 0; i < p->nregions; i++) {
		const struct palloc_region *r = &p->r[i];

		if (pa >= r->base && pa < r->base + r->npages * PAGE_SIZE)
			return (struct palloc_region *)r;
	}
	return NULL;
}

bool palloc_free(struct palloc *p, hpa_t pa, u64 npages)
{
	u64 a = hpa_u64(pa), first;
	struct palloc_region *r;
	bool ok = false;

	spin_lock(&p->lock);
	r = region_of(p, a);
	if (!r || !npages || !IS_ALIGNED(a, PAGE_SIZE))
		goto out;
	first = (a - r->base) / PAGE_SIZE;
	if (first < bitmap_pages(r->npages) || npages > r->npages - first)
		goto out;
	for (u64 i = first; i < first + npages; i++)
		if (!test_bit(r->bitmap, i))
			goto out;
	set_bits(r->bitmap, first, npages, false);
	if (first < r->hint)
		r->hint = first;
	p->free_pages += npages;
	ok = true;
out:
	spin_unlock(&p->lock);
	return ok;
}

bool palloc_owns(const struct palloc *p, hpa_t pa)
{
	return region_of(p, hpa_u64(pa)) != NULL;
}

u64 palloc_free_pages(struct palloc *p)
{
	return READ_ONCE(p->free_pages);
}
