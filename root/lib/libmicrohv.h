/*
 * libmicrohv: the C library over /dev/microhv. Every function returns 0
 * (or a file descriptor) on success and -errno on failure.
 */
#ifndef LIBMICROHV_H
#define LIBMICROHV_H

#include <stdbool.h>
#include <microhv/uapi.h>

struct mhv_vm {
	int fd;			/* the partition's fd; closing it tears it down */
	uint64_t id;		/* the hypervisor's partition id */
};

int mhv_open(void);
int mhv_info(int dev, struct mhv_info *info);

int mhv_vm_create(int dev, uint64_t flags, struct mhv_vm *vm);
void mhv_vm_destroy(struct mhv_vm *vm);

/* Maps [mem, mem+size) of this process at guest-physical gpa. */
int mhv_vm_map(struct mhv_vm *vm, uint64_t gpa, void *mem, uint64_t size,
	       uint32_t flags);
int mhv_vp_create(struct mhv_vm *vm, uint32_t vp);

int mhv_get_regs(struct mhv_vm *vm, uint32_t vp, uint32_t n,
		 const uint32_t *names, struct hv_register_value *values);
int mhv_set_regs(struct mhv_vm *vm, uint32_t vp, uint32_t n,
		 const uint32_t *names, const struct hv_register_value *values);
int mhv_get_reg(struct mhv_vm *vm, uint32_t vp, uint32_t name, uint64_t *v);
int mhv_set_reg(struct mhv_vm *vm, uint32_t vp, uint32_t name, uint64_t v);
int mhv_set_segment(struct mhv_vm *vm, uint32_t vp, uint32_t name,
		    const struct hv_x64_segment_register *seg);
/*
 * VP 0 at a test kernel's child entry (microhv/tkproto.h): flat 32-bit
 * protected mode at entry, EAX the magic, EBX the info block's GPA.
 */
int mhv_set_tk_entry(struct mhv_vm *vm, uint64_t entry);

/* Runs vp until an intercept (0, *msg filled) or a signal (-EINTR). */
int mhv_run(struct mhv_vm *vm, uint32_t vp, struct hv_message *msg);

int mhv_property(struct mhv_vm *vm, uint32_t code, uint64_t *value);
int mhv_assert_interrupt(struct mhv_vm *vm, uint32_t vp, uint32_t type,
			 uint32_t vector);

/* SynIC deliveries to a child VP (PostMessageDirect, SignalEventDirect). */
int mhv_post_message(struct mhv_vm *vm, uint32_t vp, uint32_t sint,
		     const struct hv_message *msg);
int mhv_signal_event(struct mhv_vm *vm, uint32_t vp, uint32_t sint,
		     uint32_t flag, bool *newly_signaled);
int mhv_install_intercept(struct mhv_vm *vm, uint32_t type, uint32_t access,
			  uint64_t parameter);

#endif
