/*
 * The root partition: built at boot around the first Multiboot module,
 * identity-mapped over all RAM except the hypervisor's own, with every
 * device passed through.
 */
#ifndef HV_ROOT_H
#define HV_ROOT_H

#include <hv/bootinfo.h>
#include <hv/partition.h>

void partition_register_root(struct partition *p);

/* Takes a root page away from the root (deposit); false if not allowed. */
bool root_give_page(struct partition *to, u64 pfn);
/* Gives a page deposited into p back to the root (withdraw). */
void root_reclaim_page(struct partition *p, hpa_t page);
/* Lets the root see / stop seeing a page of a child's pool. */
bool root_share_page(hpa_t page);
void root_unshare_page(hpa_t page);

/* Makes CPUs running p drop stale translations before p runs on. */
void tlb_shootdown(struct partition *p);

/* Boot: builds the root and loads module 0 into it. */
void root_build(const struct boot_info *bi);

#endif
