/*
 * Partition objects and their state machine (TLFS: created ->
 * initialized -> finalized -> deleted). Memory: the object itself is
 * charged to the root's pool; everything else the hypervisor builds for
 * a child (NPT tables, VPs, control blocks) comes from the child's pool.
 */
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/percpu.h>
#include <hv/root.h>
#include <hv/string.h>
#include <hv/virt.h>
#include <hv/vp.h>
#include <x86/cpu.h>
#include <x86/tsc.h>

static_assert(sizeof(struct partition) <= PAGE_SIZE,
	      "a partition fits in one page");

struct partition *root_partition;
struct frame_table frames;

static struct spinlock table_lock = SPINLOCK_INIT;
static struct partition *table[MAX_PARTITIONS];	/* slot 0: the root */
static u64 next_id = HV_ROOT_PARTITION_ID + 1;

struct partition *partition_get(u64 id)
{
	struct partition *found = NULL;

	spin_lock(&table_lock);
	/* Children usually sit in slot id % MAX (see partition_create). */
	if (table[id % MAX_PARTITIONS] && table[id % MAX_PARTITIONS]->id == id)
		found = table[id % MAX_PARTITIONS];
	for (u32 i = 0; !found && i < MAX_PARTITIONS; i++)
		if (table[i] && table[i]->id == id)
			found = table[i];
	if (found)
		__atomic_fetch_add(&found->refs, 1, __ATOMIC_ACQUIRE);
	spin_unlock(&table_lock);
	return found;
}

void partition_put(struct partition *p)
{
	if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL))
		return;
	/* Last reference: the object page goes back to the root's pool. */
	pool_free(&root_partition->pool, hva_to_hpa(p));
}

void partition_register_root(struct partition *p)
{
	table[0] = p;
	root_partition = p;
}

static void init_child(struct partition *p, u16 slot, u64 flags)
{
	p->slot = slot;
	p->id = next_id++;
	p->creation_flags = flags;
	p->privileges = cpuid_child_privileges(flags &
					       HV_PARTITION_CREATION_LAPIC);
	p->refs = 2;	/* the table's and the caller's */
	p->lock = (struct spinlock)SPINLOCK_INIT;
	p->state = PARTITION_CREATED;
	pool_init(&p->pool);
	p->npt.root = INVALID_HPA;
	p->ref_time_tsc0 = rdtsc();
	p->ref_offset = -(s64)(((unsigned __int128)p->ref_time_tsc0 *
				tsc_ref_scale()) >> 64);
}

enum hv_status partition_create(u64 flags, struct partition **out)
{
	hpa_t page = pool_alloc(&root_partition->pool);
	enum hv_status s = HV_STATUS_SUCCESS;
	u16 slot;

	if (!hpa_valid(page))
		return HV_STATUS_INSUFFICIENT_MEMORY;
	spin_lock(&table_lock);
	slot = next_id % MAX_PARTITIONS;
	if (!slot || table[slot])
		for (slot = 1; slot < MAX_PARTITIONS && table[slot]; slot++)
			;
	if (slot == MAX_PARTITIONS) {
		s = HV_STATUS_OPERATION_DENIED;
	} else {
		*out = hpa_to_hva(page);
		init_child(*out, slot, flags);
		table[slot] = *out;
	}
	spin_unlock(&table_lock);
	if (s)
		pool_free(&root_partition->pool, page);
	return s;
}

static hpa_t npt_page_alloc(void *ctx)
{
	return pool_alloc(ctx);
}

static void npt_page_free(void *ctx, hpa_t page)
{
	pool_free(ctx, page);
}

enum hv_status partition_initialize(struct partition *p)
{
	struct pt_pages pages = { npt_page_alloc, npt_page_free, &p->pool };
	enum hv_status s = HV_STATUS_SUCCESS;

