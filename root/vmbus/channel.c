/*
 * Channels: mapping a ring GPADL into the two rings, draining the
 * guest->host ring into the provider, sending to the guest with the
 * signalling and flow-control rules of doc 6.6, and GPA-direct ranges
 * as iovecs. Everything here that touches a ring runs under the
 * channel lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define DEFAULT_MIN_RING (2 * VMBUS_PAGE_SIZE)
#define DEFAULT_MAX_RING (4u << 20)
#define DEFAULT_MAX_PACKET VMBUS_DEFAULT_MAX_PKT_SIZE

static uint32_t or_default(uint32_t v, uint32_t def)
{
	return v ? v : def;
}

struct vmbus_channel *chan_create(struct vmbus_server *s,
				  const struct vmbus_device_desc *d,
				  uint32_t relid)
{
	struct vmbus_channel *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return NULL;
	ch->server = s;
	ch->desc = *d;
	ch->desc.min_ring_bytes = or_default(d->min_ring_bytes,
					     DEFAULT_MIN_RING);
	ch->desc.max_ring_bytes = or_default(d->max_ring_bytes,
					     DEFAULT_MAX_RING);
	ch->desc.max_recv_packet = or_default(d->max_recv_packet,
					      DEFAULT_MAX_PACKET);
	ch->desc.max_send_packet = or_default(d->max_send_packet,
					      DEFAULT_MAX_PACKET);
	ch->relid = relid;
	ch->pkt_buf = malloc(ch->desc.max_recv_packet);
	if (!ch->pkt_buf || pthread_mutex_init(&ch->lock, NULL)) {
		free(ch->pkt_buf);
		free(ch);
		return NULL;
	}
	return ch;
}

void chan_destroy(struct vmbus_channel *ch)
{
	free(ch->pages);
	free(ch->pkt_buf);
	pthread_mutex_destroy(&ch->lock);
	free(ch);
}

static void stop(struct vmbus_channel *ch, const char *why)
{
	ch->stopped = true;
	vmbus_chan_log_once(ch, CLOG_RING_CORRUPT,
			    "ring corrupt (%s); channel stopped", why);
}

/* ------------------------------------------------------------ open/close */

/* Host addresses of GPADL pages [first, first + n). */
static int map_pages(struct vmbus_channel *ch, const struct vmbus_gpadl *g,
		     uint32_t first, uint32_t n, uint8_t **pages)
{
	for (uint32_t i = 0; i < n; i++) {
		pages[i] = gmem_page(&ch->server->mem, gpadl_pfn(g, first + i));
		if (!pages[i])
			return -EFAULT;
	}
	return 0;
}

/*
 * Pages [0, send_pages) of g are the guest->host ring, the rest the
 * host->guest ring; each is a control page and its data pages.
 */
static int attach_rings(struct vmbus_channel *ch, const struct vmbus_gpadl *g,
			uint32_t send_pages)
{
	uint32_t in_data = send_pages - 1;
	uint32_t out_data = g->pfn_count - send_pages - 1;
	uint8_t *ctl[2];

	ch->pages = calloc(in_data + out_data, sizeof(*ch->pages));
	if (!ch->pages)
		return -ENOMEM;
	if (map_pages(ch, g, 0, 1, &ctl[0]) ||
	    map_pages(ch, g, 1, in_data, ch->pages) ||
	    map_pages(ch, g, send_pages, 1, &ctl[1]) ||
	    map_pages(ch, g, send_pages + 1, out_data, ch->pages + in_data))
		goto bad;
	if (ring_attach(&ch->in, (struct vmbus_ring_ctl *)ctl[0], ch->pages,
			in_data, true) ||
	    ring_attach(&ch->out, (struct vmbus_ring_ctl *)ctl[1],
			ch->pages + in_data, out_data, false))
		goto bad;
	return 0;
bad:
	free(ch->pages);
	ch->pages = NULL;
	return -EINVAL;
}

static void detach_rings(struct vmbus_channel *ch)
{
	free(ch->pages);
	ch->pages = NULL;
	ch->open = false;
	ch->stopped = false;
	ch->send_blocked = false;
}

