#include <microhv/hvabi.h>
#include <hv/cpuid.h>
#include <hv/mbimage.h>
#include <hv/string.h>
#include "harness.h"

static struct cpuid_view child = { .root = false, .vp_index = 3,
				   .max_vps = 64, .max_lps = 2 };
static struct cpuid_view root = { .root = true, .max_vps = 64, .max_lps = 2 };

TEST(cpuid_child_sees_hyperv)
{
	struct cpuid_result r = { 1, 2, 3, 4 };

	child.privileges = cpuid_child_privileges(false);
	cpuid_filter(&child, HV_CPUID_VENDOR, 0, &r);
	CHECK_EQ(r.eax, HV_CPUID_MAX_LEAF);
	CHECK_EQ(r.ebx, HV_VENDOR_MICROSOFT_EBX);
	CHECK_EQ(r.ecx, HV_VENDOR_MICROSOFT_ECX);
	CHECK_EQ(r.edx, HV_VENDOR_MICROSOFT_EDX);
	cpuid_filter(&child, HV_CPUID_FEATURES, 0, &r);
	CHECK_EQ(r.eax & 0x60, 0x60);	/* Linux needs bits 5 and 6 */
	CHECK_EQ(r.ebx & BIT(12), 0);	/* never CpuManagement */
	CHECK_EQ(r.ebx & BIT(0), 0);	/* nor CreatePartitions */
	r = (struct cpuid_result){ 9, 9, 9, 9 };
	cpuid_filter(&child, 0x40000081u, 0, &r);	/* not "VS#1" */
	CHECK_EQ(r.eax | r.ebx | r.ecx | r.edx, 0);
	r = (struct cpuid_result){ 0, 0x00010800, ~0u, 0 };
	cpuid_filter(&child, 1, 0, &r);
	CHECK(r.ecx & BIT(31));			/* hypervisor present */
	CHECK_EQ(r.ecx & (BIT(5) | BIT(26) | BIT(27) | BIT(28) | BIT(3)), 0);
	CHECK_EQ(r.ebx >> 24, 3);		/* APIC id = VP index */
}

/* What hyperv-guest-abi.md 1.2 asks for a Linux child. */
TEST(cpuid_lapic_child_gets_linux_enlightenments)
{
	struct cpuid_view lc = child;
	struct cpuid_result r = { 0 };

	lc.lapic = true;
	lc.privileges = cpuid_child_privileges(true);
	cpuid_filter(&lc, HV_CPUID_FEATURES, 0, &r);
	CHECK_EQ(r.eax, 0x0a6e);
	CHECK_EQ(r.ebx, 0x30);
	CHECK_EQ(r.edx, 0x80500);
	cpuid_filter(&lc, HV_CPUID_HINTS, 0, &r);
	CHECK_EQ(r.eax, 0x200);
	CHECK_EQ(r.ebx, 0xffffffffu);
	r = (struct cpuid_result){ 0, 0, ~0u, 0 };
	cpuid_filter(&lc, 1, 0, &r);
	CHECK_EQ(r.ecx & (BIT(21) | BIT(24)), 0);	/* x2APIC, deadline */
	r = (struct cpuid_result){ 0, 0, 0, ~0u };
	cpuid_filter(&lc, 1, 0, &r);
	CHECK_EQ(r.edx & (BIT(7) | BIT(14)), 0);	/* no MCE/MCA */
	r = (struct cpuid_result){ 0, ~0u, 0, 0 };
	cpuid_filter(&lc, 7, 0, &r);
	CHECK_EQ(r.ebx & BIT(1), 0);			/* TSC_ADJUST */
	r = (struct cpuid_result){ 0, 0, ~0u, 0 };
	lc.pke = true;
	cpuid_filter(&lc, 7, 0, &r);
	CHECK_EQ(r.ecx & (BIT(3) | BIT(4)), 0);		/* PKRU not switched */
	/* A child without a LAPIC gets none of it. */
	cpuid_filter(&child, HV_CPUID_FEATURES, 0, &r);
	CHECK_EQ(r.edx, 0);
	CHECK_EQ(r.eax & BIT(2), 0);
}

TEST(cpuid_root_sees_microhv_without_svm)
{
	struct cpuid_result r = { 0, 0, ~0u, 0 };

	root.privileges = cpuid_root_privileges();
	cpuid_filter(&root, 0x80000001u, 0, &r);
	CHECK_EQ(r.ecx & BIT(2), 0);
	/* PKU stays; OSPKE follows the root's CR4.PKE, not ours. */
	r = (struct cpuid_result){ 0, 0, BIT(3) | BIT(4), 0 };
	cpuid_filter(&root, 7, 0, &r);
	CHECK_EQ(r.ecx, BIT(3));
	root.pke = true;
	cpuid_filter(&root, 7, 0, &r);
	CHECK_EQ(r.ecx, BIT(3) | BIT(4));
	root.pke = false;
	r = (struct cpuid_result){ 1, 2, 3, 4 };
	cpuid_filter(&root, 0x8000000au, 0, &r);
	CHECK_EQ(r.eax | r.ebx | r.ecx | r.edx, 0);
	cpuid_filter(&root, HV_CPUID_VENDOR, 0, &r);
	CHECK_EQ(r.ebx, HV_VENDOR_MICROHV_EBX);
	cpuid_filter(&root, HV_CPUID_FEATURES, 0, &r);
	CHECK(r.ebx & BIT(0));			/* CreatePartitions */
	CHECK_EQ(r.ebx & BIT(12), 0);		/* not Microsoft's root */
	/* OSXSAVE follows the root's own CR4. */
	r = (struct cpuid_result){ 0, 0, BIT(27), 0 };
	root.osxsave = false;
	cpuid_filter(&root, 1, 0, &r);
	CHECK_EQ(r.ecx & BIT(27), 0);
	root.osxsave = true;
	cpuid_filter(&root, 1, 0, &r);
	CHECK(r.ecx & BIT(27));
}

static u8 img[16384];

static void put32(u64 off, u32 v)
{
	memcpy(img + off, &v, 4);
}

/* A Multiboot 1 header with the a.out kludge at file offset off. */
static void kludge(u64 off, u32 load, u32 load_end, u32 bss_end, u32 entry)
{
	u32 flags = BIT(0) | BIT(1) | BIT(16);

	memset(img, 0, sizeof(img));
	put32(off, 0x1badb002);
	put32(off + 4, flags);
	put32(off + 8, -(0x1badb002u + flags));
	put32(off + 12, load + (u32)off);
	put32(off + 16, load);
	put32(off + 20, load_end);
	put32(off + 24, bss_end);
	put32(off + 28, entry);
}

TEST(mbimage_aout_kludge)
{
	struct mbimage_plan p;

	kludge(0x1000, 0x400000, 0x402000, 0x408000, 0x400040);
	CHECK_NULL(mbimage_parse(img, sizeof(img), &p));
	CHECK_EQ(p.nseg, 1);
	CHECK_EQ(p.seg[0].file_off, 0);
	CHECK_EQ(p.seg[0].paddr, 0x400000);
	CHECK_EQ(p.seg[0].filesz, 0x2000);
	CHECK_EQ(p.seg[0].memsz, 0x8000);
	CHECK_EQ(p.entry, 0x400040);
	kludge(0x1000, 0x400000, 0x402000, 0x408000, 0x500000);
	CHECK(mbimage_parse(img, sizeof(img), &p));	/* entry outside */
	kludge(0x1000, 0x400000, 0x500000, 0x508000, 0x400040);
	CHECK(mbimage_parse(img, sizeof(img), &p));	/* beyond the file */
	kludge(0x1000, 0x400000, 0x402000, 0x401000, 0x400040);
	CHECK(mbimage_parse(img, sizeof(img), &p));	/* bss before end */
	kludge(0x1000, 0x400000, 0x402000, 0x408000, 0x400040);
	put32(0x1008, 0);				/* bad checksum */
	CHECK_STR(mbimage_parse(img, sizeof(img), &p),
		  "no Multiboot header in the first 8 KiB");
	CHECK(mbimage_parse(img, 10, &p));
}

TEST(mbimage_elf64_segments)
{
	struct mbimage_plan p;
	u32 flags = BIT(1);
	u64 v;
	u16 h;

	memset(img, 0, sizeof(img));
	put32(0x200, 0x1badb002);
	put32(0x204, flags);
	put32(0x208, -(0x1badb002u + flags));
	memcpy(img, "\x7f" "ELF\x02\x01", 6);
	h = 62; memcpy(img + 18, &h, 2);		/* x86-64 */
	v = 0x200010; memcpy(img + 24, &v, 8);		/* entry */
	v = 0x40; memcpy(img + 32, &v, 8);		/* phoff */
	h = 56; memcpy(img + 54, &h, 2);
	h = 2; memcpy(img + 56, &h, 2);
	put32(0x40, 1);					/* PT_LOAD */
	v = 0x1000; memcpy(img + 0x40 + 8, &v, 8);
	v = 0x200000; memcpy(img + 0x40 + 24, &v, 8);
	v = 0x800; memcpy(img + 0x40 + 32, &v, 8);
	v = 0x3000; memcpy(img + 0x40 + 40, &v, 8);
	put32(0x78, 4);					/* PT_NOTE: skipped */
	CHECK_NULL(mbimage_parse(img, sizeof(img), &p));
	CHECK_EQ(p.nseg, 1);
	CHECK_EQ(p.seg[0].paddr, 0x200000);
	CHECK_EQ(p.seg[0].memsz, 0x3000);
	CHECK_EQ(p.entry, 0x200010);
	v = 0x10000; memcpy(img + 0x40 + 32, &v, 8);	/* filesz > memsz */
	CHECK(mbimage_parse(img, sizeof(img), &p));
	v = 0x800; memcpy(img + 0x40 + 32, &v, 8);
	h = 40; memcpy(img + 18, &h, 2);		/* ARM */
	CHECK_STR(mbimage_parse(img, sizeof(img), &p), "ELF machine is not x86");
	h = 62; memcpy(img + 18, &h, 2);
	h = 60000; memcpy(img + 56, &h, 2);		/* phnum runs off */
	CHECK(mbimage_parse(img, sizeof(img), &p));
	/* Video mode requested: refused rather than ignored. */
	h = 2; memcpy(img + 56, &h, 2);
	flags = BIT(1) | BIT(2);
	put32(0x204, flags);
	put32(0x208, -(0x1badb002u + flags));
	CHECK(mbimage_parse(img, sizeof(img), &p));
}
