/*
 * Synthetic timer arithmetic (TLFS "Synthetic Timers"): pure code,
 * unit-tested. Times are reference time, 100 ns units. A timer never
 * fires early; firing late is allowed.
 */
#include <hv/synic.h>

static u64 period(u64 count)
{
	return count < STIMER_MIN_PERIOD ? STIMER_MIN_PERIOD : count;
}

u64 stimer_deadline(u64 config, u64 count, u64 now)
{
	if (!(config & HV_STIMER_ENABLE) || !count)
		return 0;
	if (config & HV_STIMER_PERIODIC)
		return now + period(count);	/* count is the period */
	return count > now ? count : now;	/* past: fire at once */
}

u64 stimer_rearm(u64 config, u64 count, u64 deadline, u64 now)
{
	u64 next;

	if (!(config & HV_STIMER_PERIODIC) || !count)
		return 0;
	count = period(count);
	next = deadline + count;
	if (next <= now)	/* missed periods are dropped, not replayed */
		next = now + count - (now - deadline) % count;
	return next;
}
