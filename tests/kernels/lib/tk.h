/*
 * The test-kernel library (XTF style). A test is one directory with a
 * main.c defining test_main() (and optionally child_main()). The same
 * image runs:
 *   - bare, under plain QEMU: tests that need microhv report SKIP;
 *   - as microhv's root partition: test_main() runs and may create
 *     children that run this same image;
 *   - as such a child: child_main() runs.
 * Results are SUCCESS, SKIP, ERROR, FAILURE and CRASH, each with its
 * own exit status (see tests/e2e/cases.py).
 */
#ifndef TK_H
#define TK_H

#include <microhv/hvabi.h>
#include <microhv/tkproto.h>
#include <hv/types.h>

enum tk_result {
	TK_SUCCESS = 0,
	TK_SKIP,
	TK_ERROR,	/* the test itself could not run */
	TK_FAILURE,	/* what was tested is wrong */
	TK_CRASH,	/* an unexpected exception */
};
/* QEMU status = ((TK_EXIT_BASE + result) << 1) | 1 */

enum tk_role { TK_BARE, TK_ROOT, TK_CHILD };


extern enum tk_role tk_role;
extern const char *tk_test_name;
#ifdef TK_NAME	/* the test's main.c is built with its directory name */
const char *tk_test_name = TK_NAME;
#endif

/* Provided by each test. */
void test_main(void);
void child_main(void);	/* weak default: report SUCCESS */

/* Console and results. */
void tk_printf(const char *fmt, ...) __printf(1, 2);
__noreturn void tk_exit(enum tk_result r);
__noreturn void tk_fail(const char *fmt, ...) __printf(1, 2);
__noreturn void tk_skip(const char *why);
__noreturn void tk_pass(void);

#define TK_CHECK(cond)                                                      \
	do {                                                                \
		if (!(cond))                                                \
			tk_fail("%s:%d: %s", __FILE__, __LINE__, #cond);     \
	} while (0)
#define TK_CHECK_EQ(a, b)                                                   \
	do {                                                                \
		u64 a_ = (u64)(a), b_ = (u64)(b);                           \
		if (a_ != b_)                                               \
			tk_fail("%s:%d: %s == %s (0x%llx != 0x%llx)",        \
				__FILE__, __LINE__, #a, #b, a_, b_);         \
	} while (0)

/* Port I/O and CPU helpers. */
static inline void tk_outb(u16 port, u8 v)
{
	__asm__ __volatile__("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline void tk_outl(u16 port, u32 v)
{
	__asm__ __volatile__("outl %0, %1" ::"a"(v), "Nd"(port));
}
static inline u8 tk_inb(u16 port)
{
	u8 v;
	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline u32 tk_inl(u16 port)
{
	u32 v;
	__asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void tk_cpuid(u32 leaf, u32 sub, u32 r[4])
{
	__asm__ __volatile__("cpuid"
			     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			     : "a"(leaf), "c"(sub));
}
static inline u64 tk_rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}
static inline void tk_wrmsr(u32 msr, u64 v)
{
	__asm__ __volatile__("wrmsr" ::"c"(msr), "a"((u32)v),
			     "d"((u32)(v >> 32)));
}

/* PCI configuration space through ports 0xCF8/0xCFC (segment 0). */
u32 tk_pci_read(u32 bdf, u32 off);
void tk_pci_write(u32 bdf, u32 off, u32 val);

/* Interrupts (vectors 32-255, and NMI when expected) only count. */
extern volatile u32 tk_irq_counts[256];
extern volatile bool tk_nmi_expected;

/* The module's command line ("key=value ..."), or a child's arg. */
extern char tk_cmdline[256];
u64 tk_cmdline_u64(const char *key, u64 dflt);

/* Faults that are part of a test: the vector, or -1 if none. */
/* For hand-written EXTABLE probes: the last fault's vector, or -1. */
int tk_last_vector(void);
void tk_clear_vector(void);
int tk_probe_read(const volatile void *p, u64 *val);
int tk_probe_write(volatile void *p, u64 val);
int tk_probe_rdmsr(u32 msr, u64 *val);
int tk_probe_wrmsr(u32 msr, u64 val);
enum tk_insn {
	TK_VMRUN, TK_VMLOAD, TK_VMSAVE, TK_STGI, TK_CLGI, TK_SKINIT,
	TK_INVLPGA, TK_RDPMC,
};
#define TK_NR_SVM_INSNS (TK_INVLPGA + 1)	/* VMRUN .. INVLPGA */
/* Runs one of these with RAX (ECX for RDPMC); the vector, or -1. */
int tk_probe_insn(enum tk_insn which, u64 rax);

/* Hypercalls. The input and output pages are this CPU's own. */
u64 tk_hypercall(u64 control, u64 in_gpa, u64 out_gpa);
void *tk_hc_in(void);
void *tk_hc_out(void);
/* Memory form: input from tk_hc_in(), output to tk_hc_out(). */
u64 tk_hvcall(u16 code, u32 reps, u32 start);
u64 tk_hvcall_fast(u16 code, u64 rdx, u64 r8);

/* Root memory (bare or root role): whole zeroed pages, identity mapped. */
void *tk_alloc_pages(u64 n);
void tk_free_page(void *page);
u64 tk_free_memory_pages(void);

/* The Multiboot memory map this kernel was given (E820 types). */
struct tk_mem {
	u64 base, len;
	u32 type;
};
extern struct tk_mem tk_map[64];
extern u32 tk_nmap;

/* A child's tk_child_info.arg. */
u64 tk_child_arg(void);
/* The parent only follows the generic policy (hvctl under root Linux):
 * console, result, IN reads all ones, other OUTs ignored, MSRs #GP. */
static inline bool tk_generic_parent(void)
{
	return tk_child_arg() == TK_ARG_GENERIC;
}

/* A child's view of the ABI, whoever its parent is (lib/child_abi.c). */
void tk_check_child_abi(void);

/* Root SMP: runs fn(arg) on root VP n's CPU. */
int tk_start_ap(u32 vp, void (*fn)(void *), void *arg);
/* The same, with edit() changing the context before the call. */
int tk_start_ap_edited(u32 vp, void (*fn)(void *), void *arg,
		       void (*edit)(struct hv_initial_vp_context *));
u32 tk_nr_cpus(void);

#endif
