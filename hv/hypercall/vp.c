/* Virtual processor hypercalls: create, registers, run, state pages. */
#include <hv/interrupts.h>
#include <hv/log.h>
#include <hv/msr.h>
#include <hv/mm.h>
#include <hv/percpu.h>
#include <hv/root.h>
#include <hv/rootapic.h>
#include <hv/virt.h>
#include "hypercall.h"

/*
 * A child's VP, claimed for this call (see hv/partition.h), with the
 * partition referenced. put_child_vp() gives both back.
 */
static struct vp *claim_child_vp(struct hc *c, u64 id, u32 index,
				 struct partition **pp, enum hv_status *s)
{
	struct partition *p;
	struct vp *vp;

	if (!hc_allowed(c, HV_PRIV_CREATE_PARTITIONS)) {
		*s = HV_STATUS_ACCESS_DENIED;
		return NULL;
	}
	p = hc_target(c, id, false, s);
	if (!p)
		return NULL;
	*s = partition_claim_vp(p, index, &vp);
	if (*s) {
		partition_put(p);
		return NULL;
	}
	*pp = p;
	return vp;
}

static void put_child_vp(struct partition *p, struct vp *vp)
{
	partition_release_vp(vp);
	partition_put(p);
}

enum hv_status hc_create_vp(struct hc *c)
{
	const struct hv_input_create_vp *in = c->in;
	struct partition *p;
	enum hv_status s;
	struct vp *vp;

	if (!hc_allowed(c, HV_PRIV_CREATE_PARTITIONS))
		return HV_STATUS_ACCESS_DENIED;
	if (in->flags || in->subnode_type || in->padding[0] ||
	    in->padding[1] || in->padding[2])
		return HV_STATUS_INVALID_PARAMETER;
	if (in->vp_index >= MAX_VPS)
		return HV_STATUS_INVALID_VP_INDEX;
	p = hc_target(c, in->partition_id, false, &s);
	if (!p)
		return s;
	spin_lock(&p->lock);
	if (p->state != PARTITION_INITIALIZED)
		s = HV_STATUS_INVALID_PARTITION_STATE;
	else if (p->vps[in->vp_index])
		s = HV_STATUS_INVALID_VP_INDEX;	/* already exists */
	else if (!(s = vp_create(p, in->vp_index, &vp)))
		WRITE_ONCE(p->vps[in->vp_index], vp);
	spin_unlock(&p->lock);
	partition_put(p);
	return s;
}

/* Under the lock: a VP no call has claimed cannot be claimed meanwhile. */
enum hv_status hc_delete_vp(struct hc *c)
{
	const struct hv_input_delete_vp *in = c->in;
	struct partition *p;
	enum hv_status s = HV_STATUS_SUCCESS;
	struct vp *vp;

	if (!hc_allowed(c, HV_PRIV_CREATE_PARTITIONS))
		return HV_STATUS_ACCESS_DENIED;
	p = hc_target(c, in->partition_id, false, &s);
	if (!p)
		return s;
	spin_lock(&p->lock);
	vp = partition_vp(p, in->vp_index);
	if (!vp)
		s = HV_STATUS_INVALID_VP_INDEX;
	else if (p->state != PARTITION_INITIALIZED)
		s = HV_STATUS_INVALID_PARTITION_STATE;
	else if (__atomic_load_n(&vp->running, __ATOMIC_ACQUIRE))
		s = HV_STATUS_INVALID_VP_STATE;
	if (!s) {
		WRITE_ONCE(p->vps[in->vp_index], NULL);
		vp_destroy(vp);
	}
	spin_unlock(&p->lock);
	partition_put(p);
	return s;
}

/*
 * The VP a register call names: a child's (claimed, so it is not running
 * and cannot be deleted meanwhile), or the caller's own.
 */
static struct vp *reg_target(struct hc *c, struct partition **pp,
			     enum hv_status *s)
{
	const struct hv_input_vp_registers *in = c->in;
	bool self = in->partition_id == HV_PARTITION_ID_SELF ||
		    in->partition_id == c->self->id;

	if (!hc_allowed(c, self ? HV_PRIV_ACCESS_VP_REGISTERS :
				  HV_PRIV_CREATE_PARTITIONS)) {
		*s = HV_STATUS_ACCESS_DENIED;
		return NULL;
	}
	if (in->input_vtl || in->reserved8 || in->reserved16) {
		*s = HV_STATUS_INVALID_PARAMETER;
		return NULL;
	}
	if (!self)
		return claim_child_vp(c, in->partition_id, in->vp_index, pp,
				      s);
	if (!hc_allowed(c, HV_PRIV_ACCESS_VP_REGISTERS) ||
	    in->vp_index != c->caller->index) {
		*s = HV_STATUS_ACCESS_DENIED;
		return NULL;
	}
	*pp = NULL;
	return c->caller;
}

