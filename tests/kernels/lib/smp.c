/* Root SMP for test kernels: start another root VP with a 64-bit context. */
#include <hv/string.h>
#include "tk.h"

#define AP_STACK 16384

struct ap_slot {
	void (*fn)(void *);
	void *arg;
	u8 stack[AP_STACK] __aligned(16);
};

static struct ap_slot slots[8];
extern char tk_ap_entry64[];
extern const u8 tk_gdt[];
extern u64 tk_pml4[];

u32 tk_nr_cpus(void)
{
	u32 r[4];

	tk_cpuid(HV_CPUID_LIMITS, 0, r);
	return r[1] ? r[1] : 1;
}

static u64 read_cr(int n)
{
	u64 v = 0;

	if (n == 0)
		__asm__ __volatile__("mov %%cr0, %0" : "=r"(v));
	else if (n == 3)
		__asm__ __volatile__("mov %%cr3, %0" : "=r"(v));
	else
		__asm__ __volatile__("mov %%cr4, %0" : "=r"(v));
	return v;
}

void tk_ap_main(void)
{
	u32 r[4];
	struct ap_slot *s;

	tk_cpuid(1, 0, r);
	s = &slots[(r[1] >> 24) % 8];
	extern void tk_exceptions_init(void);
	extern void tk_cpu_init(void);
	tk_cpu_init();
	tk_exceptions_init();
	s->fn(s->arg);
}

int tk_start_ap(u32 vp, void (*fn)(void *), void *arg)
{
	return tk_start_ap_edited(vp, fn, arg, NULL);
}

int tk_start_ap_edited(u32 vp, void (*fn)(void *), void *arg,
		       void (*edit)(struct hv_initial_vp_context *))
{
	struct hv_input_start_virtual_processor *in = tk_hc_in();
	struct hv_initial_vp_context *c = &in->context;
	struct ap_slot *s = &slots[vp % 8];
	struct hv_x64_segment_register data = { 0, 0xffffffffu, 0x10, 0xc093 };
	struct {
		u16 limit;
		u64 base;
	} __packed idtr;

	s->fn = fn;
	s->arg = arg;
	__asm__ __volatile__("sidt %0" : "=m"(idtr));
	memset(in, 0, sizeof(*in));
	in->partition_id = HV_PARTITION_ID_SELF;
	in->vp_index = vp;
	c->rip = (u64)(uintptr_t)tk_ap_entry64;
	c->rsp = (u64)(uintptr_t)(s->stack + AP_STACK);
	c->rflags = 0x2;
	c->cs = (struct hv_x64_segment_register){ 0, 0xffffffffu, 0x08, 0xa09b };
	c->ds = c->es = c->fs = c->gs = c->ss = data;
	c->tr = (struct hv_x64_segment_register){ 0, 0x67, 0, 0x008b };
	c->gdtr.limit = 23;
	c->gdtr.base = (u64)(uintptr_t)tk_gdt;
	c->idtr.limit = idtr.limit;
	c->idtr.base = idtr.base;
	c->efer = (1ull << 8) | (1ull << 10);	/* LME, LMA */
	c->cr0 = read_cr(0);
	c->cr3 = read_cr(3);
	c->cr4 = read_cr(4);
	c->msr_cr_pat = 0x0007040600070406ull;
	if (edit)
		edit(c);
	return HV_RESULT_STATUS(tk_hvcall(HVCALL_START_VIRTUAL_PROCESSOR, 0, 0));
}
