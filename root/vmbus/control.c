/*
 * Channel messages from the guest (doc 6.2/6.3), with the server lock
 * held: version negotiation, offers, GPADLs, open/close/modify, rescind
 * and release, unload. Each message is checked against its minimum
 * size and the connection state before its handler sees it; handlers
 * check ids and state and refuse with a status where the protocol has
 * one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

#define MSG(type) { .msgtype = (type) }

/* ------------------------------------------------------------ helpers */

static void set_state(struct vmbus_channel *ch, enum chan_state state)
{
	pthread_mutex_lock(&ch->lock);
	ch->state = state;
	pthread_mutex_unlock(&ch->lock);
}

/* The channel the guest knows as relid in this connection, if any. */
static struct vmbus_channel *find_offered(struct vmbus_server *s,
					  uint32_t relid)
{
	for (uint32_t i = 0; i < s->nr_chans; i++) {
		struct vmbus_channel *ch = s->chans[i];

		if (ch->relid == relid && ch->offered &&
		    ch->state != CHAN_RELEASED)
			return ch;
	}
	return NULL;
}

struct vmbus_channel *control_find_doorbell(struct vmbus_server *s,
					    uint32_t connection_id)
{
	if (connection_id <= VMBUS_CHANNEL_CONNECTION_BASE)
		return NULL;
	return find_offered(s, connection_id - VMBUS_CHANNEL_CONNECTION_BASE);
}

static struct vmbus_gpadl *find_gpadl(struct vmbus_server *s, uint32_t id)
{
	for (struct vmbus_gpadl *g = s->gpadls; g; g = g->next)
		if (g->id == id)
			return g;
	return NULL;
}

static void free_gpadl(struct vmbus_server *s, struct vmbus_gpadl *g)
{
	struct vmbus_gpadl **p = &s->gpadls;

	while (*p != g)
		p = &(*p)->next;
	*p = g->next;
	s->nr_gpadls--;
	free(g);
}

static void send_torndown(struct vmbus_server *s, uint32_t gpadl)
{
	struct vmbus_msg_gpadl_torndown m = {
		.header = MSG(VMBUS_MSG_GPADL_TORNDOWN), .gpadl = gpadl };

	server_send(s, &m, sizeof(m));
}

/* A closed channel gives its ring GPADL back; a teardown that waited
 * for that completes now. */
static void release_ring_gpadl(struct vmbus_server *s,
			       struct vmbus_channel *ch)
{
	struct vmbus_gpadl *g = ch->ring_gpadl;
	uint32_t id;

	if (!g)
		return;
	ch->ring_gpadl = NULL;
	if (--g->users || !g->teardown_pending)
		return;
	id = g->id;
	free_gpadl(s, g);
	send_torndown(s, id);
}

/* Forgets the connection: channels closed, GPADLs and queued messages
 * dropped, rescinded relids free. No message is sent. */
void control_disconnect(struct vmbus_server *s)
{
	for (uint32_t i = 0; i < s->nr_chans; i++) {
		struct vmbus_channel *ch = s->chans[i];

		chan_close(ch);
		ch->ring_gpadl = NULL;
		ch->offered = false;
		if (ch->state == CHAN_RESCINDED)
			set_state(ch, CHAN_RELEASED);
	}
	while (s->gpadls)
		free_gpadl(s, s->gpadls);
	outbox_clear(&s->outbox);
	s->connected = false;
	s->version = 0;
	s->offers_requested = false;
}

/* ------------------------------------------------------------ offers */

void control_offer(struct vmbus_server *s, struct vmbus_channel *ch)
{
	struct vmbus_msg_offer_channel m = {
		.header = MSG(VMBUS_MSG_OFFERCHANNEL),
		.offer.if_type = ch->desc.type,
		.offer.if_instance = ch->desc.instance,
		.child_relid = ch->relid,
		.interrupt_flags = VMBUS_OFFER_DEDICATED_INTERRUPT,
		.connection_id = vmbus_chan_connection_id(ch),
	};

	ch->offered = true;
	server_send(s, &m, sizeof(m));
}

