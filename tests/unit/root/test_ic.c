/*
 * Heartbeat and shutdown ICs against a fake hv_utils: the guest side
 * answers as Linux 6.1's hv_util.c does (vmbus_prep_negotiate_resp,
 * seq_num + 1, shutdown flags), echoing the buffer and trans_id.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test_vmbus.h"
#include <vsp/ic.h>

static const struct vmbus_guid hb_instance = VMBUS_GUID_INIT(0x11111111,
	0x2222, 0x3333, 4, 4, 5, 5, 6, 6, 7, 7);
static const struct vmbus_guid sd_instance = VMBUS_GUID_INIT(0x11111112,
	0x2222, 0x3333, 4, 4, 5, 5, 6, 6, 7, 7);

/* What the fake hv_utils supports, as (major << 16) | minor. */
struct guest_ic {
	int fw[4], nfw;
	int srv[4], nsrv;
	bool hibernation;
	/* The last request seen. */
	uint8_t last[4096];
	uint32_t last_len;
	uint64_t last_trans_id;
	struct ic_msg_hdr last_hdr;
	unsigned int handled;
};

static const struct guest_ic linux_heartbeat = {
	.fw = { 0x30000, 0x10000 }, .nfw = 2,
	.srv = { 0x30000, 0x10000 }, .nsrv = 2 };
static const struct guest_ic linux_shutdown = {
	.fw = { 0x30000, 0x10000 }, .nfw = 2,
	.srv = { 0x30002, 0x30001, 0x30000, 0x10000 }, .nsrv = 4 };

/* Linux's vmbus_prep_negotiate_resp: first of ours the host offers. */
static void prep_negotiate_resp(const struct guest_ic *gi, uint8_t *buf,
				uint32_t buflen, struct ic_msg_hdr *h)
{
	struct ic_negotiate n;
	struct ic_version v[200], fw = { 0, 0 }, srv = { 0, 0 };
	bool found = false;

	h->icmsgsize = 0x10;
	memcpy(&n, buf + IC_HDR_BYTES, sizeof(n));
	if (IC_HDR_BYTES + 8 + 4 * (n.icframe_vercnt + n.icmsg_vercnt) >
	    buflen || n.icframe_vercnt + n.icmsg_vercnt > 200)
		goto out;
	memcpy(v, buf + IC_HDR_BYTES + 8,
	       4 * (n.icframe_vercnt + n.icmsg_vercnt));
	for (int i = 0; i < gi->nfw && !found; i++)
		for (int j = 0; j < n.icframe_vercnt && !found; j++)
			if (v[j].major == gi->fw[i] >> 16 &&
			    v[j].minor == (gi->fw[i] & 0xffff))
				fw = v[j], found = true;
	if (!found)
		goto out;
	found = false;
	for (int i = 0; i < gi->nsrv && !found; i++)
		for (int j = n.icframe_vercnt;
		     j < n.icframe_vercnt + n.icmsg_vercnt && !found; j++)
			if (v[j].major == gi->srv[i] >> 16 &&
			    v[j].minor == (gi->srv[i] & 0xffff))
				srv = v[j], found = true;
out:
	n.icframe_vercnt = n.icmsg_vercnt = found;
	v[0] = fw;
	v[1] = srv;
	memcpy(buf + IC_HDR_BYTES, &n, sizeof(n));
	memcpy(buf + IC_HDR_BYTES + 8, v, 8);
}

static void answer_shutdown(struct guest_ic *gi, struct ic_msg_hdr *h,
			    const uint8_t *buf)
{
	struct ic_shutdown_msg m;

	memcpy(&m, buf + IC_HDR_BYTES, sizeof(m));
	switch (m.flags) {
	case 0: case 1: case 2: case 3:
		h->status = IC_S_OK;
		break;
	case 4: case 5:
		h->status = gi->hibernation ? IC_S_OK : IC_E_FAIL;
		break;
	default:
		h->status = IC_E_FAIL;
	}
}

/* Handles one packet from the host as hv_utils; 0 if there was none,
 * -1 if it was dropped (as Linux drops short ones). */
