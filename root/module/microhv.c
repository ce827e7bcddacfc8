// SPDX-License-Identifier: GPL-2.0
/*
 * microhv root-partition driver: /dev/microhv hands out one file
 * descriptor per child partition; ioctls on it map the caller's memory
 * (pinned), create VPs, move registers and run VPs. Closing the fd, or
 * the process dying, finalizes the partition, withdraws and frees every
 * deposited page, deletes it and unpins the memory.
 *
 * Hypercalls go straight to microhv with VMMCALL through per-CPU input
 * and output pages, with preemption off. When microhv needs pages
 * (INSUFFICIENT_MEMORY) the driver deposits some and retries, as mshv
 * does. Bad arguments get an errno, never an oops.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/io.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include <microhv/uapi.h>

#define MAX_VPS 64
#define DEPOSIT_CHUNK 64
#define MAP_BATCH 500
#define DEPOSIT_TRIES 64

struct mhv_pages {
	void *in;
	void *out;
};

static DEFINE_PER_CPU(struct mhv_pages, hc_pages);
static atomic64_t module_pages;	/* deposited by us, not yet withdrawn */

struct mhv_region {
	struct list_head node;
	u64 npages;
	struct page **pages;
};

/*
 * The root scheduler's side of one child VP: the thread that runs it
 * sleeps here while the VP is halted (DispatchVp said BLOCKED), until
 * the VP's next timer (hrtimer), a sibling VP's IPI (reported by the
 * sibling's dispatch), one of our own deliveries, or a signal.
 */
struct mhv_vp_thread {
	wait_queue_head_t wq;
	bool kicked;
	struct hrtimer timer;
	struct task_struct *task;	/* while it runs the VP */
};

struct mhv_partition {
	u64 id;
	struct mutex lock;		/* VP set and regions */
	struct list_head regions;
	bool vp_exists[MAX_VPS];
	atomic_t vp_running[MAX_VPS];
	bool clear_intercept[MAX_VPS];
	struct hv_message *msg[MAX_VPS];	/* intercept pages */
	struct mhv_vp_thread vpt[MAX_VPS];
};

static u64 vmmcall(u64 control, u64 in, u64 out)
{
	register u64 r8 asm("r8") = out;
	u64 rax;

	asm volatile("vmmcall"
		     : "=a"(rax), "+c"(control), "+d"(in), "+r"(r8)
		     :
		     : "r9", "r10", "r11", "memory");
	return rax;
}

/*
 * One call through this CPU's pages. fill() writes the input (a rep
 * list in place); out_len bytes of output are copied to out.
 */
static u64 hv_call(u16 code, u32 reps, u32 start,
		   void (*fill)(void *page, const void *arg), const void *arg,
		   void *out, size_t out_len)
{
	struct mhv_pages *p;
	u64 r;

	preempt_disable();
	p = this_cpu_ptr(&hc_pages);
	fill(p->in, arg);
	r = vmmcall(HV_HC_MAKE(code, 0, reps, start), virt_to_phys(p->in),
		    virt_to_phys(p->out));
	if (out)
		memcpy(out, p->out, out_len);
	preempt_enable();
	return r;
}

struct blob {
	const void *data;
	size_t len;
};

static void fill_blob(void *page, const void *arg)
{
	const struct blob *b = arg;

	memcpy(page, b->data, b->len);
}

static u64 hv_fast(u16 code, u64 a, u64 b)
{
	return vmmcall(HV_HC_MAKE(code, 1, 0, 0), a, b);
}

/* A call with a fixed input block. Returns the HV status. */
static u16 hv_simple(u16 code, const void *in, size_t in_len, void *out,
		     size_t out_len)
{
	struct blob b = { in, in_len };

	return HV_RESULT_STATUS(hv_call(code, 0, 0, fill_blob, &b, out,
					out_len));
}

struct deposit_args {
	u64 id;
	struct page **pages;
	u32 n;
};

static void fill_deposit(void *page, const void *arg)
{
	const struct deposit_args *a = arg;
	struct hv_input_deposit_memory *d = page;

	d->partition_id = a->id;
	for (u32 i = 0; i < a->n; i++)
		d->gpa_page_list[i] = page_to_pfn(a->pages[i]);
}

