/* Test-kernel runtime: roles, console, results, memory, hypercalls. */
#include <stdarg.h>
#include <hv/printf.h>
#include <hv/string.h>
#include "tk.h"

enum tk_role tk_role;

/* ------------------------------------------------------------ console */

static void raw_putc(char c)
{
	if (tk_role != TK_CHILD) {
		for (int i = 0; i < 100000 && !(tk_inb(TK_CONSOLE_PORT + 5) &
						 0x20); i++)
			;
	}
	tk_outb(TK_CONSOLE_PORT, (u8)c);	/* a child: each byte exits */
}

static void raw_puts(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n' && tk_role != TK_CHILD)
			raw_putc('\r');
		raw_putc(*s);
	}
}

static volatile u32 console_lock;

void tk_printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	hv_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	while (__atomic_exchange_n(&console_lock, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
	raw_puts(buf);
	__atomic_store_n(&console_lock, 0, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------ results */

static const char *const result_names[] = {
	"SUCCESS", "SKIP", "ERROR", "FAILURE", "CRASH",
};

void tk_exit(enum tk_result r)
{
	tk_printf("tk: %s %s: %s\n",
		  tk_role == TK_CHILD ? "child" : "test", tk_test_name,
		  result_names[r]);
	tk_outl(TK_RESULT_PORT, TK_EXIT_BASE + r);
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

void tk_fail(const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	hv_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	tk_printf("tk: FAILURE: %s\n", buf);
	tk_exit(TK_FAILURE);
}

void tk_skip(const char *why)
{
	tk_printf("tk: skipped: %s\n", why);
	tk_exit(TK_SKIP);
}

void tk_pass(void)
{
	tk_exit(TK_SUCCESS);
}

__attribute__((weak)) void child_main(void)
{
	tk_pass();
}

/* ------------------------------------------------------------ hypercalls */

#define MAX_CPUS 8
static u8 hc_pages[MAX_CPUS][2][4096] __aligned(4096);

/* GS points at this CPU's pair of hypercall pages (set by tk_cpu_init). */
static u8 (*hc_mine(void))[4096]
{
	u8 (*p)[4096];

	__asm__ __volatile__("movq %%gs:0, %0" : "=r"(p));
	return p;
}

static void *gs_self[MAX_CPUS];

void tk_cpu_init(void)
{
	u32 r[4], slot;

	tk_cpuid(1, 0, r);
	slot = (r[1] >> 24) % MAX_CPUS;	/* initial APIC id */
	gs_self[slot] = hc_pages[slot];
	tk_wrmsr(0xc0000101, (u64)(uintptr_t)&gs_self[slot]);	/* GS base */
}

void *tk_hc_in(void)
{
	return hc_mine()[0];
}

void *tk_hc_out(void)
{
	return hc_mine()[1];
}

u64 tk_hypercall(u64 control, u64 in_gpa, u64 out_gpa)
{
	register u64 r8 __asm__("r8") = out_gpa;
	u64 rax;

	__asm__ __volatile__("vmmcall"
			     : "=a"(rax), "+c"(control), "+d"(in_gpa), "+r"(r8)
			     :
			     : "r9", "r10", "r11", "memory");
	return rax;
}

u64 tk_hvcall(u16 code, u32 reps, u32 start)
{
	return tk_hypercall(HV_HC_MAKE(code, 0, reps, start),
			    (u64)(uintptr_t)tk_hc_in(),
			    (u64)(uintptr_t)tk_hc_out());
}

u64 tk_hvcall_fast(u16 code, u64 rdx, u64 r8)
{
	return tk_hypercall(HV_HC_MAKE(code, 1, 0, 0), rdx, r8);
}

/* ------------------------------------------------------------ memory */

extern char __image_start[], __image_end[];

struct ram_range {
	u64 base, end;
};

static struct ram_range ram[32];
static u32 nram, ram_cur;
static u64 bump;
static void *free_list;
static u64 nfree_listed;

static void add_ram(u64 base, u64 len, u64 avoid_lo, u64 avoid_hi)
{
	u64 b = ALIGN_UP(MAX(base, 16ull << 20), 4096);
	u64 e = ALIGN_DOWN(MIN(base + len, 1ull << 32), 4096);

	/* Above 16 MiB, below 4 GiB, and clear of modules. */
	if (avoid_hi > b && avoid_lo < e) {
		if (avoid_lo > b)
			add_ram(b, avoid_lo - b, 0, 0);
		b = ALIGN_UP(avoid_hi, 4096);
	}
	if (b < e && nram < 32)
		ram[nram++] = (struct ram_range){ b, e };
}

char tk_cmdline[256];
struct tk_mem tk_map[64];
u32 tk_nmap;

u64 tk_cmdline_u64(const char *key, u64 dflt)
{
	size_t kn = strlen(key);

	for (const char *p = tk_cmdline; *p; p++) {
		u64 v = 0;

		if ((p != tk_cmdline && p[-1] != ' ') || strncmp(p, key, kn) ||
		    p[kn] != '=')
			continue;
		for (p += kn + 1; *p >= '0' && *p <= '9'; p++)
			v = v * 10 + (u64)(*p - '0');
		return v;
	}
	return dflt;
}

void tk_mem_init(u32 mbi)
{
	const u32 *info = (const u32 *)(uintptr_t)mbi;
	u64 mod_lo = ~0ull, mod_hi = 0;

	if (info[0] & BIT(2))
		hv_strlcpy(tk_cmdline, (const char *)(uintptr_t)info[4],
			   sizeof(tk_cmdline));
	if (!(info[0] & BIT(6)))
		return;
	if (info[0] & BIT(3)) {
		const u32 *mods = (const u32 *)(uintptr_t)info[6];

		for (u32 i = 0; i < info[5]; i++) {
			mod_lo = MIN(mod_lo, (u64)mods[4 * i]);
			mod_hi = MAX(mod_hi, (u64)mods[4 * i + 1]);
		}
	}
	for (u32 off = 0; off < info[11];) {
		const u8 *e = (const u8 *)(uintptr_t)(info[12] + off);
		u32 size, type;
		u64 base, len;

		memcpy(&size, e, 4);
		memcpy(&base, e + 4, 8);
		memcpy(&len, e + 12, 8);
		memcpy(&type, e + 20, 4);
		if (type == 1)
			add_ram(base, len, mod_lo, mod_hi);
		if (tk_nmap < 64)
			tk_map[tk_nmap++] = (struct tk_mem){ base, len, type };
		off += size + 4;
	}
	bump = nram ? ram[0].base : 0;
}

void *tk_alloc_pages(u64 n)
{
	void *p;

	if (n == 1 && free_list) {
		p = free_list;
		free_list = *(void **)p;
		nfree_listed--;
		memset(p, 0, 4096);
		return p;
	}
	while (ram_cur < nram && bump + n * 4096 > ram[ram_cur].end) {
		if (++ram_cur < nram)
			bump = ram[ram_cur].base;
	}
	if (ram_cur >= nram)
		tk_fail("test kernel out of memory");
	p = (void *)(uintptr_t)bump;
	bump += n * 4096;
	memset(p, 0, n * 4096);
	return p;
}

void tk_free_page(void *page)
{
	*(void **)page = free_list;
	free_list = page;
	nfree_listed++;
}

u64 tk_free_memory_pages(void)
{
	u64 n = nfree_listed;

	for (u32 i = ram_cur; i < nram; i++)
		n += ((i == ram_cur ? ram[i].end - bump :
				      ram[i].end - ram[i].base)) / 4096;
	return n;
}

/* ------------------------------------------------------------ entry */

void tk_exceptions_init(void);

static enum tk_role detect_role(u32 magic)
{
	u32 r[4];

	if (magic == TK_CHILD_MAGIC)
		return TK_CHILD;
	tk_cpuid(1, 0, r);
	if (!(r[2] & BIT(31)))
		return TK_BARE;
	tk_cpuid(HV_CPUID_VENDOR, 0, r);
	if (r[1] == HV_VENDOR_MICROHV_EBX && r[2] == HV_VENDOR_MICROHV_ECX &&
	    r[3] == HV_VENDOR_MICROHV_EDX)
		return TK_ROOT;
	return TK_BARE;
}

static const char *const role_names[] = { "bare metal", "root", "child" };

static u64 child_arg;

u64 tk_child_arg(void)
{
	return child_arg;
}

void tk_main(u32 magic, u32 info)
{
	tk_role = detect_role(magic);
	tk_cpu_init();
	tk_exceptions_init();
	if (tk_role == TK_ROOT || tk_role == TK_BARE) {
		if (magic != 0x2badb002u)
			tk_role = TK_BARE;	/* not Multiboot: no memory map */
		else
			tk_mem_init(info);
		tk_outb(0x21, 0xff);	/* mask the PICs: we take no IRQs */
		tk_outb(0xa1, 0xff);
	}
	if (tk_role == TK_CHILD)
		child_arg = ((const struct tk_child_info *)(uintptr_t)info)->arg;
	tk_printf("tk: %s: running as %s\n", tk_test_name,
		  role_names[tk_role]);
	if (tk_role == TK_CHILD)
		child_main();
	else
		test_main();
	tk_pass();
}

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc

u32 tk_pci_read(u32 bdf, u32 off)
{
	tk_outl(PCI_CONFIG_ADDRESS, 0x80000000u | bdf << 8 | (off & 0xfc));
	return tk_inl(PCI_CONFIG_DATA);
}

void tk_pci_write(u32 bdf, u32 off, u32 val)
{
	tk_outl(PCI_CONFIG_ADDRESS, 0x80000000u | bdf << 8 | (off & 0xfc));
	tk_outl(PCI_CONFIG_DATA, val);
}