static int guest_step(struct fake_guest *g, struct fg_chan *c,
		      struct guest_ic *gi)
{
	struct vmbus_pkt_desc d;
	uint8_t buf[4096];
	struct ic_msg_hdr h;
	uint32_t len;

	if (!fg_recv(g, c, &d, buf, sizeof(buf), &len))
		return 0;
	memcpy(gi->last, buf, len);
	gi->last_len = len;
	gi->last_trans_id = d.trans_id;
	if (len < IC_HDR_BYTES)
		return -1;
	memcpy(&h, buf + 8, sizeof(h));
	gi->last_hdr = h;
	if (h.icmsgtype == IC_MSG_NEGOTIATE) {
		prep_negotiate_resp(gi, buf, len, &h);
	} else if (h.icmsgtype == IC_MSG_HEARTBEAT) {
		uint64_t seq;

		memcpy(&seq, buf + IC_HDR_BYTES, 8);
		seq++;
		memcpy(buf + IC_HDR_BYTES, &seq, 8);
	} else if (h.icmsgtype == IC_MSG_SHUTDOWN) {
		if (len < IC_HDR_BYTES + sizeof(struct ic_shutdown_msg))
			return -1;
		answer_shutdown(gi, &h, buf);
	} else {
		h.status = IC_E_FAIL;
	}
	h.icflags = IC_FLAG_TRANSACTION | IC_FLAG_RESPONSE;
	memcpy(buf + 8, &h, sizeof(h));
	gi->handled++;
	fg_send(g, c, VM_PKT_DATA_INBAND, 0, d.trans_id, NULL, 0, buf, len);
	return 1;
}

struct ic_rig {
	struct fake_guest *g;
	struct ic *hb, *sd;
	struct fg_chan hbc, sdc;
	struct guest_ic hbg, sdg;
};

/* Both ICs offered; hv_utils opens them with 16 KiB rings each way. */
static struct ic_rig *ic_rig_new(bool open)
{
	struct ic_rig *r = calloc(1, sizeof(*r));

	r->g = fg_new();
	r->hbg = linux_heartbeat;
	r->sdg = linux_shutdown;
	if (ic_heartbeat_add(r->g->s, &hb_instance, 2000, &r->hb) ||
	    ic_shutdown_add(r->g->s, &sd_instance, &r->sd) ||
	    !fg_connect(r->g, 2))
		goto fail;
	if (open && (fg_open(r->g, &r->hbc, 1, 4, 4, 0) ||
		     fg_open(r->g, &r->sdc, 2, 4, 4, 0)))
		goto fail;
	return r;
fail:
	fg_free(r->g);
	free(r);
	return NULL;
}

static void ic_rig_free(struct ic_rig *r)
{
	fg_free(r->g);
	free(r);
}

TEST(ic_offers_with_hv_utils_guids)
{
	static const uint8_t hb[16] = { 0x39, 0x4f, 0x16, 0x57, 0x15, 0x91,
		0x78, 0x4e, 0xab, 0x55, 0x38, 0x2f, 0x3b, 0xd5, 0x42, 0x2d };
	static const uint8_t sd[16] = { 0x31, 0x60, 0x0b, 0x0e, 0x13, 0x52,
		0x34, 0x49, 0x81, 0x8b, 0x38, 0xd9, 0x0c, 0xed, 0x39, 0xdb };
	struct fake_guest *g = fg_new();
	struct vmbus_msg_header req = { .msgtype = VMBUS_MSG_REQUESTOFFERS };
	const struct vmbus_msg_offer_channel *o;
	struct ic *a, *b;

	CHECK_EQ(ic_heartbeat_add(g->s, &hb_instance, 1000, &a), 0);
	CHECK_EQ(ic_shutdown_add(g->s, &sd_instance, &b), 0);
	CHECK_EQ(fg_contact(g, VMBUS_VERSION_5_3), 1);
	fg_post(g, 1, &req, sizeof(req));
	o = fg_expect(g, VMBUS_MSG_OFFERCHANNEL, 196);
	CHECK(o && !memcmp(o->offer.if_type.b, hb, 16));
	CHECK(o && !memcmp(&o->offer.if_instance, &hb_instance, 16));
	o = fg_expect(g, VMBUS_MSG_OFFERCHANNEL, 196);
	CHECK(o && !memcmp(o->offer.if_type.b, sd, 16));
	CHECK(ic_channel(a) != ic_channel(b));
	fg_free(g);
}

