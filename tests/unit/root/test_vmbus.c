/*
 * The VMBus server against a fake Linux client: handshake, offers,
 * GPADLs, rings (wrap-around, signalling, flow control), close,
 * teardown, rescind, unload, and hostile input of every kind.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "test_vmbus.h"

/* ================================================================ */
/* The fake guest                                                    */
/* ================================================================ */

/* The status the server refuses with, as the helpers return it. */
#define REFUSED ((int)VMBUS_STATUS_UNSUCCESSFUL)

#define FG_POOL_PFN (FG_DATA_PFN + FG_DATA_PAGES)
#define FG_POOL_PAGES (FG_RAM_BYTES / 4096 - FG_POOL_PFN)

static int fg_post_message(void *ctx, uint32_t vp, uint32_t msg_type,
			   const void *payload, uint32_t len)
{
	struct fake_guest *g = ctx;
	struct fg_msg *m;

	if (g->eagain > 0) {
		g->eagain--;
		return -EAGAIN;
	}
	if (g->post_error > 0) {
		g->post_error--;
		return -EIO;
	}
	if (g->nmsgs == FG_MAX_MSGS || msg_type != 1 ||
	    len > VMBUS_MAX_MESSAGE_SIZE)
		return -EINVAL;
	m = &g->msgs[g->nmsgs++];
	m->vp = vp;
	m->len = len;
	memcpy(m->data, payload, len);
	return 0;
}

static int fg_signal_event(void *ctx, uint32_t vp, uint32_t relid)
{
	struct fake_guest *g = ctx;
	unsigned int i = __atomic_fetch_add(&g->nsigs, 1, __ATOMIC_RELAXED);

	/* Channels signal from several threads at once. */
	if (i < FG_MAX_SIGNALS) {
		g->sig_vp[i] = vp;
		g->sig_relid[i] = relid;
	}
	return g->signal_error ? -EIO : 0;
}

static void fg_log(void *ctx, const char *msg)
{
	struct fake_guest *g = ctx;
	unsigned int i = __atomic_fetch_add(&g->nlogs, 1, __ATOMIC_RELAXED);

	if (i < FG_MAX_LOGS)
		snprintf(g->logs[i], sizeof(g->logs[0]), "%s", msg);
}

static const struct vmbus_host_ops fg_ops = {
	.post_message = fg_post_message,
	.signal_event = fg_signal_event,
	.log = fg_log,
};

struct fake_guest *fg_new(void)
{
	struct fake_guest *g = calloc(1, sizeof(*g));
	struct vmbus_server_config cfg = { .ops = &fg_ops, .vp_count = FG_VPS };

	g->mem.fd = memfd_create("fake-guest-ram", 0);
	if (g->mem.fd < 0 || ftruncate(g->mem.fd, FG_RAM_BYTES))
		abort();
	g->mem.size = FG_RAM_BYTES;
	g->mem.base = mmap(NULL, FG_RAM_BYTES, PROT_READ | PROT_WRITE,
			   MAP_SHARED, g->mem.fd, 0);
	if (g->mem.base == MAP_FAILED)
		abort();
	g->next_gpadl = 0xe1e10;	/* where Linux starts */
	cfg.ctx = g;
	cfg.mem = g->mem;
	if (vmbus_server_create(&cfg, &g->s))
		abort();
	return g;
}

void fg_free(struct fake_guest *g)
{
	if (g->s)
		vmbus_server_destroy(g->s);
	munmap(g->mem.base, FG_RAM_BYTES);
	close(g->mem.fd);
	free(g);
}

void *fg_ptr(struct fake_guest *g, uint64_t pfn)
{
	return g->mem.base + pfn * 4096;
}

uint64_t fg_page(struct fake_guest *g)
{
	/* Steps of 5 through a pool coprime with 5: scattered, no repeats
	 * until the pool is used up. */
	uint64_t pfn = FG_POOL_PFN + (g->next_page++ * 5ull) % FG_POOL_PAGES;

	memset(fg_ptr(g, pfn), 0, 4096);
	return pfn;
}

enum hv_status fg_post(struct fake_guest *g, uint32_t conn, const void *msg,
		       uint32_t len)
{
	return vmbus_post_message(g->s, conn, 1, msg, len);
}

const void *fg_expect(struct fake_guest *g, uint32_t type, uint32_t len)
{
	struct fg_msg *m;
	uint32_t t;

	if (g->msg_pos == g->nmsgs)
		return NULL;
	m = &g->msgs[g->msg_pos++];
	memcpy(&t, m->data, 4);
	if (t != type || (len && m->len != len))
		return NULL;
	return m->data;
}

unsigned int fg_pending(struct fake_guest *g)
{
	return g->nmsgs - g->msg_pos;
}

int fg_contact(struct fake_guest *g, uint32_t version)
{
	struct vmbus_msg_initiate_contact m = {
		.header.msgtype = VMBUS_MSG_INITIATE_CONTACT,
		.vmbus_version_requested = version,
		.monitor_page1 = 1 * 4096, .monitor_page2 = 2 * 4096,
	};
	const struct vmbus_msg_version_response *r;
	uint32_t conn = version >= VMBUS_VERSION_5_0 ?
		VMBUS_MESSAGE_CONNECTION_ID_4 : VMBUS_MESSAGE_CONNECTION_ID;

	if (version >= VMBUS_VERSION_5_0)
		m.msg_sint = VMBUS_MESSAGE_SINT;
	else
		m.interrupt_page = 3 * 4096;
	if (fg_post(g, conn, &m, sizeof(m)))
		return -1;
	r = fg_expect(g, VMBUS_MSG_VERSION_RESPONSE, sizeof(*r));
	return r ? r->version_supported : -1;
}

bool fg_connect(struct fake_guest *g, unsigned int n_offers)
{
	struct vmbus_msg_header m = { .msgtype = VMBUS_MSG_REQUESTOFFERS };

	if (fg_contact(g, VMBUS_VERSION_5_3) != 1)
		return false;
	if (fg_post(g, VMBUS_MESSAGE_CONNECTION_ID, &m, sizeof(m)))
		return false;
	for (unsigned int i = 0; i < n_offers; i++)
		if (!fg_expect(g, VMBUS_MSG_OFFERCHANNEL, 196))
			return false;
	return fg_expect(g, VMBUS_MSG_ALLOFFERS_DELIVERED, 8) != NULL;
}

/* Posts header + bodies for one range of n PFNs starting at offset 0. */
static void fg_post_gpadl(struct fake_guest *g, uint32_t relid, uint32_t id,
			  const uint64_t *pfns, uint32_t n)
{
	uint8_t buf[VMBUS_MAX_MESSAGE_SIZE];
	struct vmbus_msg_gpadl_header h = {
		.header.msgtype = VMBUS_MSG_GPADL_HEADER, .child_relid = relid,
		.gpadl = id, .rangecount = 1,
		.range_buflen = (uint16_t)(8 + 8 * n) };
	struct vmbus_gpa_range r = { .byte_count = n * 4096 };
	struct vmbus_msg_gpadl_body b = {
		.header.msgtype = VMBUS_MSG_GPADL_BODY, .gpadl = id };
	uint32_t first = n < VMBUS_GPADL_HEADER_PFNS ?
			 n : VMBUS_GPADL_HEADER_PFNS;

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), &r, sizeof(r));
	memcpy(buf + sizeof(h) + sizeof(r), pfns, first * 8);
	fg_post(g, 1, buf, sizeof(h) + sizeof(r) + first * 8);
	for (uint32_t done = first; done < n;) {
		uint32_t k = n - done < VMBUS_GPADL_BODY_PFNS ?
			     n - done : VMBUS_GPADL_BODY_PFNS;

		memcpy(buf, &b, sizeof(b));
		memcpy(buf + sizeof(b), pfns + done, k * 8);
		fg_post(g, 1, buf, sizeof(b) + k * 8);
		done += k;
	}
}

int fg_gpadl(struct fake_guest *g, uint32_t relid, const uint64_t *pfns,
	     uint32_t n, uint32_t *id)
{
	const struct vmbus_msg_gpadl_created *c;

	*id = g->next_gpadl++;
	fg_post_gpadl(g, relid, *id, pfns, n);
	c = fg_expect(g, VMBUS_MSG_GPADL_CREATED, sizeof(*c));
	if (!c || c->gpadl != *id || c->child_relid != relid)
		return -1;
	return (int)c->creation_status;
}

static void fg_ring_init(struct fake_guest *g, struct fg_ring *r,
			 const uint64_t *pfns, uint32_t pages)
{
	r->ctl = fg_ptr(g, pfns[0]);
	for (uint32_t i = 1; i < pages; i++)
		r->pages[i - 1] = fg_ptr(g, pfns[i]);
	r->size = (pages - 1) * 4096;
	r->ctl->feature_bits = VMBUS_RING_FEAT_PENDING_SEND_SZ;
}

int fg_open(struct fake_guest *g, struct fg_chan *c, uint32_t relid,
	    uint32_t send_pages, uint32_t recv_pages, uint32_t vp)
{
	struct vmbus_msg_open_channel m = {
		.header.msgtype = VMBUS_MSG_OPENCHANNEL, .child_relid = relid,
		.openid = relid, .target_vp = vp,
		.downstream_ring_page_offset = send_pages };
	const struct vmbus_msg_open_result *r;

	memset(c, 0, sizeof(*c));
	c->relid = relid;
	c->conn_id = 0x10 + relid;
	c->vp = vp;
	c->npages = send_pages + recv_pages;
	c->send_pages = send_pages;
	for (uint32_t i = 0; i < c->npages; i++)
		c->pfns[i] = fg_page(g);
	fg_ring_init(g, &c->out, c->pfns, send_pages);
	fg_ring_init(g, &c->in, c->pfns + send_pages, recv_pages);
	if (fg_gpadl(g, relid, c->pfns, c->npages, &c->gpadl) != 0)
		return -1;
	m.ringbuffer_gpadl = c->gpadl;
	fg_post(g, 1, &m, sizeof(m));
	r = fg_expect(g, VMBUS_MSG_OPENCHANNEL_RESULT, sizeof(*r));
	if (!r || r->child_relid != relid || r->openid != relid)
		return -1;
	return (int)r->status;
}

bool fg_close(struct fake_guest *g, struct fg_chan *c)
{
	struct vmbus_msg_close_channel m = {
		.header.msgtype = VMBUS_MSG_CLOSECHANNEL,
		.child_relid = c->relid };
	struct vmbus_msg_gpadl_teardown t = {
		.header.msgtype = VMBUS_MSG_GPADL_TEARDOWN,
		.child_relid = c->relid, .gpadl = c->gpadl };
	const struct vmbus_msg_gpadl_torndown *d;

	fg_post(g, 1, &m, sizeof(m));
	fg_post(g, 1, &t, sizeof(t));
	d = fg_expect(g, VMBUS_MSG_GPADL_TORNDOWN, sizeof(*d));
	return d && d->gpadl == c->gpadl;
}

