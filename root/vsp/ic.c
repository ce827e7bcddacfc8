/*
 * Heartbeat and shutdown integration services (see ic.h). All state is
 * touched in channel context only: the channel callbacks, and the
 * worker's requests through vmbus_chan_run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ic.h"

#define IC_MAX_MESSAGE (IC_HDR_BYTES + sizeof(struct ic_shutdown_msg))

/* Log kinds of this provider. */
enum {
	LOG_BAD_PACKET = VMBUS_LOG_DEVICE(0),
	LOG_NEGOTIATION = VMBUS_LOG_DEVICE(1),
	LOG_UNEXPECTED = VMBUS_LOG_DEVICE(2),
	LOG_SEND_FAILED = VMBUS_LOG_DEVICE(3),
};

struct ic_service {
	const char *name;
	struct vmbus_guid type;
	uint16_t msgtype;
	const struct ic_version *versions;	/* newest first */
	uint16_t nversions;
};

static const struct ic_version framework_versions[] = { { 3, 0 }, { 1, 0 } };
static const struct ic_version heartbeat_versions[] = { { 3, 0 }, { 1, 0 } };
static const struct ic_version shutdown_versions[] = {
	{ 3, 2 }, { 3, 1 }, { 3, 0 }, { 1, 0 },
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct ic_service heartbeat_service = {
	"heartbeat", IC_HEARTBEAT_GUID, IC_MSG_HEARTBEAT, heartbeat_versions,
	ARRAY_LEN(heartbeat_versions),
};

static const struct ic_service shutdown_service = {
	"shutdown", IC_SHUTDOWN_GUID, IC_MSG_SHUTDOWN, shutdown_versions,
	ARRAY_LEN(shutdown_versions),
};

enum ic_state {
	IC_CLOSED,
	IC_NEGOTIATE_UNSENT,	/* open; the ring was full */
	IC_NEGOTIATE_SENT,
	IC_READY,
	IC_FAILED,		/* no version in common */
};

enum shutdown_state {
	SD_NONE,
	SD_QUEUED,		/* waiting for negotiation or ring space */
	SD_SENT,
	SD_DONE,
	SD_ABORTED,		/* the channel closed before the answer */
};

struct ic {
	struct vmbus_channel *ch;
	const struct ic_service *svc;
	enum ic_state state;
	struct ic_version fw, msg;	/* negotiated */
	uint64_t next_trans_id;
	uint8_t next_txn;
	uint64_t now_ms;		/* from the last tick */
	/* heartbeat */
	uint32_t interval_ms;
	bool sent_any;
	uint64_t last_sent_ms;
	uint64_t sent_seq, answered_seq, answered_ms;
	/* shutdown */
	enum shutdown_state sd;
	struct ic_shutdown_msg sd_msg;
	uint64_t sd_trans_id;
	uint32_t sd_status;
};

/* ------------------------------------------------------------ sending */

/* Sends one request: pipe and IC headers, then the body. */
static int ic_send(struct ic *ic, uint16_t msgtype, const void *body,
		   uint16_t body_len, uint64_t *trans_id)
{
	static const struct ic_version v1 = { 1, 0 };
	uint8_t buf[IC_MAX_MESSAGE];
	struct ic_pipe_hdr pipe = {
		.flags = IC_PIPE_FLAG_DATA,
		.msgsize = sizeof(struct ic_msg_hdr) + body_len };
	struct ic_msg_hdr h = {
		.icverframe = msgtype == IC_MSG_NEGOTIATE ? v1 : ic->fw,
		.icmsgtype = msgtype,
		.icvermsg = msgtype == IC_MSG_NEGOTIATE ? v1 : ic->msg,
		.icmsgsize = body_len,
		.ictransaction_id = ic->next_txn++,
		.icflags = IC_FLAG_TRANSACTION | IC_FLAG_REQUEST };
	int r;

	memcpy(buf, &pipe, sizeof(pipe));
	memcpy(buf + sizeof(pipe), &h, sizeof(h));
	memcpy(buf + IC_HDR_BYTES, body, body_len);
	*trans_id = ic->next_trans_id;
	r = vmbus_chan_send(ic->ch, VM_PKT_DATA_INBAND, 0, *trans_id, buf,
			    IC_HDR_BYTES + body_len);
	if (r == 0)
		ic->next_trans_id++;
	else if (r != -EAGAIN)	/* -EAGAIN: ops->writable retries */
		vmbus_chan_log_once(ic->ch, LOG_SEND_FAILED,
				    "send-failed: IC message lost (%d)", r);
	return r;
}

/* Offers our framework versions, then the service's. */
static int send_negotiate(struct ic *ic)
{
	uint8_t body[sizeof(struct ic_negotiate) + sizeof(framework_versions) +
		     8 * sizeof(struct ic_version)];
	struct ic_negotiate n = {
		.icframe_vercnt = ARRAY_LEN(framework_versions),
		.icmsg_vercnt = ic->svc->nversions };
	size_t fw = sizeof(framework_versions);
	size_t msg = ic->svc->nversions * sizeof(struct ic_version);
	uint64_t id;

	memcpy(body, &n, sizeof(n));
	memcpy(body + sizeof(n), framework_versions, fw);
	memcpy(body + sizeof(n) + fw, ic->svc->versions, msg);
	return ic_send(ic, IC_MSG_NEGOTIATE, body,
		       (uint16_t)(sizeof(n) + fw + msg), &id);
}

static bool heartbeat_due(const struct ic *ic)
{
	return ic->interval_ms &&
	       (!ic->sent_any || ic->now_ms - ic->last_sent_ms >=
				 ic->interval_ms);
}

static void send_heartbeat(struct ic *ic)
{
	struct ic_heartbeat_msg m = { .seq_num = ic->sent_seq + 1 };
	uint64_t id;

	if (ic_send(ic, IC_MSG_HEARTBEAT, &m, sizeof(m), &id))
		return;
	ic->sent_seq++;
	ic->sent_any = true;
	ic->last_sent_ms = ic->now_ms;
}

static void send_shutdown(struct ic *ic)
{
	if (ic_send(ic, IC_MSG_SHUTDOWN, &ic->sd_msg, sizeof(ic->sd_msg),
		    &ic->sd_trans_id) == 0)
		ic->sd = SD_SENT;
}

/* Sends whatever is due; called whenever something may have changed. */
static void ic_pump(struct ic *ic)
{
	if (ic->state == IC_NEGOTIATE_UNSENT) {
		if (send_negotiate(ic) == 0)
			ic->state = IC_NEGOTIATE_SENT;
		return;
	}
	if (ic->state != IC_READY)
		return;
	if (ic->svc == &heartbeat_service && heartbeat_due(ic))
		send_heartbeat(ic);
	if (ic->svc == &shutdown_service && ic->sd == SD_QUEUED)
		send_shutdown(ic);
}

/* ------------------------------------------------------------ answers */

static bool version_listed(const struct ic_version *v,
			   const struct ic_version *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].major == v->major && list[i].minor == v->minor)
			return true;
	return false;
}