TEST(ic_negotiation_message_and_answer)
{
	struct ic_rig *r = ic_rig_new(true);
	struct ic_negotiate n;
	struct ic_version v[6];
	uint32_t fw, msg;

	CHECK(r);
	/* Before the guest answers. */
	CHECK_EQ(ic_versions(r->sd, &fw, &msg), -EINPROGRESS);
	CHECK_EQ(guest_step(r->g, &r->sdc, &r->sdg), 1);
	/* What we sent: pipe + IC headers, 2 framework + 4 shutdown
	 * versions, newest first. */
	CHECK_EQ(r->sdg.last_hdr.icmsgtype, IC_MSG_NEGOTIATE);
	CHECK_EQ(r->sdg.last_hdr.icflags, IC_FLAG_TRANSACTION | IC_FLAG_REQUEST);
	CHECK_EQ(r->sdg.last_hdr.icmsgsize, 8 + 6 * 4);
	CHECK(r->sdg.last_len >= IC_HDR_BYTES + 8 + 6 * 4);
	memcpy(&n, r->sdg.last + IC_HDR_BYTES, 8);
	memcpy(v, r->sdg.last + IC_HDR_BYTES + 8, sizeof(v));
	CHECK_EQ(n.icframe_vercnt, 2);
	CHECK_EQ(n.icmsg_vercnt, 4);
	CHECK(v[0].major == 3 && v[0].minor == 0);
	CHECK(v[1].major == 1 && v[1].minor == 0);
	CHECK(v[2].major == 3 && v[2].minor == 2);
	CHECK(v[5].major == 1 && v[5].minor == 0);
	CHECK(r->sdg.last_trans_id != 0);
	CHECK_EQ(ic_versions(r->sd, &fw, &msg), 0);
	CHECK_EQ(fw, 0x30000);
	CHECK_EQ(msg, 0x30002);
	/* The heartbeat IC negotiates 3.0 / 3.0. */
	CHECK_EQ(guest_step(r->g, &r->hbc, &r->hbg), 1);
	CHECK_EQ(ic_versions(r->hb, &fw, &msg), 0);
	CHECK_EQ(msg, 0x30000);
	CHECK_EQ(r->g->nlogs, 0);
	ic_rig_free(r);
}

TEST(ic_negotiation_with_an_old_guest_and_none)
{
	struct ic_rig *r = ic_rig_new(false);
	uint32_t fw, msg;

	CHECK(r);
	CHECK_EQ(ic_versions(r->hb, &fw, &msg), -ENOTCONN);
	r->hbg.fw[0] = 0x10000;
	r->hbg.nfw = 1;
	r->hbg.srv[0] = 0x10000;
	r->hbg.nsrv = 1;
	CHECK_EQ(fg_open(r->g, &r->hbc, 1, 4, 4, 0), 0);
	CHECK_EQ(guest_step(r->g, &r->hbc, &r->hbg), 1);
	CHECK_EQ(ic_versions(r->hb, &fw, &msg), 0);
	CHECK_EQ(fw, 0x10000);
	CHECK_EQ(msg, 0x10000);
	/* A guest with nothing in common answers counts 0/0. */
	r->sdg.srv[0] = 0x70000;
	r->sdg.nsrv = 1;
	CHECK_EQ(fg_open(r->g, &r->sdc, 2, 4, 4, 0), 0);
	CHECK_EQ(guest_step(r->g, &r->sdc, &r->sdg), 1);
	CHECK_EQ(ic_versions(r->sd, &fw, &msg), -EPROTO);
	CHECK_EQ(ic_shutdown_request(r->sd, &(struct ic_shutdown_req){ 0 }),
		 -EPROTO);
	CHECK(fg_logged(r->g, "negotiation"));
	ic_rig_free(r);
}

