/*
 * Assembler macros shared by the hypervisor and the test kernels:
 * the exception frame's register save/restore (struct exc_frame order)
 * and the 32-bit code that builds an identity map of the low 4 GiB
 * with 2 MiB pages before long mode.
 */
#ifndef X86_ASM_COMMON_H
#define X86_ASM_COMMON_H
#ifdef __ASSEMBLER__

.macro PUSH_GPRS
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
.endm

.macro POP_GPRS
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
.endm

/* 32-bit, paging off: pml4[0] -> pdpt, pdpt[0..3] -> four PDs of 2 MiB
 * pages covering 0-4 GiB, writable. Clobbers EAX and ECX. */
.macro BUILD_IDENTITY_4G pml4, pdpt, pd
	movl $\pdpt, %eax
	orl $0x3, %eax
	movl %eax, \pml4
	xorl %ecx, %ecx
101:	movl %ecx, %eax
	shll $12, %eax
	addl $\pd, %eax
	orl $0x3, %eax
	movl %eax, \pdpt(, %ecx, 8)
	incl %ecx
	cmpl $4, %ecx
	jb 101b
	xorl %ecx, %ecx
102:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax			/* present, writable, 2 MiB */
	movl %eax, \pd(, %ecx, 8)
	movl %ecx, %eax
	shrl $11, %eax			/* bits 32+ of the address */
	movl %eax, \pd + 4(, %ecx, 8)
	incl %ecx
	cmpl $2048, %ecx
	jb 102b
.endm

#endif
#endif
