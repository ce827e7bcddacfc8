/*
 * Integration services ("ICs") the hv_utils driver of a Linux guest
 * answers (shared/design/hyperv-guest-abi.md section 9): heartbeat and
 * shutdown. The host speaks first: on open it negotiates the framework
 * and message versions, then sends heartbeats every interval (driven by
 * vmbus_server_tick) and a shutdown request when the worker asks for
 * one. The guest answers each message with the same buffer, flagged as
 * a response.
 *
 * Threading: the query and request functions below may be called from
 * any thread but not from channel context; they run in the IC's channel
 * context through vmbus_chan_run.
 */
#ifndef ROOT_VSP_IC_H
#define ROOT_VSP_IC_H

#include <stdbool.h>
#include <stdint.h>

#include "vmbus/vmbus.h"

/* ------------------------------------------------------------ wire */

#define IC_HEARTBEAT_GUID                                                    \
	VMBUS_GUID_INIT(0x57164f39, 0x9115, 0x4e78, 0xab, 0x55, 0x38, 0x2f,  \
			0x3b, 0xd5, 0x42, 0x2d)
#define IC_SHUTDOWN_GUID                                                     \
	VMBUS_GUID_INIT(0x0e0b6031, 0x5213, 0x4934, 0x81, 0x8b, 0x38, 0xd9,  \
			0x0c, 0xed, 0x39, 0xdb)

enum ic_msgtype {
	IC_MSG_NEGOTIATE = 0,
	IC_MSG_HEARTBEAT = 1,
	IC_MSG_KVP = 2,
	IC_MSG_SHUTDOWN = 3,
	IC_MSG_TIMESYNC = 4,
};

#define IC_PIPE_FLAG_DATA 1u
#define IC_FLAG_TRANSACTION 0x1
#define IC_FLAG_REQUEST 0x2
#define IC_FLAG_RESPONSE 0x4

#define IC_S_OK 0x00000000u
#define IC_E_FAIL 0x80004005u

/* Shutdown flags: what to do; the force bit may be ORed in. */
#define IC_SHUTDOWN_POWEROFF 0u
#define IC_SHUTDOWN_REBOOT 2u
#define IC_SHUTDOWN_HIBERNATE 4u
#define IC_SHUTDOWN_FORCE 1u

/* Precedes every IC message (vmbuspipe_hdr); Linux ignores it. */
struct ic_pipe_hdr {
	uint32_t flags;
	uint32_t msgsize;		/* bytes after this header */
} VMBUS_PACKED;
_Static_assert(sizeof(struct ic_pipe_hdr) == 8, "vmbuspipe_hdr");

struct ic_version {
	uint16_t major;
	uint16_t minor;
} VMBUS_PACKED;
_Static_assert(sizeof(struct ic_version) == 4, "ic_version");

struct ic_msg_hdr {
	struct ic_version icverframe;
	uint16_t icmsgtype;		/* enum ic_msgtype */
	struct ic_version icvermsg;
	uint16_t icmsgsize;		/* body bytes */
	uint32_t status;		/* the guest's HRESULT in responses */
	uint8_t ictransaction_id;
	uint8_t icflags;
	uint8_t reserved[2];
} VMBUS_PACKED;
_Static_assert(sizeof(struct ic_msg_hdr) == 20, "icmsg_hdr");
_Static_assert(offsetof(struct ic_msg_hdr, icmsgsize) == 10, "icmsgsize@10");
_Static_assert(offsetof(struct ic_msg_hdr, status) == 12, "status@12");
_Static_assert(offsetof(struct ic_msg_hdr, icflags) == 17, "icflags@17");

/* Bytes before every message body (Linux's ICMSG_HDR). */
#define IC_HDR_BYTES (sizeof(struct ic_pipe_hdr) + sizeof(struct ic_msg_hdr))
_Static_assert(IC_HDR_BYTES == 28, "ICMSG_HDR");

struct ic_negotiate {
	uint16_t icframe_vercnt;
	uint16_t icmsg_vercnt;
	uint32_t reserved;
	/* struct ic_version framework[icframe_vercnt],
	 *		    message[icmsg_vercnt]; */
} VMBUS_PACKED;
_Static_assert(sizeof(struct ic_negotiate) == 8, "icmsg_negotiate");

struct ic_heartbeat_msg {
	uint64_t seq_num;		/* the guest answers seq_num + 1 */
	uint32_t reserved[8];
} VMBUS_PACKED;
_Static_assert(sizeof(struct ic_heartbeat_msg) == 40, "heartbeat_msg_data");

#define IC_SHUTDOWN_MESSAGE_BYTES 2048
struct ic_shutdown_msg {
	uint32_t reason_code;
	uint32_t timeout_seconds;
	uint32_t flags;
	uint8_t display_message[IC_SHUTDOWN_MESSAGE_BYTES];
} VMBUS_PACKED;
_Static_assert(sizeof(struct ic_shutdown_msg) == 2060, "shutdown_msg_data");
_Static_assert(IC_HDR_BYTES + sizeof(struct ic_shutdown_msg) == 2088,
	       "Linux wants recvlen >= 2088");

/* ------------------------------------------------------------ API */

struct ic;

/* Registers a heartbeat IC that, once negotiated, sends a heartbeat
 * every interval_ms of vmbus_server_tick time. The server owns it. */
int ic_heartbeat_add(struct vmbus_server *s, const struct vmbus_guid *instance,
		     uint32_t interval_ms, struct ic **out);
/* Registers a shutdown IC. The server owns it. */
int ic_shutdown_add(struct vmbus_server *s, const struct vmbus_guid *instance,
		    struct ic **out);

/* The IC's channel (for vmbus_device_rescind). */
struct vmbus_channel *ic_channel(struct ic *ic);
/*
 * The negotiated versions as (major << 16) | minor: 0, -ENOTCONN if the
 * channel is not open, -EINPROGRESS while negotiating, -EPROTO if the
 * guest supports none of ours.
 */
int ic_versions(struct ic *ic, uint32_t *framework, uint32_t *message);

struct ic_heartbeat_status {
	bool ready;			/* open and negotiated */
	uint64_t sent_seq;		/* last sequence sent; 0: none */
	uint64_t answered_seq;		/* last one the guest answered */
	uint64_t answered_ms;		/* tick time it was seen */
};
void ic_heartbeat_status(struct ic *ic, struct ic_heartbeat_status *st);

struct ic_shutdown_req {
	uint32_t flags;			/* IC_SHUTDOWN_* [| FORCE] */
	uint32_t reason_code;
	uint32_t timeout_s;
	const char *message;		/* ASCII or NULL; sent as UTF-16 */
};
/*
 * Asks the guest to shut down (or reboot, hibernate). Sent at once if
 * the IC is ready, else as soon as negotiation finishes. 0; -ENOTCONN
 * if the channel is not open; -EBUSY if a request is in flight; -EPROTO
 * if negotiation failed; -EINVAL for unknown flags.
 */
int ic_shutdown_request(struct ic *ic, const struct ic_shutdown_req *req);
/*
 * The last request's outcome: 0 with the guest's status (IC_S_OK: it is
 * shutting down; IC_E_FAIL: refused); -EINPROGRESS before the answer;
 * -ENOENT if nothing was requested; -ECONNRESET if the channel closed
 * first.
 */
int ic_shutdown_result(struct ic *ic, uint32_t *status);

#endif
