/*
 * Inside the hypercall layer. Every handler has the same shape: decode
 * its input, check the caller's privilege, validate, act, and return an
 * HV status. dispatch.c has already copied the input into c->in (so a
 * guest cannot change it under us) and copies c->out back on success.
 */
#ifndef HYPERCALL_H
#define HYPERCALL_H

#include <hv/vp.h>

struct hc {
	struct vp *caller;
	struct partition *self;		/* the caller's partition */
	u16 code;
	bool fast;
	u32 rep_start, rep_count;
	u32 reps_done;			/* absolute, as the TLFS wants */
	const void *in;			/* fixed input, then rep elements */
	void *out;			/* output, then rep elements */
};

/* The caller must hold this privilege (HV_PRIV_*). */
static inline bool hc_allowed(const struct hc *c, u64 priv)
{
	return (c->self->privileges & priv) == priv;
}

/*
 * The partition a root-scope call names: a child of the caller, or the
 * caller itself for HV_PARTITION_ID_SELF if allow_self. Takes a
 * reference; *status says why not on NULL.
 */
struct partition *hc_target(struct hc *c, u64 id, bool allow_self,
			    enum hv_status *status);

/* Handlers. */
enum hv_status hc_create_partition(struct hc *c);
enum hv_status hc_initialize_partition(struct hc *c);
enum hv_status hc_finalize_partition(struct hc *c);
enum hv_status hc_delete_partition(struct hc *c);
enum hv_status hc_get_partition_property(struct hc *c);
enum hv_status hc_set_partition_property(struct hc *c);
enum hv_status hc_get_partition_id(struct hc *c);
enum hv_status hc_get_system_property(struct hc *c);
enum hv_status hc_deposit_memory(struct hc *c);
enum hv_status hc_withdraw_memory(struct hc *c);
enum hv_status hc_get_memory_balance(struct hc *c);
enum hv_status hc_map_gpa_pages(struct hc *c);
enum hv_status hc_unmap_gpa_pages(struct hc *c);
enum hv_status hc_create_vp(struct hc *c);
enum hv_status hc_delete_vp(struct hc *c);
enum hv_status hc_get_vp_registers(struct hc *c);
enum hv_status hc_set_vp_registers(struct hc *c);
enum hv_status hc_install_intercept(struct hc *c);
enum hv_status hc_assert_virtual_interrupt(struct hc *c);
enum hv_status hc_post_message(struct hc *c);
enum hv_status hc_signal_event(struct hc *c);
enum hv_status hc_post_message_direct(struct hc *c);
enum hv_status hc_signal_event_direct(struct hc *c);
enum hv_status hc_start_virtual_processor(struct hc *c);
enum hv_status hc_dispatch_vp(struct hc *c);
enum hv_status hc_map_vp_state_page(struct hc *c);
enum hv_status hc_unmap_vp_state_page(struct hc *c);

#endif
