/* Test-kernel exception entry: one frame shape for every vector. */
#include <x86/asm-common.h>

	.text
	.code64
.macro NOERR vec
	.balign 16
tk_exc_\vec:
	pushq $0
	pushq $\vec
	jmp tk_exc_common
.endm
.macro ERR vec
	.balign 16
tk_exc_\vec:
	pushq $\vec
	jmp tk_exc_common
.endm
NOERR 0
NOERR 1
NOERR 2
NOERR 3
NOERR 4
NOERR 5
NOERR 6
NOERR 7
ERR 8
NOERR 9
ERR 10
ERR 11
ERR 12
ERR 13
ERR 14
NOERR 15
NOERR 16
ERR 17
NOERR 18
NOERR 19
NOERR 20
ERR 21
NOERR 22
NOERR 23
NOERR 24
NOERR 25
NOERR 26
NOERR 27
NOERR 28
ERR 29
ERR 30
NOERR 31
/* 32-255: interrupts; they only count (tk_irq_counts). */
.altmacro
.macro IRQS from, to
NOERR \from
.if \to-\from
IRQS %(\from+1), \to
.endif
.endm
IRQS 32, 100
IRQS 101, 170
IRQS 171, 240
IRQS 241, 255

tk_exc_common:
	cld
	PUSH_GPRS
	movq %rsp, %rdi
	movq %rsp, %rbx
	andq $-16, %rsp
	call tk_exception
	movq %rbx, %rsp
	POP_GPRS
	addq $16, %rsp
	iretq

.macro STUB_ADDR n
	.quad tk_exc_\n
.endm
	.section .rodata
	.balign 8
	.globl tk_exc_stubs
tk_exc_stubs:
	.set v, 0
	.rept 256
	STUB_ADDR %v
	.set v, v + 1
	.endr
