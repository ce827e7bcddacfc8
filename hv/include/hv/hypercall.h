/* The hypercall entry point, called by the vendor exit handler. */
#ifndef HV_HYPERCALL_H
#define HV_HYPERCALL_H

#include <hv/vp.h>

/*
 * Executes the hypercall in rcx (control), rdx, r8 (input and output
 * GPAs, or fast input) for vp. Returns the result value for RAX, or
 * sets *to_root when the (valid) call is the root's to serve.
 */
u64 hypercall(struct vp *vp, u64 rcx, u64 rdx, u64 r8, bool *to_root);

/*
 * A child's PostMessage or SignalEvent, when the root installed the
 * hypercall intercept: the root serves it (the VMBus server lives
 * there), so the VMMCALL leaves as an intercept instead.
 */
bool hypercall_for_root(const struct vp *vp, u64 rcx);

#endif
