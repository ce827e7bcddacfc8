/*
 * Multiboot 1 and 2 information parsers. Pure code: everything it reads
 * comes through the phys_reader_fn, so malformed structures from the
 * loader (or from a unit test) are refused instead of followed.
 */
#include <hv/bootinfo.h>
#include <hv/string.h>

#define MB1_FLAG_MEM BIT(0)
#define MB1_FLAG_CMDLINE BIT(2)
#define MB1_FLAG_MODS BIT(3)
#define MB1_FLAG_MMAP BIT(6)
#define MB1_FLAG_LOADER BIT(9)

struct mb1_info {
	u32 flags;
	u32 mem_lower;
	u32 mem_upper;
	u32 boot_device;
	u32 cmdline;
	u32 mods_count;
	u32 mods_addr;
	u32 syms[4];
	u32 mmap_length;
	u32 mmap_addr;
	u32 drives_length;
	u32 drives_addr;
	u32 config_table;
	u32 boot_loader_name;
} __packed;
static_assert(sizeof(struct mb1_info) == 68, "multiboot1 info prefix");

struct mb1_module {
	u32 start;
	u32 end;
	u32 string;
	u32 reserved;
} __packed;
static_assert(sizeof(struct mb1_module) == 16, "multiboot1 module");

struct mb1_mmap_entry {
	u32 size;	/* of the rest of the entry */
	u64 base;
	u64 len;
	u32 type;
} __packed;
static_assert(sizeof(struct mb1_mmap_entry) == 24, "multiboot1 mmap entry");

enum mb2_tag_type {
	MB2_TAG_END = 0,
	MB2_TAG_CMDLINE = 1,
	MB2_TAG_LOADER = 2,
	MB2_TAG_MODULE = 3,
	MB2_TAG_MEMINFO = 4,
	MB2_TAG_MMAP = 6,
	MB2_TAG_ACPI_OLD = 14,
	MB2_TAG_ACPI_NEW = 15,
};

struct mb2_tag {
	u32 type;
	u32 size;
} __packed;

struct mb2_mmap_entry {
	u64 base;
	u64 len;
	u32 type;
	u32 reserved;
} __packed;
static_assert(sizeof(struct mb2_mmap_entry) == 24, "multiboot2 mmap entry");

#define MB2_MAX_INFO (1u << 20)

static const char *copy_string(char *dst, size_t cap, const char *src,
			       size_t avail)
{
	size_t n = strnlen(src, avail);

	if (n == avail)
		return "unterminated string";
	if (n >= cap)
		return "string too long";
	memcpy(dst, src, n);
	dst[n] = '\0';
	return NULL;
}

/* A string at a physical address: read at most cap bytes of it. */
static const char *copy_phys_string(char *dst, size_t cap, u64 pa,
				    phys_reader_fn read, void *ctx)
{
	const char *src = read(pa, cap, ctx);

	if (!src)
		return "string outside memory";
	return copy_string(dst, cap, src, cap);
}

static const char *add_mem(struct boot_info *bi, u64 base, u64 len, u32 type)
{
	if (!len)
		return NULL;
	if (base + len < base)
		return "memory range wraps";
	if (bi->n_mem == BOOT_MAX_MEM)
		return "too many memory ranges";
	bi->mem[bi->n_mem++] = (struct boot_mem_range){ base, len, type };
	return NULL;
}

static const char *add_module(struct boot_info *bi, u64 start, u64 end)
{
	if (end < start)
		return "module ends before it starts";
	if (bi->n_mod == BOOT_MAX_MODULES)
		return "too many modules";
	bi->mods[bi->n_mod].start = hpa(start);
	bi->mods[bi->n_mod].size = end - start;
	bi->n_mod++;
	return NULL;
}

