/* Descriptor tables: GDT, TSS, IDT. One GDT and TSS per CPU. */
#ifndef X86_DESC_H
#define X86_DESC_H

#define GDT_CODE 0x08
#define GDT_DATA 0x10
#define GDT_TSS 0x18

/* Interrupt stack table slots (1-based as in the TSS). */
#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_MACHINE_CHECK 3

#ifndef __ASSEMBLER__
#include <hv/types.h>

struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;
static_assert(sizeof(struct tss64) == 104, "64-bit TSS");

struct cpu_desc_tables {
	u64 gdt[5] __aligned(16);	/* null, code, data, TSS (2 slots) */
	struct tss64 tss __aligned(16);
};

struct percpu;

void desc_init_idt(void);		/* once, on the BSP */
void desc_load_cpu(struct percpu *cpu);	/* GDT, TSS, IDT on this CPU */
#endif

#endif
