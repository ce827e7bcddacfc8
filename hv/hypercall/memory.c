/*
 * Memory hypercalls: pools (Deposit, Withdraw, GetMemoryBalance) and a
 * child's guest-physical map (MapGpaPages, UnmapGpaPages). The frame
 * table decides which root pages may move; see hv/frame.h.
 */
#include <hv/log.h>
#include <hv/root.h>
#include "hypercall.h"

#define MAX_GFN (1ull << (46 - PAGE_SHIFT))
#define MAP_FLAGS_SUPPORTED (HV_MAP_GPA_PERMISSIONS_MASK | \
			     HV_MAP_GPA_ADJUSTABLE)

/* Self (the root's own pool) or a child. */
static struct partition *pool_target(struct hc *c, u64 id, enum hv_status *s)
{
	if (!hc_allowed(c, HV_PRIV_ACCESS_MEMORY_POOL)) {
		*s = HV_STATUS_ACCESS_DENIED;
		return NULL;
	}
	return hc_target(c, id, true, s);
}

static bool takes_deposits(const struct partition *p)
{
	return p->state == PARTITION_CREATED ||
	       p->state == PARTITION_INITIALIZED;
}

/*
 * Into the pool under the lock, while the partition still takes them:
 * a finalize or delete that began meanwhile would leave them stranded,
 * so they go back to the root instead.
 */
static enum hv_status pool_fill(struct partition *p,
				const struct hv_input_deposit_memory *in,
				u32 from, u32 to)
{
	bool ok;

	spin_lock(&p->lock);
	ok = takes_deposits(p);
	for (u32 j = from; ok && j < to; j++)
		pool_deposit(&p->pool, hpa(in->gpa_page_list[j] << PAGE_SHIFT));
	spin_unlock(&p->lock);
	for (u32 j = from; !ok && j < to; j++)
		root_reclaim_page(p, hpa(in->gpa_page_list[j] << PAGE_SHIFT));
	return ok ? HV_STATUS_SUCCESS : HV_STATUS_INVALID_PARTITION_STATE;
}

enum hv_status hc_deposit_memory(struct hc *c)
{
	const struct hv_input_deposit_memory *in = c->in;
	enum hv_status s = HV_STATUS_SUCCESS, fill;
	struct partition *p = pool_target(c, in->partition_id, &s);
	u32 i;

	if (!p)
		return s;
	if (!takes_deposits(p)) {	/* checked again under the lock */
		partition_put(p);
		return HV_STATUS_INVALID_PARTITION_STATE;
	}
	/* Take every page from the root first, flush once, then use them. */
	for (i = c->rep_start; i < c->rep_count; i++) {
		if (!root_give_page(p, in->gpa_page_list[i])) {
			s = HV_STATUS_INVALID_PARAMETER;
			break;
		}
	}
	partition_flush_tlbs(root_partition);
	fill = pool_fill(p, in, c->rep_start, i);
	c->reps_done = fill ? c->rep_start : i;
	partition_put(p);
	return fill ? fill : s;
}

enum hv_status hc_withdraw_memory(struct hc *c)
{
	const struct hv_input_withdraw_memory *in = c->in;
	u64 *out = c->out;
	enum hv_status s = HV_STATUS_SUCCESS;
	struct partition *p = pool_target(c, in->partition_id, &s);
	u32 i;

	if (!p)
		return s;
	for (i = c->rep_start; i < c->rep_count; i++) {
		hpa_t page = pool_withdraw(&p->pool);

		if (!hpa_valid(page)) {
			s = HV_STATUS_NO_RESOURCES;	/* the pool is empty */
			break;
		}
		root_reclaim_page(p, page);
		out[i] = hpa_u64(page) >> PAGE_SHIFT;
	}
	c->reps_done = i;
	partition_put(p);
	return s;
}

enum hv_status hc_get_memory_balance(struct hc *c)
{
	const struct hv_input_withdraw_memory *in = c->in;
	struct hv_output_get_memory_balance *out = c->out;
	enum hv_status s = HV_STATUS_SUCCESS;
	struct partition *p = pool_target(c, in->partition_id, &s);

	if (!p)
		return s;
	out->pages_available = pool_free_pages(&p->pool);
	out->pages_in_use = pool_total_pages(&p->pool) - out->pages_available;
	partition_put(p);
	return HV_STATUS_SUCCESS;
}

static u32 npt_flags(u32 map_flags)
{
	u32 f = PT_USER;

	if (map_flags & HV_MAP_GPA_WRITABLE)
		f |= PT_WRITE;
	if (map_flags & (HV_MAP_GPA_KERNEL_EXECUTABLE |
			 HV_MAP_GPA_USER_EXECUTABLE))
		f |= PT_EXEC;
	return f;
}

/* A child that can still take mappings, with its lock held on success. */
static struct partition *map_target(struct hc *c, u64 id, enum hv_status *s)
{
	struct partition *p;