/* The guest's choice: one framework and one message version, both from
 * our lists; counts 0/0 mean it found none in common. */
static void negotiated(struct ic *ic, const uint8_t *body, uint32_t len)
{
	struct ic_negotiate n;
	struct ic_version v[2];

	ic->state = IC_FAILED;
	if (len < sizeof(n) + sizeof(v))
		goto fail;
	memcpy(&n, body, sizeof(n));
	memcpy(v, body + sizeof(n), sizeof(v));
	if (n.icframe_vercnt != 1 || n.icmsg_vercnt != 1 ||
	    !version_listed(&v[0], framework_versions,
			    ARRAY_LEN(framework_versions)) ||
	    !version_listed(&v[1], ic->svc->versions, ic->svc->nversions))
		goto fail;
	ic->fw = v[0];
	ic->msg = v[1];
	ic->state = IC_READY;
	return;
fail:
	vmbus_chan_log_once(ic->ch, LOG_NEGOTIATION,
			    "negotiation: no common %s IC version",
			    ic->svc->name);
}

static void heartbeat_answer(struct ic *ic, const uint8_t *body,
			     uint32_t len)
{
	uint64_t seq;

	if (len < sizeof(seq))
		return;
	memcpy(&seq, body, sizeof(seq));
	/* The guest answers seq + 1; only count sequences we sent. */
	if (seq == 0 || seq - 1 > ic->sent_seq || seq - 1 <= ic->answered_seq)
		return;
	ic->answered_seq = seq - 1;
	ic->answered_ms = ic->now_ms;
}