static const char *mb1_mmap(const struct mb1_info *mi, phys_reader_fn read,
			    void *ctx, struct boot_info *bi)
{
	const u8 *p = read(mi->mmap_addr, mi->mmap_length, ctx);
	u32 off = 0;
	const char *err;

	if (!p)
		return "memory map outside memory";
	while (off + sizeof(u32) <= mi->mmap_length) {
		struct mb1_mmap_entry e;

		if (off + sizeof(e) > mi->mmap_length)
			return "truncated memory map entry";
		memcpy(&e, p + off, sizeof(e));
		if (e.size < sizeof(e) - sizeof(u32))
			return "memory map entry too small";
		err = add_mem(bi, e.base, e.len, e.type);
		if (err)
			return err;
		off += e.size + sizeof(u32);
	}
	return NULL;
}

static const char *mb1_modules(const struct mb1_info *mi, phys_reader_fn read,
			       void *ctx, struct boot_info *bi)
{
	const struct mb1_module *m;
	const char *err;

	if (mi->mods_count > BOOT_MAX_MODULES)
		return "too many modules";
	m = read(mi->mods_addr, mi->mods_count * sizeof(*m), ctx);
	if (!m && mi->mods_count)
		return "module list outside memory";
	for (u32 i = 0; i < mi->mods_count; i++) {
		struct mb1_module mod;

		memcpy(&mod, &m[i], sizeof(mod));
		err = add_module(bi, mod.start, mod.end);
		if (!err && mod.string)
			err = copy_phys_string(bi->mods[i].cmdline,
					       BOOT_CMDLINE_LEN, mod.string,
					       read, ctx);
		if (err)
			return err;
	}
	return NULL;
}

static const char *parse_mb1(u64 info_pa, phys_reader_fn read, void *ctx,
			     struct boot_info *bi)
{
	const struct mb1_info *p = read(info_pa, sizeof(*p), ctx);
	struct mb1_info mi;
	const char *err = NULL;

	if (!p)
		return "multiboot1 info outside memory";
	memcpy(&mi, p, sizeof(mi));
	bi->protocol = BOOT_MULTIBOOT1;
	if (mi.flags & MB1_FLAG_CMDLINE)
		err = copy_phys_string(bi->cmdline, BOOT_CMDLINE_LEN,
				       mi.cmdline, read, ctx);
	if (!err && (mi.flags & MB1_FLAG_LOADER))
		err = copy_phys_string(bi->loader, BOOT_LOADER_LEN,
				       mi.boot_loader_name, read, ctx);
	if (!err && (mi.flags & MB1_FLAG_MODS))
		err = mb1_modules(&mi, read, ctx, bi);
	if (err)
		return err;
	if (mi.flags & MB1_FLAG_MMAP)
		return mb1_mmap(&mi, read, ctx, bi);
	if (!(mi.flags & MB1_FLAG_MEM))
		return "loader gave no memory information";
	/* No map: the two classic ranges are all we know about. */
	err = add_mem(bi, 0, (u64)mi.mem_lower * SZ_1K, FW_MEM_RAM);
	if (!err)
		err = add_mem(bi, SZ_1M, (u64)mi.mem_upper * SZ_1K, FW_MEM_RAM);
	return err;
}

static const char *mb2_mmap(const u8 *tag, u32 size, struct boot_info *bi)
{
	u32 esize, off = 16;
	const char *err;

	if (size < 16)
		return "truncated multiboot2 memory map";
	memcpy(&esize, tag + 8, sizeof(esize));
	if (esize < sizeof(struct mb2_mmap_entry) || esize % 8)
		return "bad multiboot2 memory map entry size";
	for (; off + esize <= size; off += esize) {
		struct mb2_mmap_entry e;

		memcpy(&e, tag + off, sizeof(e));
		err = add_mem(bi, e.base, e.len, e.type);
		if (err)
			return err;
	}
	return NULL;
}

static const char *mb2_tag(const u8 *tag, u32 type, u32 size,
			   struct boot_info *bi)
{
	u32 start, end;
	const char *err;