TEST(ic_heartbeat_every_interval)
{
	struct ic_rig *r = ic_rig_new(true);
	struct ic_heartbeat_status st;
	uint64_t seq;

	CHECK(r);
	CHECK_EQ(guest_step(r->g, &r->hbc, &r->hbg), 1);	/* negotiate */
	/* Negotiated: the first heartbeat goes at once. */
	CHECK_EQ(guest_step(r->g, &r->hbc, &r->hbg), 1);
	CHECK_EQ(r->hbg.last_hdr.icmsgtype, IC_MSG_HEARTBEAT);
	CHECK_EQ(r->hbg.last_len, (IC_HDR_BYTES + 40 + 7) & ~7u);	/* padded */
	CHECK(r->hbg.last_hdr.icverframe.major == 3);
	memcpy(&seq, r->hbg.last + IC_HDR_BYTES, 8);
	CHECK_EQ(seq, 1);
	ic_heartbeat_status(r->hb, &st);
	CHECK(st.ready);
	CHECK_EQ(st.sent_seq, 1);
	CHECK_EQ(st.answered_seq, 1);
	vmbus_server_tick(r->g->s, 1000);
	CHECK_EQ(guest_step(r->g, &r->hbc, &r->hbg), 0);	/* not yet */
	vmbus_server_tick(r->g->s, 2000);
	CHECK_EQ(guest_step(r->g, &r->hbc, &r->hbg), 1);
	memcpy(&seq, r->hbg.last + IC_HDR_BYTES, 8);
	CHECK_EQ(seq, 2);
	ic_heartbeat_status(r->hb, &st);
	CHECK_EQ(st.answered_seq, 2);
	CHECK_EQ(st.answered_ms, 2000);
	/* A silent guest: sent moves on, answered does not. */
	vmbus_server_tick(r->g->s, 4000);
	vmbus_server_tick(r->g->s, 6000);
	ic_heartbeat_status(r->hb, &st);
	CHECK_EQ(st.sent_seq, 4);
	CHECK_EQ(st.answered_seq, 2);
	CHECK_EQ(r->g->nlogs, 0);
	ic_rig_free(r);
}

TEST(ic_heartbeat_ring_full_then_resumes)
{
	struct ic_rig *r = ic_rig_new(true);
	struct ic_heartbeat_status st;
	uint64_t t = 0, sent;
	int n = 0;

	CHECK(r);
	CHECK_EQ(guest_step(r->g, &r->hbc, &r->hbg), 1);
	/* The guest stops reading; heartbeats pile up until the ring is
	 * full (12 KiB of 96-byte packets), then wait. */
	for (int i = 0; i < 300; i++)
		vmbus_server_tick(r->g->s, t += 2000);
	ic_heartbeat_status(r->hb, &st);
	sent = st.sent_seq;
	CHECK(sent > 100 && sent < 300);
	/* Draining makes room: the overdue heartbeat goes out at once. */
	while (guest_step(r->g, &r->hbc, &r->hbg) == 1)
		n++;
	CHECK(n >= (int)sent);
	ic_heartbeat_status(r->hb, &st);
	CHECK_EQ(st.sent_seq, sent + 1);
	CHECK_EQ(st.answered_seq, sent + 1);
	vmbus_server_tick(r->g->s, t += 2000);
	ic_heartbeat_status(r->hb, &st);
	CHECK_EQ(st.sent_seq, sent + 2);
	CHECK_EQ(r->g->nlogs, 0);
	ic_rig_free(r);
}

