/* Page ownership. Pure code: unit-tested on the host. */
#include <hv/frame.h>

void frame_table_init(struct frame_table *ft, struct frame *storage,
		      u64 nframes)
{
	ft->lock = (struct spinlock)SPINLOCK_INIT;
	ft->nframes = nframes;
	ft->f = storage;
	for (u64 i = 0; i < nframes; i++)
		ft->f[i] = (struct frame){ FRAME_NOT_ROOT, 0 };
}

void frame_set_root(struct frame_table *ft, u64 pfn, u64 count)
{
	for (u64 i = pfn; i < pfn + count && i < ft->nframes; i++)
		ft->f[i] = (struct frame){ FRAME_ROOT, 0 };
}

bool frame_deposit(struct frame_table *ft, u64 pfn, u16 owner)
{
	bool ok = false;

	if (owner == FRAME_ROOT || owner == FRAME_NOT_ROOT)
		return false;
	spin_lock(&ft->lock);
	if (pfn < ft->nframes && ft->f[pfn].owner == FRAME_ROOT &&
	    !ft->f[pfn].maps) {
		ft->f[pfn].owner = owner;
		ok = true;
	}
	spin_unlock(&ft->lock);
	return ok;
}

bool frame_withdraw(struct frame_table *ft, u64 pfn, u16 owner)
{
	bool ok = false;

	spin_lock(&ft->lock);
	if (pfn < ft->nframes && ft->f[pfn].owner == owner &&
	    owner != FRAME_ROOT && owner != FRAME_NOT_ROOT) {
		ft->f[pfn].owner = FRAME_ROOT;
		ok = true;
	}
	spin_unlock(&ft->lock);
	return ok;
}

bool frame_map(struct frame_table *ft, u64 pfn)
{
	bool ok = false;

	spin_lock(&ft->lock);
	if (pfn < ft->nframes && ft->f[pfn].owner == FRAME_ROOT &&
	    ft->f[pfn].maps < 0xffff) {
		ft->f[pfn].maps++;
		ok = true;
	}
	spin_unlock(&ft->lock);
	return ok;
}

void frame_unmap(struct frame_table *ft, u64 pfn)
{
	spin_lock(&ft->lock);
	if (pfn < ft->nframes && ft->f[pfn].maps)
		ft->f[pfn].maps--;
	spin_unlock(&ft->lock);
}

u16 frame_owner(struct frame_table *ft, u64 pfn)
{
	return pfn < ft->nframes ? READ_ONCE(ft->f[pfn].owner) :
				   FRAME_NOT_ROOT;
}

u16 frame_maps(struct frame_table *ft, u64 pfn)
{
	return pfn < ft->nframes ? READ_ONCE(ft->f[pfn].maps) : 0;
}
