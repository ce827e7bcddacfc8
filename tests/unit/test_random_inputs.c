/*
 * The parsers that read what others hand the hypervisor (loader info,
 * kernel images, ACPI tables) must refuse junk without reading out of
 * bounds. Under ASan/UBSan, feed them random and mutated inputs.
 */
#include <stdlib.h>
#include <hv/acpi.h>
#include <hv/bootinfo.h>
#include <hv/ivrs.h>
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

/* IVHD blocks of random types and lengths, in a buffer of exactly len. */
static void random_ivhds(u8 *t, u32 len)
{
	static const u8 types[] = { 0x10, 0x11, 0x40, 0x20, 0x21, 0x7 };

	for (u32 off = 48; off + 4 <= len;) {
		u16 blen = (u16)(4 + next() % 80);

		t[off] = types[next() % sizeof(types)];
		memcpy(t + off + 2, &blen, 2);
		for (u32 i = 4; i < blen && off + i < len; i++)
			t[off + i] = (u8)(next() % 4 ? next() % 8 : next());
		off += blen;
	}
}

TEST(random_ivrs)
{
	struct ivrs_info *info = malloc(sizeof(*info));

	for (int round = 0; round < 20000; round++) {
		u32 len = 36 + (u32)(next() % 400);
		u8 *t = calloc(1, len);

		random_ivhds(t, len);
		scribble(t, len, 4);
		memcpy(t, "IVRS", 4);
		memcpy(t + 4, &len, 4);
		if (!ivrs_parse((const struct acpi_table_header *)t, info))
			CHECK(info->n_iommus >= 1 &&
			      info->n_iommus <= IVRS_MAX_IOMMUS);
		free(t);
	}
	free(info);
}
