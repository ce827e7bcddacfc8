/*
 * Hypercall decode and dispatch (TLFS "Hypercall Interface"). The input
 * block is copied into a per-CPU page before any handler sees it, and
 * the output comes back from a per-CPU page, so a guest can neither
 * change input under a handler nor see half-written output.
 */
#include <hv/hypercall.h>
#include <hv/mm.h>
#include <hv/percpu.h>
#include <hv/string.h>
#include "hypercall.h"

#define HC_REP BIT(0)		/* a rep call */
#define HC_SLOW BIT(1)		/* memory form allowed */
#define HC_FAST BIT(2)		/* register form allowed */
#define HC_INTERCEPTABLE BIT(3)	/* the root may serve a child's call */

struct hc_desc {
	u8 flags;
	u16 in_size;		/* fixed input bytes */
	u16 rep_in;		/* bytes per rep input element */
	u16 out_size;		/* fixed output bytes */
	u16 rep_out;		/* bytes per rep output element */
};

#define S sizeof
/* Indexed by call code: a missing code has no flags (unknown). */
static const struct hc_desc descs[256] = {
	[HVCALL_NOTIFY_LONG_SPIN_WAIT] = { HC_FAST, 8, 0, 0, 0 },
	[HVCALL_CREATE_PARTITION] =
		{ HC_SLOW, S(struct hv_input_create_partition), 0, 8, 0 },
	[HVCALL_INITIALIZE_PARTITION] = { HC_SLOW | HC_FAST, 8, 0, 0, 0 },
	[HVCALL_FINALIZE_PARTITION] = { HC_SLOW | HC_FAST, 8, 0, 0, 0 },
	[HVCALL_DELETE_PARTITION] = { HC_SLOW | HC_FAST, 8, 0, 0, 0 },
	[HVCALL_GET_PARTITION_PROPERTY] =
		{ HC_SLOW, S(struct hv_input_get_partition_property), 0, 8, 0 },
	[HVCALL_SET_PARTITION_PROPERTY] =
		{ HC_SLOW, S(struct hv_input_set_partition_property), 0, 0, 0 },
	[HVCALL_GET_PARTITION_ID] = { HC_SLOW, 0, 0, 8, 0 },
	[HVCALL_DEPOSIT_MEMORY] = { HC_SLOW | HC_REP, 8, 8, 0, 0 },
	[HVCALL_WITHDRAW_MEMORY] =
		{ HC_SLOW | HC_REP, S(struct hv_input_withdraw_memory), 0, 0, 8 },
	[HVCALL_GET_MEMORY_BALANCE] =
		{ HC_SLOW, 16, 0, S(struct hv_output_get_memory_balance), 0 },
	[HVCALL_MAP_GPA_PAGES] =
		{ HC_SLOW | HC_REP, S(struct hv_input_map_gpa_pages), 8, 0, 0 },
	[HVCALL_UNMAP_GPA_PAGES] =
		{ HC_SLOW | HC_REP, S(struct hv_input_unmap_gpa_pages), 0, 0, 0 },
	[HVCALL_INSTALL_INTERCEPT] =
		{ HC_SLOW, S(struct hv_input_install_intercept), 0, 0, 0 },
	[HVCALL_CREATE_VP] = { HC_SLOW, S(struct hv_input_create_vp), 0, 0, 0 },
	[HVCALL_DELETE_VP] =
		{ HC_SLOW | HC_FAST, S(struct hv_input_delete_vp), 0, 0, 0 },
	[HVCALL_GET_VP_REGISTERS] =
		{ HC_SLOW | HC_REP, S(struct hv_input_vp_registers), 4, 0, 16 },
	[HVCALL_SET_VP_REGISTERS] =
		{ HC_SLOW | HC_REP, S(struct hv_input_vp_registers), 32, 0, 0 },
	[HVCALL_GET_SYSTEM_PROPERTY] =
		{ HC_SLOW, S(struct hv_input_get_system_property), 0, 8, 0 },
	[HVCALL_POST_MESSAGE] = { HC_SLOW | HC_INTERCEPTABLE,
				  S(struct hv_input_post_message), 0, 0, 0 },
	[HVCALL_SIGNAL_EVENT] = { HC_FAST | HC_INTERCEPTABLE, 8, 0, 0, 0 },
	[HVCALL_SIGNAL_EVENT_DIRECT] =
		{ HC_SLOW, S(struct hv_input_signal_event_direct), 0,
		  S(struct hv_output_signal_event_direct), 0 },
	[HVCALL_POST_MESSAGE_DIRECT] =
		{ HC_SLOW, S(struct hv_input_post_message_direct), 0, 0, 0 },
	[HVCALL_ASSERT_VIRTUAL_INTERRUPT] =
		{ HC_SLOW, S(struct hv_input_assert_virtual_interrupt), 0, 0, 0 },
	[HVCALL_START_VIRTUAL_PROCESSOR] =
		{ HC_SLOW, S(struct hv_input_start_virtual_processor), 0, 0, 0 },
	[HVCALL_DISPATCH_VP] =
		{ HC_SLOW, S(struct hv_input_dispatch_vp), 0, S(struct hv_output_dispatch_vp), 0 },
	[HVCALL_MAP_VP_STATE_PAGE] =
		{ HC_SLOW, S(struct hv_input_map_vp_state_page), 0, 8, 0 },
	[HVCALL_UNMAP_VP_STATE_PAGE] = { HC_SLOW, 16, 0, 0, 0 },
};
#undef S