TEST(ic_shutdown_exchange)
{
	struct ic_rig *r = ic_rig_new(true);
	struct ic_shutdown_req req = { .flags = IC_SHUTDOWN_POWEROFF,
				       .reason_code = 7, .timeout_s = 30,
				       .message = "bye" };
	struct ic_shutdown_msg m;
	uint32_t status = 1;

	CHECK(r);
	CHECK_EQ(ic_shutdown_result(r->sd, &status), -ENOENT);
	CHECK_EQ(guest_step(r->g, &r->sdc, &r->sdg), 1);	/* negotiate */
	CHECK_EQ(ic_shutdown_request(r->sd, &req), 0);
	CHECK_EQ(ic_shutdown_request(r->sd, &req), -EBUSY);
	CHECK_EQ(ic_shutdown_result(r->sd, &status), -EINPROGRESS);
	CHECK_EQ(guest_step(r->g, &r->sdc, &r->sdg), 1);
	/* The full 2048-byte message area: hv_utils needs 2088 bytes. */
	CHECK_EQ(r->sdg.last_len, 2088);
	CHECK_EQ(r->sdg.last_hdr.icmsgtype, IC_MSG_SHUTDOWN);
	CHECK_EQ(r->sdg.last_hdr.icmsgsize, 2060);
	CHECK(r->sdg.last_hdr.icvermsg.major == 3 &&
	      r->sdg.last_hdr.icvermsg.minor == 2);
	memcpy(&m, r->sdg.last + IC_HDR_BYTES, sizeof(m));
	CHECK_EQ(m.flags, 0);
	CHECK_EQ(m.reason_code, 7);
	CHECK_EQ(m.timeout_seconds, 30);
	CHECK(!memcmp(m.display_message, "b\0y\0e\0\0\0", 8));
	CHECK_EQ(ic_shutdown_result(r->sd, &status), 0);
	CHECK_EQ(status, IC_S_OK);
	/* Reboot: OK; hibernate: this guest cannot, E_FAIL. */
	req.flags = IC_SHUTDOWN_REBOOT | IC_SHUTDOWN_FORCE;
	CHECK_EQ(ic_shutdown_request(r->sd, &req), 0);
	CHECK_EQ(guest_step(r->g, &r->sdc, &r->sdg), 1);
	CHECK_EQ(ic_shutdown_result(r->sd, &status), 0);
	CHECK_EQ(status, IC_S_OK);
	req.flags = IC_SHUTDOWN_HIBERNATE;
	CHECK_EQ(ic_shutdown_request(r->sd, &req), 0);
	CHECK_EQ(guest_step(r->g, &r->sdc, &r->sdg), 1);
	CHECK_EQ(ic_shutdown_result(r->sd, &status), 0);
	CHECK_EQ(status, IC_E_FAIL);
	req.flags = 6;
	CHECK_EQ(ic_shutdown_request(r->sd, &req), -EINVAL);
	CHECK_EQ(ic_shutdown_request(r->hb, &req), -EINVAL);
	CHECK_EQ(r->g->nlogs, 0);
	ic_rig_free(r);
}

TEST(ic_shutdown_waits_for_negotiation_and_open)
{
	struct ic_rig *r = ic_rig_new(false);
	struct ic_shutdown_req req = { .flags = IC_SHUTDOWN_POWEROFF };
	uint32_t status;

	CHECK(r);
	CHECK_EQ(ic_shutdown_request(r->sd, &req), -ENOTCONN);
	CHECK_EQ(fg_open(r->g, &r->sdc, 2, 4, 4, 0), 0);
	/* Asked before the guest answered the negotiation: queued. */
	CHECK_EQ(ic_shutdown_request(r->sd, &req), 0);
	CHECK_EQ(guest_step(r->g, &r->sdc, &r->sdg), 1);
	CHECK_EQ(r->sdg.last_hdr.icmsgtype, IC_MSG_NEGOTIATE);
	CHECK_EQ(guest_step(r->g, &r->sdc, &r->sdg), 1);
	CHECK_EQ(r->sdg.last_hdr.icmsgtype, IC_MSG_SHUTDOWN);
	CHECK_EQ(ic_shutdown_result(r->sd, &status), 0);
	/* Closed before answering: reset. */
	CHECK_EQ(ic_shutdown_request(r->sd, &req), 0);
	CHECK(fg_close(r->g, &r->sdc));
	CHECK_EQ(ic_shutdown_result(r->sd, &status), -ECONNRESET);
	CHECK_EQ(ic_shutdown_request(r->sd, &req), -ENOTCONN);
	/* Reopened: negotiates again. */
	CHECK_EQ(fg_open(r->g, &r->sdc, 2, 4, 4, 0), 0);
	CHECK_EQ(guest_step(r->g, &r->sdc, &r->sdg), 1);
	CHECK_EQ(r->sdg.last_hdr.icmsgtype, IC_MSG_NEGOTIATE);
	CHECK_EQ(ic_shutdown_request(r->sd, &req), 0);
	ic_rig_free(r);
}

