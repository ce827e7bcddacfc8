/*
 * storvsp: the storvsc protocol over a VMBus channel (see storvsp.h).
 * Every request runs to completion in channel context; the channel
 * keeps room for one completion before it hands us a request, so a
 * completion is never refused for lack of ring space. Each request
 * charges the disk bytes it moved to the channel's drain budget
 * (vmbus_chan_charge), so one pass does a bounded amount of I/O.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storvsp.h"

/* Pages of a maximal transfer that does not start on a page boundary,
 * doubled for guests that split ranges oddly. */
#define STORVSP_MAX_IOV (2 * (STORVSP_MAX_TRANSFER / 4096 + 1))

/* Log kinds of this provider. */
enum {
	LOG_BAD_PACKET = VMBUS_LOG_DEVICE(0),
	LOG_BAD_OPERATION = VMBUS_LOG_DEVICE(1),
	LOG_BAD_BUFFER = VMBUS_LOG_DEVICE(2),
	LOG_SEND_FAILED = VMBUS_LOG_DEVICE(3),
};

/* Where the guest is in storvsc_channel_init. */
enum init_state {
	INIT_NONE,
	INIT_BEGUN,		/* BEGIN_INITIALIZATION */
	INIT_VERSIONED,		/* a protocol version agreed */
	INIT_DONE,		/* END_INITIALIZATION: SRBs accepted */
};

struct storvsp {
	struct scsi_disk *disk;
	enum init_state state;
	uint16_t version;
};

static bool version_supported(uint16_t v)
{
	return v == VSTOR_PROTO_WIN10 || v == VSTOR_PROTO_WIN8_1 ||
	       v == VSTOR_PROTO_WIN8;
}

/* ------------------------------------------------------------ init */

static uint32_t query_version(struct storvsp *sp, struct vstor_packet *p)
{
	if (sp->state == INIT_NONE)
		return VSTOR_STATUS_INVALID_DEVICE_STATE;
	if (!version_supported(p->version.major_minor))
		return VSTOR_STATUS_REVISION_MISMATCH; /* Linux goes older */
	sp->version = p->version.major_minor;
	sp->state = INIT_VERSIONED;
	return VSTOR_STATUS_SUCCESS;
}

/* One channel, no sub-channels, 256 KiB transfers. */
static uint32_t query_properties(struct storvsp *sp, struct vstor_packet *p)
{
	if (sp->state < INIT_VERSIONED)
		return VSTOR_STATUS_INVALID_DEVICE_STATE;
	memset(&p->properties, 0, sizeof(p->properties));
	p->properties.max_transfer_bytes = STORVSP_MAX_TRANSFER;
	return VSTOR_STATUS_SUCCESS;
}

static uint32_t end_init(struct storvsp *sp)
{
	if (sp->state < INIT_VERSIONED)
		return VSTOR_STATUS_INVALID_DEVICE_STATE;
	sp->state = INIT_DONE;
	return VSTOR_STATUS_SUCCESS;
}

/* ------------------------------------------------------------ SRBs */

static void srb_refuse(struct vmscsi_request *srb, uint8_t srb_status)
{
	srb->srb_status = srb_status;
	srb->scsi_status = SCSI_STATUS_GOOD;
	srb->sense_info_length = 0;
	srb->data_transfer_length = 0;
}

/* Cuts iovecs to len bytes; returns how many remain. */
static int iov_trim(struct iovec *iov, int n, size_t len)
{
	int i;

	for (i = 0; i < n && len; i++) {
		if (iov[i].iov_len > len)
			iov[i].iov_len = len;
		len -= iov[i].iov_len;
	}
	return i;
}

/*
 * The SRB's data buffer: nothing for a zero length, else the packet's
 * GPA ranges over guest RAM, at least data_transfer_length long.
 */
static bool srb_buffer(struct vmbus_channel *ch,
		       const struct vmbus_packet *pkt,
		       const struct vmscsi_request *srb, struct iovec *iov,
		       struct scsi_data *data)
{
	uint32_t len = srb->data_transfer_length;
	uint64_t total;
	int n;