static const struct hc_desc *find_desc(u16 code)
{
	if (code >= ARRAY_SIZE(descs) || !descs[code].flags)
		return NULL;
	return &descs[code];
}

static enum hv_status call(struct hc *c)
{
	switch (c->code) {
	case HVCALL_NOTIFY_LONG_SPIN_WAIT: return HV_STATUS_SUCCESS;
	case HVCALL_CREATE_PARTITION: return hc_create_partition(c);
	case HVCALL_INITIALIZE_PARTITION: return hc_initialize_partition(c);
	case HVCALL_FINALIZE_PARTITION: return hc_finalize_partition(c);
	case HVCALL_DELETE_PARTITION: return hc_delete_partition(c);
	case HVCALL_GET_PARTITION_PROPERTY: return hc_get_partition_property(c);
	case HVCALL_SET_PARTITION_PROPERTY: return hc_set_partition_property(c);
	case HVCALL_GET_PARTITION_ID: return hc_get_partition_id(c);
	case HVCALL_DEPOSIT_MEMORY: return hc_deposit_memory(c);
	case HVCALL_WITHDRAW_MEMORY: return hc_withdraw_memory(c);
	case HVCALL_GET_MEMORY_BALANCE: return hc_get_memory_balance(c);
	case HVCALL_MAP_GPA_PAGES: return hc_map_gpa_pages(c);
	case HVCALL_UNMAP_GPA_PAGES: return hc_unmap_gpa_pages(c);
	case HVCALL_INSTALL_INTERCEPT: return hc_install_intercept(c);
	case HVCALL_CREATE_VP: return hc_create_vp(c);
	case HVCALL_DELETE_VP: return hc_delete_vp(c);
	case HVCALL_GET_VP_REGISTERS: return hc_get_vp_registers(c);
	case HVCALL_SET_VP_REGISTERS: return hc_set_vp_registers(c);
	case HVCALL_GET_SYSTEM_PROPERTY: return hc_get_system_property(c);
	case HVCALL_POST_MESSAGE: return hc_post_message(c);
	case HVCALL_SIGNAL_EVENT: return hc_signal_event(c);
	case HVCALL_POST_MESSAGE_DIRECT: return hc_post_message_direct(c);
	case HVCALL_SIGNAL_EVENT_DIRECT: return hc_signal_event_direct(c);
	case HVCALL_ASSERT_VIRTUAL_INTERRUPT:
		return hc_assert_virtual_interrupt(c);
	case HVCALL_START_VIRTUAL_PROCESSOR:
		return hc_start_virtual_processor(c);
	case HVCALL_DISPATCH_VP: return hc_dispatch_vp(c);
	case HVCALL_MAP_VP_STATE_PAGE: return hc_map_vp_state_page(c);
	case HVCALL_UNMAP_VP_STATE_PAGE: return hc_unmap_vp_state_page(c);
	default: return HV_STATUS_INVALID_HYPERCALL_CODE;
	}
}

static bool guest_writable(struct partition *p, u64 gpa_, u64 len)
{
	hpa_t h;
	bool ok;

	spin_lock(&p->lock);
	ok = gpa_to_hpa(p, gpa(gpa_), len, true, &h);
	spin_unlock(&p->lock);
	return ok;
}

static bool block_ok(u64 gpa_, u64 len)
{
	return IS_ALIGNED(gpa_, 8) &&
	       (!len || ALIGN_DOWN(gpa_, PAGE_SIZE) ==
				ALIGN_DOWN(gpa_ + len - 1, PAGE_SIZE));
}