/* The host touches the control page from other threads. */
static uint32_t ld(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static uint32_t fg_free_bytes(const struct fg_ring *r)
{
	uint32_t w = ld(&r->ctl->write_index), rd = ld(&r->ctl->read_index);

	return w >= rd ? r->size - (w - rd) : rd - w;
}

static uint32_t fg_copy_in(struct fg_ring *r, uint32_t off, const void *src,
			   uint32_t len)
{
	const uint8_t *s = src;

	off %= r->size;		/* the fuzz test scribbles on indices */
	for (uint32_t i = 0; i < len; i++) {
		r->pages[off / 4096][off % 4096] = s ? s[i] : 0;
		off = (off + 1) % r->size;
	}
	return off;
}

static uint32_t fg_copy_out(const struct fg_ring *r, uint32_t off, void *dst,
			    uint32_t len)
{
	uint8_t *d = dst;

	off %= r->size;
	for (uint32_t i = 0; i < len; i++) {
		if (d)
			d[i] = r->pages[off / 4096][off % 4096];
		off = (off + 1) % r->size;
	}
	return off;
}

int fg_send(struct fake_guest *g, struct fg_chan *c, uint16_t type,
	    uint16_t flags, uint64_t trans_id, const void *hdr,
	    uint32_t hdr_len, const void *data, uint32_t len)
{
	struct fg_ring *r = &c->out;
	uint32_t body = 16 + hdr_len + len, pkt = (body + 7) & ~7u;
	struct vmbus_pkt_desc d = {
		.type = type, .offset8 = (uint16_t)((16 + hdr_len) / 8),
		.len8 = (uint16_t)(pkt / 8), .flags = flags,
		.trans_id = trans_id };
	uint32_t old = ld(&r->ctl->write_index), off;
	uint64_t trailer = (uint64_t)old << 32;

	if (fg_free_bytes(r) <= pkt + 8)
		return -EAGAIN;
	off = fg_copy_in(r, old, &d, sizeof(d));
	off = fg_copy_in(r, off, hdr, hdr_len);
	off = fg_copy_in(r, off, data, len);
	off = fg_copy_in(r, off, NULL, pkt - body);
	off = fg_copy_in(r, off, &trailer, 8);
	__atomic_store_n(&r->ctl->write_index, off, __ATOMIC_SEQ_CST);
	if (!ld(&r->ctl->interrupt_mask) && ld(&r->ctl->read_index) == old)
		vmbus_signal_event(g->s, c->conn_id, 0);
	return 0;
}

int fg_recv(struct fake_guest *g, struct fg_chan *c, struct vmbus_pkt_desc *d,
	    void *payload, uint32_t max, uint32_t *len)
{
	struct fg_ring *r = &c->in;
	uint32_t start = ld(&r->ctl->read_index), off, pending, free_now, used;
	uint8_t pkt[65536];

	if (start == ld(&r->ctl->write_index))
		return 0;
	fg_copy_out(r, start, d, sizeof(*d));
	if (d->len8 * 8 > sizeof(pkt) || d->offset8 > d->len8)
		return 0;
	used = d->len8 * 8 + 8;
	off = fg_copy_out(r, start, pkt, d->len8 * 8);
	*len = d->len8 * 8 - d->offset8 * 8;
	memcpy(payload, pkt + d->offset8 * 8, *len < max ? *len : max);
	off = fg_copy_out(r, off, NULL, 8);
	__atomic_store_n(&r->ctl->read_index, off, __ATOMIC_SEQ_CST);
	/* hv_pkt_iter_close: signal when crossing pending_send_sz. */
	pending = ld(&r->ctl->pending_send_sz);
	free_now = fg_free_bytes(r);
	if (pending && free_now - used <= pending && free_now > pending)
		vmbus_signal_event(g->s, c->conn_id, 0);
	return 1;
}

unsigned int fg_signals(struct fake_guest *g, uint32_t relid)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < g->nsigs && i < FG_MAX_SIGNALS; i++)
		n += g->sig_relid[i] == relid;
	return n;
}

/* "vmbus: kind: ..." -> "vmbus: kind"; "vmbus x relid 1: kind: ..." ->
 * "vmbus x relid 1: kind". */
static size_t kind_key_len(const char *line)
{
	const char *p = strstr(line, ": ");

	p = p ? strstr(p + 2, ": ") : NULL;
	return p ? (size_t)(p - line) : strlen(line);
}

bool fg_logs_once_per_kind(struct fake_guest *g)
{
	unsigned int n = g->nlogs < FG_MAX_LOGS ? g->nlogs : FG_MAX_LOGS;

	for (unsigned int i = 0; i < n; i++) {
		size_t li = kind_key_len(g->logs[i]);

		for (unsigned int j = i + 1; j < n; j++) {
			size_t lj = kind_key_len(g->logs[j]);

			if (li == lj && !memcmp(g->logs[i], g->logs[j], li)) {
				printf("  logged twice: %s / %s\n", g->logs[i],
				       g->logs[j]);
				return false;
			}
		}
	}
	return g->nlogs <= FG_MAX_LOGS;
}

bool fg_logged(struct fake_guest *g, const char *needle)
{
	for (unsigned int i = 0; i < g->nlogs && i < FG_MAX_LOGS; i++)
		if (strstr(g->logs[i], needle))
			return true;
	return false;
}

/* ================================================================ */
/* A test device: echoes INBAND packets back as completions          */
/* ================================================================ */

struct echo {
	unsigned int opens, closes, packets, writables, ticks, releases;
	bool refuse_open;
	bool mask_seen;			/* interrupt_mask was set in .packet */
	struct vmbus_ring_ctl *in_ctl;	/* to look at while draining */
	uint64_t last_tick;
	uint32_t last_len;
	uint8_t last[4096];
	bool no_reply;
	uint32_t max_send;		/* 0: 4096 */
	struct vmbus_channel *ch;
	struct vmbus_server *s;
	int iov_n;			/* vmbus_chan_gpa_iov of the last */
	uint64_t iov_total;		/* GPA-direct packet */
	struct iovec iov[8];
	uint64_t charge;		/* I/O bytes each packet charges */
	unsigned int stop_at;		/* stop the server at this packet */
};

static int echo_open(struct vmbus_channel *ch, void *ctx)
{
	struct echo *e = ctx;

	e->opens++;
	return e->refuse_open ? -EIO : 0;
}

static void echo_packet(struct vmbus_channel *ch, void *ctx,
			const struct vmbus_packet *p)
{
	struct echo *e = ctx;

	e->packets++;
	vmbus_chan_charge(ch, e->charge);
	if (e->stop_at && e->packets == e->stop_at)
		vmbus_server_stop(e->s);
	e->last_len = p->len < sizeof(e->last) ? p->len : sizeof(e->last);
	memcpy(e->last, p->data, e->last_len);
	if (e->in_ctl && e->in_ctl->interrupt_mask)
		e->mask_seen = true;
	if (p->type == VM_PKT_DATA_USING_GPA_DIRECT)
		e->iov_n = vmbus_chan_gpa_iov(ch, p, e->iov, 8, &e->iov_total);
	if (!e->no_reply)
		vmbus_chan_send(ch, VM_PKT_COMP, 0, p->trans_id, p->data,
				p->len);
}

static void echo_writable(struct vmbus_channel *ch, void *ctx)
{
	((struct echo *)ctx)->writables++;
}

static void echo_tick(struct vmbus_channel *ch, void *ctx, uint64_t now)
{
	struct echo *e = ctx;

	e->ticks++;
	e->last_tick = now;
}

static void echo_close(struct vmbus_channel *ch, void *ctx)
{
	((struct echo *)ctx)->closes++;
}

static void echo_release(void *ctx)
{
	((struct echo *)ctx)->releases++;
}

static const struct vmbus_device_ops echo_ops = {
	.open = echo_open, .packet = echo_packet, .writable = echo_writable,
	.tick = echo_tick, .close = echo_close, .release = echo_release,
};

static const struct vmbus_guid scsi_guid = VMBUS_GUID_INIT(0xba6163d9,
	0x04a1, 0x4d29, 0xb6, 0x05, 0x72, 0xe2, 0xff, 0xb1, 0xdc, 0x7f);
static const struct vmbus_guid inst_guid = VMBUS_GUID_INIT(0x12345678,
	0x9abc, 0xdef0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08);

static struct vmbus_channel *add_echo(struct fake_guest *g, struct echo *e,
				      uint32_t reserve)
{
	struct vmbus_device_desc d = {
		.name = "echo", .type = scsi_guid, .instance = inst_guid,
		.max_send_packet = e->max_send ? e->max_send : 4096,
		.reply_reserve = reserve,
		.ops = &echo_ops, .ctx = e };
	struct vmbus_channel *ch = NULL;

	d.instance.b[15] = (uint8_t)(uintptr_t)e;
	if (vmbus_device_add(g->s, &d, &ch))
		return NULL;
	e->ch = ch;
	e->s = g->s;
	return ch;
}

/* A guest connected with one open echo channel (relid 1, 4+4 pages). */
static struct fake_guest *echo_guest(struct echo *e, struct fg_chan *c,
				     uint32_t reserve)
{
	struct fake_guest *g = fg_new();

	if (!add_echo(g, e, reserve) || !fg_connect(g, 1) ||
	    fg_open(g, c, 1, 4, 4, 0) != 0) {
		fg_free(g);
		return NULL;
	}
	return g;
}

/* ================================================================ */
/* Handshake and offers                                              */
/* ================================================================ */

TEST(vmbus_guid_and_offer_layout)
{
	static const uint8_t scsi_modalias[16] = {
		0xd9, 0x63, 0x61, 0xba, 0xa1, 0x04, 0x29, 0x4d,
		0xb6, 0x05, 0x72, 0xe2, 0xff, 0xb1, 0xdc, 0x7f };

	CHECK(!memcmp(scsi_guid.b, scsi_modalias, 16));
	CHECK_EQ(sizeof(struct vmbus_msg_offer_channel), 196);
	CHECK_EQ(sizeof(struct vmbus_msg_open_channel), 148);
	CHECK_EQ(sizeof(struct vmbus_msg_initiate_contact), 40);
	CHECK_EQ(offsetof(struct vmbus_ring_ctl, feature_bits), 0x40);
}

TEST(vmbus_contact_53_on_conn4)
{
	struct fake_guest *g = fg_new();
	struct vmbus_msg_initiate_contact m = {
		.header.msgtype = VMBUS_MSG_INITIATE_CONTACT,
		.vmbus_version_requested = VMBUS_VERSION_5_3,
		.target_vcpu = 2, .msg_sint = 2 };
	const struct vmbus_msg_version_response *r;

	CHECK_EQ(fg_post(g, 4, &m, sizeof(m)), HV_STATUS_SUCCESS);
	CHECK_EQ(g->nmsgs, 1);
	CHECK_EQ(g->msgs[0].vp, 2);
	r = fg_expect(g, VMBUS_MSG_VERSION_RESPONSE, 16);
	CHECK(r);
	CHECK_EQ(r->version_supported, 1);
	CHECK_EQ(r->connection_state, 0);
	CHECK_EQ(r->msg_conn_id, 1);
	CHECK_EQ(vmbus_server_version(g->s), VMBUS_VERSION_5_3);
	CHECK_EQ(g->nlogs, 0);
	fg_free(g);
}

