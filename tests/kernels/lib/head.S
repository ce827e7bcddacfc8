/*
 * Test-kernel entry. Loaded either by a Multiboot 1 loader (QEMU -kernel
 * on bare metal, or microhv booting it as the root partition) with
 * EAX = 0x2badb002, or by a root test kernel as a child with
 * EAX = TK_CHILD_MAGIC. Both arrive in flat 32-bit protected mode with
 * paging off; we switch to long mode on an identity map of 4 GiB.
 */
#include <x86/asm-common.h>

#define MB1_MAGIC 0x1badb002
#define MB1_FLAGS ((1 << 0) | (1 << 1) | (1 << 16))

	.section .text.head, "ax"
	.code32
	.balign 4
mb1_header:
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)
	.long mb1_header
	.long __image_start
	.long __load_end
	.long __bss_end
	.long _start32

	.globl _start32
_start32:
	cli
	cld
	movl %eax, %edi
	movl %ebx, %esi
	movl $__bss_start, %ebp
1:	cmpl $__bss_end, %ebp
	jae 2f
	movb $0, (%ebp)
	incl %ebp
	jmp 1b
2:	movl $tk_boot_stack_top, %esp
	BUILD_IDENTITY_4G tk_pml4, tk_pdpt, tk_pd
	movl %cr4, %eax
	orl $((1 << 5) | (1 << 9) | (1 << 10)), %eax	/* PAE, OSFXSR, OSXMMEXCPT */
	movl %eax, %cr4
	movl $tk_pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx
	rdmsr
	orl $(1 << 8), %eax
	wrmsr
	movl %cr0, %eax
	orl $((1 << 31) | 1), %eax
	andl $~((1 << 30) | (1 << 29) | (1 << 2)), %eax	/* caches on, no EM */
	movl %eax, %cr0
	lgdt tk_gdt_desc
	ljmp $0x08, $tk_start64

	.code64
tk_start64:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	call tk_main
5:	cli
	hlt
	jmp 5b

	/* Root APs arrive here from StartVirtualProcessor, in long mode. */
	.globl tk_ap_entry64
tk_ap_entry64:
	call tk_ap_main
6:	cli
	hlt
	jmp 6b

	.section .rodata
	.balign 16
	.globl tk_gdt
tk_gdt:
	.quad 0
	.quad 0x00af9b000000ffff
	.quad 0x00cf93000000ffff
tk_gdt_end:
	.balign 8
	.globl tk_gdt_desc
tk_gdt_desc:
	.short tk_gdt_end - tk_gdt - 1
	.quad tk_gdt

	.section .bss
	.balign 4096
	.globl tk_pml4
tk_pml4:
	.skip 4096
tk_pdpt:
	.skip 4096
	.globl tk_pd
tk_pd:
	.skip 4 * 4096
	.balign 16
	.skip 32768
tk_boot_stack_top:
