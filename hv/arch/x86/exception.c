/*
 * Exceptions taken in the hypervisor. Three outcomes: an exception-table
 * fixup (rdmsr_safe and friends) continues the code; an armed probe
 * (probe_exec) reports the fault; anything else is a hypervisor bug, so
 * the CPU prints everything it knows and parks. Other CPUs go on.
 */
#include <hv/exit.h>
#include <hv/log.h>
#include <hv/percpu.h>
#include <x86/cpu.h>
#include <x86/exception.h>

struct extable_entry {
	u64 insn;
	u64 fixup;
};

extern const struct extable_entry __ex_table_start[], __ex_table_end[];

static const char *const names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "RSV",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "RSV", "RSV",
	"RSV", "RSV", "RSV", "RSV", "#HV", "#VC", "#SX", "RSV",
};

static bool apply_fixup(struct exc_frame *f)
{
	for (const struct extable_entry *e = __ex_table_start;
	     e < __ex_table_end; e++) {
		if (e->insn == f->rip) {
			f->rip = e->fixup;
			return true;
		}
	}
	return false;
}

/* probe_exec() called into a page that cannot run: return to the caller. */
static bool apply_exec_probe(struct percpu *c, struct exc_frame *f)
{
	if (f->vector != X86_VEC_PF || !c->probe_rip || f->rip != c->probe_rip)
		return false;
	f->rip = *(u64 *)(uintptr_t)f->rsp;
	f->rsp += 8;
	c->probe_faulted = true;
	c->probe_rip = 0;
	return true;
}

static void dump(const struct percpu *c, const struct exc_frame *f)
{
	u32 n = c->index;

	pr_err("cpu%u: EXCEPTION %s (vector %llu) error 0x%llx at rip 0x%llx",
	       n, names[f->vector & 31], f->vector, f->error, f->rip);
	pr_err("cpu%u:   cs %04llx rflags %016llx rsp %016llx ss %04llx", n,
	       f->cs, f->rflags, f->rsp, f->ss);
	pr_err("cpu%u:   rax %016llx rbx %016llx rcx %016llx", n, f->rax,
	       f->rbx, f->rcx);
	pr_err("cpu%u:   rdx %016llx rsi %016llx rdi %016llx", n, f->rdx,
	       f->rsi, f->rdi);
	pr_err("cpu%u:   rbp %016llx r8  %016llx r9  %016llx", n, f->rbp,
	       f->r8, f->r9);
	pr_err("cpu%u:   r10 %016llx r11 %016llx r12 %016llx", n, f->r10,
	       f->r11, f->r12);
	pr_err("cpu%u:   r13 %016llx r14 %016llx r15 %016llx", n, f->r13,
	       f->r14, f->r15);
	pr_err("cpu%u:   cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx", n,
	       read_cr0(), read_cr2(), read_cr3(), read_cr4());
}

void exception_dispatch(struct exc_frame *f)
{
	struct percpu *c = this_cpu();

	if (apply_fixup(f) || apply_exec_probe(c, f))
		return;
	if (f->vector == X86_VEC_NMI) {
		nmi_handle(f);
		return;
	}
	if (++c->exception_depth > 1) {
		/* Faulted while reporting a fault: say the least and stop. */
		pr_err("cpu%u: nested exception %llu at 0x%llx; parked",
		       c->index, f->vector, f->rip);
		set_cpu_state(c, CPU_PARKED);
		halt_forever();
	}
	dump(c, f);
	set_cpu_state(c, CPU_PARKED);
	if (c->index == 0) {
		/* Nothing can go on without the boot CPU. */
		hv_exit(HV_EXIT_PANIC);
	}
	pr_err("cpu%u: parked; the other CPUs go on", c->index);
	halt_forever();
}

bool probe_write(volatile u8 *addr)
{
	u8 faulted = 0;

	__asm__ __volatile__("movb (%[p]), %%al\n"
			     "1: movb %%al, (%[p])\n"
			     "2:\n\t"
			     ".pushsection .text.fixup, \"ax\"\n"
			     "3: movb $1, %[f]\n\t"
			     "jmp 2b\n\t"
			     ".popsection\n\t"
			     EXTABLE(1b, 3b)
			     : [f] "+q"(faulted)
			     : [p] "r"(addr)
			     : "rax", "memory");
	return faulted;
}

bool probe_exec(const void *addr)
{
	struct percpu *c = this_cpu();

	c->probe_faulted = false;
	c->probe_rip = (u64)(uintptr_t)addr;
	barrier();
	((void (*)(void))(uintptr_t)addr)();
	barrier();
	c->probe_rip = 0;
	return c->probe_faulted;
}