	if (!hc_allowed(c, HV_PRIV_CREATE_PARTITIONS)) {
		*s = HV_STATUS_ACCESS_DENIED;
		return NULL;
	}
	p = hc_target(c, id, false, s);
	if (!p)
		return NULL;
	spin_lock(&p->lock);
	if (p->state != PARTITION_INITIALIZED) {
		spin_unlock(&p->lock);
		partition_put(p);
		*s = HV_STATUS_INVALID_PARTITION_STATE;
		return NULL;
	}
	return p;
}

/* [base, base + reps) lies in the guest-physical space, without wrapping. */
static bool gfn_range_ok(u64 base, u32 reps)
{
	return base < MAX_GFN && reps <= MAX_GFN - base;
}

static enum hv_status map_one(struct partition *p, u64 gfn, u64 pfn,
			      u32 flags)
{
	enum pt_status r;

	if (!frame_map(&frames, pfn))
		return HV_STATUS_INVALID_PARAMETER;	/* not the root's page */
	r = pt_map(&p->npt, gfn << PAGE_SHIFT, hpa(pfn << PAGE_SHIFT),
		   PAGE_SIZE, flags);
	if (r == PT_OK) {
		p->mapped_pages++;
		return HV_STATUS_SUCCESS;
	}
	frame_unmap(&frames, pfn);
	return r == PT_ENOMEM ? HV_STATUS_INSUFFICIENT_MEMORY :
				HV_STATUS_INVALID_PARAMETER;
}

enum hv_status hc_map_gpa_pages(struct hc *c)
{
	const struct hv_input_map_gpa_pages *in = c->in;
	enum hv_status s = HV_STATUS_SUCCESS;
	struct partition *p;
	u32 i;

	if (!hc_allowed(c, HV_PRIV_CREATE_PARTITIONS))
		return HV_STATUS_ACCESS_DENIED;
	if ((in->map_flags & ~MAP_FLAGS_SUPPORTED) ||
	    !(in->map_flags & HV_MAP_GPA_READABLE) || in->padding ||
	    !gfn_range_ok(in->target_gpa_base, c->rep_count))
		return HV_STATUS_INVALID_PARAMETER;
	p = map_target(c, in->target_partition_id, &s);
	if (!p)
		return s;
	for (i = c->rep_start; i < c->rep_count && !s; i++)
		s = map_one(p, in->target_gpa_base + i,
			    in->source_gpa_page_list[i], npt_flags(in->map_flags));
	c->reps_done = s ? i - 1 : i;
	spin_unlock(&p->lock);
	partition_put(p);
	return s;
}

/*
 * Frames leave the child's map in batches: their numbers wait in the
 * per-CPU output page (this call has no output) until one TLB
 * shootdown, and only then go back to the root. One page holds 512.
 */
#define UNMAP_BATCH (PAGE_SIZE / sizeof(u64))

static enum hv_status unmap_batch(struct partition *p, u64 gfn_base,
				  u32 *rep, u32 end, u64 *pfns)
{
	enum hv_status s = HV_STATUS_SUCCESS;
	u32 n = 0;

	for (; *rep < end && n < UNMAP_BATCH; (*rep)++) {
		u64 va = (gfn_base + *rep) << PAGE_SHIFT;
		struct pt_leaf leaf;

		if (!pt_lookup(&p->npt, va, &leaf) ||
		    pt_unmap(&p->npt, va, PAGE_SIZE)) {
			s = HV_STATUS_INVALID_PARAMETER;
			break;
		}
		pfns[n++] = hpa_u64(leaf.pa) >> PAGE_SHIFT;
	}
	/* No CPU may still reach a page before the root gets it back. */
	partition_flush_tlbs(p);
	for (u32 k = 0; k < n; k++)
		frame_unmap(&frames, pfns[k]);
	p->mapped_pages -= n;
	return s;
}

enum hv_status hc_unmap_gpa_pages(struct hc *c)
{
	const struct hv_input_unmap_gpa_pages *in = c->in;
	enum hv_status s = HV_STATUS_SUCCESS;
	struct partition *p;
	u32 i = c->rep_start;

	if (!hc_allowed(c, HV_PRIV_CREATE_PARTITIONS))
		return HV_STATUS_ACCESS_DENIED;
	if (in->unmap_flags || in->padding ||
	    !gfn_range_ok(in->target_gpa_base, c->rep_count))
		return HV_STATUS_INVALID_PARAMETER;
	p = map_target(c, in->target_partition_id, &s);
	if (!p)
		return s;
	while (i < c->rep_count && !s)
		s = unmap_batch(p, in->target_gpa_base, &i, c->rep_count,
				c->out);
	c->reps_done = i;
	spin_unlock(&p->lock);
	partition_put(p);
	return s;
}
