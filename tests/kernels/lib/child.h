/* Helpers for a root test kernel that creates and runs children. */
#ifndef TK_CHILD_H
#define TK_CHILD_H

#include "tk.h"

#define TK_CHILD_MEM (8ull << 20)	/* GPA [0, 8 MiB) of root RAM */
#define TK_CHILD_MAX_PAGES (TK_CHILD_MEM / 4096)

struct tk_child {
	u64 id;
	u32 index;
	u64 mem_pages;
	u64 pfn[TK_CHILD_MAX_PAGES];	/* root pages behind GPA 0.. */
	volatile struct hv_message *msg;	/* VP 0's intercept page */
	int result;			/* what it reported, -1 if nothing */
	u32 io_exits, halts;
	char line[128];			/* console line being assembled */
	u32 line_len;
};

/* Status of a hypercall result, for checks. */
static inline u16 tk_status(u64 result)
{
	return HV_RESULT_STATUS(result);
}

/*
 * Create, deposit into, initialize and map (GPA 0..mem_pages) a child,
 * create VP 0 and map its intercept page. Deposits more whenever the
 * hypervisor says INSUFFICIENT_MEMORY, as mshv does.
 */
int tk_child_create(struct tk_child *c, u32 index, u64 mem_pages);
/* Copies this image into the child and points VP 0 at its entry. */
int tk_child_load_self(struct tk_child *c, u64 arg);

/*
 * Runs VP 0 until it reports a result, halts or needs something the
 * loop does not know. The loop prints the child's console output and
 * completes its port I/O; it returns the message type that stopped it.
 */
u32 tk_child_run(struct tk_child *c);

/* GetMemoryBalance of id's pool: pages available; *in_use the rest. */
u64 tk_memory_balance(u64 id, u64 *in_use);

/* Withdraws every free page of id's pool back into this kernel. */
void tk_withdraw_all(u64 id);

/* Finalize, withdraw everything, delete, give the memory back. */
int tk_child_destroy(struct tk_child *c);

/* Single calls, returning the hypercall result value. */
u64 tk_create_partition(u64 flags, u64 *id);
u64 tk_deposit(u64 id, void **pages, u32 n);
u64 tk_set_vp_reg(u64 id, u32 vp, u32 name, u64 value);
u64 tk_get_vp_reg(u64 id, u32 vp, u32 name, u64 *value);
u64 tk_dispatch(u64 id, u32 vp, u32 flags, u32 *state, u32 *event);
u64 tk_get_property(u64 id, u32 code, u64 *value);

#endif