static void shutdown_answer(struct ic *ic, const struct ic_msg_hdr *h,
			    uint64_t trans_id)
{
	if (ic->sd != SD_SENT || trans_id != ic->sd_trans_id)
		return;
	ic->sd_status = h->status;
	ic->sd = SD_DONE;
}

/* Routes a response by type; false if it is not one we wait for. */
static bool dispatch(struct ic *ic, const struct ic_msg_hdr *h,
		     const struct vmbus_packet *pkt)
{
	const uint8_t *body = pkt->data + IC_HDR_BYTES;
	uint32_t len = pkt->len - IC_HDR_BYTES;

	if (h->icmsgtype == IC_MSG_NEGOTIATE &&
	    ic->state == IC_NEGOTIATE_SENT)
		negotiated(ic, body, len);
	else if (h->icmsgtype != ic->svc->msgtype || ic->state != IC_READY)
		return false;
	else if (ic->svc == &heartbeat_service)
		heartbeat_answer(ic, body, len);
	else
		shutdown_answer(ic, h, pkt->trans_id);
	return true;
}

static void ic_packet(struct vmbus_channel *ch, void *ctx,
		      const struct vmbus_packet *pkt)
{
	struct ic *ic = ctx;
	struct ic_msg_hdr h;

	if (pkt->type != VM_PKT_DATA_INBAND || pkt->len < IC_HDR_BYTES) {
		vmbus_chan_log_once(ch, LOG_BAD_PACKET,
				    "bad-packet: type %u, %u bytes", pkt->type,
				    pkt->len);
		return;
	}
	memcpy(&h, pkt->data + sizeof(struct ic_pipe_hdr), sizeof(h));
	if (!(h.icflags & IC_FLAG_RESPONSE) || !dispatch(ic, &h, pkt))
		vmbus_chan_log_once(ch, LOG_UNEXPECTED,
				    "unexpected: IC message type %u flags %#x",
				    h.icmsgtype, h.icflags);
	ic_pump(ic);
}

/* ------------------------------------------------------------ channel */

static int ic_open(struct vmbus_channel *ch, void *ctx)
{
	struct ic *ic = ctx;

	ic->state = IC_NEGOTIATE_UNSENT;
	ic->sent_any = false;
	ic_pump(ic);
	return 0;
}

static void ic_writable(struct vmbus_channel *ch, void *ctx)
{
	ic_pump(ctx);
}

static void ic_tick(struct vmbus_channel *ch, void *ctx, uint64_t now_ms)
{
	struct ic *ic = ctx;

	ic->now_ms = now_ms;
	ic_pump(ic);
}

static void ic_close(struct vmbus_channel *ch, void *ctx)
{
	struct ic *ic = ctx;

	ic->state = IC_CLOSED;
	if (ic->sd == SD_QUEUED || ic->sd == SD_SENT)
		ic->sd = SD_ABORTED;
}

static void ic_release(void *ctx)
{
	free(ctx);
}

static const struct vmbus_device_ops ic_ops = {
	.open = ic_open,
	.packet = ic_packet,
	.writable = ic_writable,
	.tick = ic_tick,
	.close = ic_close,
	.release = ic_release,
};

static int ic_add(struct vmbus_server *s, const struct ic_service *svc,
		  const struct vmbus_guid *instance, uint32_t interval_ms,
		  struct ic **out)
{
	struct vmbus_device_desc d = {
		.name = svc->name,
		.type = svc->type,
		.instance = *instance,
		.min_ring_bytes = 2 * 4096,	/* Linux: 16 KiB each way */
		.max_ring_bytes = 256 * 1024,
		.max_recv_packet = 4096,
		.max_send_packet = VMBUS_DEFAULT_MAX_PKT_SIZE,
		.ops = &ic_ops,
	};
	struct ic *ic = calloc(1, sizeof(*ic));
	int r;

	if (!ic)
		return -ENOMEM;
	ic->svc = svc;
	ic->interval_ms = interval_ms;
	ic->next_trans_id = 1;
	d.ctx = ic;
	r = vmbus_device_add(s, &d, &ic->ch);
	if (r) {
		free(ic);
		return r;
	}
	*out = ic;
	return 0;
}

int ic_heartbeat_add(struct vmbus_server *s, const struct vmbus_guid *instance,
		     uint32_t interval_ms, struct ic **out)
{
	return ic_add(s, &heartbeat_service, instance, interval_ms, out);
}

