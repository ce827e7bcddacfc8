/* ACPI table discovery and the MADT. Pure code: unit-tested on the host. */
#include <hv/acpi.h>
#include <hv/string.h>

#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_LAPIC_OVERRIDE 5
#define MADT_X2APIC 9
#define MADT_ENABLED BIT(0)

static u8 checksum(const void *p, size_t len)
{
	const u8 *b = p;
	u8 sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

const char *acpi_rsdp_parse(const void *p, size_t len, struct acpi_root *out)
{
	struct acpi_rsdp r = { 0 };

	if (len < 20)
		return "RSDP too short";
	memcpy(&r, p, MIN(len, sizeof(r)));
	if (memcmp(r.signature, "RSD PTR ", 8))
		return "RSDP signature wrong";
	if (checksum(p, 20))
		return "RSDP checksum wrong";
	if (r.revision >= 2 && len >= sizeof(r) && r.length >= sizeof(r) &&
	    r.xsdt_address) {
		if (checksum(p, sizeof(r)))
			return "RSDP extended checksum wrong";
		*out = (struct acpi_root){ r.xsdt_address, true };
		return NULL;
	}
	if (!r.rsdt_address)
		return "RSDP names no root table";
	*out = (struct acpi_root){ r.rsdt_address, false };
	return NULL;
}

static bool scan(phys_reader_fn read, void *ctx, u64 base, u64 len,
		 u64 *found)
{
	const u8 *p = read(base, len, ctx);
	struct acpi_root dummy;

	if (!p)
		return false;
	for (u64 off = 0; off + 20 <= len; off += 16) {
		size_t avail = (size_t)MIN(len - off, sizeof(struct acpi_rsdp));

		if (!acpi_rsdp_parse(p + off, avail, &dummy)) {
			*found = base + off;
			return true;
		}
	}
	return false;
}

const char *acpi_rsdp_scan(phys_reader_fn read, void *ctx, u64 *rsdp_pa)
{
	const u16 *ebda_seg = read(0x40e, 2, ctx);

	if (ebda_seg && *ebda_seg >= 0x80 &&
	    scan(read, ctx, (u64)*ebda_seg << 4, 1024, rsdp_pa))
		return NULL;
	if (scan(read, ctx, 0xe0000, 0x20000, rsdp_pa))
		return NULL;
	return "no ACPI RSDP found";
}

static const struct acpi_table_header *map_table(u64 pa, phys_reader_fn read,
						 void *ctx)
{
	const struct acpi_table_header *h = read(pa, sizeof(*h), ctx);

	if (!h || h->length < sizeof(*h) || h->length > (16u << 20))
		return NULL;
	h = read(pa, h->length, ctx);
	if (!h || checksum(h, h->length))
		return NULL;
	return h;
}

const struct acpi_table_header *
acpi_find_table(const struct acpi_root *root, const char sig[4],
		phys_reader_fn read, void *ctx, u64 *pa)
{
	const struct acpi_table_header *rt = map_table(root->table_pa, read,
						       ctx);
	u32 esize = root->xsdt ? 8 : 4;

	if (!rt || memcmp(rt->signature, root->xsdt ? "XSDT" : "RSDT", 4))
		return NULL;
	for (u32 off = sizeof(*rt); off + esize <= rt->length; off += esize) {
		const struct acpi_table_header *t;
		u64 entry = 0;

		memcpy(&entry, (const u8 *)rt + off, esize);
		t = map_table(entry, read, ctx);
		if (t && !memcmp(t->signature, sig, 4)) {
			*pa = entry;
			return t;
		}
	}
	return NULL;
}

bool acpi_root_remove(struct acpi_table_header *rt, bool xsdt, u64 pa)
{
	u8 *p = (u8 *)rt;
	u32 esize = xsdt ? 8 : 4;

	for (u32 off = sizeof(*rt); off + esize <= rt->length; off += esize) {
		u64 entry = 0;

		memcpy(&entry, p + off, esize);
		if (entry != pa)
			continue;
		memmove(p + off, p + off + esize, rt->length - off - esize);
		rt->length -= esize;
		memset(p + rt->length, 0, esize);
		rt->checksum = 0;
		rt->checksum = (u8)-checksum(rt, rt->length);
		return true;
	}
	return false;
}

static void add_cpu(struct acpi_madt_info *m, u32 apic_id, u32 uid,
		    u32 flags, bool x2)
{
	if (!(flags & MADT_ENABLED)) {
		m->n_disabled++;
		return;
	}
	for (u32 i = 0; i < m->n_cpus; i++)
		if (m->cpus[i].apic_id == apic_id)
			return;	/* listed twice (LAPIC and x2APIC) */
	if (m->n_cpus == HV_MAX_CPUS) {
		m->n_over_limit++;
		return;
	}
	m->cpus[m->n_cpus++] = (struct acpi_cpu){ apic_id, uid, x2 };
}

const char *acpi_madt_parse(const struct acpi_table_header *madt,
			    struct acpi_madt_info *out)
{
	const u8 *p = (const u8 *)madt;
	u32 lapic, flags, off = sizeof(*madt) + 8;

	memset(out, 0, sizeof(*out));
	if (memcmp(madt->signature, "APIC", 4) || madt->length < off)
		return "MADT malformed";
	memcpy(&lapic, p + 36, 4);
	memcpy(&flags, p + 40, 4);
	out->lapic_base = lapic;
	out->pcat_compat = flags & 1;
	while (off + 2 <= madt->length) {
		u8 type = p[off], len = p[off + 1];
		u32 a = 0, b = 0, c = 0;

		if (len < 2 || off + len > madt->length)
			return "MADT entry overruns the table";
		if (type == MADT_LAPIC && len >= 8) {
			memcpy(&c, p + off + 4, 4);
			add_cpu(out, p[off + 3], p[off + 2], c, false);
		} else if (type == MADT_X2APIC && len >= 16) {
			memcpy(&a, p + off + 4, 4);
			memcpy(&c, p + off + 8, 4);
			memcpy(&b, p + off + 12, 4);
			add_cpu(out, a, b, c, true);
		} else if (type == MADT_IOAPIC && len >= 12 &&
			   out->n_ioapics < ACPI_MAX_IOAPICS) {
			struct acpi_ioapic *io = &out->ioapics[out->n_ioapics++];

			io->id = p[off + 2];
			memcpy(&io->base, p + off + 4, 4);
			memcpy(&io->gsi_base, p + off + 8, 4);
		} else if (type == MADT_LAPIC_OVERRIDE && len >= 12) {
			memcpy(&out->lapic_base, p + off + 4, 8);
		}
		off += len;
	}
	if (!out->n_cpus)
		return "MADT lists no usable CPU";
	return NULL;
}
