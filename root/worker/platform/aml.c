/*
 * A tiny AML emitter. Encodings follow ACPI 6.5 chapter 20 (AML grammar)
 * and section 6.4 (resource descriptors); iasl produces the same bytes
 * for the same ASL.
 */
#include <errno.h>
#include <string.h>

#include "aml.h"

/* AML opcodes and prefixes (ACPI 6.5 section 20.3). */
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_DUAL_NAME_PREFIX 0x2e
#define AML_MULTI_NAME_PREFIX 0x2f
#define AML_EXT_OP_PREFIX 0x5b
#define AML_DEVICE_OP 0x82		/* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR '\\'
#define AML_PARENT_PREFIX_CHAR '^'
#define AML_NULL_NAME 0x00

/* Resource descriptor tags (ACPI 6.5 section 6.4). */
#define RES_IO_PORT 0x47		/* small item 0x08, length 7 */
#define RES_IO_DECODE16 0x01
#define RES_END_TAG 0x79		/* small item 0x0f, length 1 */
#define RES_QWORD_ADDRESS 0x8a		/* large item 0x0a */
#define RES_QWORD_LEN 43		/* bytes after the 3-byte header */
#define RES_TYPE_MEMORY 0
#define RES_FLAG_MIN_FIXED 0x04
#define RES_FLAG_MAX_FIXED 0x08
#define RES_MEM_READ_WRITE 0x01
#define RES_MEM_CACHEABLE 0x02		/* _MEM field = 1 */

#define NAME_SEG_SIZE 4
#define MAX_NAME_SEGS 255

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = buf ? cap : 0;
}

int aml_finish(const struct aml *a)
{
	if (a->invalid || a->depth)
		return -EINVAL;
	return a->overflow ? -ENOSPC : 0;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (!n)
		return;
	if (a->len + n > a->cap)
		a->overflow = true;
	if (!a->overflow)
		memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

/* Little-endian, like every multi-byte AML and descriptor field. */
static void aml_le(struct aml *a, uint64_t v, unsigned int n)
{
	while (n--) {
		aml_byte(a, (uint8_t)v);
		v >>= 8;
	}
}

static bool lead_name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
	return lead_name_char(c) || (c >= '0' && c <= '9');
}

/* Length of the segment at s, or 0 if it is not a valid NameSeg. */
static size_t name_seg_len(const char *s)
{
	size_t n = 0;

	if (!lead_name_char(s[0]))
		return 0;
	while (name_char(s[n]))
		n++;
	if (n > NAME_SEG_SIZE || (s[n] != '.' && s[n] != '\0'))
		return 0;
	return n;
}

/* Counts the segments of a dotted path; 0 if one of them is invalid. */
static size_t count_name_segs(const char *s)
{
	size_t segs = 0;

	for (;;) {
		size_t n = name_seg_len(s);

		if (!n || ++segs > MAX_NAME_SEGS)
			return 0;
		s += n;
		if (*s == '\0')
			return segs;
		s++;			/* the dot */
	}
}

static void emit_name_segs(struct aml *a, const char *s, size_t segs)
{
	if (segs == 2)
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	else if (segs > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)segs);
	}
	while (segs--) {
		size_t n = name_seg_len(s);
		char seg[NAME_SEG_SIZE] = { '_', '_', '_', '_' };

		memcpy(seg, s, n);
		aml_bytes(a, seg, NAME_SEG_SIZE);
		s += n + 1;
	}
}

void aml_name_string(struct aml *a, const char *path)
{
	const char *s = path;
	size_t segs;

	if (*s == AML_ROOT_CHAR)
		s++;
	else
		while (*s == AML_PARENT_PREFIX_CHAR)
			s++;
	if (*s == '\0' && s != path) {
		aml_bytes(a, path, (size_t)(s - path));
		aml_byte(a, AML_NULL_NAME);
		return;
	}
	segs = count_name_segs(s);
	if (!segs) {
		a->invalid = true;
		return;
	}
	aml_bytes(a, path, (size_t)(s - path));
	emit_name_segs(a, s, segs);
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0) {
		aml_byte(a, AML_ZERO_OP);
	} else if (v == 1) {
		aml_byte(a, AML_ONE_OP);
	} else if (v <= UINT8_MAX) {
		aml_byte(a, AML_BYTE_PREFIX);
		aml_le(a, v, 1);
	} else if (v <= UINT16_MAX) {
		aml_byte(a, AML_WORD_PREFIX);
		aml_le(a, v, 2);
	} else if (v <= UINT32_MAX) {
		aml_byte(a, AML_DWORD_PREFIX);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		aml_le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	for (const char *c = s; *c; c++) {
		if (*c < 0x20 || *c > 0x7e) {
			a->invalid = true;
			return;
		}
	}
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Three letters of five bits each ('A' is 1) and four hex digits, packed
 * big-endian into 32 bits. False if id is not of that form.
 */
static bool eisaid_value(const char *id, uint32_t *out)
{
	uint32_t v = 0;

	if (strlen(id) != 7)
		return false;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return false;
		v = v << 5 | (uint32_t)(id[i] - 0x40);
	}
	for (int i = 3; i < 7; i++) {
		if (hex_digit(id[i]) < 0)
			return false;
		v = v << 4 | (uint32_t)hex_digit(id[i]);
	}
	*out = v;
	return true;
}