int ic_shutdown_add(struct vmbus_server *s, const struct vmbus_guid *instance,
		    struct ic **out)
{
	return ic_add(s, &shutdown_service, instance, 0, out);
}

/* ------------------------------------------------------------ queries */

struct vmbus_channel *ic_channel(struct ic *ic)
{
	return ic->ch;
}

struct versions_arg {
	struct ic *ic;
	uint32_t *fw, *msg;
};

static int get_versions(struct vmbus_channel *ch, void *p)
{
	struct versions_arg *a = p;
	struct ic *ic = a->ic;

	switch (ic->state) {
	case IC_CLOSED:
		return -ENOTCONN;
	case IC_FAILED:
		return -EPROTO;
	case IC_READY:
		*a->fw = (uint32_t)ic->fw.major << 16 | ic->fw.minor;
		*a->msg = (uint32_t)ic->msg.major << 16 | ic->msg.minor;
		return 0;
	default:
		return -EINPROGRESS;
	}
}

int ic_versions(struct ic *ic, uint32_t *framework, uint32_t *message)
{
	struct versions_arg a = { ic, framework, message };

	return vmbus_chan_run(ic->ch, get_versions, &a);
}

struct status_arg {
	struct ic *ic;
	struct ic_heartbeat_status *st;
};

static int get_heartbeat(struct vmbus_channel *ch, void *p)
{
	struct status_arg *a = p;

	a->st->ready = a->ic->state == IC_READY;
	a->st->sent_seq = a->ic->sent_seq;
	a->st->answered_seq = a->ic->answered_seq;
	a->st->answered_ms = a->ic->answered_ms;
	return 0;
}

void ic_heartbeat_status(struct ic *ic, struct ic_heartbeat_status *st)
{
	struct status_arg a = { ic, st };

	vmbus_chan_run(ic->ch, get_heartbeat, &a);
}

/* ------------------------------------------------------------ shutdown */

/* ASCII to the UTF-16LE, NUL-terminated text Windows hosts send. */
static void utf16_message(uint8_t *out, const char *text)
{
	size_t n = 0;

	memset(out, 0, IC_SHUTDOWN_MESSAGE_BYTES);
	for (; text && text[n] && n < IC_SHUTDOWN_MESSAGE_BYTES / 2 - 1; n++)
		out[2 * n] = (unsigned char)text[n] < 0x80 ? text[n] : '?';
}

struct request_arg {
	struct ic *ic;
	const struct ic_shutdown_req *req;
};

static int do_request(struct vmbus_channel *ch, void *p)
{
	struct request_arg *a = p;
	struct ic *ic = a->ic;

	if (ic->state == IC_CLOSED)
		return -ENOTCONN;
	if (ic->state == IC_FAILED)
		return -EPROTO;
	if (ic->sd == SD_QUEUED || ic->sd == SD_SENT)
		return -EBUSY;
	ic->sd_msg.reason_code = a->req->reason_code;
	ic->sd_msg.timeout_seconds = a->req->timeout_s;
	ic->sd_msg.flags = a->req->flags;
	utf16_message(ic->sd_msg.display_message, a->req->message);
	ic->sd = SD_QUEUED;
	ic_pump(ic);
	return 0;
}

int ic_shutdown_request(struct ic *ic, const struct ic_shutdown_req *req)
{
	struct request_arg a = { ic, req };

	if (ic->svc != &shutdown_service ||
	    (req->flags & ~IC_SHUTDOWN_FORCE) > IC_SHUTDOWN_HIBERNATE)
		return -EINVAL;
	return vmbus_chan_run(ic->ch, do_request, &a);
}

struct result_arg {
	struct ic *ic;
	uint32_t *status;
};

static int get_result(struct vmbus_channel *ch, void *p)
{
	struct result_arg *a = p;

	switch (a->ic->sd) {
	case SD_NONE:
		return -ENOENT;
	case SD_DONE:
		*a->status = a->ic->sd_status;
		return 0;
	case SD_ABORTED:
		return -ECONNRESET;
	default:
		return -EINPROGRESS;
	}
}

int ic_shutdown_result(struct ic *ic, uint32_t *status)
{
	struct result_arg a = { ic, status };

	return vmbus_chan_run(ic->ch, get_result, &a);
}
