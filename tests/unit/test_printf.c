#include <stdarg.h>
#include <hv/printf.h>
#include "harness.h"

/* Our formatter must agree with the C library on everything we use. */
static void same(const char *fmt, ...)
{
	char ours[128], theirs[128];
	va_list a, b;
	int n1, n2;

	va_start(a, fmt);
	va_copy(b, a);
	n1 = hv_vsnprintf(ours, sizeof(ours), fmt, a);
	n2 = vsnprintf(theirs, sizeof(theirs), fmt, b);
	va_end(a);
	va_end(b);
	CHECK_STR(ours, theirs);
	CHECK_EQ(n1, n2);
}

TEST(printf_integers)
{
	same("%d %i %u", -42, 7, 4000000000u);
	same("%x %X %o", 0xdeadbeefu, 0xabcu, 0755u);
	same("%lld %llu %llx", -1ll, ~0ull, 0x123456789abcdefull);
	same("%ld %lu %zu", -9l, 9ul, (size_t)12345);
	same("%hhd %hd %hhu %hu", 300, 70000, 300, 70000);
	same("%d %d", 0, -2147483647 - 1);
}

TEST(printf_flags_width_precision)
{
	same("[%5d] [%-5d] [%05d] [%+d] [% d]", 42, 42, 42, 42, 42);
	same("[%#x] [%#X] [%#o] [%#x]", 255u, 255u, 8u, 0u);
	same("[%016llx] [%8.3d] [%.0d] [%*d] [%-*d]", 0xabcull, 7, 0, 6, 1,
	     6, 1);
	same("[%s] [%10s] [%-10s] [%.3s] [%.*s]", "abc", "abc", "abc",
	     "abcdef", 2, "xyz");
	same("[%c%c] [%%]", 'o', 'k');
	same("%p", (void *)0x1234);
}

TEST(printf_truncates_and_reports_length)
{
	char buf[8];

	CHECK_EQ(hv_snprintf(buf, sizeof(buf), "%s", "0123456789"), 10);
	CHECK_STR(buf, "0123456");
	CHECK_EQ(hv_snprintf(buf, 1, "abc"), 3);
	CHECK_STR(buf, "");
	CHECK_EQ(hv_snprintf(NULL, 0, "%d", 12345), 5);
}

/* Formats the compiler would reject, passed where it cannot see them. */
static int (*volatile unchecked)(char *, size_t, const char *, ...) =
	hv_snprintf;

TEST(printf_null_string_and_unknown_conversion)
{
	char buf[32];
	const char *volatile nul = NULL;

	unchecked(buf, sizeof(buf), "%s", nul);
	CHECK_STR(buf, "(null)");
	unchecked(buf, sizeof(buf), "a%qb");
	CHECK_STR(buf, "a%qb");
	unchecked(buf, sizeof(buf), "tail%");
	CHECK_STR(buf, "tail");
}
