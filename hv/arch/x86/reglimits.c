/* The register limits of the CPU we run on (x86/regcheck.h). */
#include <x86/cpu.h>
#include <x86/regcheck.h>

/* VME .. OSXMMEXCPT: every x86-64 CPU has them. */
#define CR4_BASE 0x7ffull

struct cr4_feature {
	u8 bit;			/* in CR4 */
	u8 leaf7;		/* else leaf 1 */
	u8 reg;			/* 1 EBX, 2 ECX */
	u8 cpuid_bit;
};

static const struct cr4_feature cr4_features[] = {
	{ 11, 1, 2, 2 },	/* UMIP */
	{ 12, 1, 2, 16 },	/* LA57 */
	{ 16, 1, 1, 0 },	/* FSGSBASE */
	{ 17, 0, 2, 17 },	/* PCIDE */
	{ 18, 0, 2, 26 },	/* OSXSAVE */
	{ 20, 1, 1, 7 },	/* SMEP */
	{ 21, 1, 1, 20 },	/* SMAP */
	{ 22, 1, 2, 3 },	/* PKE */
	{ 23, 1, 2, 7 },	/* CET */
};

void x86_reg_limits_read(struct x86_reg_limits *l)
{
	struct cpuid_regs l1 = cpuid(1, 0), l7 = cpuid(7, 0);

	l->cr4_allowed = CR4_BASE;
	for (unsigned i = 0; i < ARRAY_SIZE(cr4_features); i++) {
		const struct cr4_feature *f = &cr4_features[i];
		struct cpuid_regs *r = f->leaf7 ? &l7 : &l1;
		u32 v = f->reg == 1 ? r->ebx : r->ecx;

		if (v & BIT(f->cpuid_bit))
			l->cr4_allowed |= BIT(f->bit);
	}
	l->phys_bits = cpuid(0x80000000, 0).eax >= 0x80000008 ?
			       cpuid(0x80000008, 0).eax & 0xff : 36;
}