static void put_reg_target(struct partition *p, struct vp *vp)
{
	if (p)
		put_child_vp(p, vp);
}

static enum hv_status get_reg(struct vp *vp, u32 name,
			      struct hv_register_value *v)
{
	v->low = v->high = 0;
	switch (name) {
	case HV_REG_EXPLICIT_SUSPEND: v->low = vp->explicit_suspend; break;
	case HV_REG_INTERCEPT_SUSPEND: v->low = vp->intercept_suspend; break;
	case HV_REG_DISPATCH_SUSPEND: v->low = vp->dispatch_suspend; break;
	case HV_REG_VP_INDEX: v->low = vp->index; break;
	case HV_REG_GUEST_OS_ID: v->low = READ_ONCE(vp->part->guest_os_id); break;
	case HV_REG_PENDING_INTERRUPTION: v->low = vp->pending_event; break;
	case HV_REG_INTERNAL_ACTIVITY_STATE:
		if (!partition_has_lapic(vp->part))
			return HV_STATUS_INVALID_PARAMETER;
		v->low = irq_activity_state(vp);
		break;
	default: return virt_vp_get_reg(vp, name, v);
	}
	return HV_STATUS_SUCCESS;
}

enum hv_status hc_get_vp_registers(struct hc *c)
{
	const u32 *names = (const u32 *)((const u8 *)c->in +
					 sizeof(struct hv_input_vp_registers));
	struct hv_register_value *out = c->out;
	enum hv_status s = HV_STATUS_SUCCESS;
	struct partition *p;
	struct vp *vp = reg_target(c, &p, &s);
	u32 i;

	if (!vp)
		return s;
	for (i = c->rep_start; i < c->rep_count && !s; i++)
		s = get_reg(vp, names[i], &out[i]);
	c->reps_done = s ? i - 1 : i;
	put_reg_target(p, vp);
	return s;
}

static enum hv_status set_bool(bool *field, u64 v)
{
	if (v > 1)
		return HV_STATUS_INVALID_PARAMETER;
	*field = v;
	return HV_STATUS_SUCCESS;
}

static enum hv_status set_reg(struct vp *vp, u32 name,
			      const struct hv_register_value *v)
{
	switch (name) {
	case HV_REG_EXPLICIT_SUSPEND:
		return set_bool(&vp->explicit_suspend, v->low);
	case HV_REG_INTERCEPT_SUSPEND:
		return set_bool(&vp->intercept_suspend, v->low);
	case HV_REG_DISPATCH_SUSPEND:
		return set_bool(&vp->dispatch_suspend, v->low);
	case HV_REG_VP_INDEX:
		return HV_STATUS_INVALID_PARAMETER;	/* read-only */
	case HV_REG_PENDING_INTERRUPTION:
		return virt_vp_set_pending_interruption(vp, v->low);
	case HV_REG_INTERNAL_ACTIVITY_STATE:
		if (!partition_has_lapic(vp->part))
			return HV_STATUS_INVALID_PARAMETER;
		return irq_set_activity_state(vp, v->low);
	default:
		return virt_vp_set_reg(vp, name, v);
	}
}

enum hv_status hc_set_vp_registers(struct hc *c)
{
	const struct hv_register_assoc *regs = (const void *)
		((const u8 *)c->in + sizeof(struct hv_input_vp_registers));
	enum hv_status s = HV_STATUS_SUCCESS;
	struct partition *p;
	struct vp *vp = reg_target(c, &p, &s);
	u32 i;

	if (!vp)
		return s;
	for (i = c->rep_start; i < c->rep_count && !s; i++)
		s = regs[i].reserved1 || regs[i].reserved2 ?
			HV_STATUS_INVALID_PARAMETER :
			set_reg(vp, regs[i].name, &regs[i].value);
	c->reps_done = s ? i - 1 : i;
	put_reg_target(p, vp);
	return s;
}

enum hv_status hc_install_intercept(struct hc *c)
{
	const struct hv_input_install_intercept *in = c->in;
	struct partition *p;
	enum hv_status s;

	if (!hc_allowed(c, HV_PRIV_CREATE_PARTITIONS))
		return HV_STATUS_ACCESS_DENIED;
	if (in->access_type_mask & ~(HV_INTERCEPT_ACCESS_READ |
				     HV_INTERCEPT_ACCESS_WRITE |
				     HV_INTERCEPT_ACCESS_EXECUTE))
		return HV_STATUS_INVALID_PARAMETER;
	p = hc_target(c, in->partition_id, false, &s);
	if (!p)
		return s;
	s = partition_install_intercept(p, in->intercept_type,
					in->access_type_mask, in->parameter);
	partition_put(p);
	return s;
}