	spin_lock(&p->lock);
	if (p->state != PARTITION_CREATED)
		s = HV_STATUS_INVALID_PARTITION_STATE;
	else if (pt_init(&p->npt, &pages) != PT_OK)
		s = HV_STATUS_INSUFFICIENT_MEMORY;
	else
		p->state = PARTITION_INITIALIZED, p->npt_ready = true;
	spin_unlock(&p->lock);
	return s;
}

struct vp *partition_vp(struct partition *p, u32 index)
{
	return index < MAX_VPS ? READ_ONCE(p->vps[index]) : NULL;
}

enum hv_status partition_claim_vp(struct partition *p, u32 index,
				  struct vp **out)
{
	enum hv_status s = HV_STATUS_SUCCESS;
	struct vp *vp;

	spin_lock(&p->lock);
	vp = partition_vp(p, index);
	if (!vp)
		s = HV_STATUS_INVALID_VP_INDEX;
	else if (p->state != PARTITION_INITIALIZED)
		s = HV_STATUS_INVALID_PARTITION_STATE;
	else if (__atomic_exchange_n(&vp->running, true, __ATOMIC_ACQUIRE))
		s = HV_STATUS_INVALID_VP_STATE;	/* another call has it */
	spin_unlock(&p->lock);
	*out = s ? NULL : vp;
	return s;
}

void partition_release_vp(struct vp *vp)
{
	__atomic_store_n(&vp->running, false, __ATOMIC_RELEASE);
}

/* Every child GPA mapping drops its hold on the root page behind it. */
static bool release_mapping(const struct pt_leaf *leaf, void *ctx)
{
	for (u64 off = 0; off < leaf->size; off += PAGE_SIZE)
		frame_unmap(&frames, (hpa_u64(leaf->pa) + off) >> PAGE_SHIFT);
	(void)ctx;
	return true;
}

/* Running VPs see the new state at their next exit: make one happen. */
static void wait_vps_stopped(struct partition *p)
{
	for (u32 i = 0; i < MAX_VPS; i++) {
		struct vp *vp = p->vps[i];

		while (vp && __atomic_load_n(&vp->running, __ATOMIC_ACQUIRE)) {
			vp_kick(vp);
			udelay(10);
		}
	}
}

enum hv_status partition_finalize(struct partition *p)
{
	spin_lock(&p->lock);
	if (p->is_root || (p->state != PARTITION_CREATED &&
			   p->state != PARTITION_INITIALIZED)) {
		spin_unlock(&p->lock);
		return HV_STATUS_INVALID_PARTITION_STATE;
	}
	/* Dispatches stop at their next exit; no VP can be claimed anew. */
	p->state = PARTITION_FINALIZING;
	spin_unlock(&p->lock);
	wait_vps_stopped(p);
	spin_lock(&p->lock);
	for (u32 i = 0; i < MAX_VPS; i++) {
		if (p->vps[i])
			vp_destroy(p->vps[i]);
		p->vps[i] = NULL;
	}
	if (p->npt_ready) {
		pt_for_each_leaf(&p->npt, release_mapping, NULL);
		pt_destroy(&p->npt);
		p->npt_ready = false;
		p->mapped_pages = 0;
	}
	p->state = PARTITION_FINALIZED;
	spin_unlock(&p->lock);
	return HV_STATUS_SUCCESS;
}

enum hv_status partition_delete(struct partition *p)
{
	hpa_t page;

	if (p->is_root)
		return HV_STATUS_INVALID_PARTITION_STATE;
	spin_lock(&p->lock);
	if (p->state != PARTITION_CREATED && p->state != PARTITION_FINALIZED) {
		spin_unlock(&p->lock);
		return HV_STATUS_INVALID_PARTITION_STATE;
	}
	p->state = PARTITION_DELETED;	/* only one caller gets here */
	spin_unlock(&p->lock);
	/* Pages the root did not withdraw go back to it now. */
	while (hpa_valid(page = pool_withdraw(&p->pool)))
		root_reclaim_page(p, page);
	spin_lock(&table_lock);
	if (table[p->slot] == p)
		table[p->slot] = NULL;
	spin_unlock(&table_lock);
	partition_put(p);	/* the table's reference */
	return HV_STATUS_SUCCESS;
}