TEST(vmbus_contact_rejected_versions_then_fallback)
{
	struct fake_guest *g = fg_new();

	CHECK_EQ(fg_contact(g, 0x00060000), 0);		/* future */
	CHECK_EQ(fg_contact(g, 0x00010001), 0);		/* ancient */
	CHECK_EQ(vmbus_server_version(g->s), 0);
	/* Linux walks down the table; every entry is accepted. */
	CHECK_EQ(fg_contact(g, VMBUS_VERSION_5_2), 1);
	CHECK_EQ(fg_contact(g, VMBUS_VERSION_WS2012R2), 1);	/* on conn 1 */
	CHECK_EQ(vmbus_server_version(g->s), VMBUS_VERSION_WS2012R2);
	CHECK_EQ(fg_contact(g, VMBUS_VERSION_WS2012), 1);
	CHECK_EQ(g->nlogs, 0);	/* refusing a version is not an error */
	fg_free(g);
}

TEST(vmbus_contact_wrong_sint_refused)
{
	struct fake_guest *g = fg_new();
	struct vmbus_msg_initiate_contact m = {
		.header.msgtype = VMBUS_MSG_INITIATE_CONTACT,
		.vmbus_version_requested = VMBUS_VERSION_5_3, .msg_sint = 5 };
	const struct vmbus_msg_version_response *r;

	fg_post(g, 4, &m, sizeof(m));
	r = fg_expect(g, VMBUS_MSG_VERSION_RESPONSE, 16);
	CHECK(r && r->version_supported == 0);
	CHECK(fg_logged(g, "bad-version"));
	/* An out-of-range target VP cannot even be answered. */
	m.msg_sint = 2;
	m.target_vcpu = FG_VPS;
	fg_post(g, 4, &m, sizeof(m));
	CHECK_EQ(fg_pending(g), 0);
	CHECK(fg_logged(g, "bad-target-vp"));
	fg_free(g);
}

TEST(vmbus_post_message_hypercall_statuses)
{
	struct fake_guest *g = fg_new();
	uint8_t big[241] = { 0 };

	CHECK_EQ(vmbus_post_message(g->s, 2, 1, big, 8),
		 HV_STATUS_INVALID_CONNECTION_ID);
	CHECK_EQ(vmbus_post_message(g->s, 0x11, 1, big, 8),
		 HV_STATUS_INVALID_CONNECTION_ID);
	CHECK_EQ(vmbus_post_message(g->s, 4, 0, big, 8),
		 HV_STATUS_INVALID_PARAMETER);
	CHECK_EQ(vmbus_post_message(g->s, 4, 0x80000001u, big, 8),
		 HV_STATUS_INVALID_PARAMETER);
	CHECK_EQ(vmbus_post_message(g->s, 4, 1, big, 241),
		 HV_STATUS_INVALID_PARAMETER);
	CHECK_EQ(vmbus_post_message(g->s, 4, 7, big, 8), HV_STATUS_SUCCESS);
	CHECK(fg_logged(g, "bad-synic-message"));
	CHECK_EQ(vmbus_signal_event(g->s, 0x11, 0),
		 HV_STATUS_INVALID_CONNECTION_ID);
	fg_free(g);
}

TEST(vmbus_offers_exact)
{
	struct fake_guest *g = fg_new();
	struct echo e1 = { 0 }, e2 = { 0 };
	const struct vmbus_msg_offer_channel *o;
	struct vmbus_msg_header req = { .msgtype = VMBUS_MSG_REQUESTOFFERS };

	CHECK(add_echo(g, &e1, 0));
	CHECK(add_echo(g, &e2, 0));
	CHECK_EQ(fg_contact(g, VMBUS_VERSION_5_3), 1);
	fg_post(g, 1, &req, sizeof(req));
	CHECK_EQ(fg_pending(g), 3);
	for (uint32_t relid = 1; relid <= 2; relid++) {
		o = fg_expect(g, VMBUS_MSG_OFFERCHANNEL, 196);
		CHECK(o);
		CHECK(!memcmp(&o->offer.if_type, &scsi_guid, 16));
		CHECK_EQ(o->child_relid, relid);
		CHECK_EQ(o->connection_id, 0x10 + relid);
		CHECK_EQ(o->monitor_flags, 0);
		CHECK_EQ(o->interrupt_flags, 1);
		CHECK_EQ(o->offer.sub_channel_index, 0);
		CHECK_EQ(o->offer.chn_flags, 0);
	}
	CHECK(fg_expect(g, VMBUS_MSG_ALLOFFERS_DELIVERED, 8));
	/* A second REQUESTOFFERS is refused. */
	fg_post(g, 1, &req, sizeof(req));
	CHECK_EQ(fg_pending(g), 0);
	CHECK(fg_logged(g, "bad-state"));
	fg_free(g);
	CHECK_EQ(e1.releases, 1);
	CHECK_EQ(e2.releases, 1);
}

TEST(vmbus_hot_add_offers_at_once)
{
	struct fake_guest *g = fg_new();
	struct echo e1 = { 0 }, e2 = { 0 };
	const struct vmbus_msg_offer_channel *o;

	CHECK(add_echo(g, &e1, 0));
	CHECK(fg_connect(g, 1));
	CHECK(add_echo(g, &e2, 0));
	o = fg_expect(g, VMBUS_MSG_OFFERCHANNEL, 196);
	CHECK(o && o->child_relid == 2);
	fg_free(g);
}

TEST(vmbus_outbox_retries_after_eagain)
{
	struct fake_guest *g = fg_new();
	struct echo e1 = { 0 }, e2 = { 0 };
	struct vmbus_msg_header req = { .msgtype = VMBUS_MSG_REQUESTOFFERS };
	const struct vmbus_msg_offer_channel *o;

	CHECK(add_echo(g, &e1, 0));
	CHECK(add_echo(g, &e2, 0));
	CHECK_EQ(fg_contact(g, VMBUS_VERSION_5_3), 1);
	/* Each send first retries the queue: 3 refusals keep all 3 back. */
	g->eagain = 3;
	fg_post(g, 1, &req, sizeof(req));
	CHECK_EQ(fg_pending(g), 0);
	g->eagain = 1;
	CHECK(vmbus_server_tick(g->s, 1));	/* still queued */
	CHECK_EQ(fg_pending(g), 0);
	CHECK(!vmbus_server_tick(g->s, 2));
	CHECK_EQ(fg_pending(g), 3);
	o = fg_expect(g, VMBUS_MSG_OFFERCHANNEL, 196);
	CHECK(o && o->child_relid == 1);
	o = fg_expect(g, VMBUS_MSG_OFFERCHANNEL, 196);
	CHECK(o && o->child_relid == 2);
	CHECK(fg_expect(g, VMBUS_MSG_ALLOFFERS_DELIVERED, 8));
	CHECK_EQ(g->nlogs, 0);
	fg_free(g);
}

TEST(vmbus_outbox_failures_logged_once)
{
	struct fake_guest *g = fg_new();
	struct echo e = { 0 };
	struct vmbus_msg_header req = { .msgtype = VMBUS_MSG_REQUESTOFFERS };

	CHECK(add_echo(g, &e, 0));
	/* A fatal post error drops that message; the next goes out. */
	g->post_error = 1;
	CHECK_EQ(fg_contact(g, VMBUS_VERSION_5_3), -1);
	CHECK(fg_logged(g, "post-failed"));
	fg_post(g, 1, &req, sizeof(req));
	CHECK(fg_expect(g, VMBUS_MSG_OFFERCHANNEL, 196));
	CHECK(fg_expect(g, VMBUS_MSG_ALLOFFERS_DELIVERED, 8));
	/* A hypervisor that never takes a message: the queue is bounded. */
	g->eagain = 1 << 30;
	for (int i = 0; i < 300; i++) {
		uint64_t pfn = fg_page(g);
		uint32_t id;

		CHECK_EQ(fg_gpadl(g, 1, &pfn, 1, &id), -1);
	}
	CHECK(fg_logged(g, "outbox-full"));
	g->eagain = 0;
	vmbus_server_tick(g->s, 1);
	CHECK_EQ(fg_pending(g), 256);
	CHECK(fg_logs_once_per_kind(g));
	fg_free(g);
}

TEST(vmbus_device_limit_and_signal_failure)
{
	struct fake_guest *g = fg_new();
	struct echo e[65];
	struct fg_chan c;

	memset(e, 0, sizeof(e));
	for (int i = 0; i < 64; i++)
		CHECK(add_echo(g, &e[i], 0));
	CHECK(!add_echo(g, &e[64], 0));		/* -ENOSPC */
	CHECK(fg_connect(g, 64));
	CHECK_EQ(fg_open(g, &c, 64, 4, 4, 0), 0);
	g->signal_error = true;
	CHECK_EQ(fg_send(g, &c, VM_PKT_DATA_INBAND, 0, 1, NULL, 0, "s", 1), 0);
	CHECK_EQ(e[63].packets, 1);
	CHECK(fg_logged(g, "signal-failed"));
	CHECK_EQ(vmbus_chan_relid(e[63].ch), 64);
	CHECK_EQ(vmbus_chan_connection_id(e[63].ch), 0x10 + 64);
	fg_free(g);
}

/* ================================================================ */
/* GPADLs                                                            */
/* ================================================================ */

TEST(vmbus_gpadl_header_and_bodies)
{
	struct fake_guest *g = fg_new();
	struct echo e = { 0 };
	uint64_t pfns[64];
	uint32_t id;

	CHECK(add_echo(g, &e, 0));
	CHECK(fg_connect(g, 1));
	for (int i = 0; i < 64; i++)
		pfns[i] = fg_page(g);
	/* 64 PFNs: header 26 + body 28 + body 10; one answer, at the end. */
	CHECK_EQ(fg_gpadl(g, 1, pfns, 64, &id), 0);
	CHECK_EQ(fg_pending(g), 0);
	CHECK_EQ(g->nlogs, 0);
	/* Exactly one page, and exactly the 26 a header holds. */
	CHECK_EQ(fg_gpadl(g, 1, pfns, 1, &id), 0);
	CHECK_EQ(fg_gpadl(g, 1, pfns, 26, &id), 0);
	CHECK_EQ(fg_gpadl(g, 1, pfns, 27, &id), 0);
	fg_free(g);
}