static void deliver_interrupt(struct partition *p, struct vp *vp,
			      const struct hv_input_assert_virtual_interrupt *in)
{
	bool nmi = in->interrupt_type == HV_INTERRUPT_TYPE_NMI;

	if (partition_has_lapic(p)) {
		if (nmi)
			irq_nmi(vp, NULL);
		else
			irq_fixed(vp, (u8)in->vector, NULL);
		return;
	}
	if (nmi)
		WRITE_ONCE(vp->pending_nmi, true);
	else
		WRITE_ONCE(vp->pending_irq, in->vector + 1);
	vp_kick(vp);
}

enum hv_status hc_assert_virtual_interrupt(struct hc *c)
{
	const struct hv_input_assert_virtual_interrupt *in = c->in;
	enum hv_status s = HV_STATUS_SUCCESS;
	struct partition *p;
	struct vp *vp;

	if (!hc_allowed(c, HV_PRIV_CREATE_PARTITIONS))
		return HV_STATUS_ACCESS_DENIED;
	if (in->control_flags || in->target_vtl || in->rsvd8 || in->rsvd16 ||
	    in->dest_addr >= MAX_VPS ||
	    (in->interrupt_type == HV_INTERRUPT_TYPE_FIXED &&
	     (in->vector < 16 || in->vector > 255)) ||
	    (in->interrupt_type != HV_INTERRUPT_TYPE_FIXED &&
	     in->interrupt_type != HV_INTERRUPT_TYPE_NMI))
		return HV_STATUS_INVALID_PARAMETER;
	p = hc_target(c, in->partition_id, false, &s);
	if (!p)
		return s;
	spin_lock(&p->lock);	/* keeps the VP from being deleted */
	vp = partition_vp(p, (u32)in->dest_addr);
	if (!vp)
		s = HV_STATUS_INVALID_VP_INDEX;
	else if (p->state != PARTITION_INITIALIZED)
		s = HV_STATUS_INVALID_PARTITION_STATE;
	else
		deliver_interrupt(p, vp, in);
	spin_unlock(&p->lock);
	partition_put(p);
	return s;
}

enum hv_status hc_start_virtual_processor(struct hc *c)
{
	const struct hv_input_start_virtual_processor *in = c->in;
	struct vp *vp;

	if (!hc_allowed(c, HV_PRIV_START_VP))
		return HV_STATUS_ACCESS_DENIED;
	if (in->target_vtl || in->padding[0] || in->padding[1] ||
	    in->padding[2])
		return HV_STATUS_INVALID_PARAMETER;
	/* Only the root starts its own VPs; children's run via dispatch. */
	if (!c->self->is_root || (in->partition_id != HV_PARTITION_ID_SELF &&
				  in->partition_id != c->self->id))
		return HV_STATUS_INVALID_PARTITION_ID;
	vp = partition_vp(c->self, in->vp_index);
	if (!vp)
		return HV_STATUS_INVALID_VP_INDEX;
	return root_vp_start(vp, &in->context);
}

static void dispatch_result(struct hc *c, u32 state, u32 event)
{
	struct hv_output_dispatch_vp *out = c->out;

	out->dispatch_state = state;
	out->dispatch_event = event;
}

/*
 * What the root's scheduler needs from a LAPIC VP's run: when its next
 * timer fires and which sibling threads to wake (docs/abi.md).
 */
static void write_run_state(struct vp *vp)
{
	struct hv_microhv_run_state *rs;
	u64 next = partition_has_lapic(vp->part) ? irq_next_deadline(vp) : 0;
	u64 now;

	vp->irq.root_deadline = next;
	if (!hpa_valid(vp->state_page))
		return;
	rs = (void *)((u8 *)hpa_to_hva(vp->state_page) +
		      HV_MICROHV_RUN_STATE_OFFSET);
	now = partition_reference_time(vp->part);
	rs->timer_deadline_ns = !next ? HV_MICROHV_NO_DEADLINE :
				next <= now ? 0 : irq_ref_to_ns(next - now);
	rs->wake_vps = vp->irq.wake_vps;
	vp->irq.wake_vps = 0;
}

static void dispatch_vp(struct hc *c, struct vp *vp)
{
	enum dispatch_result r = virt_vp_dispatch(vp);

	write_run_state(vp);
	switch (r) {
	case DISPATCH_INTERCEPT:
		dispatch_result(c, HV_VP_DISPATCH_STATE_READY,
				HV_VP_DISPATCH_EVENT_INTERCEPT);
		break;
	case DISPATCH_BLOCKED:
		dispatch_result(c, HV_VP_DISPATCH_STATE_BLOCKED,
				HV_VP_DISPATCH_EVENT_INVALID);
		break;
	case DISPATCH_WAKE:
		dispatch_result(c, HV_VP_DISPATCH_STATE_READY,
				HV_VP_DISPATCH_EVENT_MICROHV_WAKE);
		break;
	default:
		dispatch_result(c, HV_VP_DISPATCH_STATE_READY,
				HV_VP_DISPATCH_EVENT_INVALID);
	}
}