static void on_request_offers(struct vmbus_server *s, const void *msg,
			      uint32_t size)
{
	struct vmbus_msg_header done = MSG(VMBUS_MSG_ALLOFFERS_DELIVERED);

	if (s->offers_requested) {
		server_log_once(s, SLOG_BAD_STATE, "repeated REQUESTOFFERS");
		return;
	}
	s->offers_requested = true;
	for (uint32_t i = 0; i < s->nr_chans; i++)
		if (s->chans[i]->state == CHAN_OFFERABLE)
			control_offer(s, s->chans[i]);
	server_send(s, &done, sizeof(done));
}

int control_rescind(struct vmbus_server *s, struct vmbus_channel *ch)
{
	struct vmbus_msg_rescind_offer m = {
		.header = MSG(VMBUS_MSG_RESCIND_CHANNELOFFER),
		.child_relid = ch->relid };

	if (ch->state != CHAN_OFFERABLE)
		return -EALREADY;
	if (!ch->offered) {
		set_state(ch, CHAN_RELEASED);
		return 0;
	}
	chan_close(ch);
	release_ring_gpadl(s, ch);
	set_state(ch, CHAN_RESCINDED);
	server_send(s, &m, sizeof(m));
	return 0;
}

static void on_relid_released(struct vmbus_server *s, const void *msg,
			      uint32_t size)
{
	const struct vmbus_msg_relid_released *m = msg;
	struct vmbus_channel *ch = find_offered(s, m->child_relid);

	if (!ch || ch->state != CHAN_RESCINDED) {
		server_log_once(s, SLOG_BAD_STATE,
				"RELID_RELEASED for relid %u, not rescinded",
				m->child_relid);
		return;
	}
	ch->offered = false;
	set_state(ch, CHAN_RELEASED);
}

/* ------------------------------------------------------------ GPADLs */

static void send_created(struct vmbus_server *s, uint32_t relid,
			 uint32_t gpadl, uint32_t status)
{
	struct vmbus_msg_gpadl_created m = {
		.header = MSG(VMBUS_MSG_GPADL_CREATED), .child_relid = relid,
		.gpadl = gpadl, .creation_status = status };

	server_send(s, &m, sizeof(m));
}

static void refuse_gpadl(struct vmbus_server *s, uint32_t relid,
			 uint32_t gpadl, enum server_log_kind kind,
			 const char *why)
{
	server_log_once(s, kind, "GPADL %#x refused: %s", gpadl, why);
	send_created(s, relid, gpadl, VMBUS_STATUS_UNSUCCESSFUL);
}

/* All range bytes are in: check them, answer GPADL_CREATED. */
static void complete_gpadl(struct vmbus_server *s, struct vmbus_gpadl *g)
{
	uint32_t relid = g->child_relid, id = g->id;
	const char *why;

	if (gpadl_finish(g, gmem_pages(&s->mem), &why)) {
		free_gpadl(s, g);
		refuse_gpadl(s, relid, id, SLOG_BAD_GPADL, why);
		return;
	}
	send_created(s, relid, id, VMBUS_STATUS_OK);
}

static const char *gpadl_header_refusal(struct vmbus_server *s,
					const struct vmbus_msg_gpadl_header *h,
					enum server_log_kind *kind)
{
	struct vmbus_channel *ch = find_offered(s, h->child_relid);

	*kind = SLOG_BAD_GPADL;
	if (!ch || ch->state != CHAN_OFFERABLE) {
		*kind = SLOG_BAD_RELID;
		return "unknown relid";
	}
	if (find_gpadl(s, h->gpadl))
		return "id already in use";
	if (s->nr_gpadls >= VMBUS_MAX_GPADLS) {
		*kind = SLOG_GPADL_LIMIT;
		return "too many GPADLs";
	}
	return NULL;
}

static void on_gpadl_header(struct vmbus_server *s, const void *msg,
			    uint32_t size)
{
	const struct vmbus_msg_gpadl_header *h = msg;
	enum server_log_kind kind;
	struct vmbus_gpadl *g;
	const char *why;

	why = gpadl_header_refusal(s, h, &kind);
	if (why)
		goto refuse;
	g = gpadl_begin(h, (const uint8_t *)msg + sizeof(*h),
			size - sizeof(*h), &why);
	if (!g)
		goto refuse;
	g->next = s->gpadls;
	s->gpadls = g;
	s->nr_gpadls++;
	if (gpadl_all_received(g))
		complete_gpadl(s, g);
	return;
refuse:
	refuse_gpadl(s, h->child_relid, h->gpadl, kind, why);
}

