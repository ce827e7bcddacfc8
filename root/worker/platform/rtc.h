/*
 * The CMOS real-time clock at ports 0x70/0x71, read-only: enough for
 * Linux's boot-time wall clock (mach_get_cmos_time). Without it the
 * guest spins on the update-in-progress bit of all-ones reads for
 * seconds and starts in 1970. Pure code: the caller passes the time.
 */
#ifndef WORKER_PLATFORM_RTC_H
#define WORKER_PLATFORM_RTC_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define RTC_INDEX_PORT 0x70
#define RTC_DATA_PORT 0x71

struct rtc {
	uint8_t index;		/* last written to 0x70 (NMI bit dropped) */
	uint8_t ram[128];	/* CMOS bytes beyond the clock: kept */
};

void rtc_init(struct rtc *r);
bool rtc_owns_port(uint16_t port);
/* now: seconds since the epoch (UTC), read at the access. */
uint8_t rtc_read(struct rtc *r, uint16_t port, time_t now);
void rtc_write(struct rtc *r, uint16_t port, uint8_t v);

#endif
