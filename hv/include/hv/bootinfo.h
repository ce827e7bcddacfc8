/*
 * What the loader told us, in one protocol-neutral form. Filled once by
 * the Multiboot parsers from the loader's structures, which may be
 * overwritten afterwards: everything needed later is copied here.
 *
 * Module convention (Xen's): module 0 is the root kernel, module 1 its
 * initrd; each module's string is its command line.
 */
#ifndef HV_BOOTINFO_H
#define HV_BOOTINFO_H

#include <hv/types.h>

#define BOOT_MAX_MEM 128
#define BOOT_MAX_MODULES 8
#define BOOT_CMDLINE_LEN 2048
#define BOOT_LOADER_LEN 64

/* Firmware memory types, numbered as in the E820 map. */
enum fw_mem_type {
	FW_MEM_RAM = 1,
	FW_MEM_RESERVED = 2,
	FW_MEM_ACPI = 3,
	FW_MEM_NVS = 4,
	FW_MEM_UNUSABLE = 5,
};

enum boot_protocol {
	BOOT_MULTIBOOT1 = 1,
	BOOT_MULTIBOOT2 = 2,
};

struct boot_mem_range {
	u64 base;
	u64 len;
	u32 type;		/* enum fw_mem_type; unknown values kept */
};

struct boot_module {
	hpa_t start;
	u64 size;
	char cmdline[BOOT_CMDLINE_LEN];
};

struct boot_info {
	enum boot_protocol protocol;
	char cmdline[BOOT_CMDLINE_LEN];
	char loader[BOOT_LOADER_LEN];
	u32 n_mem;
	struct boot_mem_range mem[BOOT_MAX_MEM];
	u32 n_mod;
	struct boot_module mods[BOOT_MAX_MODULES];
	bool have_rsdp;		/* a copy of the RSDP came with the info */
	u8 rsdp[36];
};

#define MULTIBOOT1_BOOTLOADER_MAGIC 0x2badb002u
#define MULTIBOOT2_BOOTLOADER_MAGIC 0x36d76289u

/*
 * Gives a pointer to len bytes at physical address pa, or NULL if that
 * range cannot be read. The hypervisor passes its early identity map;
 * the unit tests pass fake memory.
 */
typedef const void *(*phys_reader_fn)(u64 pa, u64 len, void *ctx);

/*
 * Parses the loader's information. Returns NULL on success, else a
 * static message saying what was wrong with it. Command lines come out
 * without the file name that some loaders put first.
 */
const char *multiboot_parse(u32 magic, u64 info_pa, phys_reader_fn read,
			    void *ctx, struct boot_info *bi);

/* Removes the first word (a file name) and the blanks after it. */
void strip_image_name(char *s);

#endif
