#include <hv/bootinfo.h>
#include <hv/string.h>
#include "harness.h"

#define BASE 0x10000ull
static struct boot_info bi;

/* The same 64 KiB of fake memory each call, cleared. */
static u8 *mem(void)
{
	u8 *m = (u8 *)fake_read(BASE, 0x10000, NULL);

	if (!m)
		m = fake_mem_add(BASE, 0x10000);
	memset(m, 0, 0x10000);
	return m;
}

static void put32(u8 *m, u64 pa, u32 v)
{
	memcpy(m + (pa - BASE), &v, 4);
}

static void put64(u8 *m, u64 pa, u64 v)
{
	memcpy(m + (pa - BASE), &v, 8);
}

static void putstr(u8 *m, u64 pa, const char *s)
{
	memcpy(m + (pa - BASE), s, strlen(s) + 1);
}

/* A Multiboot 1 info as QEMU builds it: memory map, two modules. */
static u8 *mb1_info(void)
{
	u8 *m = mem();

	put32(m, BASE, BIT(2) | BIT(3) | BIT(6) | BIT(9));
	put32(m, BASE + 16, BASE + 0x100);		/* cmdline */
	put32(m, BASE + 20, 2);				/* mods_count */
	put32(m, BASE + 24, BASE + 0x400);		/* mods_addr */
	put32(m, BASE + 44, 48);			/* mmap_length */
	put32(m, BASE + 48, BASE + 0x200);		/* mmap_addr */
	put32(m, BASE + 64, BASE + 0x600);		/* loader name */
	putstr(m, BASE + 0x100, "/boot/microhv.elf loglevel=debug");
	putstr(m, BASE + 0x600, "qemu");
	/* mmap: size, base, len, type */
	put32(m, BASE + 0x200, 20);
	put64(m, BASE + 0x204, 0);
	put64(m, BASE + 0x20c, 0x9fc00);
	put32(m, BASE + 0x214, 1);
	put32(m, BASE + 0x218, 20);
	put64(m, BASE + 0x21c, 0x100000);
	put64(m, BASE + 0x224, 0x7ff00000);
	put32(m, BASE + 0x22c, 1);
	/* modules */
	put32(m, BASE + 0x400, 0x1000000);
	put32(m, BASE + 0x404, 0x1800000);
	put32(m, BASE + 0x408, BASE + 0x500);
	put32(m, BASE + 0x410, 0x2000000);
	put32(m, BASE + 0x414, 0x2100000);
	put32(m, BASE + 0x418, BASE + 0x580);
	putstr(m, BASE + 0x500, "bzImage console=ttyS0 quiet");
	putstr(m, BASE + 0x580, "initrd.img");
	return m;
}

TEST(multiboot1_full_info)
{
	mb1_info();
	CHECK_NULL(multiboot_parse(MULTIBOOT1_BOOTLOADER_MAGIC, BASE, fake_read,
				   NULL, &bi));
	CHECK_EQ(bi.protocol, BOOT_MULTIBOOT1);
	CHECK_STR(bi.cmdline, "loglevel=debug");
	CHECK_STR(bi.loader, "qemu");
	CHECK_EQ(bi.n_mem, 2);
	CHECK_EQ(bi.mem[1].base, 0x100000);
	CHECK_EQ(bi.mem[1].len, 0x7ff00000);
	CHECK_EQ(bi.mem[1].type, FW_MEM_RAM);
	CHECK_EQ(bi.n_mod, 2);
	CHECK_EQ(hpa_u64(bi.mods[0].start), 0x1000000);
	CHECK_EQ(bi.mods[0].size, 0x800000);
	CHECK_STR(bi.mods[0].cmdline, "console=ttyS0 quiet");
	CHECK_STR(bi.mods[1].cmdline, "");
	CHECK(!bi.have_rsdp);
}

TEST(multiboot1_meminfo_without_map)
{
	u8 *m = mem();

	put32(m, BASE, BIT(0));
	put32(m, BASE + 4, 639);
	put32(m, BASE + 8, 65536);
	CHECK_NULL(multiboot_parse(MULTIBOOT1_BOOTLOADER_MAGIC, BASE, fake_read,
				   NULL, &bi));
	CHECK_EQ(bi.n_mem, 2);
	CHECK_EQ(bi.mem[0].len, 639 * 1024);
	CHECK_EQ(bi.mem[1].base, 0x100000);
	CHECK_EQ(bi.mem[1].len, 64ull << 20);
}

TEST(multiboot1_refuses_broken_info)
{
	u8 *m = mb1_info();

	CHECK(multiboot_parse(0x12345678, BASE, fake_read, NULL, &bi));
	CHECK(multiboot_parse(MULTIBOOT1_BOOTLOADER_MAGIC, 0x900000, fake_read,
			      NULL, &bi));
	put32(m, BASE + 20, 99);			/* too many modules */
	CHECK(multiboot_parse(MULTIBOOT1_BOOTLOADER_MAGIC, BASE, fake_read,
			      NULL, &bi));
	put32(m, BASE + 20, 2);
	put32(m, BASE + 0x404, 0xfff);			/* ends before start */
	CHECK_STR(multiboot_parse(MULTIBOOT1_BOOTLOADER_MAGIC, BASE, fake_read,
				  NULL, &bi), "module ends before it starts");
	m = mb1_info();
	put32(m, BASE + 0x200, 4);			/* entry too small */
	CHECK(multiboot_parse(MULTIBOOT1_BOOTLOADER_MAGIC, BASE, fake_read,
			      NULL, &bi));
	put32(m, BASE, 0);				/* no memory info */
	CHECK_STR(multiboot_parse(MULTIBOOT1_BOOTLOADER_MAGIC, BASE, fake_read,
				  NULL, &bi),
		  "loader gave no memory information");
}

TEST(multiboot1_cmdline_must_end)
{
	u8 *m = mem();

	put32(m, BASE, BIT(2) | BIT(0));
	put32(m, BASE + 16, BASE + 0x100);
	memset(m + 0x100, 'x', 0x10000 - 0x100);	/* no NUL anywhere */
	CHECK(multiboot_parse(MULTIBOOT1_BOOTLOADER_MAGIC, BASE, fake_read,
			      NULL, &bi));
}

/* Multiboot 2: tags, 8-byte aligned. Returns the next free offset. */
static u32 tag(u8 *m, u32 off, u32 type, const void *body, u32 len)
{
	put32(m, BASE + off, type);
	put32(m, BASE + off + 4, 8 + len);
	if (len)
		memcpy(m + off + 8, body, len);
	return off + ((8 + len + 7) & ~7u);
}

static u32 mb2_info(u8 *m, bool with_end)
{
	struct {
		u32 esize, ever;
		struct { u64 base, len; u32 type, rsv; } e[2];
	} __attribute__((packed)) mmap = {
		24, 0, { { 0, 0x9f000, 1, 0 }, { 0x100000, 0x1ff00000, 1, 0 } }
	};
	struct { u32 start, end; char s[16]; } mod = {
		0x3000000, 0x3400000, "root=/dev/sda"
	};
	u8 rsdp[36] = "RSD PTR ";
	u32 off = 8;

	off = tag(m, off, 1, "loglevel=warn", 14);
	off = tag(m, off, 2, "GRUB 2.06", 10);
	off = tag(m, off, 6, &mmap, sizeof(mmap));
	off = tag(m, off, 3, &mod, 8 + 14);
	off = tag(m, off, 14, rsdp, 20);
	if (with_end)
		off = tag(m, off, 0, NULL, 0);
	put32(m, BASE, off);
	return off;
}

TEST(multiboot2_full_info)
{
	u8 *m = mem();

	mb2_info(m, true);
	CHECK_NULL(multiboot_parse(MULTIBOOT2_BOOTLOADER_MAGIC, BASE, fake_read,
				   NULL, &bi));
	CHECK_EQ(bi.protocol, BOOT_MULTIBOOT2);
	CHECK_STR(bi.cmdline, "loglevel=warn");	/* GRUB 2: no file name */
	CHECK_STR(bi.loader, "GRUB 2.06");
	CHECK_EQ(bi.n_mem, 2);
	CHECK_EQ(bi.mem[1].len, 0x1ff00000);
	CHECK_EQ(bi.n_mod, 1);
	CHECK_STR(bi.mods[0].cmdline, "root=/dev/sda");
	CHECK_EQ(bi.mods[0].size, 0x400000);
	CHECK(bi.have_rsdp);
	CHECK(!memcmp(bi.rsdp, "RSD PTR ", 8));
}

TEST(multiboot2_refuses_broken_info)
{
	u8 *m = mem();
	u32 total = mb2_info(m, false);

	CHECK_STR(multiboot_parse(MULTIBOOT2_BOOTLOADER_MAGIC, BASE, fake_read,
				  NULL, &bi), "multiboot2 info has no end tag");
	total = mb2_info(m, true);
	put32(m, BASE + 8 + 4, 4);			/* tag size < 8 */
	CHECK_STR(multiboot_parse(MULTIBOOT2_BOOTLOADER_MAGIC, BASE, fake_read,
				  NULL, &bi), "bad multiboot2 tag size");
	mb2_info(m, true);
	put32(m, BASE + 8 + 4, 0x1000);			/* past the end */
	CHECK(multiboot_parse(MULTIBOOT2_BOOTLOADER_MAGIC, BASE, fake_read,
			      NULL, &bi));
	mb2_info(m, true);
	put32(m, BASE, 0x7fffffff);			/* absurd total */
	CHECK(multiboot_parse(MULTIBOOT2_BOOTLOADER_MAGIC, BASE, fake_read,
			      NULL, &bi));
	put32(m, BASE, total + 0x20000);		/* beyond memory */
	CHECK(multiboot_parse(MULTIBOOT2_BOOTLOADER_MAGIC, BASE, fake_read,
			      NULL, &bi));
}

TEST(multiboot_strip_image_name)
{
	char s[64];

	strcpy(s, "  /boot/x.elf   a=1 b");
	strip_image_name(s);
	CHECK_STR(s, "a=1 b");
	strcpy(s, "bzImage");
	strip_image_name(s);
	CHECK_STR(s, "");
	strcpy(s, "");
	strip_image_name(s);
	CHECK_STR(s, "");
}
