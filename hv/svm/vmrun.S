/*
 * VMRUN with only the host state the hardware does not keep for us:
 * callee-saved registers. Guests that touch other registers get a fuller
 * entry path once partitions exist.
 */
	.text
	.code64
	.globl svm_vmrun_raw
svm_vmrun_raw:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rdi, %rax
	clgi
	vmrun
	stgi
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	/* The self-test guest: one hypercall, which must come back to us. */
	.globl svm_selftest_guest
svm_selftest_guest:
	vmmcall
	ud2