static enum hv_status check_control(const struct hc_desc *d, u64 rcx,
				    struct hc *c)
{
	if ((rcx & HV_HC_RSVD_MASK) || HV_HC_VARHDR(rcx) ||
	    (rcx & HV_HC_NESTED))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if (!(d->flags & HC_REP) && (c->rep_count || c->rep_start))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if ((d->flags & HC_REP) && c->rep_count &&
	    c->rep_start >= c->rep_count)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if (c->fast ? !(d->flags & HC_FAST) || d->in_size > 16 ||
		      d->out_size || d->rep_out :
		      !(d->flags & HC_SLOW))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	return HV_STATUS_SUCCESS;
}

/* Gathers input into c->in; checks the output block is usable. */
static enum hv_status stage(const struct hc_desc *d, struct hc *c, u64 rdx,
			    u64 r8, u64 *out_len)
{
	struct percpu *cpu = this_cpu();
	int level = !c->self->is_root;	/* a child's call nests in the root's */
	u8 *in = cpu->hc_in[level], *out = cpu->hc_out[level];
	u64 in_len;

	c->in = in;
	c->out = out;
	if (c->fast) {	/* check_control: no output, no reps */
		((u64 *)in)[0] = rdx;
		((u64 *)in)[1] = r8;
		return HV_STATUS_SUCCESS;
	}
	in_len = d->in_size + (u64)c->rep_count * d->rep_in;
	*out_len = d->out_size + (u64)c->rep_count * d->rep_out;
	if (in_len > PAGE_SIZE || *out_len > PAGE_SIZE)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	memset(out, 0, *out_len);	/* nothing stale goes back */
	if (!block_ok(rdx, in_len) || !block_ok(r8, *out_len))
		return HV_STATUS_INVALID_ALIGNMENT;
	if (in_len && *out_len && rdx < r8 + *out_len && r8 < rdx + in_len)
		return HV_STATUS_INVALID_PARAMETER;	/* overlapping blocks */
	if (in_len && !partition_copy(c->self, rdx, in, in_len, false))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if (*out_len && !guest_writable(c->self, r8, *out_len))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	return HV_STATUS_SUCCESS;
}

/* The root serves it: see HYPERCALL_TO_ROOT. */
static bool for_root(const struct hc_desc *d, const struct hc *c)
{
	return (d->flags & HC_INTERCEPTABLE) && !c->self->is_root &&
	       __atomic_load_n(&c->self->hypercall_intercept,
			       __ATOMIC_ACQUIRE);
}

u64 hypercall(struct vp *vp, u64 rcx, u64 rdx, u64 r8)
{
	struct hc c = {
		.caller = vp, .self = vp->part, .code = HV_HC_CODE(rcx),
		.fast = rcx & HV_HC_FAST, .rep_count = HV_HC_REP_COUNT(rcx),
		.rep_start = HV_HC_REP_START(rcx),
	};
	const struct hc_desc *d = find_desc(c.code);
	enum hv_status s;
	u64 out_len = 0;

	if (!d)
		return HV_RESULT(HV_STATUS_INVALID_HYPERCALL_CODE, 0);
	s = check_control(d, rcx, &c);
	if (!s)
		s = stage(d, &c, rdx, r8, &out_len);
	if (s)
		return HV_RESULT(s, 0);
	if (for_root(d, &c))	/* checked like any call, then the root's */
		return HYPERCALL_TO_ROOT;
	c.reps_done = c.rep_start;
	s = call(&c);
	/* Output is written even on a partial rep (the TLFS's reps done). */
	if (out_len && (!s || c.reps_done > c.rep_start) &&
	    !partition_copy(c.self, r8, c.out, out_len, true))
		s = HV_STATUS_INVALID_HYPERCALL_INPUT;
	return HV_RESULT(s, (d->flags & HC_REP) ? c.reps_done : 0);
}

struct partition *hc_target(struct hc *c, u64 id, bool allow_self,
			    enum hv_status *status)
{
	struct partition *p;

	if (id == HV_PARTITION_ID_SELF || id == c->self->id) {
		if (!allow_self) {
			*status = HV_STATUS_INVALID_PARTITION_ID;
			return NULL;
		}
		p = c->self;
		__atomic_fetch_add(&p->refs, 1, __ATOMIC_ACQUIRE);
		return p;
	}
	p = partition_get(id);
	/* Only the root has children, and every other partition is one. */
	if (!p || !c->self->is_root || p->is_root) {
		if (p)
			partition_put(p);
		*status = HV_STATUS_INVALID_PARTITION_ID;
		return NULL;
	}
	return p;
}
