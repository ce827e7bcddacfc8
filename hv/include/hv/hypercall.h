/* The hypercall entry point, called by the vendor exit handler. */
#ifndef HV_HYPERCALL_H
#define HV_HYPERCALL_H

#include <hv/vp.h>

/*
 * hypercall() returns this instead of a result for a child's (valid)
 * PostMessage or SignalEvent when the root installed the hypercall
 * intercept: the root serves those (the VMBus server lives there), so
 * the VMMCALL leaves as an intercept. No result value has all its
 * reserved bits set.
 */
#define HYPERCALL_TO_ROOT (~0ull)

/*
 * Executes the hypercall in rcx (control), rdx, r8 (input and output
 * GPAs, or fast input) for vp. Returns the result value for RAX, or
 * HYPERCALL_TO_ROOT.
 */
u64 hypercall(struct vp *vp, u64 rcx, u64 rdx, u64 r8);

#endif