int chan_open(struct vmbus_channel *ch, struct vmbus_gpadl *g,
	      uint32_t send_pages, uint32_t target_vp, const char **why)
{
	int r;

	pthread_mutex_lock(&ch->lock);
	r = attach_rings(ch, g, send_pages);
	if (r) {
		*why = r == -ENOMEM ? "out of memory" : "ring indices invalid";
		goto out;
	}
	ch->open = true;
	ch->target_vp = target_vp;
	r = ch->desc.ops->open(ch, ch->desc.ctx);
	if (r) {
		*why = "the device refused";
		detach_rings(ch);
	}
out:
	pthread_mutex_unlock(&ch->lock);
	return r;
}

void chan_close(struct vmbus_channel *ch)
{
	pthread_mutex_lock(&ch->lock);
	if (ch->open) {
		ch->desc.ops->close(ch, ch->desc.ctx);
		detach_rings(ch);
	}
	pthread_mutex_unlock(&ch->lock);
}

/* ------------------------------------------------------------ sending */

static void signal_guest(struct vmbus_channel *ch)
{
	struct vmbus_server *s = ch->server;
	int r = s->ops.signal_event(s->ctx, ch->target_vp, ch->relid);

	if (r)
		vmbus_chan_log_once(ch, CLOG_SIGNAL_FAILED,
				    "signalling VP %u failed (%d)",
				    ch->target_vp, r);
}

/* The out ring is full for `bytes`: ask the guest to tell us when not.
 * 0 if room appeared meanwhile, -EAGAIN blocked, -EPIPE corrupt. */
static int wait_for_room(struct vmbus_channel *ch, uint32_t bytes)
{
	bool fits;

	if (ring_request_space(&ch->out, bytes, &fits)) {
		stop(ch, ch->out.why);
		return -EPIPE;
	}
	if (fits)
		return 0;
	ch->send_blocked = true;
	ch->blocked_bytes = bytes;
	return -EAGAIN;
}

int vmbus_chan_send(struct vmbus_channel *ch, uint16_t type, uint16_t flags,
		    uint64_t trans_id, const void *data, uint32_t len)
{
	struct vmbus_pkt_desc d = { .type = type, .offset8 = 2,
				    .flags = flags, .trans_id = trans_id };
	uint32_t bytes = ring_packet_bytes(len);
	enum ring_status st;
	bool signal;
	int r;

	if (!vmbus_chan_is_open(ch))
		return -EPIPE;
	if (len > ch->desc.max_send_packet ||
	    bytes - VMBUS_PKT_TRAILER > ch->desc.max_send_packet) {
		vmbus_chan_log_once(ch, CLOG_SEND_TOO_BIG,
				    "refusing to send a %u-byte packet", bytes);
		return -EMSGSIZE;
	}
	if (ch->send_blocked)
		return -EAGAIN;	/* keep order behind the blocked one */
	st = ring_write(&ch->out, &d, data, len, &signal);
	if (st == RING_FULL) {
		r = wait_for_room(ch, bytes);
		if (r)
			return r;
		st = ring_write(&ch->out, &d, data, len, &signal);
	}
	if (st == RING_TOO_BIG)
		return -EMSGSIZE;
	if (st != RING_OK) {
		stop(ch, st == RING_FULL ? "full after making room" :
		     ch->out.why);
		return -EPIPE;
	}
	if (signal)
		signal_guest(ch);
	return 0;
}

/* ------------------------------------------------------------ receiving */

static uint32_t range_pfns(const struct vmbus_gpa_range *r)
{
	return (uint32_t)(((uint64_t)r->byte_offset + r->byte_count +
			   VMBUS_PAGE_SIZE - 1) / VMBUS_PAGE_SIZE);
}

static bool parse_range(const uint8_t *p, uint32_t room, uint32_t *size)
{
	struct vmbus_gpa_range r;
	uint64_t pfns;

	if (room < sizeof(r))
		return false;
	memcpy(&r, p, sizeof(r));
	if (r.byte_count == 0 || r.byte_offset >= VMBUS_PAGE_SIZE)
		return false;
	pfns = range_pfns(&r);
	if (pfns * 8 > room - sizeof(r))
		return false;
	*size = sizeof(r) + (uint32_t)pfns * 8;
	return true;
}

