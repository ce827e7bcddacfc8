/* Time at boot: the TSC, calibrated once against the PIT. */
#ifndef X86_TSC_H
#define X86_TSC_H

#include <hv/types.h>

void tsc_calibrate(void);
u64 tsc_khz(void);
void udelay(u64 us);

#endif