TEST(vmbus_gpadl_no_answer_until_complete)
{
	struct fake_guest *g = fg_new();
	struct echo e = { 0 };
	uint8_t buf[240] = { 0 };
	struct vmbus_msg_gpadl_header h = {
		.header.msgtype = VMBUS_MSG_GPADL_HEADER, .child_relid = 1,
		.gpadl = 77, .rangecount = 1, .range_buflen = 8 + 8 * 30 };
	struct vmbus_gpa_range r = { .byte_count = 30 * 4096 };
	struct vmbus_msg_gpadl_body b = {
		.header.msgtype = VMBUS_MSG_GPADL_BODY, .gpadl = 77 };

	CHECK(add_echo(g, &e, 0));
	CHECK(fg_connect(g, 1));
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + 20, &r, sizeof(r));
	for (int i = 0; i < 26; i++)
		memcpy(buf + 28 + i * 8, &(uint64_t){ 300 + i * 3 }, 8);
	fg_post(g, 1, buf, 28 + 26 * 8);
	CHECK_EQ(fg_pending(g), 0);
	memcpy(buf, &b, sizeof(b));
	for (int i = 0; i < 2; i++)
		memcpy(buf + 16 + i * 8, &(uint64_t){ 400 + i }, 8);
	fg_post(g, 1, buf, 16 + 2 * 8);
	CHECK_EQ(fg_pending(g), 0);
	fg_post(g, 1, buf, 16 + 2 * 8);
	CHECK(fg_expect(g, VMBUS_MSG_GPADL_CREATED, 20));
	fg_free(g);
}

/* ================================================================ */
/* Rings                                                             */
/* ================================================================ */

TEST(vmbus_open_echo_and_signal)
{
	struct echo e = { 0 };
	struct fg_chan c;
	struct fake_guest *g = echo_guest(&e, &c, 0);
	struct vmbus_pkt_desc d;
	uint8_t out[64];
	uint32_t len;

	CHECK(g);
	CHECK_EQ(e.opens, 1);
	CHECK_EQ(fg_send(g, &c, VM_PKT_DATA_INBAND, 1, 42, NULL, 0, "hello!!",
			 7), 0);
	CHECK_EQ(e.packets, 1);
	CHECK_EQ(e.last_len, 8);	/* padded to 8 */
	CHECK(!memcmp(e.last, "hello!!", 7));
	CHECK_EQ(fg_signals(g, 1), 1);
	CHECK_EQ(g->sig_vp[0], 0);
	CHECK_EQ(fg_recv(g, &c, &d, out, sizeof(out), &len), 1);
	CHECK_EQ(d.type, VM_PKT_COMP);
	CHECK_EQ(d.offset8, 2);
	CHECK_EQ(d.trans_id, 42);
	CHECK_EQ(len, 8);
	CHECK(!memcmp(out, "hello!!", 7));
	CHECK_EQ(fg_recv(g, &c, &d, out, sizeof(out), &len), 0);
	/* The host read index moved past packet + trailer. */
	CHECK_EQ(c.out.ctl->read_index, 32);
	CHECK_EQ(c.out.ctl->interrupt_mask, 0);
	fg_free(g);
}

TEST(vmbus_ring_wraps_both_directions)
{
	struct echo e = { 0 };
	struct fg_chan c;
	struct fake_guest *g = echo_guest(&e, &c, 0);
	uint8_t msg[600], out[700];
	struct vmbus_pkt_desc d;
	uint32_t len;

	CHECK(g);
	/* 3 data pages each way; 200 packets of odd sizes wrap many times. */
	for (int i = 0; i < 200; i++) {
		uint32_t n = 1 + (i * 37) % 590;

		for (uint32_t j = 0; j < n; j++)
			msg[j] = (uint8_t)(i + j * 7);
		CHECK_EQ(fg_send(g, &c, VM_PKT_DATA_INBAND, 0, 1000 + i, NULL,
				 0, msg, n), 0);
		CHECK_EQ(e.last_len, (n + 16 + 7) / 8 * 8 - 16);
		CHECK(!memcmp(e.last, msg, n));
		CHECK_EQ(fg_recv(g, &c, &d, out, sizeof(out), &len), 1);
		CHECK_EQ(d.trans_id, 1000 + i);
		CHECK(!memcmp(out, msg, n));
	}
	CHECK_EQ(e.packets, 200);
	CHECK_EQ(g->nlogs, 0);
	fg_free(g);
}

struct host_send {
	uint64_t trans_id;
	const void *data;
	uint32_t len;
};

static int do_host_send(struct vmbus_channel *ch, void *arg)
{
	struct host_send *h = arg;

	return vmbus_chan_send(ch, VM_PKT_DATA_INBAND, 0, h->trans_id, h->data,
			       h->len);
}

/* A host-initiated packet, as a provider sends from the main thread. */
static int host_send(struct vmbus_channel *ch, uint64_t id, const void *data,
		     uint32_t len)
{
	struct host_send h = { id, data, len };

	return vmbus_chan_run(ch, do_host_send, &h);
}

static int drain_guest(struct fake_guest *g, struct fg_chan *c)
{
	struct vmbus_pkt_desc d;
	uint8_t out[4096];
	uint32_t len;
	int n = 0;

	while (fg_recv(g, c, &d, out, sizeof(out), &len))
		n++;
	return n;
}

TEST(vmbus_signal_only_on_empty_and_unmasked)
{
	struct echo e = { .no_reply = true };
	struct fg_chan c;
	struct fake_guest *g = echo_guest(&e, &c, 0);

	CHECK(g);
	CHECK_EQ(host_send(e.ch, 1, "a", 1), 0);
	CHECK_EQ(fg_signals(g, 1), 1);
	CHECK_EQ(host_send(e.ch, 2, "b", 1), 0);
	CHECK_EQ(fg_signals(g, 1), 1);		/* was not empty */
	CHECK_EQ(drain_guest(g, &c), 2);
	/* The guest is draining (masked): no signal even on empty. */
	c.in.ctl->interrupt_mask = 1;
	CHECK_EQ(host_send(e.ch, 3, "c", 1), 0);
	CHECK_EQ(fg_signals(g, 1), 1);
	c.in.ctl->interrupt_mask = 0;
	CHECK_EQ(drain_guest(g, &c), 1);
	CHECK_EQ(host_send(e.ch, 4, "d", 1), 0);
	CHECK_EQ(fg_signals(g, 1), 2);
	CHECK_EQ(g->sig_vp[1], 0);
	fg_free(g);
}

TEST(vmbus_interrupt_mask_set_while_draining)
{
	struct echo e = { 0 };
	struct fg_chan c;
	struct fake_guest *g = echo_guest(&e, &c, 0);

	CHECK(g);
	e.in_ctl = c.out.ctl;
	CHECK_EQ(fg_send(g, &c, VM_PKT_DATA_INBAND, 0, 1, NULL, 0, "x", 1), 0);
	CHECK(e.mask_seen);
	CHECK_EQ(c.out.ctl->interrupt_mask, 0);
	/* With the host's mask up, the guest does not ring the doorbell;
	 * a packet written then is still found (re-check after unmask or
	 * the next tick). */
	c.out.ctl->interrupt_mask = 1;
	CHECK_EQ(fg_send(g, &c, VM_PKT_DATA_INBAND, 0, 2, NULL, 0, "y", 1), 0);
	CHECK_EQ(e.packets, 1);
	vmbus_server_tick(g->s, 5);
	CHECK_EQ(e.packets, 2);
	CHECK_EQ(e.ticks, 1);
	CHECK_EQ(e.last_tick, 5);
	fg_free(g);
}

/* Queues n one-byte packets without ringing the doorbell. */
static void queue_quietly(struct fake_guest *g, struct fg_chan *c, int n)
{
	c->out.ctl->interrupt_mask = 1;
	for (int i = 0; i < n; i++)
		CHECK_EQ(fg_send(g, c, VM_PKT_DATA_INBAND, 0, i, NULL, 0, "x",
				 1), 0);
	c->out.ctl->interrupt_mask = 0;
}

/* One pass takes at most VMBUS_DRAIN_BYTES of charged I/O. */
TEST(vmbus_drain_bounded_by_bytes)
{
	struct echo e = { .no_reply = true,
			  .charge = VMBUS_DRAIN_BYTES / 4 };
	struct fg_chan c;
	struct fake_guest *g = echo_guest(&e, &c, 0);

	CHECK(g);
	queue_quietly(g, &c, 10);
	CHECK_EQ(e.packets, 0);
	vmbus_server_tick(g->s, 1);
	CHECK_EQ(e.packets, 4);
	vmbus_server_tick(g->s, 2);
	CHECK_EQ(e.packets, 8);
	vmbus_server_tick(g->s, 3);
	CHECK_EQ(e.packets, 10);
	/* Uncharged packets: only the packet count bounds them. */
	e.charge = 0;
	queue_quietly(g, &c, 10);
	vmbus_server_tick(g->s, 4);
	CHECK_EQ(e.packets, 20);
	fg_free(g);
}

/* Once the VM is ending, a drain stops after the packet in hand and
 * neither doorbells nor ticks take more. */
TEST(vmbus_stop_ends_drains)
{
	struct echo e = { .no_reply = true, .stop_at = 3 };
	struct fg_chan c;
	struct fake_guest *g = echo_guest(&e, &c, 0);

	CHECK(g);
	queue_quietly(g, &c, 10);
	vmbus_server_tick(g->s, 1);		/* stopped during it */
	CHECK_EQ(e.packets, 3);
	CHECK_EQ(e.ticks, 1);
	vmbus_server_tick(g->s, 2);
	CHECK_EQ(e.packets, 3);
	CHECK_EQ(e.ticks, 1);
	CHECK_EQ(vmbus_signal_event(g->s, c.conn_id, 0), HV_STATUS_SUCCESS);
	CHECK_EQ(e.packets, 3);
	fg_free(g);
}

TEST(vmbus_host_ring_full_then_guest_drains)
{
	struct fake_guest *g = fg_new();
	struct echo e = { .max_send = 80 };
	struct fg_chan c;
	uint8_t msg[64] = { 0 };
	int replies = 0;

	/* 7 data pages to the host, 1 (4096 bytes) back: 88-byte replies
	 * fill it after 46. */
	CHECK(add_echo(g, &e, 64));
	CHECK(fg_connect(g, 1));
	CHECK_EQ(fg_open(g, &c, 1, 8, 2, 0), 0);
	for (int i = 0; i < 60; i++) {
		msg[0] = (uint8_t)i;
		CHECK_EQ(fg_send(g, &c, VM_PKT_DATA_INBAND, 1, 100 + i, NULL, 0,
				 msg, 64), 0);
	}
	CHECK_EQ(e.packets, 46);
	CHECK_EQ(c.in.ctl->pending_send_sz, 88);
	CHECK(c.out.ctl->read_index != c.out.ctl->write_index);
	/* The guest reads replies; crossing pending_send_sz it signals and
	 * the host takes the rest. */
	for (int spins = 0; spins < 200 && replies < 60; spins++) {
		struct vmbus_pkt_desc d;
		uint8_t out[64];
		uint32_t len;

		if (!fg_recv(g, &c, &d, out, sizeof(out), &len))
			break;
		CHECK_EQ(d.trans_id, 100 + replies);
		CHECK_EQ(out[0], replies);
		replies++;
	}
	CHECK_EQ(replies, 60);
	CHECK_EQ(e.packets, 60);
	CHECK_EQ(c.in.ctl->pending_send_sz, 0);
	CHECK_EQ(c.out.ctl->read_index, c.out.ctl->write_index);
	CHECK_EQ(g->nlogs, 0);
	fg_free(g);
}