/* The GPA-direct header and ranges between the descriptor and off. */
static bool parse_gpa_direct(const uint8_t *buf, uint32_t off,
			     struct vmbus_packet *pkt)
{
	uint32_t p = sizeof(struct vmbus_pkt_desc);
	struct vmbus_gpa_direct_hdr h;

	if (off < p + sizeof(h))
		return false;
	memcpy(&h, buf + p, sizeof(h));
	p += sizeof(h);
	if (h.range_count == 0)
		return false;
	pkt->ranges = buf + p;
	for (uint32_t i = 0; i < h.range_count; i++) {
		uint32_t size;

		if (!parse_range(buf + p, off - p, &size))
			return false;
		p += size;
	}
	pkt->range_count = h.range_count;
	pkt->ranges_len = (uint32_t)(buf + p - pkt->ranges);
	return true;
}

static bool parse_packet(struct vmbus_channel *ch, uint32_t len,
			 struct vmbus_packet *pkt)
{
	struct vmbus_pkt_desc d;
	uint32_t off;

	memcpy(&d, ch->pkt_buf, sizeof(d));
	off = d.offset8 * 8u;	/* ring_read checked off <= len */
	memset(pkt, 0, sizeof(*pkt));
	pkt->type = d.type;
	pkt->flags = d.flags;
	pkt->trans_id = d.trans_id;
	pkt->data = ch->pkt_buf + off;
	pkt->len = len - off;
	if (d.type != VM_PKT_DATA_USING_GPA_DIRECT ||
	    parse_gpa_direct(ch->pkt_buf, off, pkt))
		return true;
	vmbus_chan_log_once(ch, CLOG_BAD_RANGES,
			    "GPA-direct packet with bad ranges; skipped");
	return false;
}

/* Room for the provider's reply before we take a request. */
static bool reserve_reply(struct vmbus_channel *ch)
{
	if (!ch->desc.reply_reserve)
		return true;
	return !wait_for_room(ch, ring_packet_bytes(ch->desc.reply_reserve));
}

/* Takes one packet to the provider. false: stop draining. */
static bool take_packet(struct vmbus_channel *ch)
{
	struct vmbus_packet pkt;
	enum ring_status st;
	uint32_t len;

	if (!reserve_reply(ch))
		return false;
	st = ring_read(&ch->in, ch->pkt_buf, ch->desc.max_recv_packet, &len);
	if (st == RING_EMPTY)
		return false;
	if (st == RING_CORRUPT) {
		stop(ch, ch->in.why);
		return false;
	}
	if (st == RING_TOO_BIG)
		vmbus_chan_log_once(ch, CLOG_PACKET_TOO_BIG,
				    "%u-byte packet over the limit; skipped",
				    len);
	else if (parse_packet(ch, len, &pkt))
		ch->desc.ops->packet(ch, ch->desc.ctx, &pkt);
	return vmbus_chan_is_open(ch);
}

void vmbus_chan_charge(struct vmbus_channel *ch, uint64_t bytes)
{
	ch->charged += bytes;
}

/* Another packet in this pass? Not past the budget (vmbus.h), not when
 * the VM is ending. */
static bool drain_more(struct vmbus_channel *ch, int taken)
{
	return taken < VMBUS_DRAIN_PACKETS &&
	       ch->charged < VMBUS_DRAIN_BYTES &&
	       !server_stopping(ch->server);
}

/*
 * Drains with interrupt_mask set so the guest does not signal for each
 * packet; after unmasking, looks again, since a packet written before
 * the unmask was seen would not be signalled. What the budget leaves
 * waits for the next doorbell or tick.
 */
static void drain(struct vmbus_channel *ch)
{
	int taken = 0;

	ch->charged = 0;
	ring_mask_interrupts(&ch->in, true);
	for (;;) {
		while (drain_more(ch, taken) && take_packet(ch))
			taken++;
		if (ch->stopped)
			return;
		ring_mask_interrupts(&ch->in, false);
		if (!drain_more(ch, taken) || ch->send_blocked ||
		    !ring_has_data(&ch->in))
			return;
		ring_mask_interrupts(&ch->in, true);
	}
}

