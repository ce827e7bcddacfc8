/*
 * GPADLs (guest physical address descriptor lists): the page lists a
 * guest hands the host in GPADL_HEADER + GPADL_BODY messages. A GPADL
 * collects the raw range bytes (range headers and PFNs, exactly
 * range_buflen of them) until complete, then is checked as a whole:
 * every range well formed, the byte count exact, every PFN guest RAM.
 * Pure code; the server's lock protects the objects.
 */
#ifndef ROOT_VMBUS_GPADL_H
#define ROOT_VMBUS_GPADL_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol.h"

/* range_buflen is a u16, so one GPADL holds at most ~8190 PFNs (32 MiB). */
#define GPADL_MAX_RANGES 1024u

struct vmbus_gpadl {
	struct vmbus_gpadl *next;
	uint32_t id;
	uint32_t child_relid;
	uint16_t range_count;
	uint16_t range_buflen;
	uint16_t received;		/* range bytes so far */
	bool complete;			/* all bytes in and checked */
	bool teardown_pending;		/* TEARDOWN came while in use */
	uint32_t users;			/* open rings on it */
	uint32_t pfn_count;		/* once complete: all ranges' PFNs */
	uint8_t data[];			/* range_buflen bytes */
};

/*
 * Starts a GPADL from its header message; ranges/len are the bytes after
 * the 20-byte header. Returns NULL (and *why) if the header is bad or
 * memory runs out.
 */
struct vmbus_gpadl *gpadl_begin(const struct vmbus_msg_gpadl_header *h,
				const uint8_t *ranges, uint32_t len,
				const char **why);
/* Adds a body's PFN bytes. 0 or -EINVAL (and *why) if they do not fit. */
int gpadl_append(struct vmbus_gpadl *g, const uint8_t *pfns, uint32_t len,
		 const char **why);
static inline bool gpadl_all_received(const struct vmbus_gpadl *g)
{
	return g->received == g->range_buflen;
}
/* Checks a fully received GPADL against RAM of ram_pages pages; marks
 * it complete. 0 or -EINVAL (and *why). */
int gpadl_finish(struct vmbus_gpadl *g, uint64_t ram_pages, const char **why);

/*
 * For a ring: the GPADL is one range starting at offset 0 on a page and
 * covering whole pages. *npages: its page count.
 */
bool gpadl_is_ring(const struct vmbus_gpadl *g, uint32_t *npages);
/* PFN i of a complete single-range GPADL (i < pfn_count). */
uint64_t gpadl_pfn(const struct vmbus_gpadl *g, uint32_t i);

#endif
