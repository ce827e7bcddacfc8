/*
 * The server's and channels' private state, shared by server.c
 * (control messages), channel.c (rings and providers), outbox.c and
 * log.c. Field legend: [I] set before the channel or server is
 * published, then constant; [S] server lock; [C] channel lock;
 * [S+C] written holding both, so readable holding either.
 */
#ifndef ROOT_VMBUS_INTERNAL_H
#define ROOT_VMBUS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "gpadl.h"
#include "ring.h"
#include "vmbus.h"

/* Connection ids of channel doorbells: base + relid, like QEMU. */
#define VMBUS_CHANNEL_CONNECTION_BASE 0x10u

/* Bounds that keep a hostile guest from eating the worker's memory. */
#define VMBUS_MAX_GPADLS 256u
#define VMBUS_OUTBOX_SLOTS 256u

enum chan_state {
	CHAN_OFFERABLE,		/* registered; offered when asked */
	CHAN_RESCINDED,		/* rescinded; waits for RELID_RELEASED */
	CHAN_RELEASED,		/* gone for good; relid free */
};

struct vmbus_channel {
	struct vmbus_server *server;		/* [I] */
	struct vmbus_device_desc desc;		/* [I] */
	uint32_t relid;				/* [I] */
	pthread_mutex_t lock;

	enum chan_state state;			/* [S+C] */
	bool offered;				/* [S] offer sent */
	struct vmbus_gpadl *ring_gpadl;		/* [S] while open */

	bool open;				/* [S+C] */
	uint32_t target_vp;			/* [S+C] */
	bool stopped;				/* [C] ring corrupt */
	bool send_blocked;			/* [C] pending_send_sz set */
	uint32_t blocked_bytes;			/* [C] what it needs */
	struct vmbus_ring in;			/* [C] guest -> host */
	struct vmbus_ring out;			/* [C] host -> guest */
	uint8_t **pages;			/* [C] both rings' data pages */
	uint8_t *pkt_buf;			/* [C] max_recv_packet bytes */
	uint64_t charged;			/* [C] I/O bytes this drain */
	uint32_t logged;			/* atomic: kinds logged */
};

/* Per-channel log kinds (bits of vmbus_channel.logged). */
enum chan_log_kind {
	CLOG_RING_CORRUPT,
	CLOG_PACKET_TOO_BIG,
	CLOG_BAD_RANGES,
	CLOG_SEND_TOO_BIG,
	CLOG_SIGNAL_FAILED,
	CLOG_BAD_GPA,
};

struct outbox_msg {
	uint32_t len;
	uint8_t data[VMBUS_MAX_MESSAGE_SIZE];
};

struct outbox {
	struct outbox_msg *slot;	/* VMBUS_OUTBOX_SLOTS of them */
	uint32_t head, count;
};

struct vmbus_server {
	pthread_mutex_t lock;
	struct vmbus_host_ops ops;		/* [I] */
	void *ctx;				/* [I] */
	struct guest_memory mem;		/* [I] */
	uint32_t vp_count;			/* [I] */

	bool connected;				/* [S] */
	uint32_t version;			/* [S] */
	uint32_t target_vcpu;			/* [S] where messages go */
	bool offers_requested;			/* [S] */
	struct vmbus_channel *chans[VMBUS_MAX_CHANNELS];	/* [S] */
	uint32_t nr_chans;			/* [S] */
	struct vmbus_gpadl *gpadls;		/* [S] */
	uint32_t nr_gpadls;			/* [S] */
	struct outbox outbox;			/* [S] */
	uint64_t logged;			/* atomic: server log kinds */
	bool stopping;				/* atomic: the VM is ending */
};

/* Whether vmbus_server_stop was called. */
bool server_stopping(struct vmbus_server *s);

/* Server-wide log kinds (bits of vmbus_server.logged). */
enum server_log_kind {
	SLOG_SHORT_MESSAGE,
	SLOG_UNKNOWN_MESSAGE,
	SLOG_NOT_CONNECTED,
	SLOG_BAD_TARGET_VP,
	SLOG_BAD_RELID,
	SLOG_BAD_STATE,
	SLOG_BAD_GPADL,
	SLOG_GPADL_LIMIT,
	SLOG_BAD_OPEN,
	SLOG_BAD_MODIFY,
	SLOG_UNSUPPORTED,
	SLOG_OUTBOX_FULL,
	SLOG_POST_FAILED,
	SLOG_BAD_SYNIC_MESSAGE,
	SLOG_BAD_VERSION,
};

/* log.c */
void server_log_once(struct vmbus_server *s, enum server_log_kind kind,
		     const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* outbox.c: [S] */
int outbox_init(struct outbox *o);
void outbox_free(struct outbox *o);
void outbox_clear(struct outbox *o);
/* Posts msg to the connection's target VP, behind anything queued. */
void server_send(struct vmbus_server *s, const void *msg, uint32_t len);
/* Posts what was queued, until the hypervisor refuses again. */
void server_flush(struct vmbus_server *s);

/* channel.c */
/* [S], takes C: maps the rings of g and calls the provider's open.
 * 0, or -errno and *why. */
int chan_open(struct vmbus_channel *ch, struct vmbus_gpadl *g,
	      uint32_t send_pages, uint32_t target_vp, const char **why);
/* [S], takes C: provider close, rings unmapped. */
void chan_close(struct vmbus_channel *ch);
/* [C]: drain, resume blocked sends. */
void chan_service(struct vmbus_channel *ch);
/* [S] */
struct vmbus_channel *chan_create(struct vmbus_server *s,
				  const struct vmbus_device_desc *d,
				  uint32_t relid);
void chan_destroy(struct vmbus_channel *ch);

#endif
