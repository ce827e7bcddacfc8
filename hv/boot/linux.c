/* Linux boot protocol. Pure code: unit-tested on the host. */
#include <hv/linuxboot.h>
#include <hv/string.h>

/* Offsets in the bzImage file and, identically, in boot_params. */
#define BP_ACPI_RSDP 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define HDR_SETUP_SECTS 0x1f1
#define HDR_START 0x1f1
#define HDR_JUMP_LEN 0x201
#define HDR_MAGIC 0x202		/* "HdrS" */
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define BP_E820_TABLE 0x2d0

#define LOADFLAGS_LOADED_HIGH 0x01
#define LOADFLAGS_CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x01

static u32 rd32(const u8 *p, u64 off)
{
	u32 v;

	memcpy(&v, p + off, 4);
	return v;
}

static void wr32(u8 *p, u64 off, u32 v)
{
	memcpy(p + off, &v, 4);
}

const char *linux_image_parse(const u8 *img, u64 size, struct linux_image *o)
{
	u32 sects;
	u64 pref;

	memset(o, 0, sizeof(*o));
	if (size < 0x270 || rd32(img, HDR_MAGIC) != 0x53726448)
		return "not a bzImage (no HdrS header)";
	o->version = (u16)rd32(img, HDR_VERSION);
	if (o->version < 0x020c)
		return "boot protocol older than 2.12";
	if (!(img[HDR_LOADFLAGS] & LOADFLAGS_LOADED_HIGH))
		return "not a bzImage (zImage loads low)";
	if (!(rd32(img, HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return "not a 64-bit kernel";
	sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
	o->setup_size = (sects + 1ull) * 512;
	if (o->setup_size >= size)
		return "bzImage truncated";
	o->kernel_size = size - o->setup_size;
	o->relocatable = img[HDR_RELOCATABLE];
	o->alignment = rd32(img, HDR_KERNEL_ALIGNMENT);
	memcpy(&pref, img + HDR_PREF_ADDRESS, 8);
	o->pref_address = pref;
	o->init_size = rd32(img, HDR_INIT_SIZE);
	o->initrd_max = rd32(img, HDR_INITRD_ADDR_MAX);
	if (!o->alignment || (o->alignment & (o->alignment - 1)))
		return "bad kernel_alignment";
	if (o->init_size < o->kernel_size)
		o->init_size = o->kernel_size;
	return NULL;
}

const char *linux_boot_params(u8 *bp, const u8 *img,
			      const struct linux_boot_args *a)
{
	u32 hdr_end = HDR_MAGIC + img[HDR_JUMP_LEN];

	if (a->n_e820 > LINUX_E820_MAX)
		return "too many memory ranges for boot_params";
	if (hdr_end > 0x290 || a->kernel_addr >= SZ_4G ||
	    a->cmdline_addr >= SZ_4G)
		return "setup header or addresses out of range";
	memset(bp, 0, LINUX_BOOT_PARAMS_SIZE);
	memcpy(bp + HDR_START, img + HDR_START, hdr_end - HDR_START);
	bp[HDR_TYPE_OF_LOADER] = 0xff;	/* undefined loader */
	bp[HDR_LOADFLAGS] |= LOADFLAGS_CAN_USE_HEAP;
	wr32(bp, HDR_HEAP_END_PTR, 0xfe00);
	wr32(bp, HDR_CODE32_START, (u32)a->kernel_addr);
	wr32(bp, HDR_CMD_LINE_PTR, (u32)a->cmdline_addr);
	wr32(bp, HDR_RAMDISK_IMAGE, (u32)a->initrd_addr);
	wr32(bp, HDR_RAMDISK_SIZE, (u32)a->initrd_size);
	wr32(bp, BP_EXT_RAMDISK_IMAGE, (u32)(a->initrd_addr >> 32));
	wr32(bp, BP_EXT_RAMDISK_SIZE, (u32)(a->initrd_size >> 32));
	memcpy(bp + BP_ACPI_RSDP, &a->rsdp_addr, 8);
	bp[BP_E820_ENTRIES] = (u8)a->n_e820;
	memcpy(bp + BP_E820_TABLE, a->e820,
	       a->n_e820 * sizeof(struct linux_e820));
	return NULL;
}
