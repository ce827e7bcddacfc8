/* Four-level page table builder. Pure code: unit-tested on the host. */
#include <hv/mm.h>
#include <hv/pgtable.h>
#include <hv/string.h>

#define ENTRIES 512
#define LEVELS 4	/* level 3 = PML4, 0 = PT */

static u64 level_size(int level)
{
	return PAGE_SIZE << (9 * level);
}

static unsigned index_of(u64 va, int level)
{
	return (va >> (PAGE_SHIFT + 9 * level)) & (ENTRIES - 1);
}

static u64 *table_of(u64 entry)
{
	return hpa_to_hva(hpa(entry & PTE_ADDR));
}

static bool canonical(u64 va)
{
	u64 top = va >> 47;

	return top == 0 || top == 0x1ffff;
}

/* An IOMMU entry at level > 0 maps a page when its next level is 0. */
static bool is_leaf(const struct pgtable *pt, u64 e, int level)
{
	if (level == 0)
		return true;
	return pt->iommu ? !(e & IOPTE_NL_MASK) : (e & PTE_PS);
}

/* The IOMMU knows only read and write; it has no execute or user bit. */
static u64 iommu_leaf_bits(u32 flags)
{
	return IOPTE_PR | IOPTE_IR | ((flags & PT_WRITE) ? IOPTE_IW : 0);
}

static u64 leaf_bits(const struct pgtable *pt, u32 flags, int level)
{
	u64 e = PTE_P | PTE_A;

	if (pt->iommu)
		return iommu_leaf_bits(flags);

	if (flags & PT_WRITE)
		e |= PTE_W | PTE_D;
	if (!(flags & PT_EXEC))
		e |= PTE_NX;
	if (flags & PT_USER)
		e |= PTE_U;
	if (flags & PT_UC)
		e |= PTE_PCD | PTE_PWT;
	if (flags & PT_GLOBAL)
		e |= PTE_G;
	if (level > 0)
		e |= PTE_PS;
	return e;
}

/*
 * Tables above the leaves allow everything; the leaf decides. An IOMMU
 * entry at our level L points at a table of IOMMU level L (ours L - 1,
 * counted from 0 where the IOMMU counts from 1).
 */
static u64 table_bits(const struct pgtable *pt, int level)
{
	if (pt->iommu)
		return IOPTE_PR | IOPTE_IR | IOPTE_IW |
		       ((u64)level << IOPTE_NL_SHIFT);
	return PTE_P | PTE_W | PTE_U | PTE_A;
}

static hpa_t new_table(struct pgtable *pt)
{
	hpa_t t = pt->pages.alloc(pt->pages.ctx);

	if (hpa_valid(t))
		memset(hpa_to_hva(t), 0, PAGE_SIZE);
	return t;
}

static void free_table(struct pgtable *pt, hpa_t t)
{
	pt->pages.free(pt->pages.ctx, t);
}

static hpa_t palloc_one(void *ctx)
{
	return palloc_alloc(ctx, 1);
}

static void palloc_one_free(void *ctx, hpa_t page)
{
	palloc_free(ctx, page, 1);
}

struct pt_pages pt_pages_from_palloc(struct palloc *pool)
{
	return (struct pt_pages){ palloc_one, palloc_one_free, pool };
}

enum pt_status pt_init(struct pgtable *pt, const struct pt_pages *pages)
{
	pt->pages = *pages;
	pt->iommu = false;
	pt->root = new_table(pt);
	return hpa_valid(pt->root) ? PT_OK : PT_ENOMEM;
}

enum pt_status pt_init_iommu(struct pgtable *pt, const struct pt_pages *pages)
{
	enum pt_status s = pt_init(pt, pages);

	pt->iommu = true;
	return s;
}

/* Replaces a large leaf by a table of the next smaller pages. */
static enum pt_status split(struct pgtable *pt, u64 *entry, int level)
{
	hpa_t t = new_table(pt);
	u64 *child, e = *entry, step = level_size(level - 1);
	u64 bits = e & ~PTE_ADDR & ~(pt->iommu ? 0 : PTE_PS);

	if (!hpa_valid(t))
		return PT_ENOMEM;
	if (level - 1 > 0 && !pt->iommu)
		bits |= PTE_PS;
	child = hpa_to_hva(t);
	for (unsigned i = 0; i < ENTRIES; i++)
		child[i] = ((e & PTE_ADDR) + i * step) | bits;
	*entry = hpa_u64(t) | table_bits(pt, level);
	return PT_OK;
}

