/*
 * How the hypervisor reaches physical memory. It maps RAM at VA == PA
 * (Hafnium does the same), so these are cheap; the host unit tests link
 * a fake that maps a few fake physical ranges onto host buffers.
 */
#ifndef HV_MM_H
#define HV_MM_H

#include <hv/types.h>

void *hpa_to_hva(hpa_t pa);
hpa_t hva_to_hpa(const void *va);

#endif