	switch (type) {
	case MB2_TAG_CMDLINE:
		return copy_string(bi->cmdline, BOOT_CMDLINE_LEN,
				   (const char *)tag + 8, size - 8);
	case MB2_TAG_LOADER:
		return copy_string(bi->loader, BOOT_LOADER_LEN,
				   (const char *)tag + 8, size - 8);
	case MB2_TAG_MODULE:
		if (size < 17)
			return "truncated multiboot2 module tag";
		memcpy(&start, tag + 8, 4);
		memcpy(&end, tag + 12, 4);
		err = add_module(bi, start, end);
		if (err)
			return err;
		return copy_string(bi->mods[bi->n_mod - 1].cmdline,
				   BOOT_CMDLINE_LEN, (const char *)tag + 16,
				   size - 16);
	case MB2_TAG_MMAP:
		return mb2_mmap(tag, size, bi);
	case MB2_TAG_ACPI_OLD:
	case MB2_TAG_ACPI_NEW:
		/* Prefer the ACPI 2.0+ copy if both are present. */
		if (bi->have_rsdp && type == MB2_TAG_ACPI_OLD)
			return NULL;
		if (size < 8 + 20)
			return "truncated multiboot2 RSDP tag";
		memset(bi->rsdp, 0, sizeof(bi->rsdp));
		memcpy(bi->rsdp, tag + 8, MIN(size - 8, sizeof(bi->rsdp)));
		bi->have_rsdp = true;
		return NULL;
	default:
		return NULL;	/* tags we do not need */
	}
}

static const char *parse_mb2(u64 info_pa, phys_reader_fn read, void *ctx,
			     struct boot_info *bi)
{
	const u8 *hdr = read(info_pa, 8, ctx);
	const u8 *info;
	u32 total, off = 8;
	bool have_meminfo = false, ended = false;

	if (info_pa % 8)
		return "multiboot2 info not 8-byte aligned";
	if (!hdr)
		return "multiboot2 info outside memory";
	memcpy(&total, hdr, sizeof(total));
	if (total < 16 || total > MB2_MAX_INFO)
		return "bad multiboot2 info size";
	info = read(info_pa, total, ctx);
	if (!info)
		return "multiboot2 info outside memory";
	bi->protocol = BOOT_MULTIBOOT2;
	while (!ended && off + 8 <= total) {
		struct mb2_tag t;
		const char *err;

		memcpy(&t, info + off, sizeof(t));
		if (t.size < 8 || t.size > total - off)
			return "bad multiboot2 tag size";
		ended = t.type == MB2_TAG_END;
		have_meminfo |= t.type == MB2_TAG_MMAP;
		err = mb2_tag(info + off, t.type, t.size, bi);
		if (err)
			return err;
		off += ALIGN_UP(t.size, 8);
	}
	if (!ended)
		return "multiboot2 info has no end tag";
	if (!have_meminfo)
		return "loader gave no memory map";
	return NULL;
}

void strip_image_name(char *s)
{
	char *p = s;

	while (*p == ' ' || *p == '\t')
		p++;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	while (*p == ' ' || *p == '\t')
		p++;
	memmove(s, p, strlen(p) + 1);
}

/*
 * GRUB 2 passes only the arguments; other loaders (QEMU, GRUB legacy)
 * put the file name first, as Xen also found.
 */
static void drop_file_names(struct boot_info *bi)
{
	if (!strncmp(bi->loader, "GRUB 2", 6))
		return;
	strip_image_name(bi->cmdline);
	for (u32 i = 0; i < bi->n_mod; i++)
		strip_image_name(bi->mods[i].cmdline);
}

const char *multiboot_parse(u32 magic, u64 info_pa, phys_reader_fn read,
			    void *ctx, struct boot_info *bi)
{
	const char *err = "not started by a Multiboot loader";

	memset(bi, 0, sizeof(*bi));
	if (magic == MULTIBOOT1_BOOTLOADER_MAGIC)
		err = parse_mb1(info_pa, read, ctx, bi);
	else if (magic == MULTIBOOT2_BOOTLOADER_MAGIC)
		err = parse_mb2(info_pa, read, ctx, bi);
	if (!err)
		drop_file_names(bi);
	return err;
}
