/* Decoding and completing MMIO accesses (see hv/mmio.h). */
#include <hv/gwalk.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/mmio.h>
#include <hv/string.h>
#include <hv/virt.h>
#include <hv/vp.h>
#include <x86/cpu.h>
#include <x86/msr.h>

static u64 reg(struct vp *vp, u32 name)
{
	struct hv_register_value v;

	virt_vp_get_reg(vp, name, &v);
	return v.low;
}

static void set_reg(struct vp *vp, u32 name, u64 value)
{
	struct hv_register_value v = { value, 0 };

	virt_vp_set_reg(vp, name, &v);
}

/* The root reads its own RAM; a child what its NPT maps (lock held). */
static const void *guest_read(u64 pa, u64 len, void *ctx)
{
	struct partition *p = ctx;
	hpa_t h;

	if (p->is_root) {
		if (!len || frame_owner(&frames, pa >> PAGE_SHIFT) != FRAME_ROOT ||
		    frame_owner(&frames, (pa + len - 1) >> PAGE_SHIFT) !=
			    FRAME_ROOT)
			return NULL;
		return hpa_to_hva(hpa(pa));
	}
	return gpa_to_hpa(p, gpa(pa), len, false, &h) ? hpa_to_hva(h) : NULL;
}

/* Up to 15 instruction bytes at RIP; how many could be read. */
static u32 fetch(struct vp *vp, u8 *buf, bool *long_mode)
{
	struct hv_register_value csv;
	struct hv_x64_segment_register cs;
	struct gwalk_regs r = { reg(vp, HV_REG_CR0), reg(vp, HV_REG_CR3),
				reg(vp, HV_REG_CR4), reg(vp, HV_REG_EFER) };
	struct partition *p = vp->part;
	u64 rip, n = 0;

	virt_vp_get_reg(vp, HV_REG_CS, &csv);
	memcpy(&cs, &csv, sizeof(cs));
	*long_mode = (r.efer & EFER_LMA) && (cs.attributes & BIT(13));
	rip = cs.base + reg(vp, HV_REG_RIP);
	if (!p->is_root)	/* the child's NPT must not change under us */
		spin_lock(&p->lock);
	while (n < 15) {
		u64 g, chunk = MIN(15 - n, PAGE_SIZE - ((rip + n) & 0xfff));
		const u8 *src;

		if (!gva_to_gpa(&r, rip + n, guest_read, p, &g) ||
		    !(src = guest_read(g, chunk, p)))
			break;
		memcpy(buf + n, src, chunk);
		n += chunk;
	}
	if (!p->is_root)
		spin_unlock(&p->lock);
	return (u32)n;
}

bool mmio_decode(struct vp *vp, struct mmio_insn *in)
{
	u8 code[15];
	bool lm;
	u32 n = fetch(vp, code, &lm);
	const char *err = decode_mmio(code, n, lm, in);

	if (err)
		pr_info("partition %llu VP %u: MMIO at rip 0x%llx not "
			"emulated (%s)", vp->part->id, vp->index,
			reg(vp, HV_REG_RIP), err);
	return !err;
}

u64 mmio_write_value(struct vp *vp, const struct mmio_insn *in)
{
	return in->has_imm ? in->imm : reg(vp, HV_REG_RAX + in->reg);
}

void mmio_complete(struct vp *vp, const struct mmio_insn *in, u64 read_value)
{
	if (!in->write)	/* a 32-bit MOV zero-extends */
		set_reg(vp, HV_REG_RAX + in->reg, read_value);
	set_reg(vp, HV_REG_RIP, reg(vp, HV_REG_RIP) + in->len);
}