static void on_gpadl_body(struct vmbus_server *s, const void *msg,
			  uint32_t size)
{
	const struct vmbus_msg_gpadl_body *b = msg;
	struct vmbus_gpadl *g = find_gpadl(s, b->gpadl);
	uint32_t relid;
	const char *why;

	if (!g || gpadl_all_received(g)) {
		server_log_once(s, SLOG_BAD_GPADL,
				"GPADL_BODY for GPADL %#x, not being built",
				b->gpadl);
		return;
	}
	if (gpadl_append(g, (const uint8_t *)msg + sizeof(*b),
			 size - sizeof(*b), &why)) {
		relid = g->child_relid;
		free_gpadl(s, g);
		refuse_gpadl(s, relid, b->gpadl, SLOG_BAD_GPADL, why);
		return;
	}
	if (gpadl_all_received(g))
		complete_gpadl(s, g);
}

static void on_gpadl_teardown(struct vmbus_server *s, const void *msg,
			      uint32_t size)
{
	const struct vmbus_msg_gpadl_teardown *t = msg;
	struct vmbus_gpadl *g = find_gpadl(s, t->gpadl);

	if (!g || g->child_relid != t->child_relid) {
		server_log_once(s, SLOG_BAD_GPADL,
				"teardown of unknown GPADL %#x (relid %u)",
				t->gpadl, t->child_relid);
		return;
	}
	if (g->users) {
		g->teardown_pending = true;	/* answered at close */
		return;
	}
	free_gpadl(s, g);
	send_torndown(s, t->gpadl);
}

/* ------------------------------------------------------------ open/close */

static bool ring_size_ok(const struct vmbus_channel *ch, uint32_t pages)
{
	uint64_t bytes = (uint64_t)pages * VMBUS_PAGE_SIZE;

	return bytes >= ch->desc.min_ring_bytes &&
	       bytes <= ch->desc.max_ring_bytes;
}

/* The ring GPADL and split the guest asks for, or why not. */
static const char *ring_refusal(struct vmbus_server *s,
				struct vmbus_channel *ch,
				const struct vmbus_msg_open_channel *m,
				struct vmbus_gpadl **gp)
{
	struct vmbus_gpadl *g = find_gpadl(s, m->ringbuffer_gpadl);
	uint32_t npages, send = m->downstream_ring_page_offset;

	if (!g || !g->complete || g->child_relid != ch->relid)
		return "no such ring GPADL for this channel";
	if (g->users || g->teardown_pending)
		return "ring GPADL in use or being torn down";
	if (!gpadl_is_ring(g, &npages))
		return "ring GPADL is not whole pages from offset 0";
	/* Each ring: a control page and at least one data page. */
	if (send < 2 || npages < 2 || send > npages - 2)
		return "bad downstream ring page offset";
	if (!ring_size_ok(ch, send) || !ring_size_ok(ch, npages - send))
		return "ring size outside the device's limits";
	/* Or a packet the device may send would wait for room forever. */
	if ((uint64_t)(npages - send - 1) * VMBUS_PAGE_SIZE <=
	    ch->desc.max_send_packet + VMBUS_PKT_TRAILER)
		return "host->guest ring smaller than the largest packet";
	*gp = g;
	return NULL;
}

static uint32_t open_channel(struct vmbus_server *s, struct vmbus_channel *ch,
			     const struct vmbus_msg_open_channel *m)
{
	struct vmbus_gpadl *g = NULL;
	const char *why;

	if (ch->open) {
		why = "channel already open";
		goto refuse;
	}
	why = ring_refusal(s, ch, m, &g);
	if (why)
		goto refuse;
	if (m->target_vp >= s->vp_count) {
		server_log_once(s, SLOG_BAD_TARGET_VP,
				"OPENCHANNEL target VP %u out of range",
				m->target_vp);
		return VMBUS_STATUS_UNSUCCESSFUL;
	}
	if (chan_open(ch, g, m->downstream_ring_page_offset, m->target_vp,
		      &why))
		goto refuse;
	g->users++;
	ch->ring_gpadl = g;
	return VMBUS_STATUS_OK;
refuse:
	server_log_once(s, SLOG_BAD_OPEN, "OPENCHANNEL relid %u refused: %s",
			ch->relid, why);
	return VMBUS_STATUS_UNSUCCESSFUL;
}

