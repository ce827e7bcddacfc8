/*
 * Booting the child's Linux directly, as a boot loader would (the x86
 * boot protocol, 32-bit entry; hv/boot/linux.c builds boot_params):
 *
 *   0x7000     boot_params          0x20000  command line
 *   0x9f000 .. 0x100000  reserved: 0xe0000 the ACPI tables
 *   0x1000000  the protected-mode kernel (its preferred address)
 *   top of RAM (below 4 GiB and initrd_max): the initrd
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hv/linuxboot.h>
#include <hv/mbimage.h>
#include <microhv/tkproto.h>
#include "platform/acpi.h"
#include "worker.h"

#define BOOT_PARAMS_GPA 0x7000ull
#define CMDLINE_GPA 0x20000ull
#define CMDLINE_MAX 0x1000ull
#define LOW_RAM_END 0x9f000ull
#define ACPI_GPA 0xe0000ull
#define ACPI_MAX 0x20000ull
#define HIGH_RAM 0x100000ull

struct file_map {
	const uint8_t *data;
	uint64_t size;
};

static int map_file(const char *path, struct file_map *f)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *p;

	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	p = st.st_size ? mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)
		       : MAP_FAILED;
	close(fd);
	if (p == MAP_FAILED)
		return st.st_size ? -errno : -EINVAL;
	*f = (struct file_map){ p, (uint64_t)st.st_size };
	return 0;
}

static void unmap_file(struct file_map *f)
{
	if (f->data)
		munmap((void *)f->data, f->size);
}

static int build_acpi(struct vm *vm, u64 *rsdp)
{
	struct acpi_config c = { .n_vps = vm->cfg.vps, .pm = vm->pm,
				 .mmio_base = 0xf8000000ull,
				 .mmio_size = 0x04000000ull };
	struct acpi_tables t;
	int r = acpi_build(&c, ACPI_GPA, vm->mem.base + ACPI_GPA, ACPI_MAX, &t);

	*rsdp = t.rsdp_gpa;
	return r;
}

/* The guest's RAM minus the legacy hole where the tables live. */
static uint32_t e820(struct vm *vm, struct linux_e820 *e)
{
	e[0] = (struct linux_e820){ 0, LOW_RAM_END, 1 };
	e[1] = (struct linux_e820){ LOW_RAM_END, HIGH_RAM - LOW_RAM_END, 2 };
	e[2] = (struct linux_e820){ HIGH_RAM, vm->mem.size - HIGH_RAM, 1 };
	return 3;
}

static int place(struct vm *vm, const struct linux_image *li,
		 const struct file_map *initrd, struct linux_boot_args *a)
{
	uint64_t top = vm->mem.size < SZ_4G ? vm->mem.size : SZ_4G;

	a->kernel_addr = li->pref_address;
	if (a->kernel_addr < HIGH_RAM ||
	    a->kernel_addr + li->init_size > vm->mem.size)
		return -ENOMEM;
	if (top > (uint64_t)li->initrd_max + 1)
		top = (uint64_t)li->initrd_max + 1;
	if (initrd->size) {
		a->initrd_size = initrd->size;
		a->initrd_addr = (top - initrd->size) & ~0xfffull;
		if (a->initrd_addr < a->kernel_addr + li->init_size)
			return -ENOMEM;
	}
	return 0;
}

/* 32-bit protected mode, flat, paging off; ESI = boot_params. */
static int boot_registers(struct vm *vm, uint64_t entry)
{
	struct hv_x64_segment_register cs = { 0, 0xffffffffu, 0x10, 0xc09b };
	struct hv_x64_segment_register ds = { 0, 0xffffffffu, 0x18, 0xc093 };
	uint32_t seg_names[] = { HV_REG_DS, HV_REG_ES, HV_REG_SS,
				 HV_REG_FS, HV_REG_GS };
	int r = mhv_set_segment(&vm->part, 0, HV_REG_CS, &cs);

	for (unsigned i = 0; !r && i < 5; i++)
		r = mhv_set_segment(&vm->part, 0, seg_names[i], &ds);
	r = r ? r : mhv_set_reg(&vm->part, 0, HV_REG_CR0, 0x11);
	r = r ? r : mhv_set_reg(&vm->part, 0, HV_REG_RFLAGS, 2);
	r = r ? r : mhv_set_reg(&vm->part, 0, HV_REG_RSI, BOOT_PARAMS_GPA);
	return r ? r : mhv_set_reg(&vm->part, 0, HV_REG_RIP, entry);
}

