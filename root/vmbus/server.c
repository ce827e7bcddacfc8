/*
 * The server object and its entry points: creation, device
 * registration, the guest's hypercalls, the tick. Locking is described
 * in vmbus.h; the handlers live in control.c, rings in channel.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

#define SYNIC_MESSAGE_TYPE_HOST_BIT 0x80000000u	/* hypervisor's types */

int vmbus_server_create(const struct vmbus_server_config *cfg,
			struct vmbus_server **out)
{
	struct vmbus_server *s;

	if (!cfg->ops || !cfg->ops->post_message || !cfg->ops->signal_event ||
	    !cfg->mem.base || !cfg->vp_count)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ops = *cfg->ops;
	s->ctx = cfg->ctx;
	s->mem = cfg->mem;
	s->vp_count = cfg->vp_count;
	if (outbox_init(&s->outbox))
		goto fail;
	if (pthread_mutex_init(&s->lock, NULL))
		goto fail_outbox;
	*out = s;
	return 0;
fail_outbox:
	outbox_free(&s->outbox);
fail:
	free(s);
	return -ENOMEM;
}

void vmbus_server_destroy(struct vmbus_server *s)
{
	pthread_mutex_lock(&s->lock);
	control_disconnect(s);
	pthread_mutex_unlock(&s->lock);
	for (uint32_t i = 0; i < s->nr_chans; i++) {
		struct vmbus_channel *ch = s->chans[i];

		if (ch->desc.ops->release)
			ch->desc.ops->release(ch->desc.ctx);
		chan_destroy(ch);
	}
	outbox_free(&s->outbox);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void vmbus_server_stop(struct vmbus_server *s)
{
	__atomic_store_n(&s->stopping, true, __ATOMIC_RELEASE);
}

bool server_stopping(struct vmbus_server *s)
{
	return __atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE);
}

uint32_t vmbus_server_version(struct vmbus_server *s)
{
	uint32_t v;

	pthread_mutex_lock(&s->lock);
	v = s->connected ? s->version : 0;
	pthread_mutex_unlock(&s->lock);
	return v;
}

/* ------------------------------------------------------------ devices */

static bool desc_ok(const struct vmbus_device_desc *d)
{
	const struct vmbus_device_ops *o = d->ops;
	uint32_t max_send = d->max_send_packet ? d->max_send_packet :
						 VMBUS_DEFAULT_MAX_PKT_SIZE;

	if (!d->name || !o || !o->open || !o->packet || !o->close)
		return false;
	if (d->max_ring_bytes && d->min_ring_bytes > d->max_ring_bytes)
		return false;
	if (max_send > VMBUS_MAX_PACKET)
		return false;
	return d->reply_reserve + sizeof(struct vmbus_pkt_desc) <= max_send;
}

static bool relid_taken(const struct vmbus_server *s, uint32_t relid)
{
	for (uint32_t i = 0; i < s->nr_chans; i++)
		if (s->chans[i]->relid == relid &&
		    s->chans[i]->state != CHAN_RELEASED)
			return true;
	return false;
}

static uint32_t free_relid(const struct vmbus_server *s)
{
	uint32_t relid = 1;

	while (relid_taken(s, relid))
		relid++;
	return relid;
}

int vmbus_device_add(struct vmbus_server *s, const struct vmbus_device_desc *d,
		     struct vmbus_channel **out)
{
	struct vmbus_channel *ch;
	int r = 0;

	if (!desc_ok(d))
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	if (s->nr_chans == VMBUS_MAX_CHANNELS) {
		r = -ENOSPC;
		goto out;
	}
	ch = chan_create(s, d, free_relid(s));
	if (!ch) {
		r = -ENOMEM;
		goto out;
	}
	s->chans[s->nr_chans++] = ch;
	if (s->connected && s->offers_requested)
		control_offer(s, ch);	/* hot add */
	if (out)
		*out = ch;
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

int vmbus_device_rescind(struct vmbus_channel *ch)
{
	struct vmbus_server *s = ch->server;
	int r;

	pthread_mutex_lock(&s->lock);
	r = control_rescind(s, ch);
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* ------------------------------------------------------------ guest calls */

enum hv_status vmbus_post_message(struct vmbus_server *s,
				  uint32_t connection_id, uint32_t msg_type,
				  const void *payload, uint32_t size)
{
	uint64_t copy[VMBUS_MAX_MESSAGE_SIZE / 8] = { 0 };

	if (connection_id != VMBUS_MESSAGE_CONNECTION_ID &&
	    connection_id != VMBUS_MESSAGE_CONNECTION_ID_4)
		return HV_STATUS_INVALID_CONNECTION_ID;
	if (!msg_type || (msg_type & SYNIC_MESSAGE_TYPE_HOST_BIT) ||
	    size > VMBUS_MAX_MESSAGE_SIZE)
		return HV_STATUS_INVALID_PARAMETER;
	memcpy(copy, payload, size);	/* read the guest's bytes once */
	pthread_mutex_lock(&s->lock);
	if (msg_type == VMBUS_SYNIC_MESSAGE_TYPE)
		control_dispatch(s, copy, size);
	else
		server_log_once(s, SLOG_BAD_SYNIC_MESSAGE,
				"SynIC message type %#x ignored", msg_type);
	pthread_mutex_unlock(&s->lock);
	return HV_STATUS_SUCCESS;
}

enum hv_status vmbus_signal_event(struct vmbus_server *s,
				  uint32_t connection_id, uint16_t flag_number)
{
	struct vmbus_channel *ch;

	pthread_mutex_lock(&s->lock);
	ch = control_find_doorbell(s, connection_id);
	if (!ch) {
		pthread_mutex_unlock(&s->lock);
		return HV_STATUS_INVALID_CONNECTION_ID;
	}
	if (flag_number) {
		pthread_mutex_unlock(&s->lock);
		return HV_STATUS_INVALID_PARAMETER;
	}
	/* Lock order: the channel's lock before dropping the server's, so
	 * the channel cannot be closed between the lookup and the work. */
	pthread_mutex_lock(&ch->lock);
	pthread_mutex_unlock(&s->lock);
	chan_service(ch);
	pthread_mutex_unlock(&ch->lock);
	return HV_STATUS_SUCCESS;
}

/* Flushes the outbox and copies the channel table; *queued: messages
 * still wait. */
static uint32_t snapshot_channels(struct vmbus_server *s,
				  struct vmbus_channel **chans, bool *queued)
{
	uint32_t n;

	pthread_mutex_lock(&s->lock);
	server_flush(s);
	*queued = s->outbox.count != 0;
	n = s->nr_chans;
	memcpy(chans, s->chans, n * sizeof(*chans));
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* Channels are only freed by vmbus_server_destroy, so the snapshot
 * stays valid without the server lock. */
bool vmbus_server_tick(struct vmbus_server *s, uint64_t now_ms)
{
	struct vmbus_channel *chans[VMBUS_MAX_CHANNELS];
	bool queued;
	uint32_t n;

	if (server_stopping(s))
		return false;
	n = snapshot_channels(s, chans, &queued);

	for (uint32_t i = 0; i < n; i++) {
		struct vmbus_channel *ch = chans[i];

		pthread_mutex_lock(&ch->lock);
		chan_service(ch);
		if (vmbus_chan_is_open(ch) && ch->desc.ops->tick)
			ch->desc.ops->tick(ch, ch->desc.ctx, now_ms);
		pthread_mutex_unlock(&ch->lock);
	}
	return queued;
}
