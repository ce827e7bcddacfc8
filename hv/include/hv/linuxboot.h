/*
 * The Linux x86 boot protocol (Documentation/x86/boot.rst), as far as a
 * loader that enters the kernel's 32-bit entry needs it. Pure code:
 * reading the bzImage header and filling boot_params are unit-tested;
 * partition/root.c places the pieces in the root's memory.
 */
#ifndef HV_LINUXBOOT_H
#define HV_LINUXBOOT_H

#include <hv/types.h>

#define LINUX_BOOT_PARAMS_SIZE 4096
#define LINUX_E820_MAX 128

struct linux_image {
	u64 setup_size;		/* bytes before the protected-mode kernel */
	u64 kernel_size;	/* the protected-mode kernel in the file */
	u64 pref_address;	/* where it prefers to run */
	u64 alignment;		/* kernel_alignment */
	u64 init_size;		/* memory it needs from its load address */
	u32 initrd_max;		/* highest address an initrd may end at */
	u16 version;		/* boot protocol version */
	bool relocatable;
};

/* Checks a bzImage and reads what a loader needs. NULL or why not. */
const char *linux_image_parse(const u8 *img, u64 size,
			      struct linux_image *out);

struct linux_e820 {
	u64 addr;
	u64 size;
	u32 type;
} __packed;
static_assert(sizeof(struct linux_e820) == 20, "boot_params e820 entry");

struct linux_boot_args {
	u64 kernel_addr;	/* where the protected-mode kernel was put */
	u64 cmdline_addr;
	u64 initrd_addr, initrd_size;
	u64 rsdp_addr;		/* 0: let the kernel scan for it */
	u32 n_e820;
	const struct linux_e820 *e820;
};

/*
 * Fills the 4 KiB zero page: the image's setup header (copied from the
 * file, as the protocol asks) plus what the loader decides. NULL or why
 * not (for instance more than LINUX_E820_MAX memory ranges).
 */
const char *linux_boot_params(u8 *bp, const u8 *img,
			      const struct linux_boot_args *a);

#endif
