/* Physical memory map bookkeeping. Pure code: unit-tested on the host. */
#include <hv/memmap.h>
#include <hv/string.h>

static const char *const type_names[] = {
	[MEM_RAM] = "ram",
	[MEM_RESERVED] = "reserved",
	[MEM_ACPI] = "acpi",
	[MEM_NVS] = "acpi-nvs",
	[MEM_UNUSABLE] = "unusable",
	[MEM_HV_IMAGE] = "hv-image",
	[MEM_BOOT_MODULE] = "module",
	[MEM_HV_POOL] = "hv-pool",
	[MEM_HV_BOOT] = "hv-boot",
};

const char *mem_type_name(enum mem_type t)
{
	if ((unsigned)t < ARRAY_SIZE(type_names) && type_names[t])
		return type_names[t];
	return "?";
}

static enum mem_type from_firmware(u32 fw)
{
	switch (fw) {
	case FW_MEM_RAM: return MEM_RAM;
	case FW_MEM_ACPI: return MEM_ACPI;
	case FW_MEM_NVS: return MEM_NVS;
	case FW_MEM_UNUSABLE: return MEM_UNUSABLE;
	default: return MEM_RESERVED;
	}
}

/* Where firmware ranges overlap, the most restrictive type wins. */
static int priority(enum mem_type t)
{
	switch (t) {
	case MEM_RAM: return 0;
	case MEM_ACPI: return 1;
	case MEM_NVS: return 2;
	case MEM_RESERVED: return 3;
	default: return 4;
	}
}

