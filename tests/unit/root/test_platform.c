/*
 * The worker's platform pieces: ACPI tables (checked byte by byte and
 * with a small AML walker), the AML emitter, the 16550A UART (including a
 * replay of Linux's 8250 autoconfig) and the ACPI sleep/reset registers.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "worker/platform/acpi.h"
#include "worker/platform/aml.h"
#include "worker/platform/pm.h"
#include "worker/platform/uart.h"

/* ---------------------------------------------------------------- ACPI */

#define BASE_GPA 0xe0000ull

static uint8_t tables[16384];

static const struct acpi_config default_config = {
	.n_vps = 4,
	.pm = {
		.sleep_control_port = PM_DEFAULT_SLEEP_CONTROL_PORT,
		.sleep_status_port = PM_DEFAULT_SLEEP_STATUS_PORT,
		.s5_slp_typ = PM_DEFAULT_S5_SLP_TYP,
		.reset_port = PM_DEFAULT_RESET_PORT,
		.reset_value = PM_DEFAULT_RESET_VALUE,
	},
	.mmio_base = 0xf8000000,
	.mmio_size = 0x04000000,
};

static uint64_t le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static struct acpi_tables build(const struct acpi_config *cfg, uint64_t base)
{
	struct acpi_tables t;

	memset(tables, 0xcc, sizeof(tables));
	CHECK_EQ(acpi_build(cfg, base, tables, sizeof(tables), &t), 0);
	CHECK(t.size <= sizeof(tables));
	return t;
}

/* The table at a guest-physical address, checked as a table. */
static const uint8_t *table_at(uint64_t base, uint64_t gpa, const char *sig)
{
	const uint8_t *t;
	uint32_t len;

	CHECK(gpa >= base && gpa - base + 36 <= sizeof(tables));
	t = tables + (gpa - base);
	len = (uint32_t)le(t + 4, 4);
	CHECK(!memcmp(t, sig, 4));
	CHECK(len >= 36 && gpa - base + len <= sizeof(tables));
	CHECK_EQ(sum(t, len), 0);
	return t;
}

static const uint8_t *xsdt_of(uint64_t base, const struct acpi_tables *t)
{
	const uint8_t *rsdp = tables + (t->rsdp_gpa - base);

	return table_at(base, le(rsdp + 24, 8), "XSDT");
}

/* Finds a table through RSDP -> XSDT (DSDT through the FADT). */
static const uint8_t *find_table(uint64_t base, const struct acpi_tables *t,
				 const char *sig)
{
	const uint8_t *xsdt = xsdt_of(base, t);
	uint32_t n = ((uint32_t)le(xsdt + 4, 4) - 36) / 8;

	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *h = tables + (le(xsdt + 36 + 8 * i, 8) - base);

		if (!memcmp(h, sig, 4))
			return table_at(base, le(xsdt + 36 + 8 * i, 8), sig);
		if (!memcmp(sig, "DSDT", 4) && !memcmp(h, "FACP", 4))
			return table_at(base, le(h + 0x8c, 8), "DSDT");
	}
	CHECK(!"table not found");
	return NULL;
}

TEST(acpi_rsdp_revision2_both_checksums)
{
	struct acpi_tables t = build(&default_config, BASE_GPA);
	const uint8_t *r = tables;

	CHECK_EQ(t.rsdp_gpa, BASE_GPA);
	CHECK(!memcmp(r, "RSD PTR ", 8));
	CHECK_EQ(r[15], 2);			/* revision */
	CHECK_EQ(le(r + 16, 4), 0);		/* no RSDT */
	CHECK_EQ(le(r + 20, 4), 36);		/* length */
	CHECK_EQ(sum(r, 20), 0);
	CHECK_EQ(sum(r, 36), 0);
	CHECK(!memcmp(r + 9, "MHV   ", 6));
	xsdt_of(BASE_GPA, &t);
}

TEST(acpi_xsdt_lists_fadt_and_madt)
{
	struct acpi_tables t = build(&default_config, BASE_GPA);
	const uint8_t *x = xsdt_of(BASE_GPA, &t);

	CHECK_EQ(le(x + 4, 4), 36 + 16);
	CHECK_EQ(x[8], 1);
	table_at(BASE_GPA, le(x + 36, 8), "FACP");
	table_at(BASE_GPA, le(x + 44, 8), "APIC");
	CHECK(!memcmp(x + 10, "MHV   MICROHV ", 14));
	CHECK(!memcmp(x + 28, "MHVW", 4));
}

static void check_io_gas(const uint8_t *g, uint16_t port)
{
	CHECK_EQ(g[0], 1);			/* SystemIO */
	CHECK_EQ(g[1], 8);			/* bit width */
	CHECK_EQ(g[2], 0);			/* bit offset */
	CHECK_EQ(g[3], 1);			/* byte access */
	CHECK_EQ(le(g + 4, 8), port);
}

TEST(acpi_fadt_hw_reduced_with_sleep_and_reset_registers)
{
	struct acpi_tables t = build(&default_config, BASE_GPA);
	const uint8_t *f = find_table(BASE_GPA, &t, "FACP");
	const uint8_t *d = find_table(BASE_GPA, &t, "DSDT");
	uint32_t flags = (uint32_t)le(f + 0x70, 4);

	CHECK_EQ(le(f + 4, 4), 276);
	CHECK_EQ(f[8], 6);			/* revision */
	CHECK(flags & (1u << 20));		/* HW_REDUCED_ACPI */
	CHECK(flags & (1u << 10));		/* RESET_REG_SUP */
	CHECK_EQ(le(f + 0x24, 4), 0);		/* no FACS */
	CHECK_EQ(le(f + 0x2e, 2), 0);		/* no SCI */
	/* No VGA, no CMOS RTC, and the 8042 bit clear. */
	CHECK_EQ(le(f + 0x6d, 2), (1u << 2) | (1u << 5));
	check_io_gas(f + 0x74, 0xcf9);
	CHECK_EQ(f[0x80], 0x06);
	CHECK_EQ(le(f + 0x8c, 8), BASE_GPA + (uint64_t)(d - tables));
	CHECK_EQ(le(f + 0x28, 4), BASE_GPA + (uint64_t)(d - tables));
	check_io_gas(f + 0xf4, 0x600);
	check_io_gas(f + 0x100, 0x601);
	CHECK(!memcmp(f + 0x10c, "MICROHV ", 8));
	for (unsigned int off = 0x38; off < 0x58; off++)
		CHECK_EQ(f[off], 0);		/* no PM1/PM2/PMT/GPE */
}

TEST(acpi_tables_above_4g_use_64bit_pointers_only)
{
	const uint64_t base = 0x100000000ull;
	struct acpi_tables t = build(&default_config, base);
	const uint8_t *f = find_table(base, &t, "FACP");
	const uint8_t *d = find_table(base, &t, "DSDT");

	CHECK_EQ(t.rsdp_gpa, base);
	CHECK_EQ(le(f + 0x28, 4), 0);
	CHECK_EQ(le(f + 0x8c, 8), base + (uint64_t)(d - tables));
}

TEST(acpi_madt_one_enabled_lapic_per_vp)
{
	struct acpi_config c = default_config;
	struct acpi_tables t;
	const uint8_t *m;

	c.n_vps = 3;
	t = build(&c, BASE_GPA);
	m = find_table(BASE_GPA, &t, "APIC");
	CHECK_EQ(le(m + 4, 4), 44 + 3 * 8);
	CHECK_EQ(le(m + 36, 4), 0xfee00000u);
	CHECK_EQ(le(m + 40, 4), 0);		/* no PCAT_COMPAT */
	for (unsigned int vp = 0; vp < 3; vp++) {
		const uint8_t *e = m + 44 + 8 * vp;

		CHECK_EQ(e[0], 0);		/* Processor Local APIC */
		CHECK_EQ(e[1], 8);
		CHECK_EQ(e[2], vp);		/* processor UID */
		CHECK_EQ(e[3], vp);		/* APIC id */
		CHECK_EQ(le(e + 4, 4), 1);	/* enabled */
	}
}

