/*
 * The VMBus server of one child VM, as the worker process sees it, and
 * the interface its device providers (VSPs) plug into.
 *
 * The worker creates a server with host callbacks (post a SynIC message,
 * signal a channel event, log), registers devices, then forwards the
 * guest's HvPostMessage and HvSignalEvent hypercalls to it and calls
 * vmbus_server_tick() periodically. The protocol is the one Linux 6.1's
 * hv_vmbus speaks (shared/design/hyperv-guest-abi.md section 6);
 * docs/vmbus.md lists where we differ from Hyper-V.
 *
 * Threading model
 * ---------------
 * - vmbus_post_message() and vmbus_signal_event() may be called from any
 *   number of VP threads at once; vmbus_server_tick(), device
 *   registration, vmbus_device_rescind() and provider host requests
 *   (e.g. ic_shutdown_request) from the worker's main thread. All of
 *   them are thread-safe.
 * - Two kinds of mutex: the server lock (connection state, the channel
 *   table, GPADLs, the outbound message queue) and one lock per channel
 *   (its rings and its provider's state).
 * - Lock order: server lock, then a channel lock. Code holding a channel
 *   lock never takes the server lock.
 * - Provider callbacks (struct vmbus_device_ops) always run with their
 *   channel's lock held ("channel context"): packet/writable/tick in the
 *   thread that signalled or ticked, open/close also under the server
 *   lock. Device I/O runs synchronously there. A provider acts on its
 *   channel from elsewhere only through vmbus_chan_run().
 * - Host callbacks (struct vmbus_host_ops) are called with the server
 *   lock (post_message, log) or a channel lock (signal_event, log) held;
 *   they must not call back into the server.
 *
 * Trust: everything from the guest (messages, ring pages, GPADLs) is
 * checked before use; a malformed input is refused, reported once per
 * kind (per channel for ring and packet errors) through ops->log, and a
 * corrupt ring stops its channel until the guest closes it.
 */
#ifndef ROOT_VMBUS_VMBUS_H
#define ROOT_VMBUS_VMBUS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <microhv/hvabi.h>

#include "guest_memory.h"
#include "protocol.h"

struct vmbus_server;
struct vmbus_channel;

struct vmbus_host_ops {
	/* Post a SynIC message to (vp, SINT 2). 0; -EAGAIN when the
	 * hypervisor's queue is full (retried from the tick); any other
	 * -errno is fatal for that message. */
	int (*post_message)(void *ctx, uint32_t vp, uint32_t msg_type,
			    const void *payload, uint32_t len);
	/* Set SIEF bit relid of SINT 2 on vp and interrupt it
	 * (SignalEventDirect). 0 or -errno. */
	int (*signal_event)(void *ctx, uint32_t vp, uint32_t relid);
	/* One line, no newline. */
	void (*log)(void *ctx, const char *msg);
};

struct vmbus_server_config {
	const struct vmbus_host_ops *ops;
	void *ctx;			/* passed to every ops call */
	struct guest_memory mem;	/* the child's RAM */
	uint32_t vp_count;		/* valid VP indexes: [0, vp_count) */
};

int vmbus_server_create(const struct vmbus_server_config *cfg,
			struct vmbus_server **out);
/* Closes every channel (providers' close), then releases every
 * provider (their release) and the server. No message is sent. Only
 * once no other thread calls into the server; channel and provider
 * handles die with it. */
void vmbus_server_destroy(struct vmbus_server *s);

/* ---------------------------------------------------- guest -> host */

/*
 * The guest's HvPostMessage. Returns the hypercall status:
 * INVALID_CONNECTION_ID unless connection_id is 1 or 4,
 * INVALID_PARAMETER for a SynIC message type of 0 or with bit 31 set, or
 * a size over 240; otherwise SUCCESS, also when the VMBus message itself
 * is refused (that is the server's business, not the hypercall's).
 */
enum hv_status vmbus_post_message(struct vmbus_server *s,
				  uint32_t connection_id, uint32_t msg_type,
				  const void *payload, uint32_t size);
/*
 * The guest's HvSignalEvent: services the channel whose offer carried
 * connection_id (drains its guest->host ring, resumes a blocked send).
 * INVALID_CONNECTION_ID if no offered channel has it, INVALID_PARAMETER
 * for a flag number other than 0.
 */
enum hv_status vmbus_signal_event(struct vmbus_server *s,
				  uint32_t connection_id, uint16_t flag_number);
/*
 * Periodic work, from one thread: posts queued messages the hypervisor
 * refused with -EAGAIN, services every open channel (a lost doorbell
 * costs one tick, not a hang) and runs the providers' tick. now_ms: a
 * monotonic clock in milliseconds. Returns true while messages are
 * still queued: tick again soon (the guest is waiting for them).
 */
bool vmbus_server_tick(struct vmbus_server *s, uint64_t now_ms);

/* The negotiated protocol version, 0 when not connected. */
uint32_t vmbus_server_version(struct vmbus_server *s);

/*
 * The VM is ending: from now on no channel takes another packet (a
 * drain in progress stops after the packet in hand) and the tick does
 * nothing, so threads serving the guest come back at once. Any thread;
 * async-signal-safe; cannot be undone.
 */
void vmbus_server_stop(struct vmbus_server *s);

/* ---------------------------------------------------- devices */

/* One guest->host packet, copied out of the ring and checked. */
struct vmbus_packet {
	uint16_t type;			/* enum vmbus_packet_type */
	uint16_t flags;			/* VMBUS_PKT_FLAG_* */
	uint64_t trans_id;
	const uint8_t *data;		/* payload at offset8 * 8 */
	uint32_t len;
	/* VM_PKT_DATA_USING_GPA_DIRECT: the ranges, structurally checked
	 * (each range's PFN count matches its offset + length). */
	uint32_t range_count;
	const uint8_t *ranges;
	uint32_t ranges_len;
};