static int deposit(u64 id)
{
	struct page *pages[DEPOSIT_CHUNK];
	struct deposit_args a = { id, pages, 0 };
	u32 done, i;

	for (i = 0; i < DEPOSIT_CHUNK; i++) {
		pages[i] = alloc_page(GFP_KERNEL);
		if (!pages[i])
			break;
	}
	a.n = i;
	done = a.n ? HV_RESULT_REPS(hv_call(HVCALL_DEPOSIT_MEMORY, a.n, 0,
					    fill_deposit, &a, NULL, 0)) : 0;
	for (i = done; i < a.n; i++)
		__free_page(pages[i]);
	atomic64_add(done, &module_pages);
	return done ? 0 : -ENOMEM;
}

/* Retries call(arg) while microhv asks for pages in who's pool. */
static u16 with_deposits(u64 who, u16 (*call)(void *arg), void *arg)
{
	u16 s = call(arg);

	for (int i = 0; s == HV_STATUS_INSUFFICIENT_MEMORY &&
			i < DEPOSIT_TRIES; i++) {
		if (deposit(who))
			break;
		s = call(arg);
	}
	return s;
}

/* Withdraws and frees every free page of id's pool. */
static void withdraw_all(u64 id)
{
	struct hv_input_withdraw_memory in = { id, 0 };
	struct blob b = { &in, sizeof(in) };
	u64 *pfns = kmalloc(512 * sizeof(u64), GFP_KERNEL);
	u64 r;
	u32 n;

	if (!pfns)
		return;
	do {
		r = hv_call(HVCALL_WITHDRAW_MEMORY, 512, 0, fill_blob, &b,
			    pfns, 512 * sizeof(u64));
		n = HV_RESULT_REPS(r);
		for (u32 i = 0; i < n; i++)
			__free_page(pfn_to_page(pfns[i]));
		atomic64_sub(n, &module_pages);
	} while (HV_RESULT_STATUS(r) == HV_STATUS_SUCCESS && n);
	kfree(pfns);
}

static u16 get_property(u64 id, u32 code, u64 *value)
{
	struct hv_input_get_partition_property in = { id, code, 0 };

	return hv_simple(HVCALL_GET_PARTITION_PROPERTY, &in, sizeof(in),
			 value, sizeof(*value));
}

/* ------------------------------------------------------------ partitions */

static void unpin_regions(struct mhv_partition *p)
{
	struct mhv_region *r, *tmp;

	list_for_each_entry_safe(r, tmp, &p->regions, node) {
		unpin_user_pages(r->pages, r->npages);
		kvfree(r->pages);
		list_del(&r->node);
		kfree(r);
	}
}

static void destroy_partition(struct mhv_partition *p)
{
	for (int i = 0; i < MAX_VPS; i++)
		if (p->vp_exists[i])
			hrtimer_cancel(&p->vpt[i].timer);
	u16 s = HV_RESULT_STATUS(hv_fast(HVCALL_FINALIZE_PARTITION, p->id, 0));

	if (s && s != HV_STATUS_INVALID_PARTITION_STATE)
		pr_warn("microhv: finalize %llu: status 0x%x\n", p->id, s);
	withdraw_all(p->id);
	s = HV_RESULT_STATUS(hv_fast(HVCALL_DELETE_PARTITION, p->id, 0));
	if (s)
		pr_warn("microhv: delete %llu: status 0x%x\n", p->id, s);
	/* The object's page in our own pool comes back too. */
	withdraw_all(HV_PARTITION_ID_SELF);
	unpin_regions(p);
	kfree(p);
}

static int partition_release(struct inode *inode, struct file *f)
{
	destroy_partition(f->private_data);
	return 0;
}

struct map_args {
	struct mhv_partition *p;
	struct mhv_memory *m;
	struct page **pages;
	u64 first;		/* page index of this batch */
	u32 count;
	u32 done;		/* reps completed, absolute */
};

static void fill_map(void *page, const void *arg)
{
	const struct map_args *a = arg;
	struct hv_input_map_gpa_pages *in = page;

	in->target_partition_id = a->p->id;
	in->target_gpa_base = (a->m->gpa >> PAGE_SHIFT) + a->first;
	in->map_flags = a->m->flags;
	in->padding = 0;
	for (u32 i = 0; i < a->count; i++)
		in->source_gpa_page_list[i] = page_to_pfn(a->pages[a->first + i]);
}

