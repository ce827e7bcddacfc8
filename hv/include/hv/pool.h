/*
 * A partition's memory pool: pages the root deposited for the
 * hypervisor to spend on that partition (TLFS DepositMemory). They are
 * scattered single pages, so free ones are chained through their own
 * first word. Pure code: unit-tested on fake memory.
 */
#ifndef HV_POOL_H
#define HV_POOL_H

#include <hv/spinlock.h>

struct page_pool {
	struct spinlock lock;	/* protects everything below */
	hpa_t head;		/* free pages, chained */
	u64 free;		/* pages on the chain */
	u64 total;		/* deposited and not withdrawn */
};

void pool_init(struct page_pool *p);

/* A newly deposited page joins the pool. */
void pool_deposit(struct page_pool *p, hpa_t page);

/* A zeroed page for the hypervisor's use, or INVALID_HPA. */
hpa_t pool_alloc(struct page_pool *p);

/* The hypervisor is done with a page it allocated. */
void pool_free(struct page_pool *p, hpa_t page);

/* A free page leaves the pool for good (TLFS WithdrawMemory). */
hpa_t pool_withdraw(struct page_pool *p);

u64 pool_free_pages(struct page_pool *p);
u64 pool_total_pages(struct page_pool *p);

#endif
