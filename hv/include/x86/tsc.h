/* Time at boot: the TSC, calibrated once against the PIT. */
#ifndef X86_TSC_H
#define X86_TSC_H

#include <hv/types.h>

void tsc_calibrate(void);
u64 tsc_khz(void);
u64 tsc_ref_scale(void);	/* 100 ns units = (tsc * scale) >> 64 */
void udelay(u64 us);

#endif
