/* Multiboot 1 image parsing. Pure code: unit-tested on the host. */
#include <hv/mbimage.h>
#include <hv/string.h>

#define MB1_HEADER_MAGIC 0x1badb002u
#define MB1_SEARCH 8192
#define MB1_AOUT_KLUDGE BIT(16)
#define MB1_UNSUPPORTED_REQUIRED 0xfffcu	/* bits 2-15: video etc. */

struct mb1_header {
	u32 magic, flags, checksum;
	u32 header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
} __packed;

static const char *from_kludge(const struct mb1_header *h, u64 hoff,
			       u64 size, struct mbimage_plan *out)
{
	u64 start, end, bss;

	if (h->header_addr < h->load_addr ||
	    h->header_addr - h->load_addr > hoff)
		return "a.out kludge: header_addr before load_addr";
	start = hoff - (h->header_addr - h->load_addr);
	end = h->load_end_addr ? h->load_end_addr - (u64)h->load_addr :
				 size - start;
	if (h->load_end_addr && h->load_end_addr < h->load_addr)
		return "a.out kludge: load_end_addr before load_addr";
	if (start + end > size)
		return "a.out kludge: load range beyond the file";
	bss = h->bss_end_addr ? h->bss_end_addr - (u64)h->load_addr : end;
	if (bss < end)
		return "a.out kludge: bss_end_addr before load_end_addr";
	if (h->entry_addr < h->load_addr || h->entry_addr >= h->load_addr + bss)
		return "a.out kludge: entry outside the image";
	out->nseg = 1;
	out->seg[0] = (struct mbimage_segment){ start, h->load_addr, end, bss };
	out->entry = h->entry_addr;
	return NULL;
}

/* ELF header fields we need, for both classes. */
struct elf_view {
	u64 entry, phoff;
	u32 phentsize, phnum;
	bool is64;
};

static const char *elf_view(const u8 *img, u64 size, struct elf_view *v)
{
	u16 machine;

	if (size < 52 || memcmp(img, "\x7f" "ELF", 4))
		return "neither an a.out-kludge header nor an ELF file";
	v->is64 = img[4] == 2;
	if ((img[4] != 1 && img[4] != 2) || img[5] != 1)
		return "ELF class or byte order not supported";
	memcpy(&machine, img + 18, 2);
	if (machine != (v->is64 ? 62 : 3))
		return "ELF machine is not x86";
	if (v->is64) {
		if (size < 64)
			return "ELF header truncated";
		memcpy(&v->entry, img + 24, 8);
		memcpy(&v->phoff, img + 32, 8);
		v->phentsize = *(const u16 *)(img + 54);
		v->phnum = *(const u16 *)(img + 56);
	} else {
		u32 e, ph;

		memcpy(&e, img + 24, 4);
		memcpy(&ph, img + 28, 4);
		v->entry = e;
		v->phoff = ph;
		v->phentsize = *(const u16 *)(img + 42);
		v->phnum = *(const u16 *)(img + 44);
	}
	if (v->phentsize < (v->is64 ? 56u : 32u) ||
	    v->phoff > size || (u64)v->phnum * v->phentsize > size - v->phoff)
		return "ELF program headers outside the file";
	return NULL;
}

static void read_phdr(const u8 *p, bool is64, u32 *type,
		      struct mbimage_segment *s)
{
	memcpy(type, p, 4);
	if (is64) {
		memcpy(&s->file_off, p + 8, 8);
		memcpy(&s->paddr, p + 24, 8);
		memcpy(&s->filesz, p + 32, 8);
		memcpy(&s->memsz, p + 40, 8);
	} else {
		u32 f[5];

		memcpy(f, p + 4, sizeof(f));
		*s = (struct mbimage_segment){ f[0], f[2], f[3], f[4] };
	}
}

static const char *from_elf(const u8 *img, u64 size, struct mbimage_plan *out)
{
	struct elf_view v;
	const char *err = elf_view(img, size, &v);

	if (err)
		return err;
	out->nseg = 0;
	for (u32 i = 0; i < v.phnum; i++) {
		struct mbimage_segment s;
		u32 type;

		read_phdr(img + v.phoff + (u64)i * v.phentsize, v.is64, &type,
			  &s);
		if (type != 1 /* PT_LOAD */ || !s.memsz)
			continue;
		if (s.filesz > s.memsz || s.file_off > size ||
		    s.filesz > size - s.file_off || s.paddr + s.memsz < s.paddr)
			return "ELF segment outside the file";
		if (out->nseg == MBIMAGE_MAX_SEGMENTS)
			return "too many ELF segments";
		out->seg[out->nseg++] = s;
	}
	if (!out->nseg)
		return "ELF file has nothing to load";
	if (v.entry >= SZ_4G)
		return "ELF entry point above 4 GiB";
	out->entry = v.entry;
	return NULL;
}

const char *mbimage_parse(const u8 *img, u64 size, struct mbimage_plan *out)
{
	u64 limit = MIN(size, MB1_SEARCH);

	memset(out, 0, sizeof(*out));
	for (u64 off = 0; off + sizeof(struct mb1_header) <= limit; off += 4) {
		struct mb1_header h;

		memcpy(&h, img + off, sizeof(h));
		if (h.magic != MB1_HEADER_MAGIC ||
		    h.magic + h.flags + h.checksum != 0)
			continue;
		if (h.flags & MB1_UNSUPPORTED_REQUIRED)
			return "Multiboot header asks for features microhv lacks";
		if (h.flags & MB1_AOUT_KLUDGE)
			return from_kludge(&h, off, size, out);
		return from_elf(img, size, out);
	}
	return "no Multiboot header in the first 8 KiB";
}