static void on_open(struct vmbus_server *s, const void *msg, uint32_t size)
{
	const struct vmbus_msg_open_channel *m = msg;
	struct vmbus_channel *ch = find_offered(s, m->child_relid);
	struct vmbus_msg_open_result res = {
		.header = MSG(VMBUS_MSG_OPENCHANNEL_RESULT),
		.child_relid = m->child_relid, .openid = m->openid,
		.status = VMBUS_STATUS_UNSUCCESSFUL };

	if (ch && ch->state == CHAN_OFFERABLE)
		res.status = open_channel(s, ch, m);
	else
		server_log_once(s, SLOG_BAD_RELID,
				"OPENCHANNEL for unknown relid %u",
				m->child_relid);
	server_send(s, &res, sizeof(res));
}

static void on_close(struct vmbus_server *s, const void *msg, uint32_t size)
{
	const struct vmbus_msg_close_channel *m = msg;
	struct vmbus_channel *ch = find_offered(s, m->child_relid);

	if (!ch) {
		server_log_once(s, SLOG_BAD_RELID,
				"CLOSECHANNEL for unknown relid %u",
				m->child_relid);
		return;
	}
	if (ch->state == CHAN_RESCINDED)
		return;		/* we closed it when we rescinded it */
	if (!ch->open) {
		server_log_once(s, SLOG_BAD_STATE,
				"CLOSECHANNEL for relid %u, not open",
				m->child_relid);
		return;
	}
	chan_close(ch);
	release_ring_gpadl(s, ch);
}

static uint32_t modify_channel(struct vmbus_server *s,
			       const struct vmbus_msg_modify_channel *m)
{
	struct vmbus_channel *ch = find_offered(s, m->child_relid);

	if (!ch || !ch->open || m->target_vp >= s->vp_count) {
		server_log_once(s, SLOG_BAD_MODIFY,
				"MODIFYCHANNEL relid %u to VP %u refused",
				m->child_relid, m->target_vp);
		return VMBUS_STATUS_UNSUCCESSFUL;
	}
	pthread_mutex_lock(&ch->lock);
	ch->target_vp = m->target_vp;
	pthread_mutex_unlock(&ch->lock);
	return VMBUS_STATUS_OK;
}

static void on_modify(struct vmbus_server *s, const void *msg, uint32_t size)
{
	const struct vmbus_msg_modify_channel *m = msg;
	struct vmbus_msg_modify_response res = {
		.header = MSG(VMBUS_MSG_MODIFYCHANNEL_RESPONSE),
		.child_relid = m->child_relid };

	if (s->version < VMBUS_VERSION_4_1) {
		server_log_once(s, SLOG_BAD_MODIFY,
				"MODIFYCHANNEL before version 4.1");
		return;
	}
	res.status = modify_channel(s, m);
	if (s->version >= VMBUS_VERSION_5_3)
		server_send(s, &res, sizeof(res));
}

/* ------------------------------------------------------------ connection */