TEST(acpi_madt_handles_255_vps)
{
	struct acpi_config c = default_config;
	struct acpi_tables t;
	const uint8_t *m;

	c.n_vps = ACPI_MAX_VPS;
	t = build(&c, BASE_GPA);
	m = find_table(BASE_GPA, &t, "APIC");
	CHECK_EQ(le(m + 4, 4), 44 + 255 * 8);
	CHECK_EQ(m[44 + 254 * 8 + 3], 254);
}

TEST(acpi_rejects_bad_configs)
{
	struct acpi_config c;
	struct acpi_tables t;

	c = default_config;
	c.n_vps = 0;
	CHECK_EQ(acpi_build(&c, BASE_GPA, tables, sizeof(tables), &t), -EINVAL);
	c.n_vps = 256;
	CHECK_EQ(acpi_build(&c, BASE_GPA, tables, sizeof(tables), &t), -EINVAL);
	c = default_config;
	c.pm.s5_slp_typ = 8;
	CHECK_EQ(acpi_build(&c, BASE_GPA, tables, sizeof(tables), &t), -EINVAL);
	c = default_config;
	c.pm.sleep_status_port = 0;
	CHECK_EQ(acpi_build(&c, BASE_GPA, tables, sizeof(tables), &t), -EINVAL);
	c = default_config;
	c.pm.reset_port = c.pm.sleep_control_port;
	CHECK_EQ(acpi_build(&c, BASE_GPA, tables, sizeof(tables), &t), -EINVAL);
	c = default_config;
	c.mmio_base = ~0ull - 0xfff;
	c.mmio_size = 0x2000;
	CHECK_EQ(acpi_build(&c, BASE_GPA, tables, sizeof(tables), &t), -EINVAL);
	CHECK_EQ(acpi_build(&default_config, BASE_GPA + 8, tables,
			    sizeof(tables), &t), -EINVAL);
}

TEST(acpi_small_buffer_reports_needed_size)
{
	struct acpi_tables full = build(&default_config, BASE_GPA);
	struct acpi_tables t = { 0 };
	static uint8_t copy[sizeof(tables)];

	memcpy(copy, tables, full.size);
	CHECK_EQ(acpi_build(&default_config, BASE_GPA, NULL, 0, &t), -ENOSPC);
	CHECK_EQ(t.size, full.size);
	t.size = 0;
	CHECK_EQ(acpi_build(&default_config, BASE_GPA, tables, full.size - 1,
			    &t), -ENOSPC);
	CHECK_EQ(t.size, full.size);
	t.size = 0;
	CHECK_EQ(acpi_build(&default_config, BASE_GPA, tables, 100, &t),
		 -ENOSPC);
	CHECK_EQ(t.size, full.size);
	memset(tables, 0xcc, sizeof(tables));
	CHECK_EQ(acpi_build(&default_config, BASE_GPA, tables, full.size, &t),
		 0);
	CHECK(!memcmp(tables, copy, full.size));
}

TEST(acpi_oem_ids_are_space_padded_and_truncated)
{
	struct acpi_config c = default_config;
	struct acpi_tables t;
	const uint8_t *f;

	c.oem_id = "ABCDEFGHIJ";
	c.oem_table_id = "XY";
	t = build(&c, BASE_GPA);
	f = find_table(BASE_GPA, &t, "FACP");
	CHECK(!memcmp(f + 10, "ABCDEF", 6));
	CHECK(!memcmp(f + 16, "XY      ", 8));
	CHECK(!memcmp(tables + 9, "ABCDEF", 6));	/* RSDP */
}

/*
 * A tiny AML walker for the subset a DSDT built here uses. It checks that
 * every PkgLength is minimal and ends exactly where its contents end, and
 * records each named object's full path and value.
 */
struct aml_obj {
	char path[40];
	uint8_t op;			/* value's opcode; 0x82: Device */
	const uint8_t *val;		/* past Buffer size/Package count */
	size_t val_len;
	uint64_t ival;			/* integer, or package count */
};

struct walker {
	const uint8_t *p;
	size_t pos, end;
	const char *err;
	struct aml_obj obj[32];
	unsigned int n_obj;
	unsigned int pkgs;		/* PkgLengths seen */
};

static bool w_fail(struct walker *w, const char *why)
{
	if (!w->err)
		w->err = why;
	return false;
}

static bool w_pkglen(struct walker *w, size_t *end)
{
	size_t start = w->pos, len;
	uint8_t lead;
	unsigned int n, min;

	if (w->pos >= w->end)
		return w_fail(w, "PkgLength past end");
	lead = w->p[w->pos++];
	n = (lead >> 6) + 1;
	len = n == 1 ? (lead & 0x3f) : (lead & 0x0f);
	if (n > 1 && (lead & 0x30))
		return w_fail(w, "PkgLength reserved bits");
	for (unsigned int i = 1; i < n; i++)
		len |= (size_t)w->p[w->pos++] << (4 + 8 * (i - 1));
	min = len <= 0x3f ? 1 : len <= 0xfff ? 2 : len <= 0xfffff ? 3 : 4;
	if (n != min)
		return w_fail(w, "PkgLength not minimal");
	*end = start + len;
	if (*end > w->end || len < n)
		return w_fail(w, "PkgLength beyond its parent");
	w->pkgs++;
	return true;
}

static bool w_seg(struct walker *w, char *out)
{
	for (int i = 0; i < 4; i++) {
		char c = (char)w->p[w->pos + i];

		if (!((c >= 'A' && c <= 'Z') || c == '_' ||
		      (i && c >= '0' && c <= '9')))
			return w_fail(w, "bad NameSeg");
	}
	memcpy(out, w->p + w->pos, 4);
	out[4] = '\0';
	w->pos += 4;
	return true;
}

/* Resolves a NameString against scope into an absolute dotted path. */
static bool w_name(struct walker *w, const char *scope, char *path)
{
	unsigned int segs = 1;
	char seg[5];

	path[0] = '\0';
	if (w->p[w->pos] == '\\')
		w->pos++;
	else
		strcpy(path, scope);
	if (w->p[w->pos] == 0x2e) {
		segs = 2;
		w->pos++;
	} else if (w->p[w->pos] == 0x2f) {
		segs = w->p[w->pos + 1];
		w->pos += 2;
	}
	for (unsigned int i = 0; i < segs; i++) {
		if (!w_seg(w, seg))
			return false;
		strcat(path, "\\");
		strcat(path, seg);
	}
	return true;
}

static bool w_data(struct walker *w, struct aml_obj *o);

static bool w_integer(struct walker *w, struct aml_obj *o)
{
	static const unsigned int size[] = { [0x0a] = 1, [0x0b] = 2,
					     [0x0c] = 4, [0x0e] = 8 };
	uint8_t op = w->p[w->pos++];

	o->op = op;
	if (op == 0x00 || op == 0x01) {
		o->ival = op;
		return true;
	}
	if (op > 0x0e || !size[op])
		return w_fail(w, "not an integer");
	o->ival = le(w->p + w->pos, size[op]);
	w->pos += size[op];
	return true;
}

static bool w_buffer(struct walker *w, struct aml_obj *o)
{
	size_t end;
	struct aml_obj size = { 0 };

	w->pos++;
	if (!w_pkglen(w, &end) || !w_integer(w, &size))
		return false;
	if (w->pos + size.ival != end)
		return w_fail(w, "Buffer size disagrees with PkgLength");
	o->op = 0x11;
	o->val = w->p + w->pos;
	o->val_len = size.ival;
	w->pos = end;
	return true;
}

