/*
 * The host side of one VMBus ring buffer (doc 6.5/6.6), over guest pages
 * that need not be contiguous: a control page and data pages reached
 * through an array of host pointers. Copies wrap modulo the data size.
 *
 * The guest shares these pages and may change anything at any time.
 * The index the host owns (read_index of a guest->host ring,
 * write_index of a host->guest ring) is kept here, in r->index, and only
 * published to the guest; the guest's index is loaded once per
 * operation and checked (8-byte aligned, inside the data area) before
 * it is used. Packet headers are copied out once and checked; the copy
 * handed on has the checked header.
 *
 * Not thread-safe: the caller serializes (the channel lock).
 */
#ifndef ROOT_VMBUS_RING_H
#define ROOT_VMBUS_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol.h"

enum ring_status {
	RING_OK = 0,
	RING_EMPTY,		/* read: nothing to read */
	RING_FULL,		/* write: no room; see ring_request_space */
	RING_TOO_BIG,		/* read: a sane packet bigger than the
				 * buffer, skipped; write: never fits */
	RING_CORRUPT,		/* the guest broke the ring: stop */
};

struct vmbus_ring {
	struct vmbus_ring_ctl *ctl;	/* the control page */
	uint8_t *const *pages;		/* data pages, in ring order */
	uint32_t size;			/* data bytes: pages * 4096 */
	uint32_t index;			/* the host-owned index */
	const char *why;		/* what was wrong, after RING_CORRUPT */
};

/*
 * Attaches to a ring of npages data pages. host_reads: a guest->host
 * ring (the host owns read_index), else host->guest (write_index). The
 * host index starts from the guest's value, which must be valid.
 */
enum ring_status ring_attach(struct vmbus_ring *r, struct vmbus_ring_ctl *ctl,
			     uint8_t *const *pages, uint32_t npages,
			     bool host_reads);

/*
 * Reads the next packet into buf (bufsize bytes): *len = len8 * 8, the
 * packet without its trailer. read_index is published after it.
 */
enum ring_status ring_read(struct vmbus_ring *r, void *buf, uint32_t bufsize,
			   uint32_t *len);
/* Whether the guest has published data past our read index. */
bool ring_has_data(struct vmbus_ring *r);
/* Reader: ask the guest not to signal while we drain (doc 6.6). */
void ring_mask_interrupts(struct vmbus_ring *r, bool masked);

/*
 * Writes one packet: desc (its len8/offset8 must describe hdr_len +
 * len, offset8 == 2 unless hdr_len) and the payload, zero padding and
 * the trailer; publishes write_index. *signal: the guest must be
 * interrupted (it was reading an empty ring and has not masked).
 * RING_TOO_BIG if the packet could never fit this ring.
 */
enum ring_status ring_write(struct vmbus_ring *r,
			    const struct vmbus_pkt_desc *desc,
			    const void *data, uint32_t len, bool *signal);
/* Bytes a packet with this payload takes in the ring, trailer included. */
uint32_t ring_packet_bytes(uint32_t payload_len);
/*
 * Writer: whether a packet of `bytes` (ring_packet_bytes) fits now. If
 * not, pending_send_sz asks the guest to signal once it does; *fits
 * tells if space appeared meanwhile (then pending_send_sz is cleared).
 */
enum ring_status ring_request_space(struct vmbus_ring *r, uint32_t bytes,
				    bool *fits);
/* Writer: clears pending_send_sz; *fits as above. */
enum ring_status ring_space_check(struct vmbus_ring *r, uint32_t bytes,
				  bool *fits);

#endif