struct vmbus_device_ops {
	/* The guest opened the channel; rings are mapped. -errno fails
	 * the OPENCHANNEL. May send. */
	int (*open)(struct vmbus_channel *ch, void *ctx);
	/* One packet from the guest. */
	void (*packet)(struct vmbus_channel *ch, void *ctx,
		       const struct vmbus_packet *pkt);
	/* Optional: a send that returned -EAGAIN can be retried. */
	void (*writable)(struct vmbus_channel *ch, void *ctx);
	/* Optional: from vmbus_server_tick, while open. */
	void (*tick)(struct vmbus_channel *ch, void *ctx, uint64_t now_ms);
	/* The rings are going away (CLOSECHANNEL, rescind, UNLOAD, a new
	 * INITIATE_CONTACT, server destroy). No sending. */
	void (*close)(struct vmbus_channel *ch, void *ctx);
	/* Optional: the server is destroyed; free ctx. */
	void (*release)(void *ctx);
};

struct vmbus_device_desc {
	const char *name;		/* for logs, e.g. "storvsp" */
	struct vmbus_guid type;		/* if_type: the class */
	struct vmbus_guid instance;	/* if_instance: unique */
	/* Accepted ring sizes per direction, control page included; 0:
	 * 8 KiB .. 4 MiB. The host->guest ring must also hold a packet
	 * of max_send_packet. */
	uint32_t min_ring_bytes, max_ring_bytes;
	/* Largest guest->host packet taken (descriptor included); bigger
	 * ones are skipped and logged. 0: 4096. */
	uint32_t max_recv_packet;
	/* Largest host->guest packet the guest driver copes with,
	 * descriptor included (storvsc 80, default 4096). 0: 4096. */
	uint32_t max_send_packet;
	/* If non-zero, a guest->host packet is only taken when a reply
	 * of this payload size fits the host->guest ring, so a provider
	 * that answers every request never finds the ring full. */
	uint32_t reply_reserve;
	const struct vmbus_device_ops *ops;
	void *ctx;
};

/*
 * Registers a device and gives it the lowest free relid (1..); its
 * offer goes out on the guest's next REQUESTOFFERS, or now if that
 * already happened. The server owns ctx from here (ops->release).
 * *out (if out is not NULL): the channel. -ENOSPC when
 * VMBUS_MAX_CHANNELS are registered, -EINVAL for a bad desc.
 */
#define VMBUS_MAX_CHANNELS 64
int vmbus_device_add(struct vmbus_server *s, const struct vmbus_device_desc *d,
		     struct vmbus_channel **out);
/*
 * Withdraws the device (RESCIND_CHANNELOFFER): its channel is closed on
 * our side at once; the relid stays taken until the guest's
 * RELID_RELEASED. Not from channel context. 0 or -EALREADY.
 */
int vmbus_device_rescind(struct vmbus_channel *ch);

/* ---------------------------------------------------- channel context */

/*
 * Queues one packet to the guest: a descriptor (offset8 = 2), data,
 * padding, trailer; signals the guest per the rules of doc 6.6.
 * 0; -EAGAIN when the ring is full (pending_send_sz is set, ops->writable
 * follows when the guest made room); -EMSGSIZE over max_send_packet
 * (or the ring); -EPIPE when the channel is not open or was stopped.
 */
int vmbus_chan_send(struct vmbus_channel *ch, uint16_t type, uint16_t flags,
		    uint64_t trans_id, const void *data, uint32_t len);
/*
 * The GPA-direct ranges of pkt as iovecs over guest memory, physically
 * contiguous pages merged. Returns the iovec count and *total bytes;
 * -EFAULT if a PFN is not guest RAM, -E2BIG beyond max_iov, -EINVAL if
 * pkt has no ranges.
 */
int vmbus_chan_gpa_iov(struct vmbus_channel *ch,
		       const struct vmbus_packet *pkt, struct iovec *iov,
		       int max_iov, uint64_t *total);
/* Whether the channel is open and its rings usable. */
bool vmbus_chan_is_open(const struct vmbus_channel *ch);
uint32_t vmbus_chan_relid(const struct vmbus_channel *ch);
uint32_t vmbus_chan_connection_id(const struct vmbus_channel *ch);

/*
 * Counts bytes of device I/O the packet in hand cost (storvsp: what it
 * read or wrote on the disk) against the channel's drain: one pass
 * takes at most VMBUS_DRAIN_PACKETS packets or VMBUS_DRAIN_BYTES of
 * charged I/O, whichever comes first; the rest waits for the next
 * doorbell or tick, so one busy guest cannot hold a VP or the worker's
 * main thread for long.
 */
#define VMBUS_DRAIN_PACKETS 1024
#define VMBUS_DRAIN_BYTES (8u << 20)
void vmbus_chan_charge(struct vmbus_channel *ch, uint64_t bytes);

/*
 * Logs "vmbus <name> relid <n>: <msg>" unless this kind was logged on
 * this channel before. Providers use kinds VMBUS_LOG_DEVICE(0..15) and
 * start msg with a short tag naming the kind ("bad-request: ..."), as
 * the server's own lines do.
 */
#define VMBUS_LOG_DEVICE(n) (16 + (n))
void vmbus_chan_log_once(struct vmbus_channel *ch, unsigned int kind,
			 const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---------------------------------------------------- from outside */

/*
 * Runs fn(ch, arg) in channel context (the channel lock held) and
 * returns its result. For provider requests from other threads. Not from
 * channel context, not with the server lock held.
 */
int vmbus_chan_run(struct vmbus_channel *ch,
		   int (*fn)(struct vmbus_channel *ch, void *arg), void *arg);

#endif