static bool w_package(struct walker *w, struct aml_obj *o)
{
	size_t end, saved_end = w->end;
	unsigned int count = 0;

	w->pos++;
	if (!w_pkglen(w, &end))
		return false;
	o->op = 0x12;
	o->ival = w->p[w->pos++];
	o->val = w->p + w->pos;
	w->end = end;
	while (w->pos < end) {
		struct aml_obj element = { 0 };

		if (!w_data(w, &element))
			return false;
		count++;
	}
	w->end = saved_end;
	o->val_len = end - (size_t)(o->val - w->p);
	if (count != o->ival || w->pos != end)
		return w_fail(w, "Package count or length wrong");
	return true;
}

static bool w_string(struct walker *w, struct aml_obj *o)
{
	const uint8_t *s = w->p + w->pos + 1;
	const uint8_t *nul = memchr(s, 0, w->end - w->pos - 1);

	if (!nul)
		return w_fail(w, "unterminated string");
	o->op = 0x0d;
	o->val = s;
	o->val_len = (size_t)(nul - s);
	w->pos = (size_t)(nul + 1 - w->p);
	return true;
}

static bool w_data(struct walker *w, struct aml_obj *o)
{
	switch (w->p[w->pos]) {
	case 0x0d:
		return w_string(w, o);
	case 0x11:
		return w_buffer(w, o);
	case 0x12:
		return w_package(w, o);
	}
	return w_integer(w, o);
}

static struct aml_obj *w_new_obj(struct walker *w)
{
	if (w->n_obj == 32) {
		w_fail(w, "too many objects");
		return NULL;
	}
	return &w->obj[w->n_obj++];
}

static bool w_terms(struct walker *w, const char *scope, size_t end);

/* Scope (0x10) or Device (0x5B 0x82): PkgLength, NameString, TermList. */
static bool w_scoped(struct walker *w, const char *scope, bool device)
{
	char path[40];
	size_t end;

	w->pos += device ? 2 : 1;
	if (!w_pkglen(w, &end) || !w_name(w, scope, path))
		return false;
	if (device) {
		struct aml_obj *o = w_new_obj(w);

		if (!o)
			return false;
		strcpy(o->path, path);
		o->op = 0x82;
	}
	return w_terms(w, path, end);
}

static bool w_named(struct walker *w, const char *scope)
{
	struct aml_obj *o = w_new_obj(w);

	w->pos++;
	return o && w_name(w, scope, o->path) && w_data(w, o);
}

static bool w_terms(struct walker *w, const char *scope, size_t end)
{
	size_t saved_end = w->end;
	bool ok = true;

	w->end = end;
	while (ok && w->pos < end) {
		uint8_t op = w->p[w->pos];

		if (op == 0x08)
			ok = w_named(w, scope);
		else if (op == 0x10)
			ok = w_scoped(w, scope, false);
		else if (op == 0x5b && w->p[w->pos + 1] == 0x82)
			ok = w_scoped(w, scope, true);
		else
			ok = w_fail(w, "unexpected opcode");
	}
	w->end = saved_end;
	if (ok && w->pos != end)
		return w_fail(w, "object overran its package");
	return ok;
}

static void walk_dsdt(struct walker *w, const uint8_t *dsdt)
{
	size_t len = (size_t)le(dsdt + 4, 4);

	memset(w, 0, sizeof(*w));
	w->p = dsdt;
	w->pos = 36;
	w->end = len;
	w_terms(w, "", len);
	if (w->err)
		printf("  AML walk: %s at 0x%zx\n", w->err, w->pos);
	CHECK(!w->err);
}

static const struct aml_obj *obj(const struct walker *w, const char *path)
{
	for (unsigned int i = 0; i < w->n_obj; i++)
		if (!strcmp(w->obj[i].path, path))
			return &w->obj[i];
	return NULL;
}

static bool obj_is_string(const struct walker *w, const char *path,
			  const char *s)
{
	const struct aml_obj *o = obj(w, path);

	return o && o->op == 0x0d && o->val_len == strlen(s) &&
	       !memcmp(o->val, s, o->val_len);
}

TEST(acpi_dsdt_namespace_and_pkglengths)
{
	struct acpi_tables t = build(&default_config, BASE_GPA);
	const uint8_t *d = find_table(BASE_GPA, &t, "DSDT");
	static const uint8_t qword[] = {
		0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x03,
		0, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x00, 0x00, 0xf8, 0, 0, 0, 0,
		0xff, 0xff, 0xff, 0xfb, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x00, 0x00, 0x04, 0, 0, 0, 0,
		0x79, 0x00,
	};
	struct walker w;
	const struct aml_obj *crs;

	CHECK_EQ(d[8], 2);			/* 64-bit integers */
	walk_dsdt(&w, d);
	CHECK_EQ(w.n_obj, 13);
	CHECK_EQ(w.pkgs, 8);
	CHECK(obj(&w, "\\_S5_") && obj(&w, "\\_S5_")->op == 0x12);
	CHECK_EQ(obj(&w, "\\_SB_\\VMOD")->op, 0x82);
	CHECK(obj_is_string(&w, "\\_SB_\\VMOD\\_HID", "ACPI0004"));
	CHECK_EQ(obj(&w, "\\_SB_\\VMOD\\_UID")->ival, 0);
	crs = obj(&w, "\\_SB_\\VMOD\\_CRS");
	CHECK(crs && crs->val_len == sizeof(qword));
	CHECK(!memcmp(crs->val, qword, sizeof(qword)));
	CHECK_EQ(obj(&w, "\\_SB_\\VMOD\\VMBS")->op, 0x82);
	CHECK(obj_is_string(&w, "\\_SB_\\VMOD\\VMBS\\_HID", "VMBus"));
	CHECK_EQ(obj(&w, "\\_SB_\\VMOD\\VMBS\\_UID")->ival, 0);
	crs = obj(&w, "\\_SB_\\VMOD\\VMBS\\_CRS");
	CHECK(crs && crs->val_len == 2 && !memcmp(crs->val, "\x79\x00", 2));
}

TEST(acpi_dsdt_com1_has_io_and_no_irq)
{
	struct acpi_tables t = build(&default_config, BASE_GPA);
	struct walker w;
	const struct aml_obj *hid, *crs;

	walk_dsdt(&w, find_table(BASE_GPA, &t, "DSDT"));
	CHECK_EQ(obj(&w, "\\_SB_\\COM1")->op, 0x82);
	hid = obj(&w, "\\_SB_\\COM1\\_HID");
	CHECK(hid && hid->op == 0x0c);
	CHECK_EQ(hid->ival, 0x0105d041);	/* EISAID ("PNP0501") */
	CHECK_EQ(obj(&w, "\\_SB_\\COM1\\_UID")->ival, 0);
	crs = obj(&w, "\\_SB_\\COM1\\_CRS");
	/* IO (Decode16, 0x3F8, 0x3F8, 1, 8), End Tag; no IRQ descriptor. */
	CHECK(crs && crs->val_len == 10);
	CHECK(!memcmp(crs->val, "\x47\x01\xf8\x03\xf8\x03\x01\x08\x79\x00",
		      10));
}

TEST(acpi_dsdt_s5_and_no_mmio_window)
{
	struct acpi_config c = default_config;
	struct acpi_tables t;
	const struct aml_obj *s5;
	struct walker w;

	c.pm.s5_slp_typ = 7;
	c.mmio_size = 0;
	t = build(&c, BASE_GPA);
	walk_dsdt(&w, find_table(BASE_GPA, &t, "DSDT"));
	s5 = obj(&w, "\\_S5_");
	CHECK_EQ(s5->ival, 4);
	CHECK(s5->val_len == 5 && !memcmp(s5->val, "\x0a\x07\x00\x00\x00", 5));
	CHECK(!obj(&w, "\\_SB_\\VMOD\\_CRS"));
	CHECK(obj(&w, "\\_SB_\\VMOD\\VMBS\\_CRS"));
	CHECK_EQ(w.n_obj, 12);
}

