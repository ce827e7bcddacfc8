/*
 * Emulating a guest's access to a page the hypervisor owns (the root's
 * LAPIC page, a child's virtual APIC page). Without decode assists the
 * instruction is fetched at RIP through the guest's page tables and
 * decoded (hv/decode.h); only the MOV forms kernels use are supported.
 */
#ifndef HV_MMIO_H
#define HV_MMIO_H

#include <hv/decode.h>

struct vp;

/* Decodes the instruction at vp's RIP; false (and a log line) if not. */
bool mmio_decode(struct vp *vp, struct mmio_insn *in);
/* The value a decoded write stores. */
u64 mmio_write_value(struct vp *vp, const struct mmio_insn *in);
/* Completes it: a read's value into its register, RIP past it. */
void mmio_complete(struct vp *vp, const struct mmio_insn *in, u64 read_value);

#endif