TEST(vmbus_host_send_eagain_then_writable)
{
	struct echo e = { .no_reply = true };
	struct fg_chan c;
	struct fake_guest *g = echo_guest(&e, &c, 0);
	uint8_t msg[1000] = { 0 };
	int sent = 0, r;

	CHECK(g);
	while ((r = host_send(e.ch, sent + 1, msg, sizeof(msg))) == 0)
		sent++;
	CHECK_EQ(r, -EAGAIN);
	CHECK_EQ(sent, 11);	/* 12288 / 1024, one slot kept free */
	CHECK_EQ(c.in.ctl->pending_send_sz, 1024);
	/* Still blocked: later sends keep their place in line. */
	CHECK_EQ(host_send(e.ch, 99, "x", 1), -EAGAIN);
	CHECK_EQ(drain_guest(g, &c), 11);
	CHECK_EQ(e.writables, 1);
	CHECK_EQ(c.in.ctl->pending_send_sz, 0);
	CHECK_EQ(host_send(e.ch, 100, msg, sizeof(msg)), 0);
	fg_free(g);
}

TEST(vmbus_send_size_limit)
{
	struct echo e = { .no_reply = true };
	struct fg_chan c;
	struct fake_guest *g = echo_guest(&e, &c, 0);
	static uint8_t big[4096];

	CHECK(g);
	CHECK_EQ(host_send(e.ch, 1, big, 4096 - 16), 0);
	CHECK_EQ(host_send(e.ch, 1, big, 4096 - 15), -EMSGSIZE);
	CHECK(fg_logged(g, "send-too-big"));
	fg_free(g);
}

TEST(vmbus_gpa_direct_ranges_to_iovecs)
{
	struct echo e = { .no_reply = true };
	struct fg_chan c;
	struct fake_guest *g = echo_guest(&e, &c, 0);
	struct {
		struct vmbus_gpa_direct_hdr h;
		struct vmbus_gpa_range r0;
		uint64_t p0[3];
		struct vmbus_gpa_range r1;
		uint64_t p1[1];
	} __attribute__((packed)) hdr = {
		.h.range_count = 2,
		.r0 = { .byte_count = 8192, .byte_offset = 100 },
		.p0 = { FG_DATA_PFN + 1, FG_DATA_PFN + 2, FG_DATA_PFN + 9 },
		.r1 = { .byte_count = 10, .byte_offset = 100 },
		.p1 = { FG_DATA_PFN + 9 },
	};

	CHECK(g);
	CHECK_EQ(fg_send(g, &c, VM_PKT_DATA_USING_GPA_DIRECT, 0, 5, &hdr,
			 sizeof(hdr), "payload!", 8), 0);
	CHECK_EQ(e.packets, 1);
	CHECK_EQ(e.last_len, 8);
	CHECK(!memcmp(e.last, "payload!", 8));
	/* Pages 1-2 merge; so do the two ranges' bytes on page 9. */
	CHECK_EQ(e.iov_n, 2);
	CHECK_EQ(e.iov_total, 8192 + 10);
	CHECK(e.iov[0].iov_base == (uint8_t *)fg_ptr(g, FG_DATA_PFN + 1) + 100);
	CHECK_EQ(e.iov[0].iov_len, 8192 - 100);
	CHECK(e.iov[1].iov_base == fg_ptr(g, FG_DATA_PFN + 9));
	CHECK_EQ(e.iov[1].iov_len, 100 + 10);
	/* A PFN outside RAM: -EFAULT, logged once. */
	hdr.p1[0] = FG_RAM_BYTES / 4096;
	CHECK_EQ(fg_send(g, &c, VM_PKT_DATA_USING_GPA_DIRECT, 0, 6, &hdr,
			 sizeof(hdr), "x", 1), 0);
	CHECK_EQ(e.iov_n, -EFAULT);
	CHECK(fg_logged(g, "bad-gpa"));
	fg_free(g);
}

/* ================================================================ */
/* Close, teardown, rescind, unload, modify                          */
/* ================================================================ */

TEST(vmbus_close_and_teardown)
{
	struct echo e = { 0 };
	struct fg_chan c;
	struct fake_guest *g = echo_guest(&e, &c, 0);
	struct vmbus_msg_gpadl_teardown t = {
		.header.msgtype = VMBUS_MSG_GPADL_TEARDOWN, .child_relid = 1 };
	uint64_t buf[4] = { fg_page(g), fg_page(g), fg_page(g), fg_page(g) };
	uint32_t extra;

	CHECK(g);
	CHECK_EQ(fg_gpadl(g, 1, buf, 4, &extra), 0);
	CHECK(fg_close(g, &c));
	CHECK_EQ(e.closes, 1);
	CHECK_EQ(host_send(e.ch, 1, "x", 1), -EPIPE);
	/* A buffer GPADL outlives the close (netvsc tears it down after). */
	t.gpadl = extra;
	fg_post(g, 1, &t, sizeof(t));
	CHECK(fg_expect(g, VMBUS_MSG_GPADL_TORNDOWN, 12));
	/* Reopen; tear the ring GPADL down while open: answered at close. */
	CHECK_EQ(fg_open(g, &c, 1, 4, 4, 1), 0);
	t.gpadl = c.gpadl;
	fg_post(g, 1, &t, sizeof(t));
	CHECK_EQ(fg_pending(g), 0);
	CHECK_EQ(fg_send(g, &c, VM_PKT_DATA_INBAND, 0, 7, NULL, 0, "z", 1), 0);
	CHECK_EQ(e.packets, 1);
	{
		struct vmbus_msg_close_channel m = {
			.header.msgtype = VMBUS_MSG_CLOSECHANNEL,
			.child_relid = 1 };
		const struct vmbus_msg_gpadl_torndown *d;

		fg_post(g, 1, &m, sizeof(m));
		d = fg_expect(g, VMBUS_MSG_GPADL_TORNDOWN, 12);
		CHECK(d && d->gpadl == c.gpadl);
	}
	CHECK_EQ(e.closes, 2);
	CHECK_EQ(g->nlogs, 0);
	fg_free(g);
}

TEST(vmbus_rescind_and_relid_release)
{
	struct echo e = { 0 }, e2 = { 0 };
	struct fg_chan c;
	struct fake_guest *g = echo_guest(&e, &c, 0);
	struct vmbus_msg_relid_released rel = {
		.header.msgtype = VMBUS_MSG_RELID_RELEASED, .child_relid = 1 };
	const struct vmbus_msg_rescind_offer *r;
	const struct vmbus_msg_offer_channel *o;

	CHECK(g);
	CHECK_EQ(vmbus_device_rescind(e.ch), 0);
	r = fg_expect(g, VMBUS_MSG_RESCIND_CHANNELOFFER, 12);
	CHECK(r && r->child_relid == 1);
	CHECK_EQ(e.closes, 1);
	CHECK_EQ(vmbus_device_rescind(e.ch), -EALREADY);
	/* Until released the doorbell exists; nothing is read. */
	CHECK_EQ(fg_send(g, &c, VM_PKT_DATA_INBAND, 0, 1, NULL, 0, "q", 1), 0);
	CHECK_EQ(e.packets, 0);
	/* Linux closes (no answer), tears down, then releases. */
	CHECK(fg_close(g, &c));
	fg_post(g, 1, &rel, sizeof(rel));
	CHECK_EQ(vmbus_signal_event(g->s, c.conn_id, 0),
		 HV_STATUS_INVALID_CONNECTION_ID);
	CHECK_EQ(g->nlogs, 0);
	/* The relid is free again: a new device takes it, offered now. */
	CHECK(add_echo(g, &e2, 0));
	o = fg_expect(g, VMBUS_MSG_OFFERCHANNEL, 196);
	CHECK(o && o->child_relid == 1);
	/* A second release is refused. */
	fg_post(g, 1, &rel, sizeof(rel));
	CHECK(fg_logged(g, "bad-state"));
	fg_free(g);
}

TEST(vmbus_unload_closes_everything)
{
	struct echo e = { 0 };
	struct fg_chan c;
	struct fake_guest *g = echo_guest(&e, &c, 0);
	struct vmbus_msg_header u = { .msgtype = VMBUS_MSG_UNLOAD };
	struct vmbus_msg_gpadl_teardown t = {
		.header.msgtype = VMBUS_MSG_GPADL_TEARDOWN, .child_relid = 1 };

	CHECK(g);
	fg_post(g, 1, &u, sizeof(u));
	CHECK(fg_expect(g, VMBUS_MSG_UNLOAD_RESPONSE, 8));
	CHECK_EQ(fg_pending(g), 0);	/* no TORNDOWN for dropped GPADLs */
	CHECK_EQ(e.closes, 1);
	CHECK_EQ(vmbus_server_version(g->s), 0);
	CHECK_EQ(vmbus_signal_event(g->s, c.conn_id, 0),
		 HV_STATUS_INVALID_CONNECTION_ID);
	/* A fresh connection: offers again, the old GPADL is gone. */
	CHECK(fg_connect(g, 1));
	t.gpadl = c.gpadl;
	fg_post(g, 1, &t, sizeof(t));
	CHECK_EQ(fg_pending(g), 0);
	CHECK(fg_logged(g, "bad-gpadl"));
	CHECK_EQ(fg_open(g, &c, 1, 4, 4, 0), 0);
	CHECK_EQ(e.opens, 2);
	fg_free(g);
}

TEST(vmbus_initiate_contact_again_resets)
{
	struct echo e = { 0 };
	struct fg_chan c;
	struct fake_guest *g = echo_guest(&e, &c, 0);

	CHECK(g);
	CHECK(fg_connect(g, 1));	/* kexec'd guest */
	CHECK_EQ(e.closes, 1);
	CHECK_EQ(fg_open(g, &c, 1, 4, 4, 0), 0);
	CHECK_EQ(fg_send(g, &c, VM_PKT_DATA_INBAND, 0, 1, NULL, 0, "k", 1), 0);
	CHECK_EQ(e.packets, 1);
	CHECK_EQ(g->nlogs, 0);
	fg_free(g);
}

