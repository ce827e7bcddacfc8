/* GDT, TSS and IDT set-up. */
#include <hv/percpu.h>
#include <hv/string.h>
#include <x86/desc.h>

struct idt_entry {
	u16 offset_low;
	u16 selector;
	u8 ist;
	u8 type_attr;
	u16 offset_mid;
	u32 offset_high;
	u32 reserved;
} __packed;
static_assert(sizeof(struct idt_entry) == 16, "IDT entry");

struct table_desc {
	u16 limit;
	u64 base;
} __packed;

#define IDT_INTERRUPT_GATE 0x8e
#define NR_EXCEPTIONS 32

extern const u64 exception_stubs[NR_EXCEPTIONS];
static struct idt_entry idt[256] __aligned(16);

static u8 ist_for(unsigned vec)
{
	switch (vec) {
	case 2: return IST_NMI;
	case 8: return IST_DOUBLE_FAULT;
	case 18: return IST_MACHINE_CHECK;
	default: return 0;
	}
}

void desc_init_idt(void)
{
	for (unsigned v = 0; v < NR_EXCEPTIONS; v++) {
		u64 a = exception_stubs[v];

		idt[v] = (struct idt_entry){
			.offset_low = (u16)a,
			.selector = GDT_CODE,
			.ist = ist_for(v),
			.type_attr = IDT_INTERRUPT_GATE,
			.offset_mid = (u16)(a >> 16),
			.offset_high = (u32)(a >> 32),
		};
	}
}

static u64 tss_desc_low(u64 base, u32 limit)
{
	return (limit & 0xffffull) | ((base & 0xffffffull) << 16) |
	       (0x89ull << 40) | ((u64)(limit >> 16) << 48) |
	       (((base >> 24) & 0xff) << 56);
}

void desc_load_cpu(struct percpu *cpu)
{
	struct cpu_desc_tables *d = &cpu->desc;
	struct table_desc gdtr = { sizeof(d->gdt) - 1, (u64)(uintptr_t)d->gdt };
	struct table_desc idtr = { sizeof(idt) - 1, (u64)(uintptr_t)idt };
	u64 tss = (u64)(uintptr_t)&d->tss;

	d->gdt[0] = 0;
	d->gdt[1] = 0x00af9b000000ffffull;	/* 64-bit code */
	d->gdt[2] = 0x00cf93000000ffffull;	/* data */
	d->gdt[3] = tss_desc_low(tss, sizeof(d->tss) - 1);
	d->gdt[4] = tss >> 32;
	d->tss.iomap_base = sizeof(d->tss);

	__asm__ __volatile__(
		"lgdt %0\n\t"
		"pushq %[cs]\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movl %[ds], %%eax\n\t"
		"movl %%eax, %%ds\n\t"
		"movl %%eax, %%es\n\t"
		"movl %%eax, %%ss\n\t"
		"ltr %w[tr]\n\t"
		"lidt %1"
		:
		: "m"(gdtr), "m"(idtr), [cs] "i"(GDT_CODE), [ds] "i"(GDT_DATA),
		  [tr] "r"(GDT_TSS)
		: "rax", "memory");
}
