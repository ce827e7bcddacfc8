/*
 * Who owns each page of RAM the root could name. The root partition's
 * RAM starts as the root's; a page it deposits belongs to that
 * partition's pool (and leaves the root's NPT) until it is withdrawn. A
 * root page may be mapped into children; such a page cannot be deposited
 * until every mapping is gone, so the hypervisor never keeps its own
 * structures in memory a guest can reach. Pure code: unit-tested.
 */
#ifndef HV_FRAME_H
#define HV_FRAME_H

#include <hv/spinlock.h>

#define FRAME_ROOT 0		/* the root's, accessible to it */
#define FRAME_NOT_ROOT 0xffff	/* hypervisor memory, not RAM, or unknown */
/* Any other owner value o: deposited into the partition in slot o - 1. */

struct frame {
	u16 owner;
	u16 maps;		/* child mappings of a FRAME_ROOT page */
};

struct frame_table {
	struct spinlock lock;
	u64 nframes;
	struct frame *f;	/* nframes entries */
};

/* All pages start FRAME_NOT_ROOT; mark the root's with frame_set_root. */
void frame_table_init(struct frame_table *ft, struct frame *storage,
		      u64 nframes);
void frame_set_root(struct frame_table *ft, u64 pfn, u64 count);

/* ROOT with no child mappings -> deposited to owner. */
bool frame_deposit(struct frame_table *ft, u64 pfn, u16 owner);
/* Deposited to owner -> ROOT. */
bool frame_withdraw(struct frame_table *ft, u64 pfn, u16 owner);
/* Count a child mapping of a ROOT page; false if not the root's. */
bool frame_map(struct frame_table *ft, u64 pfn);
void frame_unmap(struct frame_table *ft, u64 pfn);

u16 frame_owner(struct frame_table *ft, u64 pfn);
u16 frame_maps(struct frame_table *ft, u64 pfn);

#endif
