/* libmicrohv: thin wrappers over the microhv driver's ioctls. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <microhv/tkproto.h>
#include "libmicrohv.h"

static int ret(int r)
{
	return r < 0 ? -errno : r;
}

int mhv_open(void)
{
	return ret(open("/dev/microhv", O_RDWR | O_CLOEXEC));
}

int mhv_info(int dev, struct mhv_info *info)
{
	return ret(ioctl(dev, MHV_GET_INFO, info));
}

int mhv_vm_create(int dev, uint64_t flags, struct mhv_vm *vm)
{
	struct mhv_create_partition req = { .flags = flags };
	int fd = ret(ioctl(dev, MHV_CREATE_PARTITION, &req));

	if (fd < 0)
		return fd;
	vm->fd = fd;
	vm->id = req.id;
	return 0;
}

void mhv_vm_destroy(struct mhv_vm *vm)
{
	if (vm->fd >= 0)
		close(vm->fd);
	vm->fd = -1;
}

int mhv_vm_map(struct mhv_vm *vm, uint64_t gpa, void *mem, uint64_t size,
	       uint32_t flags)
{
	struct mhv_memory m = { gpa, size, (uintptr_t)mem, flags, 0 };

	return ret(ioctl(vm->fd, MHV_MAP_MEMORY, &m));
}

int mhv_vp_create(struct mhv_vm *vm, uint32_t vp)
{
	return ret(ioctl(vm->fd, MHV_CREATE_VP, &vp));
}

static int regs(struct mhv_vm *vm, unsigned long cmd, uint32_t vp, uint32_t n,
		const uint32_t *names, const struct hv_register_value *values)
{
	struct mhv_vp_registers r = { vp, n, (uintptr_t)names,
				      (uintptr_t)values };

	return ret(ioctl(vm->fd, cmd, &r));
}

int mhv_get_regs(struct mhv_vm *vm, uint32_t vp, uint32_t n,
		 const uint32_t *names, struct hv_register_value *values)
{
	return regs(vm, MHV_GET_REGISTERS, vp, n, names, values);
}

int mhv_set_regs(struct mhv_vm *vm, uint32_t vp, uint32_t n,
		 const uint32_t *names, const struct hv_register_value *values)
{
	return regs(vm, MHV_SET_REGISTERS, vp, n, names, values);
}

int mhv_get_reg(struct mhv_vm *vm, uint32_t vp, uint32_t name, uint64_t *v)
{
	struct hv_register_value val;
	int r = mhv_get_regs(vm, vp, 1, &name, &val);

	*v = val.low;
	return r;
}

int mhv_set_reg(struct mhv_vm *vm, uint32_t vp, uint32_t name, uint64_t v)
{
	struct hv_register_value val = { v, 0 };

	return mhv_set_regs(vm, vp, 1, &name, &val);
}

int mhv_set_segment(struct mhv_vm *vm, uint32_t vp, uint32_t name,
		    const struct hv_x64_segment_register *seg)
{
	struct hv_register_value val;

	memcpy(&val, seg, sizeof(val));
	return mhv_set_regs(vm, vp, 1, &name, &val);
}

int mhv_set_tk_entry(struct mhv_vm *vm, uint64_t entry)
{
	struct hv_x64_segment_register cs = { 0, 0xffffffffu, 0x08, 0xc09b };
	struct hv_x64_segment_register ds = { 0, 0xffffffffu, 0x10, 0xc093 };
	int r = mhv_set_segment(vm, 0, HV_REG_CS, &cs);

	r = r ? r : mhv_set_segment(vm, 0, HV_REG_DS, &ds);
	r = r ? r : mhv_set_segment(vm, 0, HV_REG_ES, &ds);
	r = r ? r : mhv_set_segment(vm, 0, HV_REG_SS, &ds);
	r = r ? r : mhv_set_reg(vm, 0, HV_REG_CR0, TK_CHILD_ENTRY_MODE_CR0);
	r = r ? r : mhv_set_reg(vm, 0, HV_REG_RFLAGS, 2);
	r = r ? r : mhv_set_reg(vm, 0, HV_REG_RAX, TK_CHILD_MAGIC);
	r = r ? r : mhv_set_reg(vm, 0, HV_REG_RBX, TK_CHILD_INFO_GPA);
	return r ? r : mhv_set_reg(vm, 0, HV_REG_RIP, entry);
}

int mhv_run(struct mhv_vm *vm, uint32_t vp, struct hv_message *msg)
{
	struct mhv_run_vp run = { .vp_index = vp };
	int r = ret(ioctl(vm->fd, MHV_RUN_VP, &run));

	if (!r)
		*msg = run.message;
	return r;
}

int mhv_property(struct mhv_vm *vm, uint32_t code, uint64_t *value)
{
	struct mhv_property p = { .code = code };
	int r = ret(ioctl(vm->fd, MHV_GET_PROPERTY, &p));

	*value = p.value;
	return r;
}

int mhv_assert_interrupt(struct mhv_vm *vm, uint32_t vp, uint32_t type,
			 uint32_t vector)
{
	struct hv_input_assert_virtual_interrupt a = {
		.interrupt_type = type, .dest_addr = vp, .vector = vector,
	};

	return ret(ioctl(vm->fd, MHV_ASSERT_INTERRUPT, &a));
}

int mhv_post_message(struct mhv_vm *vm, uint32_t vp, uint32_t sint,
		     const struct hv_message *msg)
{
	struct mhv_post_message m = { .vp_index = vp, .sint = sint,
				      .message = *msg };

	return ret(ioctl(vm->fd, MHV_POST_MESSAGE, &m));
}

int mhv_signal_event(struct mhv_vm *vm, uint32_t vp, uint32_t sint,
		     uint32_t flag, bool *newly_signaled)
{
	struct mhv_signal_event e = { .vp_index = vp, .sint = (uint16_t)sint,
				      .flag = (uint16_t)flag };
	int r;

	if (sint > 0xffff || flag > 0xffff)
		return -EINVAL;
	r = ret(ioctl(vm->fd, MHV_SIGNAL_EVENT, &e));
	if (!r && newly_signaled)
		*newly_signaled = e.newly_signaled;
	return r;
}

int mhv_install_intercept(struct mhv_vm *vm, uint32_t type, uint32_t access,
			  uint64_t parameter)
{
	struct mhv_intercept i = { .type = type, .access = access,
				   .parameter = parameter };

	return ret(ioctl(vm->fd, MHV_INSTALL_INTERCEPT, &i));
}
