/*
 * Reading a Multiboot 1 kernel image (how test kernels are packaged):
 * either the header's load addresses (a.out kludge) or ELF32/ELF64
 * program headers. Pure code: unit-tested, fuzzable.
 */
#ifndef HV_MBIMAGE_H
#define HV_MBIMAGE_H

#include <hv/types.h>

#define MBIMAGE_MAX_SEGMENTS 8

struct mbimage_segment {
	u64 file_off;
	u64 paddr;
	u64 filesz;
	u64 memsz;		/* >= filesz; the rest is zeroed */
};

struct mbimage_plan {
	u32 nseg;
	struct mbimage_segment seg[MBIMAGE_MAX_SEGMENTS];
	u64 entry;		/* 32-bit protected-mode entry */
};

/* NULL and a plan, or what is wrong with the image. */
const char *mbimage_parse(const u8 *img, u64 size, struct mbimage_plan *out);

#endif
