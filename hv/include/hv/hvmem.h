/*
 * The hypervisor's memory at boot: which physical memory is whose, and
 * the pool the hypervisor allocates its own pages from. Whatever is left
 * as RAM in hv_memmap belongs to the root partition.
 */
#ifndef HV_HVMEM_H
#define HV_HVMEM_H

#include <hv/memmap.h>
#include <hv/options.h>
#include <hv/palloc.h>

extern struct memmap hv_memmap;
extern struct palloc hv_pool;

/* Builds hv_memmap and hv_pool; stops the hypervisor if it cannot. */
void mem_init(const struct boot_info *bi, const struct hv_options *o);

/*
 * Two pages below 1 MiB reserved for starting application processors:
 * the trampoline code, then its per-AP parameters.
 */
hpa_t mem_ap_trampoline_page(void);

/* Zeroed pages from the hypervisor's pool, or INVALID_HPA. */
hpa_t page_alloc(u64 npages);
void page_free(hpa_t pa, u64 npages);

/* Cycles every free page of the pool through alloc, write, check, free. */
bool mem_selftest(void);

#endif
