/* Deposited-page pools. Pure code: unit-tested on the host. */
#include <hv/mm.h>
#include <hv/pool.h>
#include <hv/string.h>

void pool_init(struct page_pool *p)
{
	memset(p, 0, sizeof(*p));
	p->head = INVALID_HPA;
}

static void push(struct page_pool *p, hpa_t page)
{
	*(u64 *)hpa_to_hva(page) = hpa_u64(p->head);
	p->head = page;
	p->free++;
}

static hpa_t pop(struct page_pool *p)
{
	hpa_t page = p->head;

	if (!hpa_valid(page))
		return page;
	p->head = hpa(*(u64 *)hpa_to_hva(page));
	p->free--;
	return page;
}

void pool_deposit(struct page_pool *p, hpa_t page)
{
	spin_lock(&p->lock);
	push(p, page);
	p->total++;
	spin_unlock(&p->lock);
}

hpa_t pool_alloc(struct page_pool *p)
{
	hpa_t page;

	spin_lock(&p->lock);
	page = pop(p);
	spin_unlock(&p->lock);
	if (hpa_valid(page))
		memset(hpa_to_hva(page), 0, PAGE_SIZE);
	return page;
}

void pool_free(struct page_pool *p, hpa_t page)
{
	spin_lock(&p->lock);
	push(p, page);
	spin_unlock(&p->lock);
}

hpa_t pool_withdraw(struct page_pool *p)
{
	hpa_t page;

	spin_lock(&p->lock);
	page = pop(p);
	if (hpa_valid(page))
		p->total--;
	spin_unlock(&p->lock);
	return page;
}

u64 pool_free_pages(struct page_pool *p)
{
	return READ_ONCE(p->free);
}

u64 pool_total_pages(struct page_pool *p)
{
	return READ_ONCE(p->total);
}
