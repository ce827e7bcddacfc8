#ifndef HV_PRINTF_H
#define HV_PRINTF_H

#include <stdarg.h>
#include <hv/types.h>

/*
 * Freestanding formatter: %d %i %u %x %X %o %p %s %c %%, flags "-0+ #",
 * width, precision (for strings and integers) and the length modifiers
 * hh h l ll z t j. Returns the length the full output would have had.
 */
int hv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int hv_snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#endif