/* A blocked send may go on once the guest freed what it asked for. */
static bool resume_sending(struct vmbus_channel *ch)
{
	bool fits;

	if (!ch->send_blocked)
		return true;
	if (ring_space_check(&ch->out, ch->blocked_bytes, &fits)) {
		stop(ch, ch->out.why);
		return false;
	}
	if (!fits)
		return false;
	ch->send_blocked = false;
	if (ch->desc.ops->writable)
		ch->desc.ops->writable(ch, ch->desc.ctx);
	return vmbus_chan_is_open(ch) && !ch->send_blocked;
}

void chan_service(struct vmbus_channel *ch)
{
	if (!vmbus_chan_is_open(ch) || server_stopping(ch->server))
		return;
	if (resume_sending(ch))
		drain(ch);
}

/* ------------------------------------------------------------ GPA ranges */

static int add_iov(struct iovec *iov, int *n, int max, uint8_t *base,
		   uint32_t len)
{
	struct iovec *last = *n ? &iov[*n - 1] : NULL;

	if (last && (uint8_t *)last->iov_base + last->iov_len == base) {
		last->iov_len += len;
		return 0;
	}
	if (*n == max)
		return -E2BIG;
	iov[*n].iov_base = base;
	iov[*n].iov_len = len;
	(*n)++;
	return 0;
}

/* One range (checked by parse_range) into iovecs. */
static int range_iov(struct vmbus_channel *ch,
		     const struct vmbus_gpa_range *r, const uint8_t *pfns,
		     struct iovec *iov, int *n, int max)
{
	uint32_t left = r->byte_count, in_page = r->byte_offset;

	for (uint32_t i = 0; left; i++) {
		uint32_t chunk = VMBUS_PAGE_SIZE - in_page;
		uint64_t pfn;
		uint8_t *page;

		memcpy(&pfn, pfns + i * 8, sizeof(pfn));
		page = gmem_page(&ch->server->mem, pfn);
		if (!page)
			return -EFAULT;
		if (chunk > left)
			chunk = left;
		if (add_iov(iov, n, max, page + in_page, chunk))
			return -E2BIG;
		left -= chunk;
		in_page = 0;
	}
	return 0;
}

int vmbus_chan_gpa_iov(struct vmbus_channel *ch,
		       const struct vmbus_packet *pkt, struct iovec *iov,
		       int max_iov, uint64_t *total)
{
	const uint8_t *p = pkt->ranges;
	int n = 0, err;

	*total = 0;
	if (!pkt->range_count || !p)
		return -EINVAL;
	for (uint32_t i = 0; i < pkt->range_count; i++) {
		struct vmbus_gpa_range r;

		memcpy(&r, p, sizeof(r));
		p += sizeof(r);
		err = range_iov(ch, &r, p, iov, &n, max_iov);
		if (err == -EFAULT)
			vmbus_chan_log_once(ch, CLOG_BAD_GPA,
					    "GPA range outside guest RAM");
		if (err)
			return err;
		*total += r.byte_count;
		p += range_pfns(&r) * 8;
	}
	return n;
}

/* ------------------------------------------------------------ accessors */

bool vmbus_chan_is_open(const struct vmbus_channel *ch)
{
	return ch->open && !ch->stopped;
}

uint32_t vmbus_chan_relid(const struct vmbus_channel *ch)
{
	return ch->relid;
}

uint32_t vmbus_chan_connection_id(const struct vmbus_channel *ch)
{
	return VMBUS_CHANNEL_CONNECTION_BASE + ch->relid;
}

int vmbus_chan_run(struct vmbus_channel *ch,
		   int (*fn)(struct vmbus_channel *ch, void *arg), void *arg)
{
	int r;

	pthread_mutex_lock(&ch->lock);
	r = fn(ch, arg);
	pthread_mutex_unlock(&ch->lock);
	return r;
}
