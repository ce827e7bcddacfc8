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

/*
 * svm_vmrun(gprs, vmcb_pa, host_vmcb_pa): run a guest once. The guest's
 * GPRs other than RAX/RSP (which the VMCB holds) come from and go back
 * to *gprs (struct vp_gprs); its FS/GS/TR/LDTR and syscall MSRs are
 * VMLOADed and VMSAVEd with the VMCB, and the host's are VMLOADed back
 * from host_vmcb_pa. The caller brackets this with CLGI/STGI.
 */
#define G_RBX 0
#define G_RCX 8
#define G_RDX 16
#define G_RSI 24
#define G_RDI 32
#define G_RBP 40
#define G_R8 48
#define G_R9 56
#define G_R10 64
#define G_R11 72
#define G_R12 80
#define G_R13 88
#define G_R14 96
#define G_R15 104

	.globl svm_vmrun
svm_vmrun:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdx			/* host VMCB */
	pushq %rdi			/* gprs */
	movq %rsi, %rax
	movq G_RBX(%rdi), %rbx
	movq G_RCX(%rdi), %rcx
	movq G_RDX(%rdi), %rdx
	movq G_RSI(%rdi), %rsi
	movq G_RBP(%rdi), %rbp
	movq G_R8(%rdi), %r8
	movq G_R9(%rdi), %r9
	movq G_R10(%rdi), %r10
	movq G_R11(%rdi), %r11
	movq G_R12(%rdi), %r12
	movq G_R13(%rdi), %r13
	movq G_R14(%rdi), %r14
	movq G_R15(%rdi), %r15
	movq G_RDI(%rdi), %rdi
	vmload %rax
	vmrun %rax
	vmsave %rax
	pushq %rdi			/* guest RDI */
	movq 8(%rsp), %rdi		/* gprs */
	movq %rbx, G_RBX(%rdi)
	movq %rcx, G_RCX(%rdi)
	movq %rdx, G_RDX(%rdi)
	movq %rsi, G_RSI(%rdi)
	movq %rbp, G_RBP(%rdi)
	movq %r8, G_R8(%rdi)
	movq %r9, G_R9(%rdi)
	movq %r10, G_R10(%rdi)
	movq %r11, G_R11(%rdi)
	movq %r12, G_R12(%rdi)
	movq %r13, G_R13(%rdi)
	movq %r14, G_R14(%rdi)
	movq %r15, G_R15(%rdi)
	popq G_RDI(%rdi)
	addq $8, %rsp			/* gprs */
	popq %rax			/* host VMCB */
	vmload %rax
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