/*
 * The DSDT body (after the header) is byte for byte what iasl 20200925
 * compiles, with "iasl -f -on" (keep the VMBus _HID, no name shortening),
 * from this ASL:
 *
 *   Name (\_S5, Package (4) { 5, 0, 0, 0 })
 *   Scope (\_SB) {
 *     Device (VMOD) {
 *       Name (_HID, "ACPI0004")
 *       Name (_UID, 0)
 *       Name (_CRS, ResourceTemplate () {
 *         QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
 *           Cacheable, ReadWrite, 0, 0xF8000000, 0xFBFFFFFF, 0, 0x04000000)
 *       })
 *       Device (VMBS) {
 *         Name (_HID, "VMBus")
 *         Name (_UID, 0)
 *         Name (_CRS, ResourceTemplate () { })
 *       }
 *     }
 *     Device (COM1) {
 *       Name (_HID, EisaId ("PNP0501"))
 *       Name (_UID, 0)
 *       Name (_CRS, ResourceTemplate () {
 *         IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08)
 *       })
 *     }
 *   }
 */
static const uint8_t iasl_dsdt_body[] = {
	0x08, 0x5c, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x07,
	0x04, 0x0a, 0x05, 0x00, 0x00, 0x00, 0x10, 0x4b,
	0x0a, 0x5c, 0x5f, 0x53, 0x42, 0x5f, 0x5b, 0x82,
	0x48, 0x07, 0x56, 0x4d, 0x4f, 0x44, 0x08, 0x5f,
	0x48, 0x49, 0x44, 0x0d, 0x41, 0x43, 0x50, 0x49,
	0x30, 0x30, 0x30, 0x34, 0x00, 0x08, 0x5f, 0x55,
	0x49, 0x44, 0x00, 0x08, 0x5f, 0x43, 0x52, 0x53,
	0x11, 0x33, 0x0a, 0x30, 0x8a, 0x2b, 0x00, 0x00,
	0x0c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x00, 0x00,
	0x00, 0x00, 0xff, 0xff, 0xff, 0xfb, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00,
	0x00, 0x00, 0x79, 0x00, 0x5b, 0x82, 0x22, 0x56,
	0x4d, 0x42, 0x53, 0x08, 0x5f, 0x48, 0x49, 0x44,
	0x0d, 0x56, 0x4d, 0x42, 0x75, 0x73, 0x00, 0x08,
	0x5f, 0x55, 0x49, 0x44, 0x00, 0x08, 0x5f, 0x43,
	0x52, 0x53, 0x11, 0x05, 0x0a, 0x02, 0x79, 0x00,
	0x5b, 0x82, 0x28, 0x43, 0x4f, 0x4d, 0x31, 0x08,
	0x5f, 0x48, 0x49, 0x44, 0x0c, 0x41, 0xd0, 0x05,
	0x01, 0x08, 0x5f, 0x55, 0x49, 0x44, 0x00, 0x08,
	0x5f, 0x43, 0x52, 0x53, 0x11, 0x0d, 0x0a, 0x0a,
	0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
	0x79, 0x00,
};

TEST(acpi_dsdt_matches_iasl_output)
{
	struct acpi_tables t = build(&default_config, BASE_GPA);
	const uint8_t *d = find_table(BASE_GPA, &t, "DSDT");

	CHECK_EQ(le(d + 4, 4), 36 + sizeof(iasl_dsdt_body));
	CHECK(!memcmp(d + 36, iasl_dsdt_body, sizeof(iasl_dsdt_body)));
}

/* Writes len bytes at p to dir/name. */
static bool write_file(const char *dir, const char *name, const void *p,
		       size_t len)
{
	char path[256];
	bool ok;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return false;
	ok = fwrite(p, 1, len, f) == len;
	return fclose(f) == 0 && ok;
}

static bool file_has(const char *dir, const char *name, const char *text)
{
	static char content[65536];
	char path[256];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(content, 1, sizeof(content) - 1, f);
	fclose(f);
	content[n] = '\0';
	return strstr(content, text) != NULL;
}

/* Disassembles one table with iasl; true if iasl succeeded. */
static bool iasl_disassembles(const char *dir, const char *name,
			      const uint8_t *table)
{
	char cmd[512];
	int rc;

	if (!write_file(dir, name, table, (size_t)le(table + 4, 4)))
		return false;
	snprintf(cmd, sizeof(cmd), "cd %s && iasl -d %s >iasl.log 2>&1", dir,
		 name);
	rc = system(cmd);
	return rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
}

/* Results first, CHECKs after the temporary directory is gone. */
static void run_iasl(const char *dir, const struct acpi_tables *t,
		     bool ok[4])
{
	ok[0] = iasl_disassembles(dir, "dsdt.aml",
				  find_table(BASE_GPA, t, "DSDT")) &&
		file_has(dir, "dsdt.dsl", "Device (VMBS)") &&
		file_has(dir, "dsdt.dsl", "EisaId (\"PNP0501\")");
	ok[1] = iasl_disassembles(dir, "facp.dat",
				  find_table(BASE_GPA, t, "FACP")) &&
		file_has(dir, "facp.dsl", "Hardware Reduced (V5) : 1");
	ok[2] = iasl_disassembles(dir, "apic.dat",
				  find_table(BASE_GPA, t, "APIC"));
	ok[3] = iasl_disassembles(dir, "xsdt.dat", xsdt_of(BASE_GPA, t));
}

/* Only where iasl (acpica-tools) is installed; silent otherwise. */
TEST(acpi_iasl_disassembles_tables_if_available)
{
	char dir[] = "/tmp/microhv-acpi-XXXXXX";
	struct acpi_tables t;
	bool ok[4];
	char cmd[300];

	if (system("command -v iasl >/dev/null 2>&1"))
		return;
	t = build(&default_config, BASE_GPA);
	CHECK(mkdtemp(dir));
	run_iasl(dir, &t, ok);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ(system(cmd), 0);
	CHECK(ok[0]);				/* DSDT */
	CHECK(ok[1]);				/* FADT */
	CHECK(ok[2]);				/* MADT */
	CHECK(ok[3]);				/* XSDT */
}

/* ----------------------------------------------------------------- AML */

static uint8_t amlbuf[8192];

static void aml_start(struct aml *a)
{
	memset(amlbuf, 0xcc, sizeof(amlbuf));
	aml_init(a, amlbuf, sizeof(amlbuf));
}

TEST(aml_name_strings)
{
	struct aml a;

	aml_start(&a);
	aml_name_string(&a, "\\_SB.VMOD");
	aml_name_string(&a, "_HID");
	aml_name_string(&a, "^PCI");
	aml_name_string(&a, "A.B.C");
	aml_name_string(&a, "\\");
	CHECK_EQ(aml_finish(&a), 0);
	CHECK_EQ(a.len, 10 + 4 + 5 + 14 + 2);
	CHECK(!memcmp(amlbuf, "\\\x2e_SB_VMOD_HID^PCI_\x2f\x03"
			      "A___B___C___\\\x00", a.len));
}

TEST(aml_rejects_bad_names_and_strings)
{
	static const char *const bad[] = { "", "lower", "TOOLONG", "1ABC",
					   "A..B", "A.", "\\\\A", "^\\A" };
	struct aml a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_start(&a);
		aml_name_string(&a, bad[i]);
		CHECK_EQ(aml_finish(&a), -EINVAL);
	}
	aml_start(&a);
	aml_string(&a, "tab\there");
	CHECK_EQ(aml_finish(&a), -EINVAL);
	aml_start(&a);
	aml_eisaid(&a, "pnp0501");
	CHECK_EQ(aml_finish(&a), -EINVAL);
	aml_start(&a);
	aml_eisaid(&a, "PNP050G");
	CHECK_EQ(aml_finish(&a), -EINVAL);
}

