/* The IVRS table's IOMMU descriptions (IVHD). Pure code: unit-tested. */
#include <hv/ivrs.h>
#include <hv/string.h>

#define IVRS_BLOCKS_OFF 48	/* header, IVinfo, 8 reserved bytes */
#define IVHD_LEGACY 0x10
#define IVHD_HEADER_LEGACY 24
#define IVHD_HEADER_EXT 40	/* types 0x11 and 0x40: plus the EFR image */
#define DEV_ALL 1
#define DEV_ALIAS_SELECT 66
#define DEV_ALIAS_RANGE 67
#define DEV_SPECIAL 72
#define DEV_ACPI_HID 0xf0

static bool is_ivhd(u8 type)
{
	return type == 0x10 || type == 0x11 || type == 0x40;
}

static u16 get16(const u8 *p)
{
	u16 v;

	memcpy(&v, p, 2);
	return v;
}

/* 4 or 8 bytes by the type's top bits; ACPI HID ones say their length. */
static u32 entry_len(const u8 *e, u32 left)
{
	if (e[0] < 0x80)
		return 4u << (e[0] >> 6);
	if (e[0] == DEV_ACPI_HID && left > 21)
		return 22u + e[21];
	return 0;
}

static void note_devid(struct ivrs_info *out, u32 id)
{
	out->max_devid = MAX(out->max_devid, id);
}

/* Every DeviceID an entry names (range ends name the top one). */
static void entry_devids(struct ivrs_info *out, const u8 *e, u32 len)
{
	if (e[0] == DEV_ALL) {
		note_devid(out, IVRS_ALL_DEVICES);
	} else if (e[0] == DEV_SPECIAL && len >= 8) {
		note_devid(out, get16(e + 5));
	} else if (e[0] != 0 && len >= 4) {
		note_devid(out, get16(e + 1));
		if ((e[0] == DEV_ALIAS_SELECT || e[0] == DEV_ALIAS_RANGE) &&
		    len >= 8)
			note_devid(out, get16(e + 5));
	}
}

static void parse_entries(struct ivrs_info *out, const u8 *p, u32 off,
			  u32 end)
{
	while (off + 4 <= end) {
		u32 len = entry_len(p + off, end - off);

		if (!len || off + len > end) {
			note_devid(out, IVRS_ALL_DEVICES);
			return;
		}
		entry_devids(out, p + off, len);
		off += len;
	}
}

static void add_iommu(struct ivrs_info *out, const u8 *h)
{
	struct ivrs_iommu u = { 0 };

	u.ivhd_type = h[0];
	u.devid = get16(h + 4);
	u.cap_off = get16(h + 6);
	memcpy(&u.mmio_base, h + 8, 8);
	u.segment = get16(h + 16);
	for (u32 i = 0; i < out->n_iommus; i++)
		if (out->iommus[i].devid == u.devid &&
		    out->iommus[i].segment == u.segment)
			return;		/* the same IOMMU, another IVHD type */
	if (out->n_iommus == IVRS_MAX_IOMMUS) {
		out->n_over_limit++;
		return;
	}
	out->iommus[out->n_iommus++] = u;
}

const char *ivrs_parse(const struct acpi_table_header *ivrs,
		       struct ivrs_info *out)
{
	const u8 *p = (const u8 *)ivrs;
	u32 off = IVRS_BLOCKS_OFF;

	memset(out, 0, sizeof(*out));
	if (memcmp(ivrs->signature, "IVRS", 4) || ivrs->length < off)
		return "IVRS malformed";
	while (off + 4 <= ivrs->length) {
		u32 len = get16(p + off + 2);
		u32 hdr = p[off] == IVHD_LEGACY ? IVHD_HEADER_LEGACY :
						  IVHD_HEADER_EXT;

		if (len < 4 || off + len > ivrs->length)
			return "IVRS block overruns the table";
		if (is_ivhd(p[off])) {
			if (len < hdr)
				return "IVHD shorter than its header";
			add_iommu(out, p + off);
			parse_entries(out, p, off + hdr, off + len);
		}
		off += len;
	}
	if (!out->n_iommus)
		return "IVRS describes no IOMMU";
	for (u32 i = 0; i < out->n_iommus; i++)
		if (!out->iommus[i].mmio_base ||
		    !IS_ALIGNED(out->iommus[i].mmio_base, 0x4000))
			return "IVHD register base missing or not aligned";
	return NULL;
}
