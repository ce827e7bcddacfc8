/* The CMOS clock (see rtc.h): BCD, 24-hour mode, never updating. */
#include <string.h>

#include "rtc.h"

#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define REG_CENTURY 0x32
#define REG_B_24H 0x02
#define REG_D_VALID 0x80
#define REG_A_DIVIDER 0x26	/* 32.768 kHz, 1024 Hz; UIP clear */

void rtc_init(struct rtc *r)
{
	memset(r, 0, sizeof(*r));
}

bool rtc_owns_port(uint16_t port)
{
	return port == RTC_INDEX_PORT || port == RTC_DATA_PORT;
}

static uint8_t bcd(int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static uint8_t clock_register(uint8_t index, const struct tm *t)
{
	switch (index) {
	case 0x00: return bcd(t->tm_sec);
	case 0x02: return bcd(t->tm_min);
	case 0x04: return bcd(t->tm_hour);
	case 0x06: return bcd(t->tm_wday + 1);
	case 0x07: return bcd(t->tm_mday);
	case 0x08: return bcd(t->tm_mon + 1);
	case 0x09: return bcd(t->tm_year % 100);
	case REG_CENTURY: return bcd(19 + t->tm_year / 100);
	case REG_A: return REG_A_DIVIDER;
	case REG_B: return REG_B_24H;
	case REG_C: return 0;
	case REG_D: return REG_D_VALID;
	default: return 0xff;	/* not a clock register: see ram */
	}
}

static bool is_clock_register(uint8_t index)
{
	return index <= 0x0d || index == REG_CENTURY;
}

uint8_t rtc_read(struct rtc *r, uint16_t port, time_t now)
{
	struct tm t;

	if (port != RTC_DATA_PORT)
		return 0xff;
	if (!is_clock_register(r->index))
		return r->ram[r->index];
	gmtime_r(&now, &t);
	return clock_register(r->index, &t);
}

void rtc_write(struct rtc *r, uint16_t port, uint8_t v)
{
	if (port == RTC_INDEX_PORT)
		r->index = v & 0x7f;
	else if (!is_clock_register(r->index))
		r->ram[r->index] = v;	/* the clock itself stays read-only */
}
