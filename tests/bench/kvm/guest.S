/*
 * The KVM baseline guest, run by runner.c in real mode at 0x1000. It
 * times the same two operations as tests/kernels/bench with RDTSC (one
 * tick per instruction under QEMU -icount shift=0) and reports the
 * totals through port 0xe0/0xe4; the runner divides by the count.
 *   1. VMMCALL with an unknown number: KVM answers it in the kernel.
 *   2. OUT to port 0x80: an exit to the runner in user space and back.
 */
#define N 2000

	.section .rodata
	.code16
	.globl kvm_guest_start, kvm_guest_end
kvm_guest_start:
	cli
	movl $N, %ecx
	lfence
	rdtsc
	movl %eax, %esi
1:	movl $0xfffff, %eax		/* not a KVM hypercall: -KVM_ENOSYS */
	vmmcall
	decl %ecx
	jnz 1b
	lfence
	rdtsc
	subl %esi, %eax
	outl %eax, $0xe0
	movl $N, %ecx
	lfence
	rdtsc
	movl %eax, %esi
2:	outb %al, $0x80
	decl %ecx
	jnz 2b
	lfence
	rdtsc
	subl %esi, %eax
	outl %eax, $0xe4
	hlt
kvm_guest_end:
	.code64
	.section .note.GNU-stack,"",@progbits