/* The entry for va at target level, creating tables on the way. */
static enum pt_status walk_to(struct pgtable *pt, u64 va, int target,
			      u64 **out)
{
	u64 *table = hpa_to_hva(pt->root);

	for (int level = LEVELS - 1; level > target; level--) {
		u64 *e = &table[index_of(va, level)];

		if (!(*e & PTE_P)) {
			hpa_t t = new_table(pt);

			if (!hpa_valid(t))
				return PT_ENOMEM;
			*e = hpa_u64(t) | table_bits(pt, level);
		} else if (is_leaf(pt, *e, level)) {
			return PT_EEXIST;
		}
		table = table_of(*e);
	}
	*out = &table[index_of(va, target)];
	return PT_OK;
}

static int pick_level(u64 va, u64 pa, u64 left, u32 flags)
{
	if ((flags & PT_LARGE_1G) && IS_ALIGNED(va | pa, SZ_1G) &&
	    left >= SZ_1G)
		return 2;
	if ((flags & (PT_LARGE_2M | PT_LARGE_1G)) &&
	    IS_ALIGNED(va | pa, SZ_2M) && left >= SZ_2M)
		return 1;
	return 0;
}

enum pt_status pt_map(struct pgtable *pt, u64 va, hpa_t pa, u64 size,
		      u32 flags)
{
	u64 p = hpa_u64(pa);

	if (!IS_ALIGNED(va | p | size, PAGE_SIZE) || va + size < va ||
	    !canonical(va) || (size && !canonical(va + size - 1)) ||
	    (p & ~PTE_ADDR))
		return PT_EINVAL;
	while (size) {
		int level = pick_level(va, p, size, flags);
		u64 *e;
		enum pt_status s = walk_to(pt, va, level, &e);

		if (s)
			return s;
		if (*e & PTE_P)
			return PT_EEXIST;
		*e = p | leaf_bits(pt, flags, level);
		va += level_size(level);
		p += level_size(level);
		size -= level_size(level);
	}
	return PT_OK;
}

static bool table_empty(const u64 *t)
{
	for (unsigned i = 0; i < ENTRIES; i++)
		if (t[i] & PTE_P)
			return false;
	return true;
}

/* Frees tables under *e that hold nothing any more, bottom up. */
static void prune(struct pgtable *pt, u64 *e, int level, u64 va)
{
	u64 *t;

	if (!(*e & PTE_P) || is_leaf(pt, *e, level))
		return;
	t = table_of(*e);
	if (level > 1)
		prune(pt, &t[index_of(va, level - 1)], level - 1, va);
	if (table_empty(t)) {
		free_table(pt, hpa(*e & PTE_ADDR));
		*e = 0;
	}
}

/*
 * The entry that decides va: the leaf mapping it, or the first entry on
 * the way that is not present. *level says where it was found.
 */
static u64 *decisive_entry(struct pgtable *pt, u64 va, int *level)
{
	u64 *table = hpa_to_hva(pt->root);

	for (int l = LEVELS - 1;; l--) {
		u64 *e = &table[index_of(va, l)];

		if (!(*e & PTE_P) || is_leaf(pt, *e, l)) {
			*level = l;
			return e;
		}
		table = table_of(*e);
	}
}

enum pt_status pt_unmap(struct pgtable *pt, u64 va, u64 size)
{
	u64 *root = hpa_to_hva(pt->root);

	if (!IS_ALIGNED(va | size, PAGE_SIZE) || va + size < va ||
	    !canonical(va) || (size && !canonical(va + size - 1)))
		return PT_EINVAL;
	while (size) {
		int level;
		u64 *e = decisive_entry(pt, va, &level);
		u64 span = level_size(level);
		u64 step = ALIGN_DOWN(va, span) + span - va;

		if (*e & PTE_P) {
			if (step != span || size < span) {
				/* A large page sticks out: split, retry. */
				enum pt_status s = split(pt, e, level);

				if (s)
					return s;
				continue;
			}
			*e = 0;
			prune(pt, &root[index_of(va, LEVELS - 1)],
			      LEVELS - 1, va);
		}
		step = MIN(step, size);
		va += step;
		size -= step;
	}
	return PT_OK;
}

bool pt_lookup(const struct pgtable *pt, u64 va, struct pt_leaf *out)
{
	const u64 *table = hpa_to_hva(pt->root);

	if (!canonical(va))
		return false;
	for (int level = LEVELS - 1; level >= 0; level--) {
		u64 e = table[index_of(va, level)];

		if (!(e & PTE_P))
			return false;
		if (is_leaf(pt, e, level)) {
			out->size = level_size(level);
			out->va = ALIGN_DOWN(va, out->size);
			out->pa = hpa(e & PTE_ADDR & ~(out->size - 1));
			out->pte = e;
			return true;
		}
		table = table_of(e);
	}
	return false;
}