static void sort_u64(u64 *v, u32 n)
{
	for (u32 i = 1; i < n; i++) {
		u64 x = v[i];
		u32 j = i;

		for (; j && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static bool append(struct memmap *m, u64 base, u64 end, enum mem_type t)
{
	struct mem_region *last = m->n ? &m->r[m->n - 1] : NULL;

	if (base >= end)
		return true;
	if (last && last->end == base && last->type == t) {
		last->end = end;
		return true;
	}
	if (m->n == MEMMAP_MAX)
		return false;
	m->r[m->n++] = (struct mem_region){ base, end, t };
	return true;
}

/* RAM shrinks to whole pages; anything else grows to whole pages. */
static void page_bounds(const struct boot_mem_range *e, u64 *b, u64 *en)
{
	u64 end = e->base + e->len < e->base ? ~0ull : e->base + e->len;

	if (from_firmware(e->type) == MEM_RAM) {
		*b = ALIGN_UP(e->base, PAGE_SIZE);
		*en = ALIGN_DOWN(end, PAGE_SIZE);
	} else {
		*b = ALIGN_DOWN(e->base, PAGE_SIZE);
		*en = end > ALIGN_DOWN(~0ull, PAGE_SIZE) ? ALIGN_DOWN(~0ull,
			PAGE_SIZE) : ALIGN_UP(end, PAGE_SIZE);
	}
}

static int covering_type(const struct boot_mem_range *fw, u32 n, u64 a,
			 u64 b)
{
	int best = -1;

	for (u32 i = 0; i < n; i++) {
		u64 lo, hi;
		enum mem_type t = from_firmware(fw[i].type);

		page_bounds(&fw[i], &lo, &hi);
		if (lo <= a && b <= hi && (best < 0 ||
		    priority(t) > priority((enum mem_type)best)))
			best = (int)t;
	}
	return best;
}

bool memmap_init(struct memmap *m, const struct boot_mem_range *fw, u32 n)
{
	u64 cuts[2 * BOOT_MAX_MEM];
	u32 nc = 0;

	m->n = 0;
	if (n > BOOT_MAX_MEM)
		return false;
	for (u32 i = 0; i < n; i++) {
		u64 lo, hi;

		page_bounds(&fw[i], &lo, &hi);
		if (lo < hi) {
			cuts[nc++] = lo;
			cuts[nc++] = hi;
		}
	}
	sort_u64(cuts, nc);
	for (u32 i = 0; i + 1 < nc; i++) {
		int t = covering_type(fw, n, cuts[i], cuts[i + 1]);

		if (t >= 0 && !append(m, cuts[i], cuts[i + 1], (enum mem_type)t))
			return false;
	}
	return true;
}

/* Splits the region holding addr so that a region starts at addr. */
static bool split_at(struct memmap *m, u64 addr)
{
	for (u32 i = 0; i < m->n; i++) {
		struct mem_region *r = &m->r[i];

		if (addr <= r->base || addr >= r->end)
			continue;
		if (m->n == MEMMAP_MAX)
			return false;
		memmove(&m->r[i + 1], &m->r[i], (m->n - i) * sizeof(*r));
		m->n++;
		m->r[i].end = addr;
		m->r[i + 1].base = addr;
		return true;
	}
	return true;
}

static void merge(struct memmap *m)
{
	u32 out = 0;

	for (u32 i = 0; i < m->n; i++) {
		if (out && m->r[out - 1].end == m->r[i].base &&
		    m->r[out - 1].type == m->r[i].type)
			m->r[out - 1].end = m->r[i].end;
		else
			m->r[out++] = m->r[i];
	}
	m->n = out;
}

bool memmap_claim(struct memmap *m, u64 base, u64 len, enum mem_type t)
{
	u64 b = ALIGN_DOWN(base, PAGE_SIZE);
	u64 e = ALIGN_UP(base + len, PAGE_SIZE);
	u64 covered = 0;

	if (e <= b)
		return len == 0;
	if (!split_at(m, b) || !split_at(m, e))
		return false;
	for (u32 i = 0; i < m->n; i++) {
		struct mem_region *r = &m->r[i];

		if (r->base >= b && r->end <= e && r->type == MEM_RAM) {
			r->type = t;
			covered += r->end - r->base;
		}
	}
	merge(m);
	return covered == e - b;
}

u32 memmap_take_top(struct memmap *m, u64 size, u64 floor, u64 ceiling,
		    enum mem_type t, struct mem_region *out, u32 max_out)
{
	u64 left = ALIGN_UP(size, PAGE_SIZE);
	u32 n = 0;

	for (u32 i = m->n; i-- > 0 && left && n < max_out;) {
		const struct mem_region *r = &m->r[i];
		u64 lo = MAX(r->base, floor), hi = MIN(r->end, ceiling), start;

		if (r->type != MEM_RAM || hi <= lo)
			continue;
		if (hi - lo <= left) {
			start = lo;
		} else {
			start = ALIGN_DOWN(hi - left, SZ_2M);
			if (start < lo)
				start = hi - left;
		}
		out[n++] = (struct mem_region){ start, hi, t };
		left -= MIN(left, hi - start);
	}
	if (left)
		return 0;
	for (u32 i = 0; i < n; i++) {
		if (!memmap_claim(m, out[i].base, out[i].end - out[i].base, t))
			return 0;	/* cannot happen: the pieces were RAM */
	}
	return n;
}

void memmap_release(struct memmap *m, enum mem_type t)
{
	for (u32 i = 0; i < m->n; i++)
		if (m->r[i].type == t)
			m->r[i].type = MEM_RAM;
	merge(m);
}

u64 memmap_total(const struct memmap *m, enum mem_type t)
{
	u64 sum = 0;

	for (u32 i = 0; i < m->n; i++)
		if (m->r[i].type == t)
			sum += m->r[i].end - m->r[i].base;
	return sum;
}

u64 memmap_end(const struct memmap *m)
{
	return m->n ? m->r[m->n - 1].end : 0;
}

enum mem_type memmap_type_at(const struct memmap *m, u64 pa)
{
	for (u32 i = 0; i < m->n; i++)
		if (pa >= m->r[i].base && pa < m->r[i].end)
			return m->r[i].type;
	return MEM_RESERVED;
}
