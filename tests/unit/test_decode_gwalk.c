#include <stdlib.h>
#include <hv/decode.h>
#include <hv/gwalk.h>
#include <hv/linuxboot.h>
#include <hv/string.h>
#include "harness.h"

static struct mmio_insn in;

#define DEC(bytes, lm) decode_mmio((const u8 *)(bytes), sizeof(bytes) - 1, \
				   (lm), &in)

TEST(decode_linux_apic_accesses)
{
	/* mov %eax,0xffffffffff5fd0b0: how Linux writes an xAPIC register */
	CHECK_NULL(DEC("\x89\x04\x25\xb0\xd0\x5f\xff", true));
	CHECK_EQ(in.len, 7);
	CHECK(in.write && !in.has_imm);
	CHECK_EQ(in.size, 4);
	CHECK_EQ(in.reg, 0);
	/* mov 0xffffffffff5fd020,%r12d (REX.R) */
	CHECK_NULL(DEC("\x44\x8b\x24\x25\x20\xd0\x5f\xff", true));
	CHECK_EQ(in.len, 8);
	CHECK(!in.write);
	CHECK_EQ(in.reg, 12);
	/* mov %esi,0x300(%rdi) */
	CHECK_NULL(DEC("\x89\xb7\x00\x03\x00\x00", true));
	CHECK_EQ(in.len, 6);
	CHECK_EQ(in.reg, 6);
	/* mov %ecx,0x10(%rax,%rbx,4) */
	CHECK_NULL(DEC("\x89\x4c\x98\x10", true));
	CHECK_EQ(in.len, 4);
	/* movl $0x0,0xb0(%rdx) */
	CHECK_NULL(DEC("\xc7\x82\xb0\x00\x00\x00\x00\x00\x00\x00", true));
	CHECK_EQ(in.len, 10);
	CHECK(in.write && in.has_imm);
	CHECK_EQ(in.imm, 0);
	/* movq $-1,(%rax): imm32 sign-extends */
	CHECK_NULL(DEC("\x48\xc7\x00\xff\xff\xff\xff", true));
	CHECK_EQ(in.size, 8);
	CHECK_EQ(in.imm, ~0ull);
	/* mov %ax,(%rbx) with 0x66 */
	CHECK_NULL(DEC("\x66\x89\x03", true));
	CHECK_EQ(in.size, 2);
	/* RIP-relative: mov 0x1234(%rip),%eax */
	CHECK_NULL(DEC("\x8b\x05\x34\x12\x00\x00", true));
	CHECK_EQ(in.len, 6);
}

TEST(decode_moffs_moves)
{
	/* movabs 0xfee00020,%eax: what gcc emits for a constant address */
	CHECK_NULL(DEC("\xa1\x20\x00\xe0\xfe\x00\x00\x00\x00", true));
	CHECK_EQ(in.len, 9);
	CHECK(!in.write && !in.has_imm);
	CHECK_EQ(in.reg, 0);
	CHECK_EQ(in.size, 4);
	/* movabs %rax,0xfee000b0 (REX.W) */
	CHECK_NULL(DEC("\x48\xa3\xb0\x00\xe0\xfe\x00\x00\x00\x00", true));
	CHECK_EQ(in.len, 10);
	CHECK(in.write);
	CHECK_EQ(in.size, 8);
	/* 32-bit code: a 4-byte address */
	CHECK_NULL(DEC("\xa3\xb0\x00\xe0\xfe", false));
	CHECK_EQ(in.len, 5);
	/* cut short */
	CHECK(DEC("\xa1\x20\x00\xe0\xfe", true));
}

TEST(decode_refuses_what_it_does_not_know)
{
	CHECK(DEC("\x01\x02", true));		/* add */
	CHECK(DEC("\x89\xc0", true));		/* register to register */
	CHECK(DEC("\x89\x04", true));		/* SIB missing */
	CHECK(DEC("\x89\x80\x00\x00", true));	/* disp32 cut short */
	CHECK(DEC("\xc7\x08\x00\x00\x00\x00", true));	/* C7 /1 */
	CHECK(DEC("", true));
	CHECK(DEC("\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66"
		  "\x66\x89\x00", true));		/* longer than 15 */
}

TEST(decode_random_bytes_stay_in_bounds)
{
	u8 buf[15];
	u64 x = 42;

	for (int i = 0; i < 200000; i++) {
		u32 n = 0;
		for (u32 k = 0; k < sizeof(buf); k++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			buf[k] = (u8)x;
		}
		n = (u32)(x % 16);
		u8 *copy = malloc(n ? n : 1);
		memcpy(copy, buf, n);
		if (!decode_mmio(copy, n, x & 1, &in))
			CHECK(in.len <= n && in.len <= 15);
		free(copy);
	}
}