enum hv_status partition_install_intercept(struct partition *p, u32 type,
					   u32 access, u64 parameter)
{
	switch (type) {
	case HV_INTERCEPT_TYPE_X64_IO_PORT:
		/* Every port of a child already goes to the root. */
		return parameter > 0xffff ? HV_STATUS_INVALID_PARAMETER :
					    HV_STATUS_SUCCESS;
	case HV_INTERCEPT_TYPE_EXCEPTION:
		/* NMI and #MC belong to the host. */
		if (parameter > 31 || parameter == 2 || parameter == 18)
			return HV_STATUS_INVALID_PARAMETER;
		if (access)
			__atomic_fetch_or(&p->exception_intercepts,
					  (u32)BIT(parameter), __ATOMIC_RELAXED);
		else
			__atomic_fetch_and(&p->exception_intercepts,
					   ~(u32)BIT(parameter), __ATOMIC_RELAXED);
		return HV_STATUS_SUCCESS;
	case HV_INTERCEPT_TYPE_HYPERCALL:
		/* PostMessage and SignalEvent go to the root (docs/abi.md). */
		if (parameter || (access & ~HV_INTERCEPT_ACCESS_EXECUTE))
			return HV_STATUS_INVALID_PARAMETER;
		__atomic_store_n(&p->hypercall_intercept, access != 0,
				 __ATOMIC_RELEASE);
		return HV_STATUS_SUCCESS;
	default:
		return HV_STATUS_INVALID_PARAMETER;	/* see docs/abi.md */
	}
}

bool partition_copy(struct partition *p, u64 gpa_, void *buf, u64 len,
		    bool to_guest)
{
	hpa_t h;
	bool ok;

	spin_lock(&p->lock);
	ok = gpa_to_hpa(p, gpa(gpa_), len, to_guest, &h);
	if (ok && to_guest)
		memcpy(hpa_to_hva(h), buf, len);
	else if (ok)
		memcpy(buf, hpa_to_hva(h), len);
	spin_unlock(&p->lock);
	return ok;
}

bool partition_atomic_or_locked(struct partition *p, u64 gpa_, u64 bits,
				u64 *old)
{
	hpa_t h;

	if ((gpa_ & 7) || !gpa_to_hpa(p, gpa(gpa_), 8, true, &h))
		return false;
	*old = __atomic_fetch_or((u64 *)hpa_to_hva(h), bits, __ATOMIC_SEQ_CST);
	return true;
}

void partition_census(struct partition_census *c)
{
	c->children = c->deposited = 0;
	spin_lock(&table_lock);
	for (u32 i = 0; i < MAX_PARTITIONS; i++) {
		if (!table[i])
			continue;
		c->children += !table[i]->is_root;
		c->deposited += pool_total_pages(&table[i]->pool);
	}
	spin_unlock(&table_lock);
}

void partition_flush_tlbs(struct partition *p)
{
	__atomic_fetch_add(&p->tlb_gen, 1, __ATOMIC_SEQ_CST);
	tlb_shootdown(p);
}

bool gpa_to_hpa(struct partition *p, gpa_t g, u64 len, bool write,
		hpa_t *out)
{
	struct pt_leaf leaf;
	u64 a = gpa_u64(g);

	if (!len || (a & PAGE_MASK) != ((a + len - 1) & PAGE_MASK) ||
	    !p->npt_ready)
		return false;
	/* The root's own RAM is identity mapped: the frame table decides. */
	if (p->is_root) {
		if (frame_owner(&frames, a >> PAGE_SHIFT) != FRAME_ROOT)
			return false;
		*out = hpa(a);
		return true;
	}
	if (!pt_lookup(&p->npt, a, &leaf))
		return false;
	if (write && !(leaf.pte & PTE_W))
		return false;
	*out = hpa_add(leaf.pa, a - leaf.va);
	return true;
}