static u16 map_batch(void *arg)
{
	struct map_args *a = arg;
	u64 r = hv_call(HVCALL_MAP_GPA_PAGES, a->count, a->done, fill_map, a,
			NULL, 0);

	a->done = HV_RESULT_REPS(r);
	return HV_RESULT_STATUS(r);
}

static long map_memory(struct mhv_partition *p, void __user *argp)
{
	struct mhv_memory m;
	struct mhv_region *r;
	long pinned, err = -EINVAL;

	if (copy_from_user(&m, argp, sizeof(m)))
		return -EFAULT;
	if (!m.size || (m.gpa | m.size | m.userspace_addr) & ~PAGE_MASK ||
	    m.size > (1ull << 36) || !(m.flags & HV_MAP_GPA_READABLE) ||
	    m.flags & ~HV_MAP_GPA_PERMISSIONS_MASK || m.pad)
		return -EINVAL;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->npages = m.size >> PAGE_SHIFT;
	r->pages = kvmalloc_array(r->npages, sizeof(*r->pages), GFP_KERNEL);
	if (!r->pages)
		goto err_free;
	pinned = pin_user_pages_fast(m.userspace_addr, r->npages,
				     FOLL_WRITE | FOLL_LONGTERM, r->pages);
	if (pinned != r->npages) {
		if (pinned > 0)
			unpin_user_pages(r->pages, pinned);
		err = pinned < 0 ? pinned : -EFAULT;
		goto err_pages;
	}
	for (u64 first = 0; first < r->npages; first += MAP_BATCH) {
		struct map_args a = { p, &m, r->pages, first,
				      min_t(u64, MAP_BATCH, r->npages - first) };
		u16 s = with_deposits(p->id, map_batch, &a);

		if (s) {
			/* Pages mapped so far stay until the partition goes. */
			err = s == HV_STATUS_INVALID_PARAMETER ? -EINVAL : -EIO;
			goto err_keep;
		}
	}
	mutex_lock(&p->lock);
	list_add(&r->node, &p->regions);
	mutex_unlock(&p->lock);
	return 0;
err_keep:
	mutex_lock(&p->lock);
	list_add(&r->node, &p->regions);	/* unpinned at teardown */
	mutex_unlock(&p->lock);
	return err;
err_pages:
	kvfree(r->pages);
err_free:
	kfree(r);
	return err;
}

struct vp_args {
	u64 id;
	u32 index;
	u64 state_pfn;
};

static u16 create_vp_call(void *arg)
{
	struct vp_args *a = arg;
	struct hv_input_create_vp in = { .partition_id = a->id,
					 .vp_index = a->index };

	return hv_simple(HVCALL_CREATE_VP, &in, sizeof(in), NULL, 0);
}

static u16 map_state_call(void *arg)
{
	struct vp_args *a = arg;
	struct hv_input_map_vp_state_page in = {
		.partition_id = a->id, .vp_index = a->index,
		.type = HV_VP_STATE_PAGE_INTERCEPT_MESSAGE,
	};

	return hv_simple(HVCALL_MAP_VP_STATE_PAGE, &in, sizeof(in),
			 &a->state_pfn, sizeof(a->state_pfn));
}

static enum hrtimer_restart vp_timer_fired(struct hrtimer *t)
{
	struct mhv_vp_thread *vpt = container_of(t, struct mhv_vp_thread,
						 timer);
	struct task_struct *task = READ_ONCE(vpt->task);

	WRITE_ONCE(vpt->kicked, true);
	wake_up(&vpt->wq);
	/* Running the VP on another CPU: an interrupt there ends the
	 * dispatch, and the hypervisor fires the VP's timer on re-entry. */
	if (task)
		kick_process(task);
	return HRTIMER_NORESTART;
}

static void kick_vp_thread(struct mhv_partition *p, u32 vp)
{
	struct mhv_vp_thread *vpt = &p->vpt[vp];

	WRITE_ONCE(vpt->kicked, true);
	wake_up(&vpt->wq);
}

