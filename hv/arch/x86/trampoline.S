/*
 * Application processor start-up code. It is only data to the BSP, which
 * copies it to a page below 1 MiB, fills in the parameter block at its
 * end, maps that page read-only and executable, and points the SIPI
 * vector at it. What changes per AP (its index and stack) is in the next
 * page, which stays writable and never executable (W^X). The AP then walks real mode ->
 * protected mode -> long mode on the hypervisor's own page tables (the
 * PML4 is below 4 GiB for this) and jumps to ap_entry64 with its stack.
 *
 * Descriptors have their accessed bits preset: the page is mapped
 * read-only once paging is on, so the CPU must not need to write it.
 */
#include <x86/desc.h>

#define EFER 0xc0000080

/* struct ap_start_params, in the page after the code. */
#define TP_AP_STACK 0x1000
#define TP_AP_INDEX 0x1008

	.section .rodata.trampoline, "a"
	.code16
	.globl ap_trampoline_start
ap_trampoline_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	xorl %ebx, %ebx
	movw %ax, %bx
	shll $4, %ebx			/* EBX = where we run */
	lgdtl tp_gdt_desc - ap_trampoline_start
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl *(tp_pm_ptr - ap_trampoline_start)

	.code32
tp_pm32:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %cr4, %eax
	orl $(1 << 5), %eax		/* PAE */
	movl %eax, %cr4
	movl (tp_cr3 - ap_trampoline_start)(%ebx), %eax
	movl %eax, %cr3
	movl $EFER, %ecx
	rdmsr
	orl $((1 << 8) | (1 << 11)), %eax	/* LME, NXE */
	wrmsr
	movl %cr0, %eax
	orl $((1 << 31) | (1 << 16) | 1), %eax	/* PG, WP, PE */
	movl %eax, %cr0
	ljmpl *(tp_lm_ptr - ap_trampoline_start)(%ebx)

	.code64
tp_lm64:
	movl %ebx, %ebx			/* upper half undefined after the switch */
	movq TP_AP_STACK(%rbx), %rsp
	movl TP_AP_INDEX(%rbx), %edi
	movq (tp_entry - ap_trampoline_start)(%rbx), %rax
	jmp *%rax

	.balign 8
tp_gdt:
	.quad 0
	.quad 0x00cf9b000000ffff	/* 0x08: 32-bit code */
	.quad 0x00cf93000000ffff	/* 0x10: data */
	.quad 0x00af9b000000ffff	/* 0x18: 64-bit code */

	/* struct ap_trampoline_params; offsets are made absolute by C. */
	.balign 8
	.globl ap_trampoline_params
ap_trampoline_params:
tp_gdt_desc:
	.short 31
	.long tp_gdt - ap_trampoline_start
tp_pm_ptr:
	.long tp_pm32 - ap_trampoline_start
	.short 0x08
tp_lm_ptr:
	.long tp_lm64 - ap_trampoline_start
	.short 0x18
tp_cr3:
	.long 0
tp_entry:
	.quad 0
	.globl ap_trampoline_end
ap_trampoline_end:
