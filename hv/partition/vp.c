/* Virtual processor objects. */
#include <hv/hvmem.h>
#include <hv/mm.h>
#include <hv/root.h>
#include <hv/string.h>
#include <hv/virt.h>
#include <hv/vp.h>

static hpa_t vp_page(struct partition *p)
{
	return p->is_root ? page_alloc(1) : pool_alloc(&p->pool);
}

static void vp_page_free(struct partition *p, hpa_t page)
{
	if (p->is_root)
		page_free(page, 1);
	else
		pool_free(&p->pool, page);
}

enum hv_status vp_create(struct partition *p, u32 index, struct vp **out)
{
	hpa_t self = vp_page(p), vmcb = vp_page(p), queue = INVALID_HPA;
	struct vp *vp;

	if (!hpa_valid(self) || !hpa_valid(vmcb))
		goto err;
	if (partition_has_lapic(p)) {
		queue = vp_page(p);
		if (!hpa_valid(queue))
			goto err;
	}
	vp = hpa_to_hva(self);
	memset(vp, 0, sizeof(*vp));
	vp->part = p;
	vp->index = index;
	vp->self = self;
	vp->vmcb_pa = vmcb;
	vp->vmcb = hpa_to_hva(vmcb);
	vp->state_page = INVALID_HPA;
	/* TLFS: a new child VP waits in explicit suspend. */
	vp->explicit_suspend = !p->is_root;
	vp->synic.queue_page = queue;
	if (hpa_valid(queue)) {
		vp->synic.queue = hpa_to_hva(queue);
		vp->synic.queue->count = 0;
		irq_vp_init(vp);
	}
	virt_vp_init(vp);
	*out = vp;
	return HV_STATUS_SUCCESS;
err:
	if (hpa_valid(self))
		vp_page_free(p, self);
	if (hpa_valid(vmcb))
		vp_page_free(p, vmcb);
	return HV_STATUS_INSUFFICIENT_MEMORY;
}

void vp_destroy(struct vp *vp)
{
	struct partition *p = vp->part;

	if (hpa_valid(vp->state_page)) {
		root_unshare_page(vp->state_page);
		vp_page_free(p, vp->state_page);
	}
	if (hpa_valid(vp->synic.queue_page))
		vp_page_free(p, vp->synic.queue_page);
	vp_page_free(p, vp->vmcb_pa);
	vp_page_free(p, vp->self);
}

void vp_reset_to_sipi(struct vp *vp, u32 vector)
{
	struct hv_x64_segment_register cs = {
		(u64)vector << 12, 0xffff, (u16)(vector << 8), 0x9b
	};
	struct hv_register_value v = { 0, 0 };

	virt_vp_init(vp);
	memcpy(&v, &cs, sizeof(cs));
	virt_vp_set_reg(vp, HV_REG_CS, &v);
	v = (struct hv_register_value){ 0, 0 };
	virt_vp_set_reg(vp, HV_REG_RIP, &v);
}

void *vp_intercept_payload(struct vp *vp, u32 type, u32 size)
{
	struct hv_message *m = hpa_valid(vp->state_page) ?
				       hpa_to_hva(vp->state_page) : &vp->msg;

	m->header.message_type = type;
	m->header.payload_size = (u8)MIN(size, HV_MESSAGE_PAYLOAD_BYTES);
	m->header.message_flags = 0;
	m->header.reserved = 0;
	m->header.sender = vp->part->id;
	vp->intercept_suspend = true;
	return m->payload;
}