	memset(data, 0, sizeof(*data));
	if (!len)
		return true;
	if (len > STORVSP_MAX_TRANSFER ||
	    pkt->type != VM_PKT_DATA_USING_GPA_DIRECT)
		return false;
	n = vmbus_chan_gpa_iov(ch, pkt, iov, STORVSP_MAX_IOV, &total);
	if (n < 0 || total < len)
		return false;
	data->iov = iov;
	data->iovcnt = iov_trim(iov, n, len);
	data->len = len;
	data->to_device = srb->data_in == VSTOR_DATA_WRITE;
	return true;
}

static void srb_result(struct vmscsi_request *srb,
		       const struct scsi_result *r)
{
	uint8_t sense = r->sense_len;

	srb->scsi_status = r->status;
	srb->data_transfer_length = r->transferred;
	if (r->status == SCSI_STATUS_GOOD) {
		srb->srb_status = SRB_STATUS_SUCCESS;
		srb->sense_info_length = 0;
		return;
	}
	if (sense > srb->sense_info_length)
		sense = srb->sense_info_length;
	if (sense > VSTOR_SENSE_MAX)
		sense = VSTOR_SENSE_MAX;
	memset(srb->sense_data, 0, VSTOR_SENSE_MAX);
	memcpy(srb->sense_data, r->sense, sense);
	srb->sense_info_length = sense;
	srb->srb_status = SRB_STATUS_ERROR |
			  (sense ? SRB_STATUS_AUTOSENSE_VALID : 0);
}

/*
 * Routes the CDB: our one LUN, or the answers for a LUN that is not.
 * The disk I/O it cost counts against the channel's drain budget.
 */
static void srb_run(struct storvsp *sp, struct vmbus_channel *ch,
		    struct vmscsi_request *srb, const struct scsi_data *data)
{
	bool target0 = srb->path_id == 0 && srb->target_id == 0;
	uint8_t cdb[VSTOR_CDB_MAX];
	struct scsi_result r;

	memcpy(cdb, srb->cdb, sizeof(cdb));
	if (sp->disk && target0 && srb->lun == 0)
		scsi_execute(sp->disk, cdb, srb->cdb_length, data, &r);
	else if (!scsi_execute_absent(cdb, srb->cdb_length, data,
				      sp->disk && target0, &r)) {
		srb_refuse(srb, SRB_STATUS_INVALID_LUN);
		return;
	}
	vmbus_chan_charge(ch, r.io_bytes);
	srb_result(srb, &r);
}

static uint32_t execute_srb(struct storvsp *sp, struct vmbus_channel *ch,
			    const struct vmbus_packet *pkt,
			    struct vmscsi_request *srb)
{
	struct iovec iov[STORVSP_MAX_IOV];
	struct scsi_data data;

	if (sp->state != INIT_DONE)
		return VSTOR_STATUS_INVALID_DEVICE_STATE;
	if (!srb->cdb_length || srb->cdb_length > VSTOR_CDB_MAX ||
	    srb->data_in > VSTOR_DATA_NONE) {
		srb_refuse(srb, SRB_STATUS_INVALID_REQUEST);
		return VSTOR_STATUS_SUCCESS;
	}
	if (!srb_buffer(ch, pkt, srb, iov, &data)) {
		vmbus_chan_log_once(ch, LOG_BAD_BUFFER,
				    "bad-buffer: SRB data buffer unusable");
		srb_refuse(srb, SRB_STATUS_INVALID_REQUEST);
		return VSTOR_STATUS_SUCCESS;
	}
	srb_run(sp, ch, srb, &data);
	return VSTOR_STATUS_SUCCESS;
}

/* ------------------------------------------------------------ packets */

