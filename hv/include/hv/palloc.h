/*
 * Physical page allocator: a bitmap per region of contiguous pages. One
 * instance is the hypervisor's own pool; later, each partition gets one
 * for the memory the root deposits for it. Pure code: it reaches page
 * contents only through hpa_to_hva(), so the unit tests run it on fake
 * memory.
 *
 * Each region keeps its bitmap in its own first pages.
 */
#ifndef HV_PALLOC_H
#define HV_PALLOC_H

#include <hv/spinlock.h>

#define PALLOC_MAX_REGIONS 16

struct palloc_region {
	u64 base;		/* physical, page aligned */
	u64 npages;		/* including the bitmap pages */
	u64 *bitmap;		/* 1 = allocated */
	u64 hint;		/* first page worth looking at */
};

struct palloc {
	struct spinlock lock;	/* protects everything below */
	u32 nregions;
	struct palloc_region r[PALLOC_MAX_REGIONS];
	u64 total_pages;	/* usable pages (bitmaps excluded) */
	u64 free_pages;
};

void palloc_init(struct palloc *p);

/*
 * Adds [base, base + npages pages). False if the region is too small to
 * hold its bitmap and one page, overlaps another, or there are too many.
 */
bool palloc_add_region(struct palloc *p, hpa_t base, u64 npages);

/* npages contiguous pages, or INVALID_HPA. Contents are not cleared. */
hpa_t palloc_alloc(struct palloc *p, u64 npages);

/*
 * Returns pages. False (and nothing changes) if any of them is not an
 * allocated page of this pool: a double free or a foreign page.
 */
bool palloc_free(struct palloc *p, hpa_t pa, u64 npages);

bool palloc_owns(const struct palloc *p, hpa_t pa);
u64 palloc_free_pages(struct palloc *p);

#endif