static bool version_known(uint32_t v)
{
	static const uint32_t known[] = {
		VMBUS_VERSION_5_3, VMBUS_VERSION_5_2, VMBUS_VERSION_5_1,
		VMBUS_VERSION_5_0, VMBUS_VERSION_4_1, VMBUS_VERSION_WS2016,
		VMBUS_VERSION_WS2012R2, VMBUS_VERSION_WS2012,
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (known[i] == v)
			return true;
	return false;
}

static bool contact_acceptable(struct vmbus_server *s,
			       const struct vmbus_msg_initiate_contact *m)
{
	uint32_t v = m->vmbus_version_requested;

	if (!version_known(v))
		return false;	/* normal: Linux then tries an older one */
	if (v >= VMBUS_VERSION_5_0 && m->msg_sint != VMBUS_MESSAGE_SINT) {
		server_log_once(s, SLOG_BAD_VERSION,
				"INITIATE_CONTACT asks for SINT %u, we use %u",
				m->msg_sint, VMBUS_MESSAGE_SINT);
		return false;
	}
	return true;
}

/* Also a reset: a guest that contacts us again (kexec) starts afresh. */
static void on_initiate_contact(struct vmbus_server *s, const void *msg,
				uint32_t size)
{
	const struct vmbus_msg_initiate_contact *m = msg;
	struct vmbus_msg_version_response res = {
		.header = MSG(VMBUS_MSG_VERSION_RESPONSE) };

	control_disconnect(s);
	if (m->target_vcpu >= s->vp_count) {
		server_log_once(s, SLOG_BAD_TARGET_VP,
				"INITIATE_CONTACT target VP %u out of range",
				m->target_vcpu);
		return;
	}
	s->target_vcpu = m->target_vcpu;
	if (contact_acceptable(s, m)) {
		s->connected = true;
		s->version = m->vmbus_version_requested;
		res.version_supported = 1;
		res.msg_conn_id = VMBUS_MESSAGE_CONNECTION_ID;
	}
	server_send(s, &res, sizeof(res));
}

static void on_unload(struct vmbus_server *s, const void *msg, uint32_t size)
{
	struct vmbus_msg_header res = MSG(VMBUS_MSG_UNLOAD_RESPONSE);

	control_disconnect(s);
	server_send(s, &res, sizeof(res));
}

static void on_unsupported(struct vmbus_server *s, const void *msg,
			   uint32_t size)
{
	server_log_once(s, SLOG_UNSUPPORTED,
			"hv_sock TL_CONNECT_REQUEST ignored");
}

/* ------------------------------------------------------------ dispatch */

struct handler {
	const char *name;
	uint32_t min_size;
	bool needs_connection;
	void (*fn)(struct vmbus_server *s, const void *msg, uint32_t size);
};

#define HANDLER(type, msg_struct, conn, f)                                   \
	[VMBUS_MSG_##type] = { #type, sizeof(msg_struct), conn, f }

static const struct handler handlers[VMBUS_MSG_COUNT] = {
	HANDLER(REQUESTOFFERS, struct vmbus_msg_header, true,
		on_request_offers),
	HANDLER(OPENCHANNEL, struct vmbus_msg_open_channel, true, on_open),
	HANDLER(CLOSECHANNEL, struct vmbus_msg_close_channel, true, on_close),
	HANDLER(GPADL_HEADER, struct vmbus_msg_gpadl_header, true,
		on_gpadl_header),
	HANDLER(GPADL_BODY, struct vmbus_msg_gpadl_body, true, on_gpadl_body),
	HANDLER(GPADL_TEARDOWN, struct vmbus_msg_gpadl_teardown, true,
		on_gpadl_teardown),
	HANDLER(RELID_RELEASED, struct vmbus_msg_relid_released, true,
		on_relid_released),
	HANDLER(INITIATE_CONTACT, struct vmbus_msg_initiate_contact, false,
		on_initiate_contact),
	HANDLER(UNLOAD, struct vmbus_msg_header, false, on_unload),
	HANDLER(TL_CONNECT_REQUEST, struct vmbus_msg_header, true,
		on_unsupported),
	HANDLER(MODIFYCHANNEL, struct vmbus_msg_modify_channel, true,
		on_modify),
};

void control_dispatch(struct vmbus_server *s, const void *msg, uint32_t size)
{
	const struct handler *h;
	struct vmbus_msg_header hdr;

	if (size < sizeof(hdr)) {
		server_log_once(s, SLOG_SHORT_MESSAGE,
				"%u-byte message, shorter than a header", size);
		return;
	}
	memcpy(&hdr, msg, sizeof(hdr));
	h = hdr.msgtype < VMBUS_MSG_COUNT ? &handlers[hdr.msgtype] : NULL;
	if (!h || !h->fn) {
		server_log_once(s, SLOG_UNKNOWN_MESSAGE,
				"message type %u not for the host",
				hdr.msgtype);
		return;
	}
	if (size < h->min_size) {
		server_log_once(s, SLOG_SHORT_MESSAGE, "%s of %u bytes",
				h->name, size);
		return;
	}
	if (h->needs_connection && !s->connected) {
		server_log_once(s, SLOG_NOT_CONNECTED,
				"%s before INITIATE_CONTACT", h->name);
		return;
	}
	h->fn(s, msg, size);
}
