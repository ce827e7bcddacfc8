/*
 * The root stack's user-kernel interface: /dev/microhv and the
 * partition file descriptors it hands out. One fd per child partition:
 * closing it (or the process dying) tears the partition down and gives
 * every page back. Shared by the kernel module and libmicrohv.
 */
#ifndef MICROHV_UAPI_H
#define MICROHV_UAPI_H

#ifdef __KERNEL__
#include <linux/ioctl.h>
#include <linux/types.h>
#else
#include <stdint.h>
#include <sys/ioctl.h>
#endif

#include "hvabi.h"

#define MHV_IOCTL_MAGIC 0xb8

/* On /dev/microhv. */
struct mhv_info {
	uint32_t scheduler_type;	/* HV_SCHEDULER_TYPE_ROOT */
	uint32_t nr_cpus;
	uint64_t hv_free_pages;		/* the hypervisor's own pool */
	uint64_t partitions;		/* children alive */
	uint64_t deposited_pages;	/* root pages in all pools */
	uint64_t module_pages;		/* pages this module holds for children */
};

struct mhv_create_partition {
	uint64_t flags;			/* HV_PARTITION_CREATION_* (EXO added) */
	uint64_t id;			/* out */
};

#define MHV_GET_INFO _IOR(MHV_IOCTL_MAGIC, 0x00, struct mhv_info)
/* Returns a new partition fd. */
#define MHV_CREATE_PARTITION _IOWR(MHV_IOCTL_MAGIC, 0x01, \
				   struct mhv_create_partition)

/* On a partition fd. */
struct mhv_memory {
	uint64_t gpa;			/* page aligned */
	uint64_t size;			/* page multiple */
	uint64_t userspace_addr;	/* page aligned, pinned while mapped */
	uint32_t flags;			/* HV_MAP_GPA_* permissions */
	uint32_t pad;
};

struct mhv_vp_registers {
	uint32_t vp_index;
	uint32_t count;			/* <= MHV_MAX_REGS */
	uint64_t names;			/* user pointer: uint32_t[count] */
	uint64_t values;		/* user pointer: hv_register_value[count] */
};
#define MHV_MAX_REGS 64

struct mhv_run_vp {
	uint32_t vp_index;
	uint32_t pad;
	struct hv_message message;	/* out: the intercept */
};

struct mhv_property {
	uint32_t code;
	uint32_t pad;
	uint64_t value;			/* out */
};

#define MHV_INITIALIZE _IO(MHV_IOCTL_MAGIC, 0x10)
#define MHV_MAP_MEMORY _IOW(MHV_IOCTL_MAGIC, 0x11, struct mhv_memory)
#define MHV_CREATE_VP _IOW(MHV_IOCTL_MAGIC, 0x12, uint32_t)
#define MHV_GET_REGISTERS _IOW(MHV_IOCTL_MAGIC, 0x13, struct mhv_vp_registers)
#define MHV_SET_REGISTERS _IOW(MHV_IOCTL_MAGIC, 0x14, struct mhv_vp_registers)
/* Runs the VP until an intercept (0) or a signal (-EINTR). */
#define MHV_RUN_VP _IOWR(MHV_IOCTL_MAGIC, 0x15, struct mhv_run_vp)
#define MHV_GET_PROPERTY _IOWR(MHV_IOCTL_MAGIC, 0x16, struct mhv_property)
#define MHV_ASSERT_INTERRUPT _IOW(MHV_IOCTL_MAGIC, 0x17, \
				  struct hv_input_assert_virtual_interrupt)

/* SynIC: a message into (vp, sint); -EAGAIN while its queue is full. */
struct mhv_post_message {
	uint32_t vp_index;
	uint32_t sint;
	uint32_t pad;
	struct hv_message message;
};

/* SynIC: set event flag of (vp, sint) and interrupt it if newly set. */
struct mhv_signal_event {
	uint32_t vp_index;
	uint16_t sint;
	uint16_t flag;
	uint32_t newly_signaled;	/* out */
};

/* InstallIntercept (HV_INTERCEPT_TYPE_*). */
struct mhv_intercept {
	uint32_t type;
	uint32_t access;		/* HV_INTERCEPT_ACCESS_* */
	uint64_t parameter;
};

#define MHV_POST_MESSAGE _IOW(MHV_IOCTL_MAGIC, 0x18, struct mhv_post_message)
#define MHV_SIGNAL_EVENT _IOWR(MHV_IOCTL_MAGIC, 0x19, struct mhv_signal_event)
#define MHV_INSTALL_INTERCEPT _IOW(MHV_IOCTL_MAGIC, 0x1a, struct mhv_intercept)

#endif
