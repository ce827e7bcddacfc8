/* Kept apart from string.c so the host unit tests can link it next to libc. */
#include <hv/string.h>

size_t hv_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}
