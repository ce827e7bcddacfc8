/*
 * TSC calibration with PIT channel 2 (the speaker gate), as firmware and
 * kernels have long done: count TSC ticks over a known number of PIT
 * ticks. Accurate enough for start-up delays; the reference time the
 * guests see comes later from a better source.
 */
#include <hv/log.h>
#include <x86/cpu.h>
#include <x86/msr.h>
#include <x86/tsc.h>
#include <hv/spinlock.h>

#define PIT_HZ 1193182ull
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_GATE 0x61
#define CALIBRATE_MS 10ull

static u64 khz = 1000000;	/* 1 GHz until calibrated */

void tsc_calibrate(void)
{
	u64 latch = PIT_HZ * CALIBRATE_MS / 1000, t0, t1, spins = 0;
	u8 gate = inb(PIT_GATE);

	outb(PIT_GATE, (gate & ~0x02) | 0x01);	/* speaker off, gate on */
	outb(PIT_CMD, 0xb0);			/* ch2, lo/hi, mode 0 */
	outb(PIT_CH2, latch & 0xff);
	outb(PIT_CH2, (u8)(latch >> 8));
	t0 = rdtsc();
	while (!(inb(PIT_GATE) & 0x20) && ++spins < 100000000)
		;
	t1 = rdtsc();
	outb(PIT_GATE, gate);
	if (spins >= 100000000 || t1 <= t0) {
		pr_warn("tsc: PIT calibration failed; assuming 1 GHz");
		return;
	}
	khz = (t1 - t0) / CALIBRATE_MS;
	pr_info("tsc: %llu.%03llu MHz", khz / 1000, khz % 1000);
}

u64 tsc_khz(void)
{
	return khz;
}

/*
 * floor(2^64 * 10^7 / tsc_hz): the TLFS reference-time scale, so that
 * 100 ns units = (tsc * scale) >> 64. Binary long division, because a
 * 128-bit divide would need libgcc.
 */
u64 tsc_ref_scale(void)
{
	static u64 cached_for, scale;
	u64 hz = khz * 1000, rem = 10000000, q = 0;

	if (cached_for == khz)
		return scale;
	for (int i = 0; i < 64; i++) {
		rem <<= 1;
		q <<= 1;
		if (rem >= hz) {
			rem -= hz;
			q |= 1;
		}
	}
	scale = q;
	cached_for = khz;
	return q;
}

void udelay(u64 us)
{
	u64 end = rdtsc() + us * khz / 1000;

	while (rdtsc() < end)
		cpu_relax();
}

bool cpu_has_tsc_aux(void)
{
	static int have = -1;

	if (have < 0)
		have = !!(cpuid(0x80000001u, 0).edx & BIT(27));
	return have;
}