static void modify(struct fake_guest *g, uint32_t relid, uint32_t vp)
{
	struct vmbus_msg_modify_channel m = {
		.header.msgtype = VMBUS_MSG_MODIFYCHANNEL, .child_relid = relid,
		.target_vp = vp };

	fg_post(g, 1, &m, sizeof(m));
}

TEST(vmbus_modify_channel)
{
	struct echo e = { .no_reply = true };
	struct fg_chan c;
	struct fake_guest *g = echo_guest(&e, &c, 0);
	const struct vmbus_msg_modify_response *r;

	CHECK(g);
	modify(g, 1, 3);
	r = fg_expect(g, VMBUS_MSG_MODIFYCHANNEL_RESPONSE, 16);
	CHECK(r && r->child_relid == 1 && r->status == 0);
	CHECK_EQ(host_send(e.ch, 1, "m", 1), 0);
	CHECK_EQ(g->nsigs, 1);
	CHECK_EQ(g->sig_vp[0], 3);
	modify(g, 1, FG_VPS);
	r = fg_expect(g, VMBUS_MSG_MODIFYCHANNEL_RESPONSE, 16);
	CHECK(r && r->status != 0);
	CHECK(fg_logged(g, "bad-modify"));
	/* 5.2: no response; 4.0: refused. */
	CHECK_EQ(fg_contact(g, VMBUS_VERSION_5_2), 1);
	modify(g, 1, 1);
	CHECK_EQ(fg_pending(g), 0);
	CHECK_EQ(fg_contact(g, VMBUS_VERSION_WS2016), 1);
	modify(g, 1, 1);
	CHECK_EQ(fg_pending(g), 0);
	CHECK(fg_logs_once_per_kind(g));
	fg_free(g);
}

/* ================================================================ */
/* Hostile messages                                                  */
/* ================================================================ */

TEST(vmbus_bad_truncated_messages)
{
	struct fake_guest *g = fg_new();
	struct echo e = { 0 };
	static const struct { uint32_t type, min; } t[] = {
		{ VMBUS_MSG_REQUESTOFFERS, 8 }, { VMBUS_MSG_OPENCHANNEL, 148 },
		{ VMBUS_MSG_CLOSECHANNEL, 12 }, { VMBUS_MSG_GPADL_HEADER, 20 },
		{ VMBUS_MSG_GPADL_BODY, 16 }, { VMBUS_MSG_GPADL_TEARDOWN, 16 },
		{ VMBUS_MSG_RELID_RELEASED, 12 },
		{ VMBUS_MSG_INITIATE_CONTACT, 40 }, { VMBUS_MSG_UNLOAD, 8 },
		{ VMBUS_MSG_MODIFYCHANNEL, 16 },
	};
	uint8_t buf[240] = { 0 };

	CHECK(add_echo(g, &e, 0));
	CHECK(fg_connect(g, 1));
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memcpy(buf, &t[i].type, 4);
		for (uint32_t len = 0; len < t[i].min; len++)
			CHECK_EQ(fg_post(g, 1, buf, len), HV_STATUS_SUCCESS);
	}
	CHECK_EQ(fg_pending(g), 0);
	CHECK_EQ(g->nlogs, 1);
	CHECK(fg_logged(g, "short-message"));
	CHECK_EQ(vmbus_server_version(g->s), VMBUS_VERSION_5_3);
	fg_free(g);
}

TEST(vmbus_bad_unknown_and_misdirected_types)
{
	struct fake_guest *g = fg_new();
	uint8_t buf[240] = { 0 };
	static const uint32_t types[] = { 0, 1, 2, 4, 6, 10, 12, 15, 17, 18,
					  19, 20, 23, 24, 25, 1000, ~0u };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		memcpy(buf, &types[i], 4);
		CHECK_EQ(fg_post(g, 4, buf, 240), HV_STATUS_SUCCESS);
	}
	/* Before INITIATE_CONTACT: refused. */
	memcpy(buf, &(uint32_t){ VMBUS_MSG_REQUESTOFFERS }, 4);
	fg_post(g, 4, buf, 8);
	CHECK_EQ(fg_pending(g), 0);
	CHECK_EQ(g->nlogs, 2);
	CHECK(fg_logged(g, "unknown-message"));
	CHECK(fg_logged(g, "not-connected"));
	/* hv_sock is not offered; its connect request is ignored. */
	CHECK(fg_connect(g, 0));
	memcpy(buf, &(uint32_t){ VMBUS_MSG_TL_CONNECT_REQUEST }, 4);
	fg_post(g, 1, buf, 40);
	CHECK(fg_logged(g, "unsupported"));
	CHECK(fg_logs_once_per_kind(g));
	fg_free(g);
}

TEST(vmbus_bad_relids)
{
	struct fake_guest *g = fg_new();
	struct echo e = { 0 };
	uint64_t pfn = fg_page(g);
	struct vmbus_msg_open_channel o = {
		.header.msgtype = VMBUS_MSG_OPENCHANNEL, .child_relid = 9,
		.openid = 9, .downstream_ring_page_offset = 2 };
	struct vmbus_msg_close_channel cl = {
		.header.msgtype = VMBUS_MSG_CLOSECHANNEL, .child_relid = 9 };
	const struct vmbus_msg_open_result *res;
	uint32_t id;

	CHECK(add_echo(g, &e, 0));
	CHECK(fg_connect(g, 1));
	CHECK_EQ(fg_gpadl(g, 9, &pfn, 1, &id), REFUSED);
	CHECK_EQ(fg_gpadl(g, 0, &pfn, 1, &id), REFUSED);
	fg_post(g, 1, &o, sizeof(o));
	res = fg_expect(g, VMBUS_MSG_OPENCHANNEL_RESULT, 20);
	CHECK(res && res->status != 0 && res->child_relid == 9);
	fg_post(g, 1, &cl, sizeof(cl));
	cl.child_relid = 1;	/* known but not open */
	fg_post(g, 1, &cl, sizeof(cl));
	modify(g, 9, 0);
	CHECK(fg_expect(g, VMBUS_MSG_MODIFYCHANNEL_RESPONSE, 16));
	CHECK_EQ(fg_pending(g), 0);
	CHECK(fg_logged(g, "bad-relid"));
	CHECK(fg_logged(g, "bad-state"));
	CHECK_EQ(e.opens, 0);
	CHECK(fg_logs_once_per_kind(g));
	fg_free(g);
}

/* Posts a GPADL header with raw range bytes; returns the CREATED status
 * or -1 if none came. */
static int raw_gpadl(struct fake_guest *g, uint32_t id, uint16_t rangecount,
		     uint16_t buflen, const void *ranges, uint32_t len)
{
	uint8_t buf[240];
	struct vmbus_msg_gpadl_header h = {
		.header.msgtype = VMBUS_MSG_GPADL_HEADER, .child_relid = 1,
		.gpadl = id, .range_buflen = buflen, .rangecount = rangecount };
	const struct vmbus_msg_gpadl_created *c;

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), ranges, len);
	fg_post(g, 1, buf, sizeof(h) + len);
	if (!fg_pending(g))
		return -1;
	c = fg_expect(g, VMBUS_MSG_GPADL_CREATED, 20);
	return c && c->gpadl == id ? (int)c->creation_status : -2;
}

static int gpadl_body(struct fake_guest *g, uint32_t id, const uint64_t *pfns,
		      uint32_t n)
{
	uint8_t buf[240];
	struct vmbus_msg_gpadl_body b = {
		.header.msgtype = VMBUS_MSG_GPADL_BODY, .gpadl = id };
	const struct vmbus_msg_gpadl_created *c;

	memcpy(buf, &b, sizeof(b));
	memcpy(buf + sizeof(b), pfns, n * 8);
	fg_post(g, 1, buf, sizeof(b) + n * 8);
	if (!fg_pending(g))
		return -1;
	c = fg_expect(g, VMBUS_MSG_GPADL_CREATED, 20);
	return c && c->gpadl == id ? (int)c->creation_status : -2;
}

TEST(vmbus_bad_gpadls)
{
	struct fake_guest *g = fg_new();
	struct echo e = { 0 };
	struct {
		struct vmbus_gpa_range r;
		uint64_t pfn[3];
	} __attribute__((packed)) x = { { 4096 * 2, 0 }, { 300, 301, 302 } };
	uint64_t pfns[3] = { 400, 401, 402 };
	uint32_t id;

	CHECK(add_echo(g, &e, 0));
	CHECK(fg_connect(g, 1));
	/* Too many PFNs: a body beyond range_buflen. */
	CHECK_EQ(raw_gpadl(g, 1, 1, 8 + 16, &x, 8 + 8), -1);
	CHECK_EQ(gpadl_body(g, 1, pfns, 2), REFUSED);
	/* Too few: the range needs 3 PFNs, range_buflen holds 2. */
	x.r.byte_count = 3 * 4096;
	CHECK_EQ(raw_gpadl(g, 2, 1, 8 + 16, &x, 8 + 16), REFUSED);
	/* More PFNs than the range needs. */
	x.r.byte_count = 4096;
	CHECK_EQ(raw_gpadl(g, 3, 1, 8 + 16, &x, 8 + 16), REFUSED);
	/* PFN outside RAM (one past the end, and far out). */
	x.r.byte_count = 2 * 4096;
	x.pfn[1] = FG_RAM_BYTES / 4096;
	CHECK_EQ(raw_gpadl(g, 4, 1, 8 + 16, &x, 8 + 16), REFUSED);
	x.pfn[1] = 1ull << 52;
	CHECK_EQ(raw_gpadl(g, 5, 1, 8 + 16, &x, 8 + 16), REFUSED);
	x.pfn[1] = 301;
	/* Offset beyond the first page; empty range. */
	x.r.byte_offset = 4096;
	CHECK_EQ(raw_gpadl(g, 6, 1, 8 + 16, &x, 8 + 16), REFUSED);
	x.r.byte_offset = 0;
	x.r.byte_count = 0;
	CHECK_EQ(raw_gpadl(g, 7, 1, 8 + 16, &x, 8 + 16), REFUSED);
	x.r.byte_count = 2 * 4096;
	/* No ranges; unaligned buflen; header longer than buflen. */
	CHECK_EQ(raw_gpadl(g, 8, 0, 8 + 16, &x, 8 + 16), REFUSED);
	CHECK_EQ(raw_gpadl(g, 9, 1, 8 + 15, &x, 8 + 16), REFUSED);
	CHECK_EQ(raw_gpadl(g, 10, 1, 8 + 8, &x, 8 + 16), REFUSED);
	CHECK_EQ(raw_gpadl(g, 11, 1, 8 + 16, &x, 8 + 12), REFUSED);
	/* Two ranges; the second's header is the last 8 bytes: no PFN. */
	CHECK_EQ(raw_gpadl(g, 12, 2, 32, &x, 24), -1);
	CHECK_EQ(gpadl_body(g, 12, pfns, 1), REFUSED);
	/* A good one, then a duplicate id: refused, the first stays. */
	CHECK_EQ(raw_gpadl(g, 13, 1, 8 + 16, &x, 8 + 16), 0);
	CHECK_EQ(raw_gpadl(g, 13, 1, 8 + 16, &x, 8 + 16), REFUSED);
	/* A body for nobody; an empty body; a partial PFN. */
	CHECK_EQ(gpadl_body(g, 555, pfns, 1), -1);
	CHECK_EQ(raw_gpadl(g, 14, 1, 8 + 16, &x, 8 + 8), -1);
	CHECK_EQ(gpadl_body(g, 14, pfns, 0), REFUSED);
	CHECK(fg_logs_once_per_kind(g));
	CHECK(fg_logged(g, "bad-gpadl"));
	/* The good one still tears down. */
	{
		struct vmbus_msg_gpadl_teardown t = {
			.header.msgtype = VMBUS_MSG_GPADL_TEARDOWN,
			.child_relid = 1, .gpadl = 13 };

		fg_post(g, 1, &t, sizeof(t));
		CHECK(fg_expect(g, VMBUS_MSG_GPADL_TORNDOWN, 12));
	}
	(void)id;
	fg_free(g);
}

