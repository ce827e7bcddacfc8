/*
 * A small vsnprintf. The hypervisor has no libc; this is the only
 * formatter, shared by the console and by anything that builds strings.
 */
#include <hv/printf.h>
#include <hv/string.h>

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_repeat(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

struct spec {
	bool left, zero, plus, space, alt;
	int width;
	int prec;	/* -1: none */
	int base;
	bool upper;
};

static void put_number(struct out *o, u64 v, bool neg, const struct spec *s)
{
	const char *digits = s->upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	while (v) {
		tmp[n++] = digits[v % (unsigned)s->base];
		v /= (unsigned)s->base;
	}
	if (n == 0 && s->prec != 0)
		tmp[n++] = '0';

	char sign = neg ? '-' : s->plus ? '+' : s->space ? ' ' : 0;
	const char *prefix = "";
	if (s->alt && s->base == 16 && n && !(n == 1 && tmp[0] == '0'))
		prefix = s->upper ? "0X" : "0x";
	else if (s->alt && s->base == 8 && tmp[n - 1] != '0')
		prefix = "0";

	int zeros = s->prec > n ? s->prec - n : 0;
	int body = (sign ? 1 : 0) + (int)strlen(prefix) + zeros + n;
	int pad = s->width > body ? s->width - body : 0;

	if (s->zero && !s->left && s->prec < 0) {
		zeros += pad;
		pad = 0;
	}
	if (!s->left)
		put_repeat(o, ' ', pad);
	if (sign)
		put(o, sign);
	for (const char *p = prefix; *p; p++)
		put(o, *p);
	put_repeat(o, '0', zeros);
	while (n)
		put(o, tmp[--n]);
	if (s->left)
		put_repeat(o, ' ', pad);
}

static void put_string(struct out *o, const char *str, const struct spec *s)
{
	if (!str)
		str = "(null)";
	int n = (int)strnlen(str, s->prec >= 0 ? (size_t)s->prec : (size_t)-1);
	int pad = s->width > n ? s->width - n : 0;

	if (!s->left)
		put_repeat(o, ' ', pad);
	for (int i = 0; i < n; i++)
		put(o, str[i]);
	if (s->left)
		put_repeat(o, ' ', pad);
}

static const char *parse_flags(const char *f, struct spec *s)
{
	for (;; f++) {
		switch (*f) {
		case '-': s->left = true; break;
		case '0': s->zero = true; break;
		case '+': s->plus = true; break;
		case ' ': s->space = true; break;
		case '#': s->alt = true; break;
		default: return f;
		}
	}
}

static const char *parse_int(const char *f, int *out, va_list *ap)
{
	if (*f == '*') {
		*out = va_arg(*ap, int);
		return f + 1;
	}
	*out = 0;
	while (*f >= '0' && *f <= '9')
		*out = *out * 10 + (*f++ - '0');
	return f;
}

/* Length modifier: 0 int, 1 long, 2 long long, -1 short, -2 char. */
static const char *parse_length(const char *f, int *len)
{
	*len = 0;
	if (f[0] == 'h' && f[1] == 'h')
		return *len = -2, f + 2;
	if (f[0] == 'l' && f[1] == 'l')
		return *len = 2, f + 2;
	if (*f == 'h')
		return *len = -1, f + 1;
	if (*f == 'l' || *f == 'z' || *f == 't' || *f == 'j')
		return *len = 1, f + 1;
	return f;
}

static u64 fetch_unsigned(int len, va_list *ap)
{
	switch (len) {
	case -2: return (u8)va_arg(*ap, unsigned int);
	case -1: return (u16)va_arg(*ap, unsigned int);
	case 0: return va_arg(*ap, unsigned int);
	case 1: return va_arg(*ap, unsigned long);
	default: return va_arg(*ap, unsigned long long);
	}
}

static s64 fetch_signed(int len, va_list *ap)
{
	switch (len) {
	case -2: return (s8)va_arg(*ap, int);
	case -1: return (s16)va_arg(*ap, int);
	case 0: return va_arg(*ap, int);
	case 1: return va_arg(*ap, long);
	default: return va_arg(*ap, long long);
	}
}

static void format_one(struct out *o, char conv, int len, struct spec *s,
		       va_list *ap)
{
	s64 sv;

	switch (conv) {
	case 'd':
	case 'i':
		sv = fetch_signed(len, ap);
		s->base = 10;
		put_number(o, sv < 0 ? -(u64)sv : (u64)sv, sv < 0, s);
		break;
	case 'u':
		s->base = 10;
		put_number(o, fetch_unsigned(len, ap), false, s);
		break;
	case 'X':
		s->upper = true;
		/* fall through */
	case 'x':
		s->base = 16;
		put_number(o, fetch_unsigned(len, ap), false, s);
		break;
	case 'o':
		s->base = 8;
		put_number(o, fetch_unsigned(len, ap), false, s);
		break;
	case 'p':
		s->base = 16;
		s->alt = true;
		put_number(o, (u64)(uintptr_t)va_arg(*ap, void *), false, s);
		break;
	case 's':
		put_string(o, va_arg(*ap, const char *), s);
		break;
	case 'c':
		put(o, (char)va_arg(*ap, int));
		break;
	case '%':
		put(o, '%');
		break;
	default:
		/* Unknown conversion: show it rather than guess. */
		put(o, '%');
		put(o, conv);
		break;
	}
}

int hv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
	struct out o = { .buf = buf, .size = size, .len = 0 };
	va_list ap;

	va_copy(ap, ap_in);
	while (*fmt) {
		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		struct spec s = { .prec = -1 };
		int len;

		fmt = parse_flags(fmt + 1, &s);
		fmt = parse_int(fmt, &s.width, &ap);
		if (s.width < 0) {
			s.left = true;
			s.width = -s.width;
		}
		if (*fmt == '.') {
			fmt = parse_int(fmt + 1, &s.prec, &ap);
			if (s.prec < 0)
				s.prec = -1;
		}
		fmt = parse_length(fmt, &len);
		if (!*fmt)
			break;
		format_one(&o, *fmt++, len, &s, &ap);
	}
	va_end(ap);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int hv_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = hv_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