static u64 sign_extend(u64 va)
{
	return (va & BIT(47)) ? va | 0xffff000000000000ull : va;
}

static bool walk_leaves(const struct pgtable *pt, const u64 *table,
			int level, u64 base,
			bool (*fn)(const struct pt_leaf *, void *), void *ctx)
{
	for (unsigned i = 0; i < ENTRIES; i++) {
		u64 e = table[i], va = base + i * level_size(level);

		if (!(e & PTE_P))
			continue;
		if (is_leaf(pt, e, level)) {
			struct pt_leaf leaf = {
				.va = sign_extend(va),
				.pa = hpa(e & PTE_ADDR & ~(level_size(level) - 1)),
				.size = level_size(level),
				.pte = e,
			};
			if (!fn(&leaf, ctx))
				return false;
		} else if (!walk_leaves(pt, table_of(e), level - 1, va, fn,
					ctx)) {
			return false;
		}
	}
	return true;
}

void pt_for_each_leaf(const struct pgtable *pt,
		      bool (*fn)(const struct pt_leaf *, void *), void *ctx)
{
	walk_leaves(pt, hpa_to_hva(pt->root), LEVELS - 1, 0, fn, ctx);
}

static u64 free_tables(struct pgtable *pt, u64 *table, int level, bool free)
{
	u64 n = 1;

	for (unsigned i = 0; i < ENTRIES && level > 0; i++) {
		u64 e = table[i];

		if ((e & PTE_P) && !is_leaf(pt, e, level))
			n += free_tables(pt, table_of(e), level - 1, free);
	}
	if (free)
		free_table(pt, hva_to_hpa(table));
	return n;
}

void pt_destroy(struct pgtable *pt)
{
	if (!hpa_valid(pt->root))
		return;
	free_tables(pt, hpa_to_hva(pt->root), LEVELS - 1, true);
	pt->root = INVALID_HPA;
}

u64 pt_table_pages(const struct pgtable *pt)
{
	return free_tables((struct pgtable *)pt, hpa_to_hva(pt->root),
			   LEVELS - 1, false);
}

#define MERGE_IGNORED (PTE_A | PTE_D)

/* Can the table behind *e (at level) become one leaf? Returns its bits. */
static bool uniform(const struct pgtable *pt, const u64 *t, int child_level,
		    u64 *leaf)
{
	u64 step = level_size(child_level), first = t[0];
	u64 base = first & PTE_ADDR & ~(step - 1);
	u64 attrs = first & ~PTE_ADDR & ~MERGE_IGNORED;

	if (!(first & PTE_P) || !is_leaf(pt, first, child_level) ||
	    !IS_ALIGNED(base, step * ENTRIES))
		return false;
	for (unsigned i = 1; i < ENTRIES; i++) {
		u64 e = t[i];

		if (!(e & PTE_P) || !is_leaf(pt, e, child_level) ||
		    (e & ~PTE_ADDR & ~MERGE_IGNORED) != attrs ||
		    (e & PTE_ADDR & ~(step - 1)) != base + i * step)
			return false;
	}
	/* A 4K leaf's bit 7 is PAT, a large one's is PS: we use neither. */
	*leaf = base | (pt->iommu ? attrs : (attrs & ~PTE_PS) | PTE_PS);
	return true;
}

void pt_merge(struct pgtable *pt, u64 va, u32 allowed, hpa_t *freed,
	      u32 *nfreed)
{
	u64 *path[LEVELS] = { NULL };
	u64 *table = hpa_to_hva(pt->root);
	int level;

	*nfreed = 0;
	/* path[l]: the entry at level l on the way to va (down to a leaf). */
	for (level = LEVELS - 1; level >= 1; level--) {
		path[level] = &table[index_of(va, level)];
		if (!(*path[level] & PTE_P))
			return;
		if (is_leaf(pt, *path[level], level))
			break;
		table = table_of(*path[level]);
	}
	for (level = 1; level <= 2; level++) {
		u64 leaf;

		if (!path[level] || is_leaf(pt, *path[level], level))
			continue;	/* already one page at this level */
		if (!(allowed & (level == 1 ? (PT_LARGE_2M | PT_LARGE_1G) :
					      PT_LARGE_1G)) ||
		    !uniform(pt, table_of(*path[level]), level - 1, &leaf))
			return;
		freed[(*nfreed)++] = hpa(*path[level] & PTE_ADDR);
		*path[level] = leaf;
	}
}

void pt_free_table(struct pgtable *pt, hpa_t table)
{
	free_table(pt, table);
}
