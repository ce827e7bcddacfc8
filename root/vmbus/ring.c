/*
 * The ring buffer engine: see ring.h. Ordering follows Linux's
 * ring_buffer.c, the other end: data before a release store of the
 * index; a full barrier between publishing an index and sampling the
 * peer's interrupt_mask / pending_send_sz decision inputs.
 */
#include <string.h>

#include "ring.h"

#define PAGE_MASK_IN (VMBUS_PAGE_SIZE - 1)

static uint32_t load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static void full_barrier(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static enum ring_status corrupt(struct vmbus_ring *r, const char *why)
{
	r->why = why;
	return RING_CORRUPT;
}

static bool index_ok(const struct vmbus_ring *r, uint32_t index)
{
	return index % 8 == 0 && index < r->size;
}

static uint32_t wrap(const struct vmbus_ring *r, uint64_t index)
{
	return (uint32_t)(index % r->size);
}

/* Bytes from `from` up to `to`, going forward around the ring. */
static uint32_t distance(const struct vmbus_ring *r, uint32_t from,
			 uint32_t to)
{
	return to >= from ? to - from : r->size - from + to;
}

/* Free bytes for the writer at `write` when the reader is at `read`. */
static uint32_t free_bytes(const struct vmbus_ring *r, uint32_t write,
			   uint32_t read)
{
	return r->size - distance(r, read, write);
}

static void copy_out(const struct vmbus_ring *r, uint32_t off, void *dst,
		     uint32_t len)
{
	uint8_t *d = dst;

	while (len) {
		uint32_t in_page = off & PAGE_MASK_IN;
		uint32_t n = VMBUS_PAGE_SIZE - in_page;

		if (n > len)
			n = len;
		memcpy(d, r->pages[off >> VMBUS_PAGE_SHIFT] + in_page, n);
		d += n;
		len -= n;
		off = wrap(r, (uint64_t)off + n);
	}
}

/* src NULL: write zeroes. Returns the offset after the copy. */
static uint32_t copy_in(struct vmbus_ring *r, uint32_t off, const void *src,
			uint32_t len)
{
	const uint8_t *s = src;

	while (len) {
		uint32_t in_page = off & PAGE_MASK_IN;
		uint32_t n = VMBUS_PAGE_SIZE - in_page;
		uint8_t *dst;

		if (n > len)
			n = len;
		dst = r->pages[off >> VMBUS_PAGE_SHIFT] + in_page;
		if (s) {
			memcpy(dst, s, n);
			s += n;
		} else {
			memset(dst, 0, n);
		}
		len -= n;
		off = wrap(r, (uint64_t)off + n);
	}
	return off;
}

enum ring_status ring_attach(struct vmbus_ring *r, struct vmbus_ring_ctl *ctl,
			     uint8_t *const *pages, uint32_t npages,
			     bool host_reads)
{
	uint32_t index;

	r->ctl = ctl;
	r->pages = pages;
	r->why = NULL;
	if (npages == 0 || npages > UINT32_MAX / VMBUS_PAGE_SIZE)
		return corrupt(r, "ring size");
	r->size = npages * VMBUS_PAGE_SIZE;
	index = load_acquire(host_reads ? &ctl->read_index : &ctl->write_index);
	if (!index_ok(r, index))
		return corrupt(r, "initial index out of range");
	r->index = index;
	return RING_OK;
}

static enum ring_status load_peer_index(struct vmbus_ring *r, uint32_t *p,
					uint32_t *index)
{
	*index = load_acquire(p);
	if (!index_ok(r, *index))
		return corrupt(r, "guest index unaligned or out of range");
	return RING_OK;
}

static void advance_read(struct vmbus_ring *r, uint32_t bytes)
{
	r->index = wrap(r, (uint64_t)r->index + bytes);
	store_release(&r->ctl->read_index, r->index);
}

/* Checks a descriptor copied from the ring against the bytes there. */
static enum ring_status check_desc(struct vmbus_ring *r,
				   const struct vmbus_pkt_desc *d,
				   uint32_t avail)
{
	uint32_t len = d->len8 * 8u, off = d->offset8 * 8u;

	if (len < sizeof(*d) || off < sizeof(*d) || off > len)
		return corrupt(r, "packet header len8/offset8");
	if ((uint64_t)len + VMBUS_PKT_TRAILER > avail)
		return corrupt(r, "packet longer than the data written");
	return RING_OK;
}

enum ring_status ring_read(struct vmbus_ring *r, void *buf, uint32_t bufsize,
			   uint32_t *len)
{
	struct vmbus_pkt_desc d;
	uint32_t write, avail;
	enum ring_status st;

	st = load_peer_index(r, &r->ctl->write_index, &write);
	if (st)
		return st;
	avail = distance(r, r->index, write);
	if (!avail)
		return RING_EMPTY;
	if (avail < sizeof(d) + VMBUS_PKT_TRAILER)
		return corrupt(r, "partial packet");
	copy_out(r, r->index, &d, sizeof(d));
	st = check_desc(r, &d, avail);
	if (st)
		return st;
	*len = d.len8 * 8u;
	if (*len > bufsize) {
		advance_read(r, *len + VMBUS_PKT_TRAILER);
		return RING_TOO_BIG;
	}
	copy_out(r, r->index, buf, *len);
	memcpy(buf, &d, sizeof(d));	/* the header we checked */
	advance_read(r, *len + VMBUS_PKT_TRAILER);
	return RING_OK;
}

bool ring_has_data(struct vmbus_ring *r)
{
	uint32_t write = load_acquire(&r->ctl->write_index);

	/* A bad index counts as data: the next ring_read reports it. */
	return write != r->index;
}

void ring_mask_interrupts(struct vmbus_ring *r, bool masked)
{
	store_release(&r->ctl->interrupt_mask, masked);
	full_barrier();
}

uint32_t ring_packet_bytes(uint32_t payload_len)
{
	uint32_t len = sizeof(struct vmbus_pkt_desc) + payload_len;

	return ((len + 7) & ~7u) + VMBUS_PKT_TRAILER;
}

/* Whether the guest must be interrupted after we published old -> new. */
static bool need_signal(struct vmbus_ring *r, uint32_t old_write)
{
	full_barrier();
	if (__atomic_load_n(&r->ctl->interrupt_mask, __ATOMIC_RELAXED))
		return false;
	return load_acquire(&r->ctl->read_index) == old_write;
}

enum ring_status ring_write(struct vmbus_ring *r,
			    const struct vmbus_pkt_desc *desc,
			    const void *data, uint32_t len, bool *signal)
{
	uint32_t total = ring_packet_bytes(len), read, off, old = r->index;
	uint32_t pkt = total - VMBUS_PKT_TRAILER;
	uint64_t trailer = (uint64_t)old << 32;
	struct vmbus_pkt_desc d = *desc;
	enum ring_status st;

	*signal = false;
	st = load_peer_index(r, &r->ctl->read_index, &read);
	if (st)
		return st;
	if ((uint64_t)len + sizeof(d) > VMBUS_MAX_PACKET || total >= r->size)
		return RING_TOO_BIG;	/* would never fit */
	if (free_bytes(r, old, read) <= total)
		return RING_FULL;
	d.len8 = (uint16_t)(pkt / 8);
	off = copy_in(r, old, &d, sizeof(d));
	off = copy_in(r, off, data, len);
	off = copy_in(r, off, NULL, pkt - sizeof(d) - len);
	off = copy_in(r, off, &trailer, sizeof(trailer));
	r->index = off;
	store_release(&r->ctl->write_index, off);
	*signal = need_signal(r, old);
	return RING_OK;
}

enum ring_status ring_space_check(struct vmbus_ring *r, uint32_t bytes,
				  bool *fits)
{
	uint32_t read;
	enum ring_status st;

	st = load_peer_index(r, &r->ctl->read_index, &read);
	if (st)
		return st;
	*fits = free_bytes(r, r->index, read) > bytes;
	if (*fits)
		store_release(&r->ctl->pending_send_sz, 0);
	return RING_OK;
}

enum ring_status ring_request_space(struct vmbus_ring *r, uint32_t bytes,
				    bool *fits)
{
	uint32_t read;
	enum ring_status st;

	st = load_peer_index(r, &r->ctl->read_index, &read);
	if (st)
		return st;
	*fits = free_bytes(r, r->index, read) > bytes;
	if (*fits)
		return RING_OK;
	/* Ask first, then look again: the guest may have drained between
	 * our look and its check of pending_send_sz. */
	store_release(&r->ctl->pending_send_sz, bytes);
	full_barrier();
	return ring_space_check(r, bytes, fits);
}