static int load(struct vm *vm, const struct file_map *k,
		const struct file_map *initrd)
{
	struct linux_e820 map[3];
	struct linux_image li;
	struct linux_boot_args a = { .cmdline_addr = CMDLINE_GPA, .e820 = map };
	const char *err = linux_image_parse(k->data, k->size, &li);
	int r;

	if (err) {
		worker_log(vm, "%s: %s", vm->cfg.kernel, err);
		return -ENOEXEC;
	}
	r = place(vm, &li, initrd, &a);
	if (r) {
		worker_log(vm, "%llu MiB is too little for this kernel and initrd",
			   (unsigned long long)vm->cfg.mem_mib);
		return r;
	}
	memcpy(vm->mem.base + a.kernel_addr, k->data + li.setup_size,
	       li.kernel_size);
	if (initrd->size)
		memcpy(vm->mem.base + a.initrd_addr, initrd->data, initrd->size);
	snprintf((char *)vm->mem.base + CMDLINE_GPA, CMDLINE_MAX, "%s",
		 vm->cfg.cmdline ? vm->cfg.cmdline : "");
	r = build_acpi(vm, &a.rsdp_addr);
	if (r)
		return r;
	a.n_e820 = e820(vm, map);
	err = linux_boot_params(vm->mem.base + BOOT_PARAMS_GPA, k->data, &a);
	if (err) {
		worker_log(vm, "boot_params: %s", err);
		return -EINVAL;
	}
	return boot_registers(vm, a.kernel_addr);
}

int boot_linux(struct vm *vm)
{
	struct file_map k = { 0 }, initrd = { 0 };
	int r = map_file(vm->cfg.kernel, &k);

	if (r) {
		worker_log(vm, "%s: %s", vm->cfg.kernel, strerror(-r));
		return r;
	}
	if (vm->cfg.initrd) {
		r = map_file(vm->cfg.initrd, &initrd);
		if (r) {
			worker_log(vm, "%s: %s", vm->cfg.initrd, strerror(-r));
			unmap_file(&k);
			return r;
		}
	}
	r = load(vm, &k, &initrd);
	unmap_file(&initrd);
	unmap_file(&k);
	return r;
}

/*
 * A test kernel (tests/kernels, Multiboot) instead of Linux: the same
 * entry its other parents give it (tkproto.h), in a LAPIC partition,
 * so tests can speak SynIC and VMBus to this worker directly.
 */
static int load_tk(struct vm *vm, const struct file_map *f)
{
	struct tk_child_info info = { TK_CHILD_MAGIC, 0, TK_ARG_GENERIC };
	struct mbimage_plan plan;
	const char *err = mbimage_parse(f->data, f->size, &plan);

	if (err) {
		worker_log(vm, "%s: %s", vm->cfg.kernel, err);
		return -ENOEXEC;
	}
	for (uint32_t i = 0; i < plan.nseg; i++) {
		const struct mbimage_segment *sg = &plan.seg[i];

		if (sg->paddr + sg->memsz > vm->mem.size)
			return -ENOMEM;
		memcpy(vm->mem.base + sg->paddr, f->data + sg->file_off,
		       sg->filesz);
	}
	memcpy(vm->mem.base + TK_CHILD_INFO_GPA, &info, sizeof(info));
	return mhv_set_tk_entry(&vm->part, plan.entry);
}

int boot_test_kernel(struct vm *vm)
{
	struct file_map f = { 0 };
	int r = map_file(vm->cfg.kernel, &f);

	if (r) {
		worker_log(vm, "%s: %s", vm->cfg.kernel, strerror(-r));
		return r;
	}
	r = load_tk(vm, &f);
	unmap_file(&f);
	return r;
}
