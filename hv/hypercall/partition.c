/* Partition lifecycle and property hypercalls (TLFS, root only). */
#include <hv/hvmem.h>
#include <hv/log.h>
#include <hv/msr.h>
#include "hypercall.h"

/* Creation flags we honour (no x2APIC: a LAPIC partition gets an xAPIC). */
#define CREATION_FLAGS_SUPPORTED (HV_PARTITION_CREATION_EXO | \
	HV_PARTITION_CREATION_INTERCEPT_MESSAGE_PAGE | \
	HV_PARTITION_CREATION_LAPIC | BIT(0) | BIT(4))

enum hv_status hc_create_partition(struct hc *c)
{
	const struct hv_input_create_partition *in = c->in;
	struct hv_output_partition_id *out = c->out;
	struct partition *p;
	enum hv_status s;

	if (!hc_allowed(c, HV_PRIV_CREATE_PARTITIONS))
		return HV_STATUS_ACCESS_DENIED;
	if ((in->flags & ~CREATION_FLAGS_SUPPORTED) ||
	    in->isolation_properties || in->padding)
		return HV_STATUS_INVALID_PARAMETER;
	s = partition_create(in->flags, &p);
	if (s)
		return s;
	out->partition_id = p->id;
	pr_debug("partition %llu created", p->id);
	partition_put(p);
	return HV_STATUS_SUCCESS;
}

/* Initialize, Finalize and Delete share their shape: one child id. */
static enum hv_status lifecycle(struct hc *c,
				enum hv_status (*act)(struct partition *))
{
	const struct hv_input_partition_id *in = c->in;
	struct partition *p;
	enum hv_status s;

	if (!hc_allowed(c, HV_PRIV_CREATE_PARTITIONS))
		return HV_STATUS_ACCESS_DENIED;
	p = hc_target(c, in->partition_id, false, &s);
	if (!p)
		return s;
	s = act(p);
	partition_put(p);
	return s;
}

enum hv_status hc_initialize_partition(struct hc *c)
{
	return lifecycle(c, partition_initialize);
}

enum hv_status hc_finalize_partition(struct hc *c)
{
	return lifecycle(c, partition_finalize);
}

enum hv_status hc_delete_partition(struct hc *c)
{
	return lifecycle(c, partition_delete);
}

static enum hv_status get_property(struct partition *p, u32 code, u64 *v)
{
	u32 n = code - HV_PROPERTY_MICROHV_EXIT_COUNT(0);

	if (p->is_root && code >= HV_PROPERTY_MICROHV_HV_FREE_PAGES &&
	    code <= HV_PROPERTY_MICROHV_DEPOSITED_PAGES) {
		struct partition_census c;

		partition_census(&c);
		*v = code == HV_PROPERTY_MICROHV_HV_FREE_PAGES ?
			     palloc_free_pages(&hv_pool) :
		     code == HV_PROPERTY_MICROHV_PARTITIONS ? c.children :
							      c.deposited;
		return HV_STATUS_SUCCESS;
	}
	if (n < HV_EXIT_STAT_COUNT) {
		*v = __atomic_load_n(&p->exit_stats[n], __ATOMIC_RELAXED);
		return HV_STATUS_SUCCESS;
	}
	switch (code) {
	case HV_PROPERTY_PRIVILEGE_FLAGS: *v = p->privileges; break;
	case HV_PROPERTY_SYNTHETIC_PROC_FEATURES:
		*v = p->synthetic_proc_features;
		break;
	case HV_PROPERTY_UNIMPLEMENTED_MSR_ACTION:
		*v = p->unimplemented_msr_action;
		break;
	case HV_PROPERTY_PROCESSOR_VENDOR: *v = 0; break;	/* AMD */
	case HV_PROPERTY_PHYSICAL_ADDRESS_WIDTH: *v = 46; break;
	default: return HV_STATUS_UNKNOWN_PROPERTY;
	}
	return HV_STATUS_SUCCESS;
}

enum hv_status hc_get_partition_property(struct hc *c)
{
	const struct hv_input_get_partition_property *in = c->in;
	u64 *out = c->out;
	struct partition *p;
	enum hv_status s;

	if (!hc_allowed(c, HV_PRIV_CREATE_PARTITIONS))
		return HV_STATUS_ACCESS_DENIED;
	p = hc_target(c, in->partition_id, true, &s);
	if (!p)
		return s;
	s = get_property(p, in->property_code, out);
	partition_put(p);
	return s;
}

static enum hv_status set_property(struct partition *p, u32 code, u64 v)
{
	bool early = p->state == PARTITION_CREATED;

	switch (code) {
	case HV_PROPERTY_PRIVILEGE_FLAGS:
		if (!early)
			return HV_STATUS_INVALID_PARTITION_STATE;
		/* A child may lose privileges, never gain them. */
		if (v & ~cpuid_child_privileges(partition_has_lapic(p)))
			return HV_STATUS_PROPERTY_VALUE_OUT_OF_RANGE;
		p->privileges = v;
		return HV_STATUS_SUCCESS;
	case HV_PROPERTY_SYNTHETIC_PROC_FEATURES:
		if (!early)
			return HV_STATUS_INVALID_PARTITION_STATE;
		p->synthetic_proc_features = v;
		return HV_STATUS_SUCCESS;
	case HV_PROPERTY_UNIMPLEMENTED_MSR_ACTION:
		if (v > 1)
			return HV_STATUS_PROPERTY_VALUE_OUT_OF_RANGE;
		p->unimplemented_msr_action = (u32)v;
		return HV_STATUS_SUCCESS;
	default:
		return HV_STATUS_UNKNOWN_PROPERTY;
	}
}

enum hv_status hc_set_partition_property(struct hc *c)
{
	const struct hv_input_set_partition_property *in = c->in;
	struct partition *p;
	enum hv_status s;

	if (!hc_allowed(c, HV_PRIV_CREATE_PARTITIONS))
		return HV_STATUS_ACCESS_DENIED;
	if (in->padding)
		return HV_STATUS_INVALID_PARAMETER;
	p = hc_target(c, in->partition_id, false, &s);
	if (!p)
		return s;
	spin_lock(&p->lock);
	s = p->state >= PARTITION_FINALIZING ?
		HV_STATUS_INVALID_PARTITION_STATE :
		set_property(p, in->property_code, in->value);
	spin_unlock(&p->lock);
	partition_put(p);
	return s;
}

enum hv_status hc_get_partition_id(struct hc *c)
{
	struct hv_output_partition_id *out = c->out;

	if (!hc_allowed(c, HV_PRIV_ACCESS_PARTITION_ID))
		return HV_STATUS_ACCESS_DENIED;
	out->partition_id = c->self->id;
	return HV_STATUS_SUCCESS;
}

enum hv_status hc_get_system_property(struct hc *c)
{
	const struct hv_input_get_system_property *in = c->in;
	u32 *out = c->out;

	if (!hc_allowed(c, HV_PRIV_CREATE_PARTITIONS))
		return HV_STATUS_ACCESS_DENIED;
	if (in->property_id != HV_SYSTEM_PROPERTY_SCHEDULER_TYPE ||
	    in->reserved)
		return HV_STATUS_INVALID_PARAMETER;
	*out = HV_SCHEDULER_TYPE_ROOT;
	return HV_STATUS_SUCCESS;
}
