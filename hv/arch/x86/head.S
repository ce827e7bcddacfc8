/*
 * The first code that runs. A Multiboot 1 loader (QEMU -kernel) or a
 * Multiboot 2 loader (GRUB) enters _start32 in 32-bit protected mode,
 * paging off, EAX = the loader's magic, EBX = its information.
 *
 * QEMU refuses to load a 64-bit ELF through Multiboot 1, so the MB1
 * header carries load addresses (the "a.out kludge") and QEMU loads the
 * file as a flat image; GRUB's Multiboot 2 loads the ELF as it is. The
 * linker script keeps file offsets and addresses congruent for that.
 *
 * Here we only get to long mode on a temporary identity map of the low
 * 4 GiB (2 MiB pages) and call hv_main(magic, info). The real page
 * tables, with W^X, are built in C (mm/vmm.c).
 */
#include <x86/asm-common.h>
#include <x86/desc.h>

#define MB1_MAGIC 0x1badb002
#define MB1_FLAGS ((1 << 0) | (1 << 1) | (1 << 16))
#define MB2_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0

#define EFER 0xc0000080
#define COM1 0x3f8

	.section .text.head, "ax"
	.code32

	.balign 4
mb1_header:
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)
	.long mb1_header		/* header_addr */
	.long __image_start		/* load_addr */
	.long __load_end		/* load_end_addr */
	.long __bss_end			/* bss_end_addr */
	.long _start32			/* entry_addr */

	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long 0x100000000 - (MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* Module alignment: modules start on page boundaries. */
	.balign 8
	.short 6, 0
	.long 8
	.balign 8
	.short 0, 0
	.long 8
mb2_header_end:

	.globl _start32
_start32:
	cli
	cld
	movl %eax, %edi			/* kept until the 64-bit call */
	movl %ebx, %esi

	/* The loader zeroes .bss already; do it anyway, it is cheap. */
	movl $__bss_start, %ebp
1:	cmpl $__bss_end, %ebp
	jae 2f
	movb $0, (%ebp)
	incl %ebp
	jmp 1b
2:
	movl $boot_stack_top, %esp

	/* Long mode is not optional. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode
	xorl %ebx, %ebx			/* EFER.NXE if the CPU has NX */
	btl $20, %edx
	jnc 3f
	movl $(1 << 11), %ebx
3:
	BUILD_IDENTITY_4G boot_pml4, boot_pdpt, boot_pd

	movl %cr4, %eax
	orl $(1 << 5), %eax		/* PAE */
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $EFER, %ecx
	rdmsr
	orl $(1 << 8), %eax		/* LME */
	orl %ebx, %eax
	wrmsr
	movl %cr0, %eax
	orl $((1 << 31) | (1 << 16) | 1), %eax	/* PG, WP, PE */
	movl %eax, %cr0
	lgdt boot_gdt_desc
	ljmp $GDT_CODE, $start64

no_long_mode:
	movl $no_lm_msg, %esi
6:	lodsb
	testb %al, %al
	jz 8f
	movl %eax, %ebx
	movw $(COM1 + 5), %dx
7:	inb %dx, %al
	testb $0x20, %al
	jz 7b
	movl %ebx, %eax
	movw $COM1, %dx
	outb %al, %dx
	jmp 6b
8:	hlt
	jmp 8b

	.code64
start64:
	movl $GDT_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	/* EDI = magic, ESI = info: already the first two C arguments. */
	call hv_main
9:	cli
	hlt
	jmp 9b

	.section .rodata
no_lm_msg:
	.asciz "microhv: this CPU has no long mode (x86-64); stopping\r\n"

	.balign 16
boot_gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* 0x08: 64-bit code, accessed */
	.quad 0x00cf93000000ffff	/* 0x10: data, accessed */
boot_gdt_end:
	.balign 8
	.globl boot_gdt_desc
boot_gdt_desc:
	.short boot_gdt_end - boot_gdt - 1
	.quad boot_gdt

	.section .bss
	.balign 4096
	.globl boot_pml4
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4 * 4096
	.balign 16
boot_stack:
	.skip 16384
	.globl boot_stack_top
boot_stack_top:
