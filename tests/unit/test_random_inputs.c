/*
 * The parsers that read what others hand the hypervisor (loader info,
 * kernel images, ACPI tables) must refuse junk without reading out of
 * bounds. Under ASan/UBSan, feed them random and mutated inputs.
 */
#include <stdlib.h>
#include <hv/acpi.h>
#include <hv/bootinfo.h>
#include <hv/mbimage.h>
#include <hv/string.h>
#include "harness.h"

static u64 rng = 88172645463325252ull;

static u64 next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void scribble(u8 *p, size_t n, int flips)
{
	for (int i = 0; i < flips; i++)
		p[next() % n] = (u8)next();
}

TEST(random_mbimage)
{
	static u8 img[12288];
	struct mbimage_plan plan;

	for (int round = 0; round < 20000; round++) {
		u64 size = next() % sizeof(img);
		u32 flags = (u32)(next() & 0x10003);

		memset(img, 0, sizeof(img));
		if (next() % 2)
			memcpy(img, "\x7f" "ELF\x02\x01", 6);
		memcpy(img + 0x40, "\x02\xb0\xad\x1b", 4);
		memcpy(img + 0x44, &flags, 4);
		u32 sum = -(0x1badb002u + flags);
		memcpy(img + 0x48, &sum, 4);
		scribble(img, sizeof(img), 24);
		/* Any answer is fine; reading past size is not. */
		u8 *copy = malloc(size ? size : 1);
		memcpy(copy, img, size);
		mbimage_parse(copy, size, &plan);
		free(copy);
	}
}

TEST(random_multiboot_info)
{
	struct boot_info *bi = malloc(sizeof(*bi));
	u8 *m = fake_mem_add(0x10000, 0x4000);

	for (int round = 0; round < 20000; round++) {
		u32 total = (u32)(next() % 0x4000);

		memset(m, 0, 0x4000);
		memcpy(m, &total, 4);
		for (u32 off = 8; off + 8 < 0x4000; off += 8 + (next() % 64)) {
			u32 t = (u32)(next() % 16), sz = (u32)(next() % 96);

			memcpy(m + off, &t, 4);
			memcpy(m + off + 4, &sz, 4);
		}
		scribble(m, 0x4000, 32);
		multiboot_parse(next() % 2 ? MULTIBOOT2_BOOTLOADER_MAGIC :
					     MULTIBOOT1_BOOTLOADER_MAGIC,
				0x10000 + (next() % 0x100), fake_read, NULL, bi);
	}
	free(bi);
}

TEST(random_madt)
{
	static u8 t[1024];
	struct acpi_madt_info *mi = malloc(sizeof(*mi));

	for (int round = 0; round < 20000; round++) {
		u32 len = 44 + (u32)(next() % (sizeof(t) - 44));

		memset(t, 0, sizeof(t));
		memcpy(t, "APIC", 4);
		memcpy(t + 4, &len, 4);
		for (u32 off = 44; off + 2 < len; off += t[off + 1] ? t[off + 1] : 1) {
			t[off] = (u8)(next() % 12);
			t[off + 1] = (u8)(next() % 20);
		}
		scribble(t, sizeof(t), 8);
		memcpy(t, "APIC", 4);
		memcpy(t + 4, &len, 4);
		acpi_madt_parse((const struct acpi_table_header *)t, mi);
	}
	free(mi);
}