/* AML stores the id byte-swapped: the first letter in the lowest byte. */
void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v;

	if (!eisaid_value(id, &v)) {
		a->invalid = true;
		return;
	}
	aml_byte(a, AML_DWORD_PREFIX);
	aml_le(a, __builtin_bswap32(v), 4);
}

void aml_name(struct aml *a, const char *path)
{
	aml_byte(a, AML_NAME_OP);
	aml_name_string(a, path);
}

/*
 * A PkgLength counts itself: 1 byte holds up to 63; n bytes (2..4) hold a
 * 4-bit nibble plus 8 bits per following byte.
 */
unsigned int aml_pkglen_size(size_t body_len)
{
	if (body_len + 1 <= 0x3f)
		return 1;
	if (body_len + 2 <= 0xfff)
		return 2;
	if (body_len + 3 <= 0xfffff)
		return 3;
	return 4;
}

static void encode_pkglen(uint8_t *out, size_t total, unsigned int n)
{
	if (n == 1) {
		out[0] = (uint8_t)total;
		return;
	}
	out[0] = (uint8_t)((n - 1) << 6 | (total & 0x0f));
	for (unsigned int i = 1; i < n; i++)
		out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
}

static void open_package(struct aml *a)
{
	if (a->depth == AML_MAX_DEPTH) {
		a->invalid = true;
		return;
	}
	a->open[a->depth++] = a->len;
}

/*
 * The body is already in place; slide it up to make room for its
 * PkgLength, whose size was unknown until now.
 */
void aml_end(struct aml *a)
{
	size_t start, body;
	unsigned int n;

	if (!a->depth) {
		a->invalid = true;
		return;
	}
	start = a->open[--a->depth];
	body = a->len - start;
	n = aml_pkglen_size(body);
	if (body + n > AML_PKGLEN_MAX)
		a->invalid = true;
	if (a->len + n > a->cap)
		a->overflow = true;
	if (!a->overflow) {
		memmove(a->buf + start + n, a->buf + start, body);
		encode_pkglen(a->buf + start, body + n, n);
	}
	a->len += n;
}

void aml_scope_begin(struct aml *a, const char *path)
{
	aml_byte(a, AML_SCOPE_OP);
	open_package(a);
	aml_name_string(a, path);
}

void aml_device_begin(struct aml *a, const char *path)
{
	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	open_package(a);
	aml_name_string(a, path);
}

void aml_package_begin(struct aml *a, uint8_t num_elements)
{
	aml_byte(a, AML_PACKAGE_OP);
	open_package(a);
	aml_byte(a, num_elements);
}

void aml_buffer(struct aml *a, const void *bytes, size_t n)
{
	aml_byte(a, AML_BUFFER_OP);
	open_package(a);
	aml_integer(a, n);
	aml_bytes(a, bytes, n);
	aml_end(a);
}

void aml_res_init(struct aml_res *r)
{
	memset(r, 0, sizeof(*r));
}

static void res_bytes(struct aml_res *r, const uint8_t *p, size_t n)
{
	if (r->overflow || r->len + n > sizeof(r->bytes)) {
		r->overflow = true;
		return;
	}
	memcpy(r->bytes + r->len, p, n);
	r->len += n;
}

static void put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

void aml_res_io16(struct aml_res *r, uint16_t min, uint16_t max,
		  uint8_t align, uint8_t len)
{
	uint8_t d[8] = { RES_IO_PORT, RES_IO_DECODE16 };

	put_le(d + 2, min, 2);
	put_le(d + 4, max, 2);
	d[6] = align;
	d[7] = len;
	res_bytes(r, d, sizeof(d));
}

void aml_res_qword_memory(struct aml_res *r, uint64_t base, uint64_t size)
{
	uint8_t d[3 + RES_QWORD_LEN] = { RES_QWORD_ADDRESS };

	put_le(d + 1, RES_QWORD_LEN, 2);
	d[3] = RES_TYPE_MEMORY;
	/* Producer and positive decode are the zero settings. */
	d[4] = RES_FLAG_MIN_FIXED | RES_FLAG_MAX_FIXED;
	d[5] = RES_MEM_CACHEABLE | RES_MEM_READ_WRITE;
	put_le(d + 6, 0, 8);			/* granularity */
	put_le(d + 14, base, 8);		/* minimum */
	put_le(d + 22, base + size - 1, 8);	/* maximum */
	put_le(d + 30, 0, 8);			/* translation offset */
	put_le(d + 38, size, 8);		/* length */
	res_bytes(r, d, sizeof(d));
}

/* A zero checksum in the End Tag means "treat as valid" (ACPI 6.4.2.9). */
void aml_resource_template(struct aml *a, const struct aml_res *r)
{
	static const uint8_t end_tag[2] = { RES_END_TAG, 0 };
	uint8_t all[AML_RES_MAX + sizeof(end_tag)];

	if (r->overflow) {
		a->invalid = true;
		return;
	}
	memcpy(all, r->bytes, r->len);
	memcpy(all + r->len, end_tag, sizeof(end_tag));
	aml_buffer(a, all, r->len + sizeof(end_tag));
}