static uint32_t dispatch(struct storvsp *sp, struct vmbus_channel *ch,
			 const struct vmbus_packet *pkt, struct vstor_packet *p)
{
	switch (p->operation) {
	case VSTOR_OP_BEGIN_INITIALIZATION:
		sp->state = INIT_BEGUN;
		return VSTOR_STATUS_SUCCESS;
	case VSTOR_OP_QUERY_PROTOCOL_VERSION:
		return query_version(sp, p);
	case VSTOR_OP_QUERY_PROPERTIES:
		return query_properties(sp, p);
	case VSTOR_OP_END_INITIALIZATION:
		return end_init(sp);
	case VSTOR_OP_EXECUTE_SRB:
		return execute_srb(sp, ch, pkt, &p->srb);
	case VSTOR_OP_RESET_LUN:
	case VSTOR_OP_RESET_ADAPTER:
	case VSTOR_OP_RESET_BUS:
		return VSTOR_STATUS_SUCCESS;	/* nothing is in flight */
	case VSTOR_OP_CREATE_SUB_CHANNELS:	/* properties say none */
	default:
		vmbus_chan_log_once(ch, LOG_BAD_OPERATION,
				    "bad-operation: vstor operation %u refused",
				    p->operation);
		return VSTOR_STATUS_INVALID_DEVICE_REQUEST;
	}
}

static void complete(struct vmbus_channel *ch, uint64_t trans_id,
		     const struct vstor_packet *p)
{
	int r = vmbus_chan_send(ch, VM_PKT_COMP, 0, trans_id, p, sizeof(*p));

	if (r)
		vmbus_chan_log_once(ch, LOG_SEND_FAILED,
				    "send-failed: completion lost (%d)", r);
}

static void storvsp_packet(struct vmbus_channel *ch, void *ctx,
			   const struct vmbus_packet *pkt)
{
	struct storvsp *sp = ctx;
	struct vstor_packet p = { 0 };

	if ((pkt->type != VM_PKT_DATA_INBAND &&
	     pkt->type != VM_PKT_DATA_USING_GPA_DIRECT) ||
	    pkt->len < sizeof(p)) {
		vmbus_chan_log_once(ch, LOG_BAD_PACKET,
				    "bad-packet: type %u, %u bytes", pkt->type,
				    pkt->len);
		if (pkt->len < sizeof(p))
			memcpy(&p, pkt->data, pkt->len);
		p.status = VSTOR_STATUS_INVALID_DEVICE_REQUEST;
	} else {
		memcpy(&p, pkt->data, sizeof(p));
		p.status = dispatch(sp, ch, pkt, &p);
	}
	p.operation = VSTOR_OP_COMPLETE_IO;
	if (pkt->flags & VMBUS_PKT_FLAG_COMPLETION_REQUESTED)
		complete(ch, pkt->trans_id, &p);
}

/* ------------------------------------------------------------ channel */

static int storvsp_open(struct vmbus_channel *ch, void *ctx)
{
	struct storvsp *sp = ctx;

	sp->state = INIT_NONE;	/* each open runs storvsc_channel_init */
	sp->version = 0;
	return 0;
}

static void storvsp_close(struct vmbus_channel *ch, void *ctx)
{
}

static void storvsp_release(void *ctx)
{
	free(ctx);
}

static const struct vmbus_device_ops storvsp_ops = {
	.open = storvsp_open,
	.packet = storvsp_packet,
	.close = storvsp_close,
	.release = storvsp_release,
};

int storvsp_add(struct vmbus_server *s, const struct storvsp_config *cfg,
		struct vmbus_channel **out)
{
	struct vmbus_device_desc d = {
		.name = "storvsp",
		.type = STORVSP_SCSI_GUID,
		.instance = cfg->instance,
		.min_ring_bytes = 2 * 4096,
		.max_ring_bytes = 4u << 20,
		.max_recv_packet = 4096,
		.max_send_packet = STORVSC_MAX_PKT_SIZE,
		.reply_reserve = sizeof(struct vstor_packet),
		.ops = &storvsp_ops,
	};
	struct storvsp *sp = calloc(1, sizeof(*sp));
	int r;

	if (!sp)
		return -ENOMEM;
	sp->disk = cfg->disk;
	d.ctx = sp;
	r = vmbus_device_add(s, &d, out);
	if (r)
		free(sp);
	return r;
}