TEST(ic_bad_answers)
{
	struct ic_rig *r = ic_rig_new(true);
	struct ic_heartbeat_status st;
	uint8_t buf[64] = { 0 };
	struct ic_msg_hdr h = { .icmsgtype = IC_MSG_HEARTBEAT,
				.icflags = IC_FLAG_RESPONSE };
	uint64_t seq = 999;

	CHECK(r);
	CHECK_EQ(guest_step(r->g, &r->hbc, &r->hbg), 1);
	CHECK_EQ(guest_step(r->g, &r->hbc, &r->hbg), 1);	/* beat 1 */
	/* Short, not INBAND, not a response, unknown type, a sequence we
	 * never sent: ignored, each kind logged once. */
	fg_send(r->g, &r->hbc, VM_PKT_DATA_INBAND, 0, 1, NULL, 0, buf, 20);
	fg_send(r->g, &r->hbc, VM_PKT_COMP, 0, 1, NULL, 0, buf, 64);
	fg_send(r->g, &r->hbc, VM_PKT_DATA_INBAND, 0, 1, NULL, 0, buf, 64);
	h.icmsgtype = 9;
	memcpy(buf + 8, &h, sizeof(h));
	fg_send(r->g, &r->hbc, VM_PKT_DATA_INBAND, 0, 1, NULL, 0, buf, 64);
	h.icmsgtype = IC_MSG_HEARTBEAT;
	memcpy(buf + 8, &h, sizeof(h));
	memcpy(buf + IC_HDR_BYTES, &seq, 8);
	fg_send(r->g, &r->hbc, VM_PKT_DATA_INBAND, 0, 1, NULL, 0, buf, 64);
	ic_heartbeat_status(r->hb, &st);
	CHECK_EQ(st.answered_seq, 1);
	CHECK(fg_logged(r->g, "bad-packet"));
	CHECK(fg_logged(r->g, "unexpected"));
	CHECK(fg_logs_once_per_kind(r->g));
	ic_rig_free(r);
}

static uint64_t rng = 0x13198a2e03707344ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

TEST(ic_random_answers)
{
	struct ic_rig *r = ic_rig_new(true);
	uint8_t buf[256];

	CHECK(r);
	for (int i = 0; i < 3000; i++) {
		struct fg_chan *c = rnd() % 2 ? &r->hbc : &r->sdc;
		struct guest_ic *gi = c == &r->hbc ? &r->hbg : &r->sdg;
		uint32_t len = rnd() % sizeof(buf);

		for (size_t j = 0; j < sizeof(buf); j++)
			buf[j] = (uint8_t)rnd();
		if (rnd() % 2)
			buf[17 + 8] |= IC_FLAG_RESPONSE;
		if (rnd() % 2)
			memcpy(buf + 12, &(uint16_t){ rnd() % 5 }, 2);
		fg_send(r->g, c, rnd() % 4 ? VM_PKT_DATA_INBAND : rnd() % 16,
			0, rnd() % 8, NULL, 0, buf, len);
		if (rnd() % 4 == 0)
			guest_step(r->g, c, gi);
		if (rnd() % 8 == 0)
			vmbus_server_tick(r->g->s, i * 1000ull);
		if (rnd() % 64 == 0)
			ic_shutdown_request(r->sd, &(struct ic_shutdown_req){
				.flags = rnd() % 6, .message = "x" });
	}
	CHECK(fg_logs_once_per_kind(r->g));
	ic_rig_free(r);
}