TEST(vmbus_gpadl_limit)
{
	struct fake_guest *g = fg_new();
	struct echo e = { 0 };
	uint64_t pfn = fg_page(g);
	uint32_t id;
	int i;

	CHECK(add_echo(g, &e, 0));
	CHECK(fg_connect(g, 1));
	for (i = 0; i < 256; i++)
		CHECK_EQ(fg_gpadl(g, 1, &pfn, 1, &id), 0);
	CHECK_EQ(fg_gpadl(g, 1, &pfn, 1, &id), REFUSED);
	CHECK(fg_logged(g, "gpadl-limit"));
	fg_free(g);
}

static int open_raw(struct fake_guest *g, uint32_t relid, uint32_t gpadl,
		    uint32_t offset, uint32_t vp)
{
	struct vmbus_msg_open_channel m = {
		.header.msgtype = VMBUS_MSG_OPENCHANNEL, .child_relid = relid,
		.openid = 77, .ringbuffer_gpadl = gpadl, .target_vp = vp,
		.downstream_ring_page_offset = offset };
	const struct vmbus_msg_open_result *r;

	fg_post(g, 1, &m, sizeof(m));
	r = fg_expect(g, VMBUS_MSG_OPENCHANNEL_RESULT, 20);
	if (!r || r->openid != 77 || r->child_relid != relid)
		return -1;
	return (int)r->status;
}

TEST(vmbus_bad_open)
{
	struct fake_guest *g = fg_new();
	struct echo e = { 0 }, e2 = { 0 };
	uint64_t p[8];
	uint32_t ring, other, small, two_ranges = 0x999;
	struct {
		struct vmbus_gpa_range r0;
		uint64_t p0;
		struct vmbus_gpa_range r1;
		uint64_t p1;
	} __attribute__((packed)) x = { { 4096, 0 }, 300, { 4096, 0 }, 301 };
	struct fg_chan c;

	CHECK(add_echo(g, &e, 0));
	CHECK(add_echo(g, &e2, 0));
	CHECK(fg_connect(g, 2));
	for (int i = 0; i < 8; i++)
		p[i] = fg_page(g);
	CHECK_EQ(fg_gpadl(g, 1, p, 8, &ring), 0);
	CHECK_EQ(fg_gpadl(g, 2, p, 8, &other), 0);
	CHECK_EQ(raw_gpadl(g, two_ranges, 2, 32, &x, 32), 0);
	CHECK_EQ(open_raw(g, 1, 0x12345, 4, 0), REFUSED);	/* unknown GPADL */
	CHECK_EQ(open_raw(g, 1, other, 4, 0), REFUSED);		/* other relid's */
	CHECK_EQ(open_raw(g, 1, two_ranges, 1, 0), REFUSED);	/* not a ring */
	CHECK_EQ(open_raw(g, 1, ring, 0, 0), REFUSED);
	CHECK_EQ(open_raw(g, 1, ring, 1, 0), REFUSED);
	CHECK_EQ(open_raw(g, 1, ring, 7, 0), REFUSED);
	CHECK_EQ(open_raw(g, 1, ring, 8, 0), REFUSED);
	CHECK_EQ(open_raw(g, 1, ring, 0x80000000u, 0), REFUSED);
	CHECK_EQ(open_raw(g, 1, ring, 4, FG_VPS), REFUSED);	/* bad VP */
	/* One data page back cannot hold a 4096-byte packet. */
	CHECK_EQ(fg_gpadl(g, 1, p, 6, &small), 0);
	CHECK_EQ(open_raw(g, 1, small, 4, 0), REFUSED);
	e.refuse_open = true;
	CHECK_EQ(open_raw(g, 1, ring, 4, 0), REFUSED);		/* device says no */
	e.refuse_open = false;
	/* Ring indices broken before open. */
	((struct vmbus_ring_ctl *)fg_ptr(g, p[0]))->read_index = 12;
	CHECK_EQ(open_raw(g, 1, ring, 4, 0), REFUSED);
	((struct vmbus_ring_ctl *)fg_ptr(g, p[0]))->read_index = 0;
	CHECK_EQ(open_raw(g, 1, ring, 4, 0), 0);
	CHECK_EQ(open_raw(g, 1, ring, 4, 0), REFUSED);		/* already open */
	CHECK_EQ(e.opens, 2);
	CHECK(fg_logged(g, "bad-open"));
	CHECK(fg_logged(g, "bad-target-vp"));
	CHECK(fg_logs_once_per_kind(g));
	(void)c;
	fg_free(g);
}

TEST(vmbus_bad_ring_size_limits)
{
	struct fake_guest *g = fg_new();
	struct echo e = { 0 };
	struct vmbus_device_desc d = {
		.name = "small", .type = scsi_guid, .instance = inst_guid,
		.min_ring_bytes = 16384, .max_ring_bytes = 16384,
		.ops = &echo_ops, .ctx = &e };
	struct vmbus_channel *ch;
	struct fg_chan c;

	CHECK_EQ(vmbus_device_add(g->s, &d, &ch), 0);
	CHECK(fg_connect(g, 1));
	CHECK_EQ(fg_open(g, &c, 1, 8, 4, 0), REFUSED);
	CHECK_EQ(fg_open(g, &c, 1, 4, 2, 0), REFUSED);
	CHECK_EQ(fg_open(g, &c, 1, 4, 4, 0), 0);
	/* Descriptions that make no sense are refused at registration. */
	d.min_ring_bytes = 32768;
	CHECK_EQ(vmbus_device_add(g->s, &d, &ch), -EINVAL);
	d.min_ring_bytes = 0;
	d.reply_reserve = 4096;
	CHECK_EQ(vmbus_device_add(g->s, &d, &ch), -EINVAL);
	d.reply_reserve = 0;
	d.ops = NULL;
	CHECK_EQ(vmbus_device_add(g->s, &d, &ch), -EINVAL);
	fg_free(g);
}

/* ================================================================ */
/* Hostile rings                                                     */
/* ================================================================ */

/* Raw bytes at data offset off of a guest ring. */
static void ring_poke(struct fg_ring *r, uint32_t off, const void *src,
		      uint32_t len)
{
	fg_copy_in(r, off, src, len);
}

static void corrupt_case(struct fake_guest *g, struct fg_chan *c,
			 struct echo *e, uint32_t write_index,
			 const struct vmbus_pkt_desc *d)
{
	unsigned int before = e->packets;

	if (d)
		ring_poke(&c->out, c->out.ctl->read_index, d, sizeof(*d));
	c->out.ctl->write_index = write_index;
	vmbus_signal_event(g->s, c->conn_id, 0);
	vmbus_signal_event(g->s, c->conn_id, 0);
	CHECK_EQ(e->packets, before);
	CHECK_EQ(host_send(e->ch, 1, "x", 1), -EPIPE);
	/* Close (the ring GPADL tears down) and open afresh. */
	CHECK(fg_close(g, c));
	CHECK_EQ(fg_open(g, c, 1, 4, 4, 0), 0);
}

TEST(vmbus_bad_ring_indices_stop_the_channel)
{
	struct echo e = { .no_reply = true };
	struct fg_chan c;
	struct fake_guest *g = echo_guest(&e, &c, 0);
	struct vmbus_pkt_desc d = { .type = VM_PKT_DATA_INBAND, .offset8 = 2,
				    .len8 = 2 };

	CHECK(g);
	corrupt_case(g, &c, &e, 12, NULL);		/* unaligned */
	corrupt_case(g, &c, &e, 3 * 4096, NULL);	/* == size */
	corrupt_case(g, &c, &e, 0xfffffff8u, NULL);	/* way out */
	corrupt_case(g, &c, &e, 16, NULL);		/* partial packet */
	d.len8 = 0x1000;				/* > ring */
	corrupt_case(g, &c, &e, 24, &d);
	d.len8 = 4;					/* > written */
	corrupt_case(g, &c, &e, 24, &d);
	d.len8 = 2;
	d.offset8 = 3;					/* > len8 */
	corrupt_case(g, &c, &e, 24, &d);
	d.offset8 = 1;					/* < desc */
	corrupt_case(g, &c, &e, 24, &d);
	d.offset8 = 2;
	d.len8 = 1;					/* < desc */
	corrupt_case(g, &c, &e, 24, &d);
	/* The host->guest ring: the guest's read_index is checked. */
	c.in.ctl->read_index = 4;
	CHECK_EQ(host_send(e.ch, 1, "x", 1), -EPIPE);
	CHECK(fg_close(g, &c));
	CHECK_EQ(fg_open(g, &c, 1, 4, 4, 0), 0);
	/* Logged once, however often it happened. */
	CHECK(fg_logged(g, "ring-corrupt"));
	CHECK(fg_logs_once_per_kind(g));
	CHECK_EQ(g->nlogs, 1);
	/* And the channel works again. */
	CHECK_EQ(fg_send(g, &c, VM_PKT_DATA_INBAND, 0, 1, NULL, 0, "ok", 2), 0);
	CHECK_EQ(e.packets, 1);
	fg_free(g);
}

