/* GPADL accumulation and checking: see gpadl.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gpadl.h"

/* Smallest range: its header and one PFN. */
#define MIN_RANGE_BYTES (sizeof(struct vmbus_gpa_range) + sizeof(uint64_t))

static const char *check_header(const struct vmbus_msg_gpadl_header *h,
				uint32_t len)
{
	if (h->rangecount == 0)
		return "GPADL without ranges";
	if (h->rangecount > GPADL_MAX_RANGES)
		return "GPADL with too many ranges";
	if (h->range_buflen % 8 ||
	    h->range_buflen < h->rangecount * MIN_RANGE_BYTES)
		return "GPADL range_buflen too small or unaligned";
	if (len % 8)
		return "GPADL header with a partial PFN";
	if (len > h->range_buflen)
		return "GPADL header longer than range_buflen";
	return NULL;
}

struct vmbus_gpadl *gpadl_begin(const struct vmbus_msg_gpadl_header *h,
				const uint8_t *ranges, uint32_t len,
				const char **why)
{
	struct vmbus_gpadl *g;

	*why = check_header(h, len);
	if (*why)
		return NULL;
	g = calloc(1, sizeof(*g) + h->range_buflen);
	if (!g) {
		*why = "out of memory for a GPADL";
		return NULL;
	}
	g->id = h->gpadl;
	g->child_relid = h->child_relid;
	g->range_count = h->rangecount;
	g->range_buflen = h->range_buflen;
	g->received = (uint16_t)len;
	memcpy(g->data, ranges, len);
	return g;
}

int gpadl_append(struct vmbus_gpadl *g, const uint8_t *pfns, uint32_t len,
		 const char **why)
{
	if (len == 0 || len % 8) {
		*why = "GPADL body empty or with a partial PFN";
		return -EINVAL;
	}
	if (len > (uint32_t)(g->range_buflen - g->received)) {
		*why = "GPADL body beyond range_buflen";
		return -EINVAL;
	}
	memcpy(g->data + g->received, pfns, len);
	g->received += (uint16_t)len;
	return 0;
}

static uint64_t read_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static bool pfns_in_ram(const uint8_t *p, uint64_t n, uint64_t ram_pages)
{
	for (uint64_t i = 0; i < n; i++)
		if (read_u64(p + i * 8) >= ram_pages)
			return false;
	return true;
}

/* Checks the range at *off, moves *off past it and adds its PFNs. */
static const char *check_range(const struct vmbus_gpadl *g, uint32_t *off,
			       uint64_t ram_pages, uint32_t *pfns)
{
	struct vmbus_gpa_range r;
	uint64_t n;

	if (g->range_buflen - *off < sizeof(r))
		return "GPADL ranges beyond range_buflen";
	memcpy(&r, g->data + *off, sizeof(r));
	*off += sizeof(r);
	if (r.byte_count == 0)
		return "GPADL range of 0 bytes";
	if (r.byte_offset >= VMBUS_PAGE_SIZE)
		return "GPADL range offset beyond its first page";
	n = ((uint64_t)r.byte_offset + r.byte_count + VMBUS_PAGE_SIZE - 1) /
	    VMBUS_PAGE_SIZE;
	if (n * 8 > (uint64_t)(g->range_buflen - *off))
		return "GPADL with fewer PFNs than its ranges need";
	if (!pfns_in_ram(g->data + *off, n, ram_pages))
		return "GPADL PFN outside guest RAM";
	*off += (uint32_t)n * 8;
	*pfns += (uint32_t)n;
	return NULL;
}

int gpadl_finish(struct vmbus_gpadl *g, uint64_t ram_pages, const char **why)
{
	uint32_t off = 0, pfns = 0;

	for (uint32_t i = 0; i < g->range_count; i++) {
		*why = check_range(g, &off, ram_pages, &pfns);
		if (*why)
			return -EINVAL;
	}
	if (off != g->range_buflen) {
		*why = "GPADL with more PFNs than its ranges need";
		return -EINVAL;
	}
	g->pfn_count = pfns;
	g->complete = true;
	return 0;
}

bool gpadl_is_ring(const struct vmbus_gpadl *g, uint32_t *npages)
{
	struct vmbus_gpa_range r;

	if (!g->complete || g->range_count != 1)
		return false;
	memcpy(&r, g->data, sizeof(r));
	if (r.byte_offset || r.byte_count % VMBUS_PAGE_SIZE)
		return false;
	*npages = r.byte_count / VMBUS_PAGE_SIZE;
	return true;
}

uint64_t gpadl_pfn(const struct vmbus_gpadl *g, uint32_t i)
{
	return read_u64(g->data + sizeof(struct vmbus_gpa_range) + i * 8);
}
