/*
 * Host->guest control messages. The hypervisor's per-VP message queue
 * is short; when it refuses (-EAGAIN) the message waits here, in order,
 * and later ones queue behind it so the guest sees them in the order
 * they were sent. The tick retries. All under the server lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int outbox_init(struct outbox *o)
{
	o->slot = calloc(VMBUS_OUTBOX_SLOTS, sizeof(*o->slot));
	o->head = 0;
	o->count = 0;
	return o->slot ? 0 : -ENOMEM;
}

void outbox_free(struct outbox *o)
{
	free(o->slot);
	o->slot = NULL;
}

/* A new connection does not want the old one's messages. */
void outbox_clear(struct outbox *o)
{
	o->head = 0;
	o->count = 0;
}

static int post(struct vmbus_server *s, const void *msg, uint32_t len)
{
	int r = s->ops.post_message(s->ctx, s->target_vcpu,
				    VMBUS_SYNIC_MESSAGE_TYPE, msg, len);

	if (r && r != -EAGAIN)
		server_log_once(s, SLOG_POST_FAILED,
				"posting a message failed (%d); dropped", r);
	return r;
}

void server_flush(struct vmbus_server *s)
{
	struct outbox *o = &s->outbox;

	while (o->count) {
		struct outbox_msg *m = &o->slot[o->head];

		if (post(s, m->data, m->len) == -EAGAIN)
			return;
		o->head = (o->head + 1) % VMBUS_OUTBOX_SLOTS;
		o->count--;
	}
}

static void enqueue(struct vmbus_server *s, const void *msg, uint32_t len)
{
	struct outbox *o = &s->outbox;
	struct outbox_msg *m;

	if (o->count == VMBUS_OUTBOX_SLOTS) {
		server_log_once(s, SLOG_OUTBOX_FULL,
				"message queue full; message dropped");
		return;
	}
	m = &o->slot[(o->head + o->count) % VMBUS_OUTBOX_SLOTS];
	m->len = len;
	memcpy(m->data, msg, len);
	o->count++;
}

void server_send(struct vmbus_server *s, const void *msg, uint32_t len)
{
	server_flush(s);
	if (!s->outbox.count && post(s, msg, len) != -EAGAIN)
		return;
	enqueue(s, msg, len);
}
