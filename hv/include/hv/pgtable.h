/*
 * x86-64 four-level page tables. The same format serves the hypervisor's
 * own address space and, later, AMD nested page tables, so one builder
 * does both. Pure code: tables are reached through hpa_to_hva() and come
 * from a palloc pool, so the unit tests build real tables in fake memory.
 *
 * The caller flushes TLBs; nothing here touches CR3.
 */
#ifndef HV_PGTABLE_H
#define HV_PGTABLE_H

#include <hv/palloc.h>

/* Mapping attributes. Present and readable is implied. */
#define PT_WRITE BIT(0)
#define PT_EXEC BIT(1)
#define PT_USER BIT(2)		/* NPT leaves need it: walks are user */
#define PT_UC BIT(3)		/* uncacheable (PCD | PWT) */
#define PT_GLOBAL BIT(4)
#define PT_LARGE_2M BIT(8)	/* map with 2 MiB pages where aligned */
#define PT_LARGE_1G BIT(9)	/* map with 1 GiB pages where aligned */

/* Hardware bits. */
#define PTE_P BIT(0)
#define PTE_W BIT(1)
#define PTE_U BIT(2)
#define PTE_PWT BIT(3)
#define PTE_PCD BIT(4)
#define PTE_A BIT(5)
#define PTE_D BIT(6)
#define PTE_PS BIT(7)
#define PTE_G BIT(8)
#define PTE_NX BIT(63)
#define PTE_ADDR 0x000ffffffffff000ull

/*
 * AMD IOMMU (v1, "host") page tables: the same four levels and address
 * bits, but present is PR, permissions are IR/IW, and every entry names
 * the level of the table it points to (0: it maps a page). AMD IOMMU
 * spec (48882) 2.2.3.
 */
#define IOPTE_PR BIT(0)
#define IOPTE_NL_SHIFT 9
#define IOPTE_NL_MASK (7ull << IOPTE_NL_SHIFT)
#define IOPTE_IR BIT(61)
#define IOPTE_IW BIT(62)

enum pt_status {
	PT_OK = 0,
	PT_ENOMEM = -1,		/* the pool ran out of table pages */
	PT_EEXIST = -2,		/* something is already mapped there */
	PT_EINVAL = -3,		/* unaligned or non-canonical */
};

/*
 * Where table pages come from: the hypervisor's pool for its own tables
 * and the root's NPT, a partition's deposited pool for a child's NPT.
 * Table allocation is a cold path, so an indirect call is fine here.
 */
struct pt_pages {
	hpa_t (*alloc)(void *ctx);	/* one page, or INVALID_HPA */
	void (*free)(void *ctx, hpa_t page);
	void *ctx;
};

struct pgtable {
	hpa_t root;		/* the PML4 */
	struct pt_pages pages;
	bool iommu;		/* IOPTE_* entries, not the CPU's */
};

struct pt_leaf {
	u64 va;			/* start of the page holding the address */
	hpa_t pa;		/* start of that page */
	u64 size;		/* 4K, 2M or 1G */
	u64 pte;		/* the raw entry */
};

enum pt_status pt_init(struct pgtable *pt, const struct pt_pages *pages);
/*
 * The same builder for an AMD IOMMU's tables: PT_WRITE gives write,
 * everything mapped is readable, PT_EXEC/USER/UC/GLOBAL mean nothing.
 */
enum pt_status pt_init_iommu(struct pgtable *pt, const struct pt_pages *pages);

/* A pt_pages drawing single pages from a palloc. */
struct pt_pages pt_pages_from_palloc(struct palloc *pool);

/* Maps [va, va+size) to [pa, pa+size). Refuses to replace a mapping. */
enum pt_status pt_map(struct pgtable *pt, u64 va, hpa_t pa, u64 size,
		      u32 flags);

/*
 * Removes every mapping in [va, va+size); large pages that straddle the
 * edges are split first. Tables left empty go back to the pool.
 */
enum pt_status pt_unmap(struct pgtable *pt, u64 va, u64 size);

/*
 * After a mapping at va came back: where the table holding it (and then
 * its parent) now maps its whole span contiguously with one set of
 * attributes, and large pages are allowed (PT_LARGE_*), put one large
 * page there instead. The tables taken out are written to freed (room
 * for 2) and counted in *nfreed; the caller must flush TLBs on every CPU
 * using the tables before handing them to pt_free_table().
 */
void pt_merge(struct pgtable *pt, u64 va, u32 allowed, hpa_t *freed,
	      u32 *nfreed);
void pt_free_table(struct pgtable *pt, hpa_t table);

/* The leaf mapping va, if any. */
bool pt_lookup(const struct pgtable *pt, u64 va, struct pt_leaf *out);

/* Calls fn for each leaf in address order; stops if fn returns false. */
void pt_for_each_leaf(const struct pgtable *pt,
		      bool (*fn)(const struct pt_leaf *leaf, void *ctx),
		      void *ctx);

/* Frees every table page (not the mapped memory). */
void pt_destroy(struct pgtable *pt);

/* Pages of tables currently held: for tests and accounting. */
u64 pt_table_pages(const struct pgtable *pt);

#endif
