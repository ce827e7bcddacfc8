/* Thin wrappers over x86 instructions. Hypervisor only (inline asm). */
#ifndef X86_CPU_H
#define X86_CPU_H

#include <hv/types.h>

#define CR0_PE BIT(0)
#define CR0_MP BIT(1)
#define CR0_ET BIT(4)
#define CR0_NE BIT(5)
#define CR0_WP BIT(16)
#define CR0_PG BIT(31)

#define CR4_PAE BIT(5)
#define CR4_PGE BIT(7)
#define CR4_OSFXSR BIT(9)
#define CR4_OSXMMEXCPT BIT(10)
#define CR4_OSXSAVE BIT(18)

#define RFLAGS_IF BIT(9)

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(u32 leaf, u32 subleaf)
{
	struct cpuid_regs r;

	__asm__ __volatile__("cpuid"
			     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx),
			       "=d"(r.edx)
			     : "a"(leaf), "c"(subleaf));
	return r;
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ __volatile__("wrmsr"
			     :
			     : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32))
			     : "memory");
}

/*
 * Exception table: an entry lets a faulting instruction continue at a
 * fixup label instead of being fatal (see arch/x86/exception.c).
 */
#define EXTABLE(insn, fixup)                                                 \
	".pushsection __ex_table, \"a\"\n\t.balign 8\n\t.quad " #insn ", "   \
	#fixup "\n\t.popsection\n\t"

/* rdmsr that reports a #GP instead of dying of it. */
static inline bool rdmsr_safe(u32 msr, u64 *val)
{
	u32 lo = 0, hi = 0;
	u8 ok = 1;

	__asm__ __volatile__("1: rdmsr\n"
			     "2:\n\t"
			     ".pushsection .text.fixup, \"ax\"\n"
			     "3: movb $0, %[ok]\n\t"
			     "jmp 2b\n\t"
			     ".popsection\n\t"
			     EXTABLE(1b, 3b)
			     : "+a"(lo), "+d"(hi), [ok] "+q"(ok)
			     : "c"(msr));
	*val = ((u64)hi << 32) | lo;
	return ok;
}

static inline bool wrmsr_safe(u32 msr, u64 v)
{
	u8 ok = 1;

	__asm__ __volatile__("1: wrmsr\n"
			     "2:\n\t"
			     ".pushsection .text.fixup, \"ax\"\n"
			     "3: movb $0, %[ok]\n\t"
			     "jmp 2b\n\t"
			     ".popsection\n\t"
			     EXTABLE(1b, 3b)
			     : [ok] "+q"(ok)
			     : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32))
			     : "memory");
	return ok;
}

#define DEFINE_CR(n)                                                         \
	static inline u64 read_cr##n(void)                                   \
	{                                                                    \
		u64 v;                                                       \
		__asm__ __volatile__("mov %%cr" #n ", %0" : "=r"(v));        \
		return v;                                                    \
	}                                                                    \
	static inline void write_cr##n(u64 v)                                \
	{                                                                    \
		__asm__ __volatile__("mov %0, %%cr" #n ::"r"(v) : "memory"); \
	}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

/* DR0-3: the breakpoint addresses (DR6/DR7 live in the VMCB). */
static inline void read_dr0_3(u64 v[4])
{
	__asm__ __volatile__("mov %%dr0, %0; mov %%dr1, %1; mov %%dr2, %2; "
			     "mov %%dr3, %3"
			     : "=r"(v[0]), "=r"(v[1]), "=r"(v[2]), "=r"(v[3]));
}

#define DEFINE_WRITE_DR(n)                                                   \
	static inline void write_dr##n(u64 v)                                \
	{                                                                    \
		__asm__ __volatile__("mov %0, %%dr" #n ::"r"(v));            \
	}
DEFINE_WRITE_DR(0)
DEFINE_WRITE_DR(1)
DEFINE_WRITE_DR(2)
DEFINE_WRITE_DR(3)
#undef DEFINE_WRITE_DR

static inline u64 read_rflags(void)
{
	u64 f;

	__asm__ __volatile__("pushfq; popq %0" : "=r"(f));
	return f;
}

static inline void outb(u16 port, u8 v)
{
	__asm__ __volatile__("outb %0, %1" ::"a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 v;

	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outw(u16 port, u16 v)
{
	__asm__ __volatile__("outw %0, %1" ::"a"(v), "Nd"(port));
}

static inline u16 inw(u16 port)
{
	u16 v;

	__asm__ __volatile__("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outl(u16 port, u32 v)
{
	__asm__ __volatile__("outl %0, %1" ::"a"(v), "Nd"(port));
}

static inline u32 inl(u16 port)
{
	u32 v;

	__asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline void invlpg(const void *va)
{
	__asm__ __volatile__("invlpg (%0)" ::"r"(va) : "memory");
}

static inline void flush_tlb_all(void)
{
	write_cr3(read_cr3());
}

static inline void cli(void)
{
	__asm__ __volatile__("cli" ::: "memory");
}

static inline __noreturn void halt_forever(void)
{
	for (;;)
		__asm__ __volatile__("cli; hlt" ::: "memory");
}

static inline void mfence(void)
{
	__asm__ __volatile__("mfence" ::: "memory");
}

#endif
