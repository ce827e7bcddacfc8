/*
 * A child's RAM as the worker maps it: guest-physical [0, size) at base,
 * backed by the memfd fd at offset == GPA. Everything the VMBus server
 * and its providers touch in the guest goes through gmem_page(), which
 * refuses PFNs outside that range.
 */
#ifndef ROOT_VMBUS_GUEST_MEMORY_H
#define ROOT_VMBUS_GUEST_MEMORY_H

#include <stddef.h>
#include <stdint.h>

struct guest_memory {
	uint8_t *base;
	uint64_t size;			/* bytes */
	int fd;
};

#define GMEM_PAGE_SIZE 4096u

static inline uint64_t gmem_pages(const struct guest_memory *m)
{
	return m->size / GMEM_PAGE_SIZE;
}

/* The host address of guest page pfn, or NULL if it is not all RAM. */
static inline uint8_t *gmem_page(const struct guest_memory *m, uint64_t pfn)
{
	if (pfn >= gmem_pages(m))
		return NULL;
	return m->base + pfn * GMEM_PAGE_SIZE;
}

#endif