TEST(aml_integer_encodings)
{
	static const uint8_t want[] = {
		0x00, 0x01, 0x0a, 0x02, 0x0a, 0xff, 0x0b, 0x00, 0x01,
		0x0b, 0xff, 0xff, 0x0c, 0x00, 0x00, 0x01, 0x00,
		0x0c, 0xff, 0xff, 0xff, 0xff,
		0x0e, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	};
	static const uint64_t v[] = { 0, 1, 2, 0xff, 0x100, 0xffff, 0x10000,
				      0xffffffff, 0x100000000ull };
	struct aml a;

	aml_start(&a);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		aml_integer(&a, v[i]);
	CHECK_EQ(aml_finish(&a), 0);
	CHECK_EQ(a.len, sizeof(want));
	CHECK(!memcmp(amlbuf, want, sizeof(want)));
}

TEST(aml_strings_and_eisaid)
{
	struct aml a;

	aml_start(&a);
	aml_string(&a, "VMBus");
	aml_eisaid(&a, "PNP0501");
	aml_eisaid(&a, "PNP0A03");
	CHECK_EQ(aml_finish(&a), 0);
	CHECK(!memcmp(amlbuf, "\x0dVMBus\x00\x0c\x41\xd0\x05\x01"
			      "\x0c\x41\xd0\x0a\x03", a.len));
	CHECK_EQ(a.len, 17);
}

TEST(aml_pkglength_sizes_at_boundaries)
{
	CHECK_EQ(aml_pkglen_size(0), 1);
	CHECK_EQ(aml_pkglen_size(62), 1);	/* 63 in all */
	CHECK_EQ(aml_pkglen_size(63), 2);	/* 64 needs two bytes */
	CHECK_EQ(aml_pkglen_size(0xffd), 2);	/* 0xfff */
	CHECK_EQ(aml_pkglen_size(0xffe), 3);
	CHECK_EQ(aml_pkglen_size(0xffffc), 3);	/* 0xfffff */
	CHECK_EQ(aml_pkglen_size(0xffffd), 4);
}

/* Buffers of every size around the boundaries encode as iasl would. */
TEST(aml_buffer_pkglengths_encode_and_walk)
{
	static const size_t sizes[] = { 0, 58, 59, 60, 61, 62, 200, 0xff0,
					0xff8, 0xffb, 0xffc, 0x1000, 0x1800 };
	static uint8_t data[0x1800];
	struct aml a;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct walker w = { .p = amlbuf };
		struct aml_obj o = { 0 };
		size_t n = sizes[i];

		aml_start(&a);
		aml_buffer(&a, data, n);
		CHECK_EQ(aml_finish(&a), 0);
		w.end = a.len;
		CHECK(w_buffer(&w, &o));
		CHECK_EQ(o.val_len, n);
		CHECK_EQ(w.pos, a.len);
	}
}

TEST(aml_two_byte_pkglength_layout)
{
	static uint8_t data[100];
	struct aml a;

	aml_start(&a);
	aml_buffer(&a, data, sizeof(data));
	/* PkgLength 104 = itself (2) + BufferSize (0x0A 0x64) + 100 */
	CHECK_EQ(a.len, 1 + 2 + 2 + 100);
	CHECK_EQ(amlbuf[0], 0x11);
	CHECK_EQ(amlbuf[1], 0x40 | (104 & 0x0f));
	CHECK_EQ(amlbuf[2], 104 >> 4);
	CHECK_EQ(amlbuf[3], 0x0a);
	CHECK_EQ(amlbuf[4], 100);
}

TEST(aml_nested_scopes_walk)
{
	struct walker w = { .p = amlbuf };
	struct aml a;

	aml_start(&a);
	aml_scope_begin(&a, "\\_SB");
	for (unsigned int i = 0; i < 10; i++) {
		char name[5] = { 'D', '0', '0', (char)('0' + i), '\0' };

		aml_device_begin(&a, name);
		aml_name(&a, "_UID");
		aml_integer(&a, (uint64_t)i * 1000);
		aml_end(&a);
	}
	aml_end(&a);
	CHECK_EQ(aml_finish(&a), 0);
	w.end = a.len;
	CHECK(w_terms(&w, "", a.len));
	CHECK_EQ(w.n_obj, 20);
	CHECK_EQ(obj(&w, "\\_SB_\\D009\\_UID")->ival, 9000);
	CHECK(amlbuf[1] & 0x40);		/* the scope needed 2 bytes */
}

TEST(aml_nesting_errors)
{
	struct aml a;

	aml_start(&a);
	aml_end(&a);
	CHECK_EQ(aml_finish(&a), -EINVAL);
	aml_start(&a);
	aml_scope_begin(&a, "\\_SB");
	CHECK_EQ(aml_finish(&a), -EINVAL);
	aml_start(&a);
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml_package_begin(&a, 1);
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml_end(&a);
	CHECK_EQ(aml_finish(&a), -EINVAL);
}

TEST(aml_overflow_still_measures)
{
	static uint8_t small[8];
	struct aml a, b;

	aml_start(&a);
	aml_scope_begin(&a, "\\_SB");
	aml_name(&a, "_HID");
	aml_string(&a, "ACPI0004");
	aml_end(&a);
	CHECK_EQ(aml_finish(&a), 0);

	memset(small, 0xcc, sizeof(small));
	aml_init(&b, small, 4);
	aml_scope_begin(&b, "\\_SB");
	aml_name(&b, "_HID");
	aml_string(&b, "ACPI0004");
	aml_end(&b);
	CHECK_EQ(aml_finish(&b), -ENOSPC);
	CHECK_EQ(b.len, a.len);
	CHECK_EQ(small[4], 0xcc);		/* nothing written past cap */

	aml_init(&b, NULL, 0);
	aml_scope_begin(&b, "\\_SB");
	aml_end(&b);
	CHECK_EQ(aml_finish(&b), -ENOSPC);
	CHECK_EQ(b.len, 1 + 1 + 1 + 4);	/* op, PkgLength, root, _SB_ */
}

TEST(aml_resource_descriptors)
{
	struct aml_res r;
	struct aml a;

	aml_res_init(&r);
	aml_res_io16(&r, 0x2f8, 0x2f8, 1, 8);
	aml_res_qword_memory(&r, 0x100000000ull, 0x1000);
	CHECK_EQ(r.len, 8 + 46);
	CHECK(!memcmp(r.bytes, "\x47\x01\xf8\x02\xf8\x02\x01\x08", 8));
	CHECK_EQ(le(r.bytes + 8 + 14, 8), 0x100000000ull);
	CHECK_EQ(le(r.bytes + 8 + 22, 8), 0x100000fffull);
	CHECK_EQ(le(r.bytes + 8 + 38, 8), 0x1000);
	aml_start(&a);
	aml_resource_template(&a, &r);
	CHECK_EQ(aml_finish(&a), 0);
	CHECK_EQ(a.len, 1 + 1 + 2 + 8 + 46 + 2);
	CHECK_EQ(amlbuf[a.len - 2], 0x79);
}

/* ---------------------------------------------------------------- UART */

static uint8_t tx_log[4096];
static size_t tx_len;

static void tx_collect(void *ctx, uint8_t byte)
{
	CHECK(ctx == tx_log);
	if (tx_len < sizeof(tx_log))
		tx_log[tx_len++] = byte;
}

static struct uart com;

