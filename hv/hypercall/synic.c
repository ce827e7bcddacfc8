/*
 * SynIC hypercalls. A child's PostMessage and SignalEvent are served by
 * the root (its VMBus server) through the hypercall intercept; without
 * one there is no connection to reach. The root delivers to a child
 * with PostMessageDirect and SignalEventDirect. The target VP is used
 * under the partition lock, which keeps it from being deleted.
 */
#include <hv/synic.h>
#include <hv/vp.h>
#include "hypercall.h"

enum hv_status hc_post_message(struct hc *c)
{
	const struct hv_input_post_message *in = c->in;

	if (!hc_allowed(c, HV_PRIV_POST_MESSAGES))
		return HV_STATUS_ACCESS_DENIED;
	if (in->reserved || !in->message_type ||
	    (in->message_type & 0x80000000u) ||
	    in->payload_size > HV_MESSAGE_PAYLOAD_BYTES)
		return HV_STATUS_INVALID_PARAMETER;
	return HV_STATUS_INVALID_CONNECTION_ID;	/* no port is connected */
}

enum hv_status hc_signal_event(struct hc *c)
{
	const u64 *in = c->in;

	if (!hc_allowed(c, HV_PRIV_SIGNAL_EVENTS))
		return HV_STATUS_ACCESS_DENIED;
	if (in[0] >> 48)	/* RsvdZ above the flag number */
		return HV_STATUS_INVALID_PARAMETER;
	return HV_STATUS_INVALID_CONNECTION_ID;
}

/* A LAPIC child's VP, with the partition referenced and locked. */
static struct vp *lock_child_vp(struct hc *c, u64 id, u32 index, u8 vtl,
				struct partition **pp, enum hv_status *s)
{
	struct partition *p;
	struct vp *vp;

	if (vtl) {
		*s = HV_STATUS_INVALID_PARAMETER;
		return NULL;
	}
	p = hc_target(c, id, false, s);
	if (!p)
		return NULL;
	spin_lock(&p->lock);
	vp = index < MAX_VPS ? p->vps[index] : NULL;
	if (vp && p->state == PARTITION_INITIALIZED && partition_has_lapic(p)) {
		*pp = p;
		return vp;
	}
	*s = !vp ? HV_STATUS_INVALID_VP_INDEX :
		   HV_STATUS_INVALID_PARTITION_STATE;
	spin_unlock(&p->lock);
	partition_put(p);
	return NULL;
}

static void unlock_child(struct partition *p)
{
	spin_unlock(&p->lock);
	partition_put(p);
}

enum hv_status hc_post_message_direct(struct hc *c)
{
	const struct hv_input_post_message_direct *in = c->in;
	struct partition *p;
	enum hv_status s;
	struct vp *vp;

	if (!hc_allowed(c, HV_PRIV_CREATE_PARTITIONS))
		return HV_STATUS_ACCESS_DENIED;
	if (in->padding[0] || in->padding[1] || in->padding[2] ||
	    in->padding2 || in->sint_index >= HV_SINT_COUNT)
		return HV_STATUS_INVALID_PARAMETER;
	vp = lock_child_vp(c, in->partition_id, in->vp_index, in->vtl, &p, &s);
	if (!vp)
		return s;
	s = synic_post(vp, in->sint_index, &in->message);
	unlock_child(p);
	return s;
}

enum hv_status hc_signal_event_direct(struct hc *c)
{
	const struct hv_input_signal_event_direct *in = c->in;
	struct hv_output_signal_event_direct *out = c->out;
	bool newly = false;
	struct partition *p;
	enum hv_status s;
	struct vp *vp;

	if (!hc_allowed(c, HV_PRIV_CREATE_PARTITIONS))
		return HV_STATUS_ACCESS_DENIED;
	if (in->target_sint >= HV_SINT_COUNT ||
	    in->flag_number >= HV_SYNIC_EVENT_FLAGS_PER_SINT)
		return HV_STATUS_INVALID_PARAMETER;
	vp = lock_child_vp(c, in->target_partition, in->target_vp,
			   in->target_vtl, &p, &s);
	if (!vp)
		return s;
	s = synic_signal(vp, in->target_sint, in->flag_number, &newly);
	unlock_child(p);
	out->newly_signaled = newly;
	return s;
}