static void init_vp_thread(struct mhv_vp_thread *vpt)
{
	init_waitqueue_head(&vpt->wq);
	hrtimer_init(&vpt->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	vpt->timer.function = vp_timer_fired;
}

static long create_vp(struct mhv_partition *p, void __user *argp)
{
	struct vp_args a = { .id = p->id };
	long err = 0;

	if (get_user(a.index, (u32 __user *)argp))
		return -EFAULT;
	if (a.index >= MAX_VPS)
		return -EINVAL;
	mutex_lock(&p->lock);
	if (p->vp_exists[a.index])
		err = -EEXIST;
	else if (with_deposits(p->id, create_vp_call, &a) ||
		 with_deposits(p->id, map_state_call, &a))
		err = -EIO;
	else if (!pfn_valid(a.state_pfn))
		err = -EIO;
	if (!err) {
		p->msg[a.index] = page_address(pfn_to_page(a.state_pfn));
		init_vp_thread(&p->vpt[a.index]);
		p->vp_exists[a.index] = true;
	}
	mutex_unlock(&p->lock);
	return err;
}

struct regs_args {
	u64 id;
	u32 vp, count;
	u32 names[MHV_MAX_REGS];
	struct hv_register_value values[MHV_MAX_REGS];
};

static void fill_get(void *page, const void *arg)
{
	const struct regs_args *a = arg;
	struct hv_input_vp_registers *in = page;

	*in = (struct hv_input_vp_registers){ a->id, a->vp };
	memcpy(in + 1, a->names, a->count * sizeof(u32));
}

static void fill_set(void *page, const void *arg)
{
	const struct regs_args *a = arg;
	struct hv_input_vp_registers *in = page;
	struct hv_register_assoc *r = (void *)(in + 1);

	*in = (struct hv_input_vp_registers){ a->id, a->vp };
	for (u32 i = 0; i < a->count; i++)
		r[i] = (struct hv_register_assoc){ .name = a->names[i],
						   .value = a->values[i] };
}

static long vp_registers(struct mhv_partition *p, void __user *argp, bool set)
{
	struct mhv_vp_registers req;
	struct regs_args *a;
	long err = 0;
	u64 r;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if (req.vp_index >= MAX_VPS || !req.count || req.count > MHV_MAX_REGS)
		return -EINVAL;
	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	*a = (struct regs_args){ p->id, req.vp_index, req.count };
	if (copy_from_user(a->names, u64_to_user_ptr(req.names),
			   req.count * sizeof(u32)) ||
	    (set && copy_from_user(a->values, u64_to_user_ptr(req.values),
				   req.count * sizeof(a->values[0])))) {
		err = -EFAULT;
		goto out;
	}
	r = hv_call(set ? HVCALL_SET_VP_REGISTERS : HVCALL_GET_VP_REGISTERS,
		    req.count, 0, set ? fill_set : fill_get, a,
		    set ? NULL : a->values, req.count * sizeof(a->values[0]));
	if (HV_RESULT_STATUS(r))
		err = HV_RESULT_STATUS(r) == HV_STATUS_INVALID_VP_STATE ?
			      -EBUSY : -EINVAL;
	else if (!set && copy_to_user(u64_to_user_ptr(req.values), a->values,
				      req.count * sizeof(a->values[0])))
		err = -EFAULT;
out:
	kfree(a);
	return err;
}

struct dispatch_args {
	u64 id;
	u32 vp, flags;
};

static void fill_dispatch(void *page, const void *arg)
{
	const struct dispatch_args *a = arg;
	struct hv_input_dispatch_vp *in = page;

	*in = (struct hv_input_dispatch_vp){ a->id, a->vp, a->flags };
}

static const struct hv_microhv_run_state *run_state(struct mhv_partition *p,
						   u32 vp)
{
	return (const void *)((const u8 *)p->msg[vp] +
			      HV_MICROHV_RUN_STATE_OFFSET);
}

/*
 * A halted VP's thread sleeps at least this long: a timer the hypervisor
 * reports as due while the VP stays halted must not turn the sleep into
 * a spin (the hypervisor keeps periodic timers at 200 us or more).
 */
#define MIN_BLOCKED_SLEEP_NS 100000ull

/* After each dispatch: wake the siblings it made runnable, and set the
 * thread's timer to the VP's next timer. */
static void after_dispatch(struct mhv_partition *p, u32 vp, bool blocked)
{
	const struct hv_microhv_run_state *rs = run_state(p, vp);
	u64 wake = READ_ONCE(rs->wake_vps), ns = READ_ONCE(rs->timer_deadline_ns);

	while (wake) {
		u32 i = __ffs64(wake);

		wake &= wake - 1;
		if (i < MAX_VPS && READ_ONCE(p->vp_exists[i]))
			kick_vp_thread(p, i);
	}
	if (ns == HV_MICROHV_NO_DEADLINE) {
		hrtimer_try_to_cancel(&p->vpt[vp].timer);
		return;
	}
	if (blocked && ns < MIN_BLOCKED_SLEEP_NS)
		ns = MIN_BLOCKED_SLEEP_NS;
	hrtimer_start(&p->vpt[vp].timer, ns_to_ktime(ns), HRTIMER_MODE_REL);
}

/*
 * The run loop: DispatchVp with interrupts on, so any interrupt for the
 * root (a signal's IPI among them) ends the dispatch and is taken here.
 * A halted VP (BLOCKED) sleeps until it is kicked.
 */
static long run_vp(struct mhv_partition *p, void __user *argp)
{
	struct mhv_run_vp __user *u = argp;
	struct hv_output_dispatch_vp out;
	struct dispatch_args a = { .id = p->id };
	struct mhv_vp_thread *vpt;
	u16 s;

	if (get_user(a.vp, &u->vp_index))
		return -EFAULT;
	if (a.vp >= MAX_VPS || !READ_ONCE(p->vp_exists[a.vp]))
		return -EINVAL;
	if (atomic_xchg(&p->vp_running[a.vp], 1))
		return -EBUSY;
	vpt = &p->vpt[a.vp];
	WRITE_ONCE(vpt->task, current);
	for (;;) {
		if (signal_pending(current)) {
			s = 0;
			break;
		}
		a.flags = p->clear_intercept[a.vp] ?
				  HV_DISPATCH_VP_FLAG_CLEAR_INTERCEPT_SUSPEND : 0;
		WRITE_ONCE(vpt->kicked, false);
		s = HV_RESULT_STATUS(hv_call(HVCALL_DISPATCH_VP, 0, 0,
					     fill_dispatch, &a, &out,
					     sizeof(out)));
		if (s)
			break;
		p->clear_intercept[a.vp] = false;
		after_dispatch(p, a.vp, out.dispatch_state ==
				       HV_VP_DISPATCH_STATE_BLOCKED);
		if (out.dispatch_event == HV_VP_DISPATCH_EVENT_INTERCEPT ||
		    out.dispatch_event == HV_VP_DISPATCH_EVENT_SUSPEND)
			break;
		if (out.dispatch_state == HV_VP_DISPATCH_STATE_BLOCKED)
			wait_event_interruptible(vpt->wq, READ_ONCE(vpt->kicked));
		cond_resched();
	}
	WRITE_ONCE(vpt->task, NULL);
	atomic_set(&p->vp_running[a.vp], 0);
	if (s)
		return -EIO;
	if (signal_pending(current))
		return -EINTR;
	if (out.dispatch_event == HV_VP_DISPATCH_EVENT_SUSPEND)
		return -EAGAIN;	/* explicitly suspended */
	p->clear_intercept[a.vp] = true;
	if (copy_to_user(&u->message, p->msg[a.vp], sizeof(struct hv_message)))
		return -EFAULT;
	return 0;
}

/* SynIC deliveries to a child VP; its thread is woken if it sleeps. */
static long post_message(struct mhv_partition *p, void __user *argp)
{
	struct hv_input_post_message_direct in = { .partition_id = p->id };
	struct mhv_post_message req;
	u16 s;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if (req.vp_index >= MAX_VPS || req.pad)
		return -EINVAL;
	in.vp_index = req.vp_index;
	in.sint_index = req.sint;
	in.message = req.message;
	s = hv_simple(HVCALL_POST_MESSAGE_DIRECT, &in, sizeof(in), NULL, 0);
	if (!s)
		kick_vp_thread(p, req.vp_index);
	return !s ? 0 : s == HV_STATUS_INSUFFICIENT_BUFFERS ? -EAGAIN :
		s == HV_STATUS_INVALID_SYNIC_STATE ? -ENXIO : -EINVAL;
}

static long signal_event(struct mhv_partition *p, void __user *argp)
{
	struct hv_input_signal_event_direct in = { .target_partition = p->id };
	struct hv_output_signal_event_direct out = { 0 };
	struct mhv_signal_event req;
	u16 s;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if (req.vp_index >= MAX_VPS || req.sint > 0xff)
		return -EINVAL;
	in.target_vp = req.vp_index;
	in.target_sint = (u8)req.sint;
	in.flag_number = req.flag;
	s = hv_simple(HVCALL_SIGNAL_EVENT_DIRECT, &in, sizeof(in), &out,
		      sizeof(out));
	if (s)
		return s == HV_STATUS_INVALID_SYNIC_STATE ? -ENXIO : -EINVAL;
	if (out.newly_signaled)
		kick_vp_thread(p, req.vp_index);
	req.newly_signaled = out.newly_signaled;
	return copy_to_user(argp, &req, sizeof(req)) ? -EFAULT : 0;
}

static long install_intercept(struct mhv_partition *p, void __user *argp)
{
	struct hv_input_install_intercept in = { .partition_id = p->id };
	struct mhv_intercept req;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	in.access_type_mask = req.access;
	in.intercept_type = req.type;
	in.parameter = req.parameter;
	return hv_simple(HVCALL_INSTALL_INTERCEPT, &in, sizeof(in), NULL, 0) ?
		       -EINVAL : 0;
}

static long partition_ioctl(struct file *f, unsigned int cmd,
			    unsigned long arg)
{
	struct mhv_partition *p = f->private_data;
	void __user *argp = (void __user *)arg;
	struct mhv_property prop;
	struct hv_input_assert_virtual_interrupt vi;

	switch (cmd) {
	case MHV_MAP_MEMORY:
		return map_memory(p, argp);
	case MHV_CREATE_VP:
		return create_vp(p, argp);
	case MHV_GET_REGISTERS:
		return vp_registers(p, argp, false);
	case MHV_SET_REGISTERS:
		return vp_registers(p, argp, true);
	case MHV_RUN_VP:
		return run_vp(p, argp);
	case MHV_GET_PROPERTY:
		if (copy_from_user(&prop, argp, sizeof(prop)))
			return -EFAULT;
		if (get_property(p->id, prop.code, &prop.value))
			return -EINVAL;
		return copy_to_user(argp, &prop, sizeof(prop)) ? -EFAULT : 0;
	case MHV_ASSERT_INTERRUPT:
		if (copy_from_user(&vi, argp, sizeof(vi)))
			return -EFAULT;
		vi.partition_id = p->id;
		if (hv_simple(HVCALL_ASSERT_VIRTUAL_INTERRUPT, &vi,
			      sizeof(vi), NULL, 0))
			return -EINVAL;
		if (vi.dest_addr < MAX_VPS && READ_ONCE(p->vp_exists[vi.dest_addr]))
			kick_vp_thread(p, (u32)vi.dest_addr);
		return 0;
	case MHV_POST_MESSAGE:
		return post_message(p, argp);
	case MHV_SIGNAL_EVENT:
		return signal_event(p, argp);
	case MHV_INSTALL_INTERCEPT:
		return install_intercept(p, argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations partition_fops = {
	.owner = THIS_MODULE,
	.release = partition_release,
	.unlocked_ioctl = partition_ioctl,
};

/* ------------------------------------------------------------ /dev/microhv */

struct create_args {
	u64 flags, id;
};

static u16 create_call(void *arg)
{
	struct create_args *a = arg;
	struct hv_input_create_partition in = {
		.flags = a->flags, .compatibility_version = 0x0609,
	};

	return hv_simple(HVCALL_CREATE_PARTITION, &in, sizeof(in), &a->id,
			 sizeof(a->id));
}

static u16 initialize_call(void *arg)
{
	return HV_RESULT_STATUS(hv_fast(HVCALL_INITIALIZE_PARTITION,
					*(u64 *)arg, 0));
}

static long create_partition(void __user *argp)
{
	struct mhv_create_partition req;
	struct create_args a;
	struct mhv_partition *p;
	struct file *file;
	int fd;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	a.flags = req.flags | HV_PARTITION_CREATION_EXO |
		  HV_PARTITION_CREATION_INTERCEPT_MESSAGE_PAGE;
	if (with_deposits(HV_PARTITION_ID_SELF, create_call, &a))
		return -EINVAL;
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		goto err_delete;
	p->id = a.id;
	mutex_init(&p->lock);
	INIT_LIST_HEAD(&p->regions);
	if (with_deposits(p->id, initialize_call, &p->id))
		goto err_free;
	req.id = p->id;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		goto err_free;
	file = anon_inode_getfile("microhv-partition", &partition_fops, p,
				  O_RDWR);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		goto err_free;
	}
	if (copy_to_user(argp, &req, sizeof(req))) {
		put_unused_fd(fd);
		fput(file);	/* release() tears the partition down */
		return -EFAULT;
	}
	fd_install(fd, file);
	return fd;
err_free:
	kfree(p);
err_delete:
	hv_fast(HVCALL_FINALIZE_PARTITION, a.id, 0);
	withdraw_all(a.id);
	hv_fast(HVCALL_DELETE_PARTITION, a.id, 0);
	withdraw_all(HV_PARTITION_ID_SELF);
	return -ENOMEM;
}

static long get_info(void __user *argp)
{
	struct mhv_info info = { .nr_cpus = num_online_cpus() };
	struct hv_input_get_system_property sp = {
		HV_SYSTEM_PROPERTY_SCHEDULER_TYPE, 0
	};

	if (hv_simple(HVCALL_GET_SYSTEM_PROPERTY, &sp, sizeof(sp),
		      &info.scheduler_type, sizeof(info.scheduler_type)) ||
	    get_property(HV_PARTITION_ID_SELF,
			 HV_PROPERTY_MICROHV_HV_FREE_PAGES,
			 &info.hv_free_pages) ||
	    get_property(HV_PARTITION_ID_SELF, HV_PROPERTY_MICROHV_PARTITIONS,
			 &info.partitions) ||
	    get_property(HV_PARTITION_ID_SELF,
			 HV_PROPERTY_MICROHV_DEPOSITED_PAGES,
			 &info.deposited_pages))
		return -EIO;
	info.module_pages = atomic64_read(&module_pages);
	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

static long dev_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case MHV_GET_INFO:
		return get_info((void __user *)arg);
	case MHV_CREATE_PARTITION:
		return create_partition((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = dev_ioctl,
};

static struct miscdevice dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "microhv",
	.fops = &dev_fops,
};

static bool on_microhv(void)
{
	u32 eax, ebx, ecx, edx;

	if (!boot_cpu_has(X86_FEATURE_HYPERVISOR))
		return false;
	cpuid(HV_CPUID_VENDOR, &eax, &ebx, &ecx, &edx);
	return ebx == HV_VENDOR_MICROHV_EBX && ecx == HV_VENDOR_MICROHV_ECX &&
	       edx == HV_VENDOR_MICROHV_EDX;
}

static void free_pages_all(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct mhv_pages *p = per_cpu_ptr(&hc_pages, cpu);

		free_page((unsigned long)p->in);
		free_page((unsigned long)p->out);
	}
}

static int __init mhv_init(void)
{
	int cpu, err;

	if (!on_microhv()) {
		pr_info("microhv: not running on microhv\n");
		return -ENODEV;
	}
	for_each_possible_cpu(cpu) {
		struct mhv_pages *p = per_cpu_ptr(&hc_pages, cpu);

		p->in = (void *)get_zeroed_page(GFP_KERNEL);
		p->out = (void *)get_zeroed_page(GFP_KERNEL);
		if (!p->in || !p->out) {
			free_pages_all();
			return -ENOMEM;
		}
	}
	err = misc_register(&dev);
	if (err) {
		free_pages_all();
		return err;
	}
	pr_info("microhv: root partition driver ready\n");
	return 0;
}

static void __exit mhv_exit(void)
{
	misc_deregister(&dev);
	withdraw_all(HV_PARTITION_ID_SELF);
	free_pages_all();
}

module_init(mhv_init);
module_exit(mhv_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("microhv root-partition driver");
