#ifndef X86_EXCEPTION_H
#define X86_EXCEPTION_H

#include <hv/types.h>

/* What entry.S pushes; the order is fixed by that file. */
struct exc_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss;
};
static_assert(sizeof(struct exc_frame) == 22 * 8, "exception frame");

#define X86_VEC_DE 0
#define X86_VEC_NMI 2
#define X86_VEC_UD 6
#define X86_VEC_DF 8
#define X86_VEC_GP 13
#define X86_VEC_PF 14
#define X86_VEC_MC 18

void exception_dispatch(struct exc_frame *f);

/* NMIs: cross-CPU requests (core/sched.c) or the root's own. */
void nmi_handle(struct exc_frame *f);

/*
 * Runs code at addr (which must end in "ret") and says whether fetching
 * it faulted. Used to prove that data pages are not executable.
 */
bool probe_exec(const void *addr);

/* Says whether a byte write to addr faults (the byte is rewritten). */
bool probe_write(volatile u8 *addr);

#endif