enum hv_status hc_dispatch_vp(struct hc *c)
{
	const struct hv_input_dispatch_vp *in = c->in;
	struct partition *p;
	enum hv_status s;
	struct vp *vp;

	if (!hc_allowed(c, HV_PRIV_CREATE_PARTITIONS))
		return HV_STATUS_ACCESS_DENIED;
	if (in->flags & ~(HV_DISPATCH_VP_FLAG_CLEAR_INTERCEPT_SUSPEND | 0x40u))
		return HV_STATUS_INVALID_PARAMETER;
	vp = claim_child_vp(c, in->partition_id, in->vp_index, &p, &s);
	if (!vp)
		return s;	/* INVALID_VP_STATE: running elsewhere */
	if (in->flags & HV_DISPATCH_VP_FLAG_CLEAR_INTERCEPT_SUSPEND)
		vp->intercept_suspend = false;
	if (vp->explicit_suspend || vp->dispatch_suspend)
		dispatch_result(c, HV_VP_DISPATCH_STATE_BLOCKED,
				HV_VP_DISPATCH_EVENT_SUSPEND);
	else if (vp->intercept_suspend)	/* the same intercept again */
		dispatch_result(c, HV_VP_DISPATCH_STATE_READY,
				HV_VP_DISPATCH_EVENT_INTERCEPT);
	else
		dispatch_vp(c, vp);
	put_child_vp(p, vp);
	return HV_STATUS_SUCCESS;
}

enum hv_status hc_map_vp_state_page(struct hc *c)
{
	const struct hv_input_map_vp_state_page *in = c->in;
	struct hv_output_map_vp_state_page *out = c->out;
	struct partition *p;
	enum hv_status s = HV_STATUS_SUCCESS;
	struct vp *vp;

	if (!hc_allowed(c, HV_PRIV_CREATE_PARTITIONS))
		return HV_STATUS_ACCESS_DENIED;
	if (in->type != HV_VP_STATE_PAGE_INTERCEPT_MESSAGE || in->flags ||
	    in->input_vtl || in->requested_map_location)
		return HV_STATUS_INVALID_PARAMETER;
	/* Claimed: a running VP may be writing its intercept message. */
	vp = claim_child_vp(c, in->partition_id, in->vp_index, &p, &s);
	if (!vp)
		return s;
	spin_lock(&p->lock);
	if (!hpa_valid(vp->state_page)) {
		hpa_t page = pool_alloc(&p->pool);

		if (!hpa_valid(page)) {
			s = HV_STATUS_INSUFFICIENT_MEMORY;
		} else if (!root_share_page(page)) {
			pool_free(&p->pool, page);
			s = HV_STATUS_INSUFFICIENT_MEMORY;
		} else {
			/* From now on messages are written to the page. */
			__builtin_memcpy(hpa_to_hva(page), &vp->msg,
					 sizeof(vp->msg));
			vp->state_page = page;
		}
	}
	out->map_location = hpa_u64(vp->state_page) >> PAGE_SHIFT;
	spin_unlock(&p->lock);
	put_child_vp(p, vp);
	return s;
}

enum hv_status hc_unmap_vp_state_page(struct hc *c)
{
	const struct hv_input_map_vp_state_page *in = c->in;
	struct partition *p;
	enum hv_status s = HV_STATUS_SUCCESS;
	struct vp *vp;

	if (!hc_allowed(c, HV_PRIV_CREATE_PARTITIONS))
		return HV_STATUS_ACCESS_DENIED;
	if (in->type != HV_VP_STATE_PAGE_INTERCEPT_MESSAGE || in->flags ||
	    in->input_vtl)
		return HV_STATUS_INVALID_PARAMETER;
	vp = claim_child_vp(c, in->partition_id, in->vp_index, &p, &s);
	if (!vp)
		return s;
	spin_lock(&p->lock);
	if (!hpa_valid(vp->state_page)) {
		s = HV_STATUS_INVALID_PARAMETER;
	} else {
		__builtin_memcpy(&vp->msg, hpa_to_hva(vp->state_page),
				 sizeof(vp->msg));	/* keep the last one */
		root_unshare_page(vp->state_page);
		pool_free(&p->pool, vp->state_page);
		vp->state_page = INVALID_HPA;
	}
	spin_unlock(&p->lock);
	put_child_vp(p, vp);
	return s;
}
