/* Command-line parsing. Pure code: unit-tested on the host. */
#include <hv/options.h>
#include <hv/printf.h>
#include <hv/string.h>

bool parse_u64(const char *s, size_t len, u64 *out)
{
	u64 v = 0, base = 10;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return false;
	for (; i < len; i++) {
		u64 d;
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = (u64)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (u64)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (u64)(c - 'A' + 10);
		else
			return false;
		if (v > (~0ull - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

bool parse_size(const char *s, size_t len, u64 *out)
{
	unsigned shift = 0;
	u64 v;

	if (len && s[0] != '0') {
		switch (s[len - 1]) {
		case 'K': case 'k': shift = 10; break;
		case 'M': case 'm': shift = 20; break;
		case 'G': case 'g': shift = 30; break;
		}
	}
	if (shift)
		len--;
	if (!parse_u64(s, len, &v) || v > (~0ull >> shift))
		return false;
	*out = v << shift;
	return true;
}

static bool word_is(const char *w, size_t n, const char *lit)
{
	return strlen(lit) == n && !memcmp(w, lit, n);
}

static bool parse_loglevel(const char *v, size_t n, struct hv_options *o)
{
	static const char *const names[] = { "err", "warn", "info", "debug" };
	u64 x;

	for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
		if (word_is(v, n, names[i])) {
			o->loglevel = (enum log_level)i;
			return true;
		}
	}
	if (!parse_u64(v, n, &x) || x > LOG_DEBUG)
		return false;
	o->loglevel = (enum log_level)x;
	return true;
}

static bool parse_port(const char *v, size_t n, u16 *port, bool com_names)
{
	static const u16 com[] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
	u64 x;

	if (com_names && word_is(v, n, "none")) {
		*port = 0;
		return true;
	}
	if (com_names && n == 4 && !memcmp(v, "com", 3) && v[3] >= '1' &&
	    v[3] <= '4') {
		*port = com[v[3] - '1'];
		return true;
	}
	if (!parse_u64(v, n, &x) || x == 0 || x > 0xfff8)
		return false;
	*port = (u16)x;
	return true;
}

static bool parse_selftests(const char *v, size_t n, u32 *out)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && v[j] != ',')
			j++;
		if (word_is(v + i, j - i, "ap_fault"))
			*out |= SELFTEST_AP_FAULT;
		else if (word_is(v + i, j - i, "mem"))
			*out |= SELFTEST_MEM;
		else
			return false;
		i = j + 1;
	}
	return true;
}

static bool parse_iommu(const char *v, size_t n, enum iommu_mode *out)
{
	static const char *const names[] = { "auto", "required", "off" };

	for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
		if (word_is(v, n, names[i])) {
			*out = (enum iommu_mode)i;
			return true;
		}
	}
	return false;
}

/* Returns false if the value is bad; *known says whether the key exists. */
static bool apply_option(const char *k, size_t kn, const char *v, size_t vn,
			 struct hv_options *o, bool *known)
{
	u64 x;

	*known = true;
	if (word_is(k, kn, "loglevel"))
		return parse_loglevel(v, vn, o);
	if (word_is(k, kn, "console"))
		return parse_port(v, vn, &o->console_port, true);
	if (word_is(k, kn, "baud")) {
		if (!parse_u64(v, vn, &x) || x < 50 || x > 115200 ||
		    115200 % x)
			return false;
		o->baud = (u32)x;
		return true;
	}
	if (word_is(k, kn, "debug_exit"))
		return parse_port(v, vn, &o->debug_exit_port, false);
	if (word_is(k, kn, "hv_mem")) {
		if (!parse_size(v, vn, &x) || x < 4 * SZ_1M)
			return false;
		o->hv_mem = ALIGN_UP(x, PAGE_SIZE);
		return true;
	}
	if (word_is(k, kn, "selftest"))
		return parse_selftests(v, vn, &o->selftests);
	if (word_is(k, kn, "iommu"))
		return parse_iommu(v, vn, &o->iommu);
	if (word_is(k, kn, "iommu_intr")) {
		if (!word_is(v, vn, "block") && !word_is(v, vn, "pass"))
			return false;
		o->iommu_intr_pass = word_is(v, vn, "pass");
		return true;
	}
	*known = false;
	return true;
}

static const char *const option_help[] = {
	"loglevel: expected 0-3 or err|warn|info|debug",
	"console: expected com1-com4, none or an I/O port",
	"baud: expected a divisor of 115200",
	"debug_exit: expected an I/O port",
	"hv_mem: expected a size of at least 4M (e.g. 64M)",
	"selftest: expected a comma list of ap_fault, mem",
	"iommu: expected auto, required or off",
	"iommu_intr: expected block or pass",
};

static const char *help_for(const char *k, size_t kn)
{
	for (unsigned i = 0; i < ARRAY_SIZE(option_help); i++) {
		const char *h = option_help[i];
		if (!strncmp(h, k, kn) && h[kn] == ':')
			return h;
	}
	return "bad value";
}

bool options_parse(const char *cmdline, struct hv_options *o, char *err,
		   char *warn)
{
	const char *p = cmdline ? cmdline : "";

	*o = (struct hv_options){
		.loglevel = LOG_INFO,
		.console_port = 0x3f8,
		.baud = 115200,
	};
	err[0] = warn[0] = '\0';
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return true;
		const char *w = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		size_t wn = (size_t)(p - w);
		const char *eq = memchr(w, '=', wn);
		size_t kn = eq ? (size_t)(eq - w) : wn;
		const char *v = eq ? eq + 1 : "";
		size_t vn = eq ? wn - kn - 1 : 0;
		bool known;

		if (!apply_option(w, kn, v, vn, o, &known)) {
			hv_snprintf(err, OPTIONS_ERR_LEN, "bad option '%.*s' (%s)",
				    (int)wn, w, help_for(w, kn));
			return false;
		}
		if (!known)
			hv_snprintf(warn, OPTIONS_ERR_LEN,
				    "unknown option '%.*s' ignored", (int)wn, w);
	}
}
