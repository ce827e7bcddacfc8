/* Register value rules (see x86/regcheck.h). */
#include <x86/regcheck.h>

#define CR0_PE BIT(0)
#define CR0_NW BIT(29)
#define CR0_CD BIT(30)
#define CR0_PG BIT(31)
#define CR4_PAE BIT(5)
#define EFER_LME BIT(8)
/* SCE, LME, LMA, NXE, SVME, LMSLE, FFXSR, TCE: the rest must be zero. */
#define EFER_DEFINED (BIT(0) | BIT(8) | BIT(10) | BIT(11) | BIT(12) | \
		      BIT(13) | BIT(14) | BIT(15))
#define CS_ATTR_L BIT(13)
#define CS_ATTR_D BIT(14)

bool x86_cr0_valid(u64 cr0)
{
	if (cr0 >> 32)
		return false;
	if ((cr0 & CR0_NW) && !(cr0 & CR0_CD))
		return false;
	return !(cr0 & CR0_PG) || (cr0 & CR0_PE);
}

/* Bits 11:0 are flags or a PCID; the address must fit the CPU. */
bool x86_cr3_valid(const struct x86_reg_limits *l, u64 cr3)
{
	return l->phys_bits >= 64 || !(cr3 >> l->phys_bits);
}

bool x86_cr4_valid(const struct x86_reg_limits *l, u64 cr4)
{
	return !(cr4 & ~l->cr4_allowed);
}

bool x86_efer_valid(u64 efer)
{
	return !(efer & ~EFER_DEFINED);
}

/* Types 2, 3 and 8 and up are reserved in every PAT entry. */
bool x86_pat_valid(u64 pat)
{
	for (int i = 0; i < 8; i++) {
		u8 t = (u8)(pat >> (i * 8));

		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

bool x86_dr6_dr7_valid(u64 dr)
{
	return !(dr >> 32);
}

bool x86_mode_consistent(u64 cr0, u64 cr4, u64 efer, u16 cs_attr)
{
	if (!(efer & EFER_LME) || !(cr0 & CR0_PG))
		return true;
	if (!(cr4 & CR4_PAE) || !(cr0 & CR0_PE))
		return false;
	return !((cs_attr & CS_ATTR_L) && (cs_attr & CS_ATTR_D));
}
