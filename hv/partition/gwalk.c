/* Guest page-table walks. Pure code: unit-tested on the host. */
#include <hv/gwalk.h>
#include <hv/string.h>

#define CR0_PG BIT(31)
#define CR4_PAE BIT(5)
#define CR4_LA57 BIT(12)
#define EFER_LMA BIT(10)
#define ADDR_MASK 0x000ffffffffff000ull

bool gva_to_gpa(const struct gwalk_regs *r, u64 gva, phys_reader_fn read,
		void *ctx, u64 *out)
{
	int levels;
	u64 table;

	if (!(r->cr0 & CR0_PG)) {
		*out = gva;
		return true;
	}
	if (!(r->efer & EFER_LMA) || !(r->cr4 & CR4_PAE))
		return false;	/* 32-bit paging: not needed by our users */
	levels = (r->cr4 & CR4_LA57) ? 5 : 4;
	table = r->cr3 & ADDR_MASK;
	for (int l = levels - 1; l >= 0; l--) {
		u64 idx = (gva >> (12 + 9 * l)) & 511, e;
		const void *p = read(table + idx * 8, 8, ctx);

		if (!p)
			return false;
		memcpy(&e, p, 8);
		if (!(e & 1))
			return false;
		if (l > 0 && l < 3 && (e & BIT(7))) {	/* 1 GiB or 2 MiB */
			u64 span = 1ull << (12 + 9 * l);

			*out = (e & ADDR_MASK & ~(span - 1)) | (gva & (span - 1));
			return true;
		}
		table = e & ADDR_MASK;
	}
	*out = table | (gva & 0xfff);
	return true;
}