static void com_reset(void)
{
	tx_len = 0;
	uart_init(&com, tx_collect, tx_log);
}

static uint8_t in(uint16_t off)
{
	return uart_read(&com, off);
}

static void out(uint16_t off, uint8_t v)
{
	uart_write(&com, off, v);
}

TEST(uart_power_on_state)
{
	com_reset();
	CHECK_EQ(in(UART_IER), 0);
	CHECK_EQ(in(UART_IIR), UART_IIR_NO_INT);
	CHECK_EQ(in(UART_LCR), 0);
	CHECK_EQ(in(UART_MCR), 0);
	CHECK_EQ(in(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	CHECK_EQ(in(UART_MSR), UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
	CHECK_EQ(in(8), 0xff);
	CHECK(!uart_irq_pending(&com));
	uart_destroy(&com);
}

/* Linux's autoconfig_8250: tells an 8250 from a 16450 by the scratch. */
static bool scratch_register_works(void)
{
	uint8_t saved = in(UART_SCR), a, b;

	out(UART_SCR, 0xa5);
	a = in(UART_SCR);
	out(UART_SCR, 0x5a);
	b = in(UART_SCR);
	out(UART_SCR, saved);
	return a == 0xa5 && b == 0x5a;
}

/* size_fifo(): count what survives 256 bytes sent in loopback. */
static int measure_fifo(void)
{
	uint8_t old_lcr = in(UART_LCR), old_mcr, old_fcr, dll, dlm;
	int count;

	out(UART_LCR, 0);
	old_fcr = in(UART_IIR);
	old_mcr = in(UART_MCR);
	out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR |
			      UART_FCR_CLEAR_XMIT);
	out(UART_MCR, UART_MCR_LOOP);
	out(UART_LCR, UART_LCR_DLAB);
	dll = in(UART_DLL);
	dlm = in(UART_DLM);
	out(UART_DLL, 1);
	out(UART_DLM, 0);
	out(UART_LCR, 0x03);
	for (count = 0; count < 256; count++)
		out(UART_THR, (uint8_t)count);
	for (count = 0; (in(UART_LSR) & UART_LSR_DR) && count < 256; count++)
		in(UART_RBR);
	out(UART_FCR, old_fcr);
	out(UART_MCR, old_mcr);
	out(UART_LCR, UART_LCR_DLAB);
	out(UART_DLL, dll);
	out(UART_DLM, dlm);
	out(UART_LCR, old_lcr);
	return count;
}

/* National SuperIO: bank 2's EXCR1 mirrors MCR.LOOP. */
static bool looks_like_ns16550(void)
{
	uint8_t mcr, excr1;
	bool ns;

	out(UART_LCR, 0);
	mcr = in(UART_MCR);
	out(UART_LCR, 0xe0);
	excr1 = in(2);
	if ((excr1 ^ mcr) & UART_MCR_LOOP)
		return false;
	out(UART_LCR, 0);
	out(UART_MCR, mcr ^ UART_MCR_LOOP);
	out(UART_LCR, 0xe0);
	excr1 = in(2);
	out(UART_LCR, 0);
	out(UART_MCR, mcr);
	ns = (excr1 ^ mcr) & UART_MCR_LOOP;
	return ns;
}

/* TI16750: IIR bit 5 follows FCR bit 5 only with DLAB set. */
static bool looks_like_16750(void)
{
	uint8_t s1, s2;

	out(UART_LCR, 0);
	out(UART_FCR, UART_FCR_ENABLE_FIFO | 0x20);
	s1 = in(UART_IIR) >> 5;
	out(UART_FCR, UART_FCR_ENABLE_FIFO);
	out(UART_LCR, UART_LCR_DLAB);
	out(UART_FCR, UART_FCR_ENABLE_FIFO | 0x20);
	s2 = in(UART_IIR) >> 5;
	out(UART_FCR, UART_FCR_ENABLE_FIFO);
	out(UART_LCR, 0);
	return s1 == 6 && s2 == 7;
}

/* XScale: IER bit 6 (UUE) is writable. */
static bool looks_like_xscale(void)
{
	uint8_t ier = in(UART_IER);
	bool uue;

	out(UART_IER, ier & ~0x40);
	out(UART_IER, ier | 0x40);
	uue = in(UART_IER) & 0x40;
	out(UART_IER, ier);
	return uue;
}

/* autoconfig_16550a() with CONFIG_SERIAL_8250_16550A_VARIANTS=y. */
static const char *probe_16550a_variants(void)
{
	out(UART_LCR, 0x80);
	if (in(2) == 0)
		return "16650 (EFR with DLAB)";
	out(UART_LCR, 0xbf);
	if (in(2) == 0)
		return "16650V2 (EFR)";
	if (looks_like_ns16550())
		return "NS16550A";
	if (looks_like_16750())
		return "TI16750";
	if (looks_like_xscale())
		return "XScale";
	if (measure_fifo() == 64)
		return "U6_16550A";
	return "16550A";
}

static const char *fifo_type(void)
{
	out(UART_LCR, 0xbf);
	out(2, 0);				/* EFR, if any */
	out(UART_LCR, 0);
	out(UART_FCR, UART_FCR_ENABLE_FIFO);
	switch (in(UART_IIR) >> 6) {
	case 0:
		return scratch_register_works() ? "16450" : "8250";
	case 1:
		return "unknown";
	case 2:
		return "16550";
	}
	return probe_16550a_variants();
}

static bool ier_probe_ok(void)
{
	uint8_t saved = in(UART_IER), zero, all;

	out(UART_IER, 0);
	zero = in(UART_IER) & 0x0f;
	out(UART_IER, 0x0f);
	all = in(UART_IER) & 0x0f;
	out(UART_IER, saved);
	return zero == 0 && all == 0x0f;
}

/* The register dance of Linux 6.1's autoconfig(), loopback test included. */
static const char *linux_autoconfig(void)
{
	uint8_t save_mcr, save_lcr, msr;
	const char *type;

	if (!ier_probe_ok())
		return "IER test failed";
	save_mcr = in(UART_MCR);
	save_lcr = in(UART_LCR);
	out(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
	msr = in(UART_MSR) & 0xf0;
	out(UART_MCR, save_mcr);
	if (msr != (UART_MSR_DCD | UART_MSR_CTS))
		return "LOOP test failed";
	type = fifo_type();
	out(UART_LCR, save_lcr);
	out(UART_MCR, save_mcr);
	out(UART_FCR, UART_FCR_ENABLE_FIFO);	/* serial8250_clear_fifos */
	out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR |
			      UART_FCR_CLEAR_XMIT);
	out(UART_FCR, 0);
	in(UART_RBR);
	out(UART_IER, 0);
	return type;
}

TEST(uart_linux_autoconfig_detects_16550a)
{
	com_reset();
	out(UART_MCR, UART_MCR_DTR | UART_MCR_RTS);
	CHECK_STR(linux_autoconfig(), "16550A");
	CHECK(scratch_register_works());
	CHECK_EQ(measure_fifo(), UART_FIFO_SIZE);
	CHECK_EQ(in(UART_MCR), UART_MCR_DTR | UART_MCR_RTS); /* restored */
	CHECK_EQ(tx_len, 0);			/* loopback never leaks */
	uart_destroy(&com);
}

/* serial8250_do_startup's checks: LSR sanity, TXEN and THRE re-assert. */
TEST(uart_linux_startup_checks_pass)
{
	uint8_t lsr, iir1, iir2;

	com_reset();
	CHECK(in(UART_LSR) != 0xff);
	out(UART_LCR, 0x03);
	out(UART_IER, UART_IER_THRI);
	lsr = in(UART_LSR);
	iir1 = in(UART_IIR);
	out(UART_IER, 0);
	CHECK(lsr & UART_LSR_TEMT);
	CHECK(!(iir1 & UART_IIR_NO_INT));	/* else UART_BUG_TXEN */
	out(UART_IER, UART_IER_THRI);
	iir1 = in(UART_IIR);
	out(UART_IER, 0);
	out(UART_IER, UART_IER_THRI);
	iir2 = in(UART_IIR);
	out(UART_IER, 0);
	CHECK_EQ(iir1 & 0x0f, UART_IIR_THRI);
	CHECK_EQ(iir2 & 0x0f, UART_IIR_THRI);	/* else UART_BUG_THRE */
	uart_destroy(&com);
}

TEST(uart_divisor_latch_and_scratch)
{
	com_reset();
	out(UART_LCR, UART_LCR_DLAB | 0x03);
	out(UART_DLL, 0x01);
	out(UART_DLM, 0x02);
	CHECK_EQ(in(UART_DLL), 0x01);
	CHECK_EQ(in(UART_DLM), 0x02);
	CHECK_EQ(tx_len, 0);			/* DLL write is not THR */
	out(UART_LCR, 0x03);
	CHECK_EQ(in(UART_IER), 0);		/* DLM write is not IER */
	out(UART_SCR, 0x42);
	CHECK_EQ(in(UART_SCR), 0x42);
	out(UART_IER, 0xff);
	CHECK_EQ(in(UART_IER), 0x0f);
	uart_destroy(&com);
}

TEST(uart_tx_path_polled)
{
	const char *msg = "Linux version 6.1";

	com_reset();
	out(UART_LCR, 0x03);
	for (const char *c = msg; *c; c++) {
		CHECK(in(UART_LSR) & UART_LSR_THRE);
		out(UART_THR, (uint8_t)*c);
	}
	CHECK_EQ(tx_len, strlen(msg));
	CHECK(!memcmp(tx_log, msg, tx_len));
	uart_destroy(&com);
}

/* What the 8250 timer does with irq 0: read IIR, then LSR, then RBR. */
TEST(uart_rx_path_polled_with_fifo)
{
	uint8_t got[16];
	size_t n = 0;

	com_reset();
	out(UART_FCR, UART_FCR_ENABLE_FIFO | 0x80);	/* trigger 8 */
	out(UART_LCR, 0x03);
	out(UART_IER, UART_IER_RDI | UART_IER_RLSI);
	CHECK_EQ(in(UART_IIR), 0xc1);
	CHECK_EQ(uart_rx_push(&com, (const uint8_t *)"ls -l\r", 6), 6);
	CHECK_EQ(in(UART_IIR), 0xc0 | UART_IIR_RX_TIMEOUT);
	CHECK_EQ(uart_rx_push(&com, (const uint8_t *)"xy", 2), 2);
	CHECK_EQ(in(UART_IIR), 0xc0 | UART_IIR_RDI);	/* 8 reached */
	while (in(UART_LSR) & UART_LSR_DR)
		got[n++] = in(UART_RBR);
	CHECK_EQ(n, 8);
	CHECK(!memcmp(got, "ls -l\rxy", 8));
	CHECK_EQ(in(UART_IIR), 0xc1);
	CHECK_EQ(in(UART_RBR), 'y');		/* empty RBR repeats */
	uart_destroy(&com);
}

TEST(uart_rx_fifo_overflow_refuses_extra)
{
	uint8_t data[20];

	for (int i = 0; i < 20; i++)
		data[i] = (uint8_t)('a' + i);
	com_reset();
	CHECK_EQ(uart_rx_push(&com, data, 20), 1);	/* FIFOs off: RBR */
	CHECK_EQ(in(UART_RBR), 'a');
	out(UART_FCR, UART_FCR_ENABLE_FIFO);
	CHECK_EQ(uart_rx_push(&com, data, 20), 16);
	CHECK_EQ(uart_rx_push(&com, data + 16, 4), 0);
	CHECK_EQ(in(UART_RBR), 'a');
	CHECK_EQ(uart_rx_push(&com, data + 16, 4), 1);
	CHECK(!(in(UART_LSR) & UART_LSR_OE));	/* refused, not overrun */
	for (int i = 1; i <= 16; i++)
		CHECK_EQ(in(UART_RBR), 'a' + i);
	CHECK(!(in(UART_LSR) & UART_LSR_DR));
	uart_destroy(&com);
}

TEST(uart_fcr_clears_and_disables)
{
	com_reset();
	out(UART_FCR, UART_FCR_ENABLE_FIFO);
	CHECK_EQ(uart_rx_push(&com, (const uint8_t *)"abc", 3), 3);
	out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
	CHECK(!(in(UART_LSR) & UART_LSR_DR));
	CHECK_EQ(uart_rx_push(&com, (const uint8_t *)"abc", 3), 3);
	out(UART_FCR, 0);			/* leaving FIFO mode empties */
	CHECK(!(in(UART_LSR) & UART_LSR_DR));
	CHECK_EQ(in(UART_IIR) & 0xc0, 0);
	uart_destroy(&com);
}

TEST(uart_loopback_overrun_and_msr)
{
	com_reset();
	out(UART_FCR, UART_FCR_ENABLE_FIFO);
	out(UART_MCR, UART_MCR_LOOP);
	CHECK_EQ(uart_rx_push(&com, (const uint8_t *)"x", 1), 0);
	/* Loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
	CHECK_EQ(in(UART_MSR), 0x0b);		/* CTS, DSR, DCD fell */
	out(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);
	CHECK_EQ(in(UART_MSR), UART_MSR_DSR | UART_MSR_DDSR);
	out(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
	CHECK_EQ(in(UART_MSR), UART_MSR_RI | UART_MSR_DDSR);
	out(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
	CHECK_EQ(in(UART_MSR), UART_MSR_DCD | UART_MSR_CTS | UART_MSR_TERI |
				       UART_MSR_DDCD | UART_MSR_DCTS);
	for (int i = 0; i < 20; i++)
		out(UART_THR, (uint8_t)i);
	CHECK_EQ(in(UART_LSR) & (UART_LSR_OE | UART_LSR_DR),
		 UART_LSR_OE | UART_LSR_DR);
	CHECK(!(in(UART_LSR) & UART_LSR_OE));	/* the read cleared it */
	for (int i = 0; i < 16; i++)
		CHECK_EQ(in(UART_RBR), i);
	CHECK_EQ(tx_len, 0);
	uart_destroy(&com);
}

TEST(uart_thre_interrupt_cycle)
{
	com_reset();
	out(UART_IER, UART_IER_THRI);
	CHECK_EQ(in(UART_IIR), UART_IIR_THRI);
	CHECK_EQ(in(UART_IIR), UART_IIR_NO_INT);	/* acknowledged */
	out(UART_THR, 'x');
	CHECK_EQ(in(UART_IIR), UART_IIR_THRI);	/* THR empty again */
	out(UART_THR, 'y');
	out(UART_IER, 0);
	CHECK_EQ(in(UART_IIR), UART_IIR_NO_INT);
	uart_destroy(&com);
}

TEST(uart_interrupt_priority_and_line)
{
	com_reset();
	out(UART_IER, UART_IER_RDI | UART_IER_THRI | UART_IER_RLSI |
			      UART_IER_MSI);
	CHECK(!uart_irq_pending(&com));		/* OUT2 gates the line */
	out(UART_MCR, UART_MCR_OUT2);
	CHECK(uart_irq_pending(&com));		/* THRE, and DCD etc. */
	CHECK_EQ(uart_rx_push(&com, (const uint8_t *)"a", 1), 1);
	CHECK_EQ(in(UART_IIR), UART_IIR_RDI);	/* data beats THRE */
	in(UART_RBR);
	CHECK_EQ(in(UART_IIR), UART_IIR_THRI);	/* acknowledges it */
	CHECK(!uart_irq_pending(&com));
	out(UART_IER, UART_IER_MSI);
	CHECK(!uart_irq_pending(&com));
	out(UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP | UART_MCR_DTR);
	CHECK(!uart_irq_pending(&com));		/* loopback: line off */
	CHECK_EQ(in(UART_IIR), UART_IIR_MSI);	/* deltas from LOOP */
	in(UART_MSR);
	CHECK_EQ(in(UART_IIR), UART_IIR_NO_INT);
	uart_destroy(&com);
}

#define STRESS_BYTES 20000

static void *console_thread(void *arg)
{
	uint8_t chunk[7];

	for (size_t sent = 0; sent < STRESS_BYTES;) {
		size_t n = sizeof(chunk), took;

		if (n > STRESS_BYTES - sent)
			n = STRESS_BYTES - sent;
		for (size_t i = 0; i < n; i++)
			chunk[i] = (uint8_t)((sent + i) * 7);
		took = uart_rx_push(arg, chunk, n);
		sent += took;
		if (took < n)
			sched_yield();
	}
	return NULL;
}

TEST(uart_rx_push_from_another_thread)
{
	pthread_t t;
	size_t got = 0, bad = 0;

	com_reset();
	out(UART_FCR, UART_FCR_ENABLE_FIFO);
	CHECK_EQ(pthread_create(&t, NULL, console_thread, &com), 0);
	while (got < STRESS_BYTES) {
		if (!(in(UART_LSR) & UART_LSR_DR)) {
			out(UART_THR, '.');	/* VP traffic meanwhile */
			continue;
		}
		if (in(UART_RBR) != (uint8_t)(got * 7))
			bad++;
		got++;
	}
	pthread_join(t, NULL);
	CHECK_EQ(bad, 0);
	uart_destroy(&com);
}

/* ------------------------------------------------------------------ PM */

static const struct pm_config pm = {
	.sleep_control_port = 0x600,
	.sleep_status_port = 0x601,
	.s5_slp_typ = 5,
	.reset_port = 0xcf9,
	.reset_value = 0x06,
};

TEST(pm_s5_write_powers_off)
{
	CHECK_EQ(pm_io_write(&pm, 0x600, 1, (5 << 2) | PM_SLP_EN),
		 PM_ACTION_POWER_OFF);
	CHECK_EQ(pm_io_write(&pm, 0x600, 1, 5 << 2), PM_ACTION_NONE);
	CHECK_EQ(pm_io_write(&pm, 0x600, 1, (3 << 2) | PM_SLP_EN),
		 PM_ACTION_NONE);		/* S3 type: not offered */
	/* Clearing WAK_STS, as Linux does first, is no request. */
	CHECK_EQ(pm_io_write(&pm, 0x601, 1, 0x80), PM_ACTION_NONE);
	CHECK_EQ(pm_io_write(&pm, 0x600, 3, (5 << 2) | PM_SLP_EN),
		 PM_ACTION_NONE);		/* no 3-byte I/O */
}

TEST(pm_reset_register)
{
	CHECK_EQ(pm_io_write(&pm, 0xcf9, 1, 0x06), PM_ACTION_RESET);
	CHECK_EQ(pm_io_write(&pm, 0xcf9, 2, 0x0306), PM_ACTION_RESET);
	CHECK_EQ(pm_io_write(&pm, 0xcf9, 1, 0x02), PM_ACTION_NONE);
	/* PCI config address writes span 0xCF9 but start at 0xCF8. */
	CHECK_EQ(pm_io_write(&pm, 0xcf8, 4, 0x06060606), PM_ACTION_NONE);
	CHECK_EQ(pm_io_write(&pm, 0x80, 1, 0x06), PM_ACTION_NONE);
}

TEST(pm_reads_and_ports)
{
	uint32_t v = 0xdead;

	CHECK(pm_io_read(&pm, 0x601, 1, &v));
	CHECK_EQ(v, 0);
	v = 1;
	CHECK(pm_io_read(&pm, 0x600, 1, &v));
	CHECK_EQ(v, 0);
	CHECK(!pm_io_read(&pm, 0x602, 1, &v));
	CHECK(pm_owns_port(&pm, 0xcf9));
	CHECK(!pm_owns_port(&pm, 0xcf8));
	CHECK(pm_config_valid(&pm));
}

/* What Linux writes, taken from the tables themselves, does what we say. */
TEST(pm_agrees_with_acpi_tables)
{
	struct acpi_config c = default_config;
	struct acpi_tables t;
	const uint8_t *f;
	const struct aml_obj *s5;
	struct walker w;
	uint8_t slp_typ;

	c.pm.s5_slp_typ = 6;
	c.pm.reset_value = 0x0e;
	t = build(&c, BASE_GPA);
	f = find_table(BASE_GPA, &t, "FACP");
	walk_dsdt(&w, find_table(BASE_GPA, &t, "DSDT"));
	s5 = obj(&w, "\\_S5_");
	CHECK(s5 && s5->val[0] == 0x0a);
	slp_typ = s5->val[1];
	CHECK_EQ(pm_io_write(&c.pm, (uint16_t)le(f + 0xf8, 8), 1,
			     (uint32_t)(slp_typ << 2) | PM_SLP_EN),
		 PM_ACTION_POWER_OFF);
	CHECK_EQ(pm_io_write(&c.pm, (uint16_t)le(f + 0x78, 8), 1, f[0x80]),
		 PM_ACTION_RESET);
}

/* ------------------------------------------------------------ CMOS RTC */
#include "worker/platform/rtc.h"

static uint8_t rtc_reg(struct rtc *r, uint8_t idx, time_t now)
{
	rtc_write(r, RTC_INDEX_PORT, idx | 0x80);	/* NMI-disable bit */
	return rtc_read(r, RTC_DATA_PORT, now);
}

TEST(rtc_reports_utc_in_bcd_and_never_updating)
{
	struct rtc r;
	time_t t = 1795348799;	/* 2026-11-22 11:59:59 UTC, a Sunday */

	rtc_init(&r);
	CHECK(rtc_owns_port(0x70) && rtc_owns_port(0x71) && !rtc_owns_port(0x72));
	CHECK_EQ(rtc_reg(&r, 0x0a, t) & 0x80, 0);	/* UIP clear */
	CHECK_EQ(rtc_reg(&r, 0x0b, t) & 0x06, 0x02);	/* BCD, 24 hours */
	CHECK_EQ(rtc_reg(&r, 0x0d, t), 0x80);		/* battery fine */
	CHECK_EQ(rtc_reg(&r, 0x00, t), 0x59);
	CHECK_EQ(rtc_reg(&r, 0x02, t), 0x59);
	CHECK_EQ(rtc_reg(&r, 0x04, t), 0x11);
	CHECK_EQ(rtc_reg(&r, 0x07, t), 0x22);
	CHECK_EQ(rtc_reg(&r, 0x08, t), 0x11);
	CHECK_EQ(rtc_reg(&r, 0x09, t), 0x26);
	CHECK_EQ(rtc_reg(&r, 0x32, t), 0x20);
	CHECK_EQ(rtc_reg(&r, 0x06, t), 0x01);
	/* The clock ignores writes; the rest of CMOS keeps them. */
	rtc_write(&r, RTC_INDEX_PORT, 0x00);
	rtc_write(&r, RTC_DATA_PORT, 0x12);
	CHECK_EQ(rtc_reg(&r, 0x00, t), 0x59);
	rtc_write(&r, RTC_INDEX_PORT, 0x40);
	rtc_write(&r, RTC_DATA_PORT, 0x5a);
	CHECK_EQ(rtc_reg(&r, 0x40, t), 0x5a);
	CHECK_EQ(rtc_read(&r, RTC_INDEX_PORT, t), 0xff);
}
