/* Test-kernel exceptions: expected ones (probes) and crashes. */
#include <x86/cpu.h>
#include <x86/exception.h>
#include "tk.h"

struct extable_entry {
	u64 insn, fixup;
};

extern const struct extable_entry __tk_extable_start[], __tk_extable_end[];
extern const u64 tk_exc_stubs[256];
volatile u32 tk_irq_counts[256];
volatile bool tk_nmi_expected;

static struct {
	u16 off_lo, sel;
	u8 ist, type;
	u16 off_mid;
	u32 off_hi, rsvd;
} __packed idt[256] __aligned(16);

static volatile int last_vector[64];

static int cpu_index(void)
{
	u32 r[4];

	tk_cpuid(1, 0, r);
	return (r[1] >> 24) % 64;
}

void tk_exceptions_init(void)
{
	struct {
		u16 limit;
		u64 base;
	} __packed idtr = { sizeof(idt) - 1, (u64)(uintptr_t)idt };

	for (int v = 0; v < 256; v++) {
		u64 a = tk_exc_stubs[v];

		idt[v].off_lo = (u16)a;
		idt[v].sel = 0x08;
		idt[v].type = 0x8e;
		idt[v].off_mid = (u16)(a >> 16);
		idt[v].off_hi = (u32)(a >> 32);
	}
	__asm__ __volatile__("lidt %0" ::"m"(idtr));
}

void tk_exception(struct exc_frame *f)
{
	if (f->vector >= 32 || (f->vector == 2 && tk_nmi_expected)) {
		__atomic_fetch_add(&tk_irq_counts[f->vector], 1,
				   __ATOMIC_RELAXED);
		return;
	}
	for (const struct extable_entry *e = __tk_extable_start;
	     e < __tk_extable_end; e++) {
		if (e->insn == f->rip) {
			last_vector[cpu_index()] = (int)f->vector;
			f->rip = e->fixup;
			return;
		}
	}
	tk_printf("tk: unexpected exception %llu, error 0x%llx, at rip "
		  "0x%llx (cr2 0x%llx)\n", f->vector, f->error, f->rip,
		  read_cr2());
	tk_exit(TK_CRASH);
}

int tk_last_vector(void)
{
	return last_vector[cpu_index()];
}

void tk_clear_vector(void)
{
	last_vector[cpu_index()] = -1;
}

#define PROBE(asm_body, ...)                                                \
	({                                                                  \
		last_vector[cpu_index()] = -1;                              \
		__asm__ __volatile__("1: " asm_body "\n2:\n\t"              \
				     EXTABLE(1b, 2b) __VA_ARGS__);          \
		last_vector[cpu_index()];                                   \
	})

int tk_probe_read(const volatile void *p, u64 *val)
{
	u64 v = 0;
	int r = PROBE("movq (%[p]), %[v]", : [v] "+r"(v) : [p] "r"(p)
		      : "memory");

	*val = v;
	return r;
}

int tk_probe_write(volatile void *p, u64 val)
{
	return PROBE("movq %[v], (%[p])", : : [p] "r"(p), [v] "r"(val)
		     : "memory");
}

int tk_probe_rdmsr(u32 msr, u64 *val)
{
	u32 lo = 0, hi = 0;
	int r = PROBE("rdmsr", : "+a"(lo), "+d"(hi) : "c"(msr));

	*val = ((u64)hi << 32) | lo;
	return r;
}

int tk_probe_wrmsr(u32 msr, u64 val)
{
	return PROBE("wrmsr", : : "c"(msr), "a"((u32)val),
		     "d"((u32)(val >> 32)) : "memory");
}

/* SVM instructions take RAX as an address; a partition gets #UD. */
int tk_probe_insn(enum tk_insn which, u64 rax)
{
	switch (which) {
	case TK_VMRUN: return PROBE("vmrun", : : "a"(rax) : "memory");
	case TK_VMLOAD: return PROBE("vmload", : : "a"(rax) : "memory");
	case TK_VMSAVE: return PROBE("vmsave", : : "a"(rax) : "memory");
	case TK_STGI: return PROBE("stgi", : : : "memory");
	case TK_CLGI: return PROBE("clgi", : : : "memory");
	case TK_SKINIT: return PROBE("skinit", : : "a"(rax) : "memory");
	case TK_INVLPGA: return PROBE("invlpga", : : "a"(rax), "c"(1u)
				      : "memory");
	case TK_RDPMC: return PROBE("rdpmc", : : "c"((u32)rax)
				    : "rax", "rdx", "memory");
	}
	return -2;
}