TEST(vmbus_bad_packets_skipped)
{
	struct echo e = { .no_reply = true };
	struct fg_chan c;
	struct fake_guest *g = echo_guest(&e, &c, 0);
	static uint8_t big[5000];
	struct {
		struct vmbus_gpa_direct_hdr h;
		struct vmbus_gpa_range r;
		uint64_t pfn[2];
	} __attribute__((packed)) hdr = { { 0, 1 }, { 4097, 0 }, { 20, 21 } };

	CHECK(g);
	/* Bigger than max_recv_packet (4096): skipped, the next one read. */
	CHECK_EQ(fg_send(g, &c, VM_PKT_DATA_INBAND, 0, 1, NULL, 0, big,
			 sizeof(big)), 0);
	CHECK_EQ(e.packets, 0);
	CHECK(fg_logged(g, "packet-too-big"));
	/* GPA direct: PFN count must match offset + length. */
	hdr.r.byte_count = 8193;
	CHECK_EQ(fg_send(g, &c, VM_PKT_DATA_USING_GPA_DIRECT, 0, 2, &hdr,
			 sizeof(hdr), "p", 1), 0);
	hdr.r.byte_count = 10;
	hdr.h.range_count = 0;
	CHECK_EQ(fg_send(g, &c, VM_PKT_DATA_USING_GPA_DIRECT, 0, 3, &hdr,
			 sizeof(hdr), "p", 1), 0);
	hdr.h.range_count = 1;
	hdr.r.byte_offset = 5000;
	CHECK_EQ(fg_send(g, &c, VM_PKT_DATA_USING_GPA_DIRECT, 0, 4, &hdr,
			 sizeof(hdr), "p", 1), 0);
	CHECK_EQ(fg_send(g, &c, VM_PKT_DATA_USING_GPA_DIRECT, 0, 5, NULL, 0,
			 "p", 1), 0);
	CHECK_EQ(e.packets, 0);
	CHECK(fg_logged(g, "bad-ranges"));
	CHECK_EQ(fg_send(g, &c, VM_PKT_DATA_INBAND, 0, 6, NULL, 0, "ok", 2), 0);
	CHECK_EQ(e.packets, 1);
	CHECK(fg_logs_once_per_kind(g));
	fg_free(g);
}

/* ================================================================ */
/* Random input                                                      */
/* ================================================================ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* Values that often mean something to the server, sometimes not. */
static uint32_t rnd_field(const uint32_t *pool)
{
	switch (rnd_below(6)) {
	case 0:
		return rnd_below(4);			/* relids, small */
	case 1:
		return 0xe1e10 + rnd_below(8);		/* GPADL ids */
	case 2:
		return pool[rnd_below(16)];		/* guest pages */
	case 3:
		return 4096 * rnd_below(9);		/* byte counts */
	case 4:
		return rnd_below(4096);
	default:
		return (uint32_t)rnd();
	}
}

static const uint32_t fuzz_min_size[VMBUS_MSG_COUNT] = {
	[VMBUS_MSG_REQUESTOFFERS] = 8, [VMBUS_MSG_OPENCHANNEL] = 148,
	[VMBUS_MSG_CLOSECHANNEL] = 12, [VMBUS_MSG_GPADL_HEADER] = 28,
	[VMBUS_MSG_GPADL_BODY] = 16, [VMBUS_MSG_GPADL_TEARDOWN] = 16,
	[VMBUS_MSG_RELID_RELEASED] = 12, [VMBUS_MSG_INITIATE_CONTACT] = 40,
	[VMBUS_MSG_UNLOAD] = 8, [VMBUS_MSG_MODIFYCHANNEL] = 16,
};

/* Mostly plausible messages: a guest type, its size or a little more,
 * fields drawn from values the server knows. */
static void fuzz_message(struct fake_guest *g, const uint32_t *pool)
{
	uint32_t w[60], type, len;

	for (int i = 0; i < 60; i++)
		w[i] = rnd_field(pool);
	type = rnd_below(8) ? rnd_below(VMBUS_MSG_COUNT) : (uint32_t)rnd();
	len = type < VMBUS_MSG_COUNT ? fuzz_min_size[type] : 0;
	if (!len || !rnd_below(10))
		len = rnd_below(241);
	else
		len += 8 * rnd_below((240 - len) / 8 + 1);
	w[0] = type;
	w[1] = 0;
	if (type == VMBUS_MSG_GPADL_HEADER && rnd_below(2)) {
		w[4] = (8 + 8 * rnd_below(12)) << 0 | (1 + rnd_below(3)) << 16;
		w[5] = 4096 * (1 + rnd_below(4));	/* first range */
		w[6] = rnd_below(3) ? 0 : rnd_below(5000);
	}
	if (type == VMBUS_MSG_INITIATE_CONTACT && rnd_below(2)) {
		w[2] = rnd_below(2) ? VMBUS_VERSION_5_3 : VMBUS_VERSION_4_1;
		w[3] = rnd_below(FG_VPS + 1);
		w[4] = 2;
	}
	fg_post(g, rnd_below(2) ? 1 : 4, w, len);
}

static void fuzz_ring(struct fake_guest *g, struct fg_chan *c)
{
	struct fg_ring *r = rnd_below(2) ? &c->out : &c->in;
	uint32_t v = rnd_below(2) ? rnd_below(r->size / 8 + 8) * 8 :
				    (uint32_t)rnd();
	uint8_t junk[64];

	for (int i = 0; i < 64; i++)
		junk[i] = (uint8_t)rnd();
	switch (rnd_below(8)) {
	case 0:
		((uint32_t *)r->ctl)[rnd_below(4)] = v;
		break;
	case 1:
		ring_poke(r, rnd_below(r->size / 8) * 8, junk, 8 + rnd_below(57));
		break;
	case 2:
		fg_send(g, c, (uint16_t)rnd_below(16), (uint16_t)rnd(), rnd(),
			junk, 8 * rnd_below(4), junk, rnd_below(64));
		break;
	case 3:
		r->ctl->read_index = r->ctl->write_index;	/* "drain" */
		break;
	default:
		fg_send(g, c, VM_PKT_DATA_INBAND, 1, rnd(), NULL, 0, junk,
			rnd_below(64));
		break;
	}
	vmbus_signal_event(g->s, rnd_below(8) ? c->conn_id : (uint32_t)rnd(),
			   (uint16_t)!rnd_below(8));
}

/* Now and then a proper channel to abuse. */
static bool fuzz_connect(struct fake_guest *g, struct fg_chan *c)
{
	struct vmbus_msg_header m = { .msgtype = VMBUS_MSG_REQUESTOFFERS };

	if (fg_contact(g, VMBUS_VERSION_5_3) != 1)
		return false;
	fg_post(g, 1, &m, sizeof(m));
	g->msg_pos = g->nmsgs;
	return fg_open(g, c, 1 + rnd_below(2), 4, 4, rnd_below(FG_VPS)) == 0;
}

TEST(vmbus_fuzz_random_messages_and_rings)
{
	struct fake_guest *g = fg_new();
	struct echo e1 = { 0 }, e2 = { 0 };
	uint32_t pool[16];
	struct fg_chan c;
	bool open = false;

	rng_state = 0x9e3779b97f4a7c15ull;
	CHECK(add_echo(g, &e1, 64));
	CHECK(add_echo(g, &e2, 0));
	for (int i = 0; i < 16; i++)
		pool[i] = (uint32_t)fg_page(g);
	for (int i = 0; i < 20000; i++) {
		uint32_t what = rnd_below(100);

		if (what < 55) {
			fuzz_message(g, pool);
		} else if (what < 85 && open) {
			fuzz_ring(g, &c);
		} else if (what < 90) {
			vmbus_server_tick(g->s, i);
		} else if (what < 93) {
			open = fuzz_connect(g, &c);
		} else if (what < 94 && i > 18000) {
			vmbus_device_rescind(rnd_below(2) ? e1.ch : e2.ch);
		}
		g->msg_pos = g->nmsgs;		/* we do not read replies */
		if (g->nmsgs > FG_MAX_MSGS - 64)
			g->nmsgs = g->msg_pos = 0;
	}
	CHECK(fg_logs_once_per_kind(g));
	/* It got deep: channels opened, packets flowed, rings broke. */
	CHECK(g->nlogs > 10);
	CHECK(e1.opens + e2.opens > 100);
	CHECK(e1.packets + e2.packets > 100);
	CHECK(fg_logged(g, "ring-corrupt"));
	fg_free(g);
}

/* ================================================================ */
/* Threads                                                           */
/* ================================================================ */

struct worker_arg {
	struct fake_guest *g;
	struct fg_chan *c;
	int replies;
};

static void *vp_thread(void *p)
{
	struct worker_arg *a = p;
	uint8_t msg[100] = { 0 }, out[128];
	struct vmbus_pkt_desc d;
	uint32_t len;

	for (int i = 0; i < 2000; i++) {
		msg[0] = (uint8_t)i;
		while (fg_send(a->g, a->c, VM_PKT_DATA_INBAND, 1, i + 1, NULL,
			       0, msg, sizeof(msg)))
			while (fg_recv(a->g, a->c, &d, out, sizeof(out), &len))
				a->replies++;
	}
	while (a->replies < 2000) {
		if (fg_recv(a->g, a->c, &d, out, sizeof(out), &len))
			a->replies++;
		else
			vmbus_signal_event(a->g->s, a->c->conn_id, 0);
	}
	return NULL;
}

static int vp_threads_done;

static void *tick_thread(void *p)
{
	struct fake_guest *g = p;

	for (uint64_t now = 0; !__atomic_load_n(&vp_threads_done,
						__ATOMIC_ACQUIRE); now++)
		vmbus_server_tick(g->s, now);
	return NULL;
}

/* Moves the channels' interrupts around while they are busy. */
static void *control_thread(void *p)
{
	struct fake_guest *g = p;

	for (int i = 0; i < 1000; i++) {
		struct vmbus_msg_modify_channel m = {
			.header.msgtype = VMBUS_MSG_MODIFYCHANNEL,
			.child_relid = 1 + i % 4, .target_vp = i % FG_VPS };

		vmbus_post_message(g->s, 1, 1, &m, sizeof(m));
		vmbus_server_version(g->s);
	}
	return NULL;
}

TEST(vmbus_threads_vps_and_tick)
{
	struct fake_guest *g = fg_new();
	struct echo e[4] = { { 0 } };
	struct fg_chan c[4];
	struct worker_arg a[4];
	pthread_t vp[4], tick, control;

	for (int i = 0; i < 4; i++)
		CHECK(add_echo(g, &e[i], 100));
	CHECK(fg_connect(g, 4));
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(fg_open(g, &c[i], i + 1, 4, 3, i), 0);
		a[i] = (struct worker_arg){ .g = g, .c = &c[i] };
	}
	__atomic_store_n(&vp_threads_done, 0, __ATOMIC_RELEASE);
	pthread_create(&tick, NULL, tick_thread, g);
	pthread_create(&control, NULL, control_thread, g);
	for (int i = 0; i < 4; i++)
		pthread_create(&vp[i], NULL, vp_thread, &a[i]);
	for (int i = 0; i < 4; i++)
		pthread_join(vp[i], NULL);
	__atomic_store_n(&vp_threads_done, 1, __ATOMIC_RELEASE);
	pthread_join(tick, NULL);
	pthread_join(control, NULL);
	CHECK_EQ(fg_pending(g), 1000);	/* every MODIFYCHANNEL answered */
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(a[i].replies, 2000);
		CHECK_EQ(e[i].packets, 2000);
	}
	CHECK_EQ(g->nlogs, 0);
	fg_free(g);
}
