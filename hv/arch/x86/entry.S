/*
 * Exception entry. Every vector pushes an error code (a zero where the
 * CPU does not) and its number, so exception_dispatch sees one frame
 * shape (struct exc_frame).
 */
#include <x86/asm-common.h>
#include <x86/desc.h>

	.text
	.code64

.macro EXC_NOERR vec
	.balign 16
exc_\vec:
	pushq $0
	pushq $\vec
	jmp exc_common
.endm

.macro EXC_ERR vec
	.balign 16
exc_\vec:
	pushq $\vec
	jmp exc_common
.endm

EXC_NOERR 0
EXC_NOERR 1
EXC_NOERR 2
EXC_NOERR 3
EXC_NOERR 4
EXC_NOERR 5
EXC_NOERR 6
EXC_NOERR 7
EXC_ERR 8
EXC_NOERR 9
EXC_ERR 10
EXC_ERR 11
EXC_ERR 12
EXC_ERR 13
EXC_ERR 14
EXC_NOERR 15
EXC_NOERR 16
EXC_ERR 17
EXC_NOERR 18
EXC_NOERR 19
EXC_NOERR 20
EXC_ERR 21
EXC_NOERR 22
EXC_NOERR 23
EXC_NOERR 24
EXC_NOERR 25
EXC_NOERR 26
EXC_NOERR 27
EXC_NOERR 28
EXC_ERR 29
EXC_ERR 30
EXC_NOERR 31

exc_common:
	cld
	PUSH_GPRS
	movq %rsp, %rdi
	/* Keep the C call ABI's 16-byte stack alignment. */
	movq %rsp, %rbx
	andq $-16, %rsp
	call exception_dispatch
	movq %rbx, %rsp
	POP_GPRS
	addq $16, %rsp
	iretq

	.section .rodata
	.balign 8
	.globl exception_stubs
exception_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad exc_\v
	.endr

	.text
	/* switch_stack(top, fn): continue in fn on a new stack; no return. */
	.globl switch_stack
switch_stack:
	movq %rdi, %rsp
	xorl %ebp, %ebp
	call *%rsi
	ud2

	/*
	 * idle_wait(flag): halt until *flag (a bool) is set. Another CPU
	 * sets the flag and then sends an NMI; the NMI handler moves a RIP
	 * sitting on idle_hlt_insn past the HLT, so a wake-up that lands
	 * between the test and the HLT is not lost.
	 */
	.globl idle_wait, idle_hlt_insn
idle_wait:
1:	cmpb $0, (%rdi)
	jne 2f
idle_hlt_insn:
	hlt
	jmp 1b
2:	ret