TEST(gwalk_four_and_five_levels)
{
	u8 *m = fake_mem_add(0x100000, 0x10000);
	u64 gpa;
	struct gwalk_regs r = { .cr0 = BIT(31) | 1, .cr3 = 0x100000,
				.cr4 = BIT(5), .efer = BIT(10) | BIT(8) };
	u64 e;

	memset(m, 0, 0x10000);
	/* PML4[511] -> PDPT at 0x101000; PDPT[510] -> PD at 0x102000;
	 * PD[0] -> PT at 0x103000; PT[3] -> 0x7000. gva 0xffffffff80003xyz */
	e = 0x101003; memcpy(m + 511 * 8, &e, 8);
	e = 0x102003; memcpy(m + 0x1000 + 510 * 8, &e, 8);
	e = 0x103003; memcpy(m + 0x2000, &e, 8);
	e = 0x7003; memcpy(m + 0x3000 + 3 * 8, &e, 8);
	CHECK(gva_to_gpa(&r, 0xffffffff80003123ull, fake_read, NULL, &gpa));
	CHECK_EQ(gpa, 0x7123);
	CHECK(!gva_to_gpa(&r, 0xffffffff80004000ull, fake_read, NULL, &gpa));
	/* A 2 MiB page in PD[1]. */
	e = 0x40000000 | 0x83; memcpy(m + 0x2000 + 8, &e, 8);
	CHECK(gva_to_gpa(&r, 0xffffffff80212345ull, fake_read, NULL, &gpa));
	CHECK_EQ(gpa, 0x40012345);
	/* Five levels: PML5[0] -> the PML4 at 0x104000 -> ... */
	r.cr4 |= BIT(12);
	r.cr3 = 0x105000;
	e = 0x100003; memcpy(m + 0x5000 + 511 * 8, &e, 8);
	CHECK(gva_to_gpa(&r, 0xffffffff80003123ull,
			 fake_read, NULL, &gpa));
	CHECK_EQ(gpa, 0x7123);
	/* Paging off: identity. */
	r.cr0 = 1;
	CHECK(gva_to_gpa(&r, 0x1234, fake_read, NULL, &gpa));
	CHECK_EQ(gpa, 0x1234);
	/* Tables outside memory: not mapped. */
	r.cr0 = BIT(31) | 1;
	r.cr4 = BIT(5);
	r.cr3 = 0x900000;
	CHECK(!gva_to_gpa(&r, 0x1000, fake_read, NULL, &gpa));
}

TEST(linux_bzimage_header)
{
	static u8 img[0x3000];
	struct linux_image li;
	u32 v;
	u64 pref = 0x1000000;
	u8 *bp = malloc(LINUX_BOOT_PARAMS_SIZE);
	struct linux_e820 e[2] = { { 0, 0x9f000, 1 }, { 0x100000, 1 << 30, 1 } };
	struct linux_boot_args a = { .kernel_addr = 0x1000000,
				     .cmdline_addr = 0x11000,
				     .initrd_addr = 0x3000000,
				     .initrd_size = 0x123456,
				     .n_e820 = 2, .e820 = e };

	memset(img, 0, sizeof(img));
	CHECK(linux_image_parse(img, sizeof(img), &li));	/* no HdrS */
	img[0x1f1] = 3;				/* setup_sects */
	memcpy(img + 0x202, "HdrS", 4);
	v = 0x020f; memcpy(img + 0x206, &v, 4);
	img[0x201] = 0x6a;			/* header ends at 0x26c */
	img[0x211] = 1;				/* LOADED_HIGH */
	v = 0x10000000; memcpy(img + 0x230, &v, 4);	/* 256 MiB align */
	img[0x234] = 1;
	v = 1; memcpy(img + 0x236, &v, 2);	/* XLF_KERNEL_64 */
	memcpy(img + 0x258, &pref, 8);
	v = 0x10000; memcpy(img + 0x260, &v, 4);
	v = 0x7fffffff; memcpy(img + 0x22c, &v, 4);
	CHECK_NULL(linux_image_parse(img, sizeof(img), &li));
	CHECK_EQ(li.setup_size, 4 * 512);
	CHECK_EQ(li.kernel_size, sizeof(img) - 4 * 512);
	CHECK_EQ(li.pref_address, 0x1000000);
	CHECK_EQ(li.init_size, 0x10000);
	CHECK(li.relocatable);
	CHECK_NULL(linux_boot_params(bp, img, &a));
	CHECK_EQ(bp[0x210], 0xff);		/* type_of_loader */
	CHECK(bp[0x211] & 0x80);		/* CAN_USE_HEAP */
	memcpy(&v, bp + 0x228, 4); CHECK_EQ(v, 0x11000);
	memcpy(&v, bp + 0x218, 4); CHECK_EQ(v, 0x3000000);
	memcpy(&v, bp + 0x21c, 4); CHECK_EQ(v, 0x123456);
	CHECK_EQ(bp[0x1e8], 2);
	CHECK(!memcmp(bp + 0x202, "HdrS", 4));
	a.n_e820 = LINUX_E820_MAX + 1;
	CHECK(linux_boot_params(bp, img, &a));
	v = 0x0202; memcpy(img + 0x206, &v, 4);
	CHECK(linux_image_parse(img, sizeof(img), &li));	/* too old */
	v = 0x020f; memcpy(img + 0x206, &v, 4);
	img[0x236] = 0;
	CHECK_STR(linux_image_parse(img, sizeof(img), &li),
		  "not a 64-bit kernel");
	free(bp);
}
