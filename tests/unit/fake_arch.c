/*
 * The fake arch: physical memory is a handful of host buffers at chosen
 * physical addresses (which may be above 4 GiB). Touching any other
 * physical address fails the running test.
 */
#include <stdlib.h>
#include <hv/mm.h>
#include "harness.h"

struct fake_range {
	u64 pa, len;
	u8 *mem;
};

static struct fake_range ranges[16];
static unsigned nranges;

void *fake_mem_add(unsigned long long pa, unsigned long long len)
{
	struct fake_range *r;

	if (nranges == sizeof(ranges) / sizeof(ranges[0]))
		unit_fail(__FILE__, __LINE__, "too many fake ranges");
	r = &ranges[nranges++];
	r->pa = pa;
	r->len = len;
	r->mem = aligned_alloc(4096, (len + 4095) & ~4095ull);
	memset(r->mem, 0xa5, len);	/* not zero: catch missing clears */
	return r->mem;
}

void fake_mem_reset(void)
{
	for (unsigned i = 0; i < nranges; i++)
		free(ranges[i].mem);
	nranges = 0;
}

static struct fake_range *find_pa(u64 pa, u64 len)
{
	for (unsigned i = 0; i < nranges; i++)
		if (pa >= ranges[i].pa && pa - ranges[i].pa + len <= ranges[i].len)
			return &ranges[i];
	return NULL;
}

void *hpa_to_hva(hpa_t pa)
{
	struct fake_range *r = find_pa(hpa_u64(pa), 1);
	char msg[80];

	if (!r) {
		snprintf(msg, sizeof(msg), "hpa_to_hva(0x%llx): not fake memory",
			 hpa_u64(pa));
		unit_fail(__FILE__, __LINE__, msg);
	}
	return r->mem + (hpa_u64(pa) - r->pa);
}

hpa_t hva_to_hpa(const void *va)
{
	const u8 *p = va;

	for (unsigned i = 0; i < nranges; i++)
		if (p >= ranges[i].mem && p < ranges[i].mem + ranges[i].len)
			return hpa(ranges[i].pa + (u64)(p - ranges[i].mem));
	unit_fail(__FILE__, __LINE__, "hva_to_hpa: not fake memory");
	return INVALID_HPA;
}

const void *fake_read(unsigned long long pa, unsigned long long len,
		      void *ctx)
{
	struct fake_range *r = find_pa(pa, len);

	(void)ctx;
	return r ? r->mem + (pa - r->pa) : NULL;
}
