/*
 * ioctl-abuse: the microhv driver must answer every bad argument with an
 * errno (and never oops). Exact errnos first, then random garbage.
 * Prints "ioctl-abuse: N checks passed" and exits 0, or says what failed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "../../root/lib/libmicrohv.h"

static int checks;

static void expect(const char *what, long r, int err)
{
	if (r != -1 || errno != err) {
		printf("ioctl-abuse: %s: got %ld errno %d (%s), expected %s\n",
		       what, r, r == -1 ? errno : 0, strerror(errno),
		       strerror(err));
		exit(1);
	}
	checks++;
}

static void device_calls(int dev)
{
	struct mhv_create_partition cp = { .flags = HV_PARTITION_CREATION_X2APIC };

	expect("unknown ioctl", ioctl(dev, 0xdeadbeef, 0), ENOTTY);
	expect("info to NULL", ioctl(dev, MHV_GET_INFO, NULL), EFAULT);
	expect("create from NULL", ioctl(dev, MHV_CREATE_PARTITION, NULL), EFAULT);
	expect("create with x2APIC", ioctl(dev, MHV_CREATE_PARTITION, &cp), EINVAL);
}

static void memory_calls(int fd, void *page)
{
	struct mhv_memory m = { 0, 4096, (uintptr_t)page, 0xf, 0 };

	expect("map from NULL", ioctl(fd, MHV_MAP_MEMORY, NULL), EFAULT);
	m.gpa = 0x1001;
	expect("map unaligned GPA", ioctl(fd, MHV_MAP_MEMORY, &m), EINVAL);
	m.gpa = 0;
	m.size = 0;
	expect("map size 0", ioctl(fd, MHV_MAP_MEMORY, &m), EINVAL);
	m.size = 4096;
	m.flags = HV_MAP_GPA_WRITABLE;
	expect("map without READ", ioctl(fd, MHV_MAP_MEMORY, &m), EINVAL);
	m.flags = 0xf | HV_MAP_GPA_LARGE_PAGE;
	expect("map large page flag", ioctl(fd, MHV_MAP_MEMORY, &m), EINVAL);
	m.flags = 0xf;
	m.userspace_addr = 0x1000;
	expect("map unmapped memory", ioctl(fd, MHV_MAP_MEMORY, &m), EFAULT);
	m.userspace_addr = (uintptr_t)page;
	m.size = 1ull << 40;
	expect("map 1 TiB", ioctl(fd, MHV_MAP_MEMORY, &m), EINVAL);
	m.size = 4096;
	if (ioctl(fd, MHV_MAP_MEMORY, &m))
		expect("map a good page", -1, 0);
	expect("map the same GPA twice", ioctl(fd, MHV_MAP_MEMORY, &m), EINVAL);
	m.gpa = 1ull << 46;
	expect("map beyond the GPA space", ioctl(fd, MHV_MAP_MEMORY, &m), EINVAL);
}

static void vp_calls(int fd)
{
	uint32_t idx = 64, names[2] = { HV_REG_RIP, 0x00ff0000 };
	struct hv_register_value vals[2] = { { 0, 0 } };
	struct mhv_vp_registers r = { 0, 1, (uintptr_t)names, (uintptr_t)vals };
	struct mhv_run_vp run = { .vp_index = 63 };
	struct mhv_property p = { .code = 0x12345 };
	struct hv_input_assert_virtual_interrupt vi = { .vector = 3 };

	expect("VP 64", ioctl(fd, MHV_CREATE_VP, &idx), EINVAL);
	expect("VP from NULL", ioctl(fd, MHV_CREATE_VP, NULL), EFAULT);
	idx = 0;
	if (ioctl(fd, MHV_CREATE_VP, &idx))
		expect("VP 0", -1, 0);
	expect("VP 0 twice", ioctl(fd, MHV_CREATE_VP, &idx), EEXIST);
	r.count = 0;
	expect("0 registers", ioctl(fd, MHV_GET_REGISTERS, &r), EINVAL);
	r.count = MHV_MAX_REGS + 1;
	expect("too many registers", ioctl(fd, MHV_GET_REGISTERS, &r), EINVAL);
	r.count = 1;
	r.names = 0x10;
	expect("names at a bad address", ioctl(fd, MHV_GET_REGISTERS, &r), EFAULT);
	r.names = (uintptr_t)names;
	r.count = 2;
	expect("an unknown register", ioctl(fd, MHV_SET_REGISTERS, &r), EINVAL);
	r.count = 1;
	r.vp_index = 5;
	expect("registers of a missing VP", ioctl(fd, MHV_GET_REGISTERS, &r),
	       EINVAL);
	expect("run a missing VP", ioctl(fd, MHV_RUN_VP, &run), EINVAL);
	expect("run from NULL", ioctl(fd, MHV_RUN_VP, NULL), EFAULT);
	run.vp_index = 0;	/* still explicitly suspended */
	expect("run a suspended VP", ioctl(fd, MHV_RUN_VP, &run), EAGAIN);
	expect("unknown property", ioctl(fd, MHV_GET_PROPERTY, &p), EINVAL);
	expect("interrupt vector 3", ioctl(fd, MHV_ASSERT_INTERRUPT, &vi), EINVAL);
	expect("unknown partition ioctl", ioctl(fd, 0xb8ff, 0), ENOTTY);
}

/* Garbage into every ioctl; any errno is fine, a crash is not. */
static void garbage(int dev, int fd)
{
	static const unsigned long cmds[] = {
		MHV_GET_INFO, MHV_CREATE_PARTITION, MHV_MAP_MEMORY,
		MHV_CREATE_VP, MHV_GET_REGISTERS, MHV_SET_REGISTERS,
		MHV_RUN_VP, MHV_GET_PROPERTY, MHV_ASSERT_INTERRUPT,
	};
	uint64_t buf[64];

	srand(7);
	for (int i = 0; i < 20000; i++) {
		unsigned long cmd = cmds[rand() % 9];

		for (int k = 0; k < 64; k++)
			buf[k] = ((uint64_t)rand() << 32 | rand()) >>
				 (rand() % 64);
		if (cmd == MHV_MAP_MEMORY)
			buf[1] &= 0xffffff;	/* at most 16 MiB to pin */
		if (cmd == MHV_RUN_VP)
			continue;	/* would run a real VP: not garbage */
		int target = cmd == MHV_GET_INFO || cmd == MHV_CREATE_PARTITION ?
				     dev : fd;
		int r = ioctl(target, cmd, rand() % 8 ? (void *)buf :
					   (void *)(uintptr_t)rand());

		if (cmd == MHV_CREATE_PARTITION && r >= 0)
			close(r);
	}
	checks++;
}

int main(void)
{
	struct mhv_vm vm;
	int dev = mhv_open();
	void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (dev < 0 || mhv_vm_create(dev, 0, &vm)) {
		printf("ioctl-abuse: cannot open the driver\n");
		return 1;
	}
	device_calls(dev);
	memory_calls(vm.fd, page);
	vp_calls(vm.fd);
	garbage(dev, vm.fd);
	mhv_vm_destroy(&vm);
	printf("ioctl-abuse: %d checks passed\n", checks);
	return 0;
}
