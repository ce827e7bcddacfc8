/*
 * The boot CPU's path: from the loader to every CPU running with AMD-V
 * on, the hypervisor's memory carved out, and W^X in force.
 */
#include <hv/exit.h>
#include <hv/hvmem.h>
#include <hv/iommu.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/options.h>
#include <hv/percpu.h>
#include <hv/root.h>
#include <hv/smp.h>
#include <hv/string.h>
#include <hv/virt.h>
#include <hv/vmm.h>
#include <x86/cpu.h>
#include <x86/exception.h>
#include <x86/tsc.h>

#define HV_VERSION "0.1"

void hv_main(u32 magic, u32 info);
void switch_stack(u64 top, void (*fn)(void));

static struct boot_info boot_info;
static struct hv_options opts;

extern char __text_start[], __rodata_start[];

/* Before our page tables: the boot map covers the low 4 GiB. */
static const void *early_read(u64 pa, u64 len, void *ctx)
{
	(void)ctx;
	if (!len || pa + len < pa || pa + len > SZ_4G || pa < PAGE_SIZE)
		return NULL;
	return (const void *)(uintptr_t)pa;
}

static void report_boot(void)
{
	pr_info("command line: '%s'", boot_info.cmdline);
	for (u32 i = 0; i < boot_info.n_mod; i++) {
		const struct boot_module *m = &boot_info.mods[i];

		pr_info("module %u: [%llx-%llx) %s '%s'", i,
			hpa_u64(m->start), hpa_u64(m->start) + m->size,
			i == 0 ? "root kernel" : i == 1 ? "root initrd" :
			"extra", m->cmdline);
	}
}

static void probe_cpu(void)
{
	char why[VIRT_WHY_LEN], feats[160];
	enum virt_status s = virt_probe(&virt_caps, why);

	if (s == VIRT_NOT_IMPLEMENTED)
		hv_fatal(HV_EXIT_NO_BACKEND, "%s", why);
	if (s)
		hv_fatal(HV_EXIT_NO_VIRT, "%s", why);
	if (!(cpuid(0x80000001u, 0).edx & BIT(20)))
		hv_fatal(HV_EXIT_CPU_UNSUPPORTED,
			 "CPU has no NX (no-execute) pages; microhv needs them");
	virt_describe(&virt_caps, feats, sizeof(feats));
	pr_info("virt: %s backend, CPU '%s', SVM revision %u, %u ASIDs",
		virt_backend_name(virt_caps.vendor), virt_caps.vendor_id,
		virt_caps.revision, virt_caps.nr_asids);
	pr_info("virt: features: %s", feats);
}

/* The audit of our own tables, then proof that the CPU enforces it. */
static void check_wx(void)
{
	static volatile u8 data_ret = 0xc3;	/* "ret" in .data */
	volatile u8 stack_ret = 0xc3;
	hpa_t heap = page_alloc(1);
	u64 leaves, wx = vmm_audit_wx(&leaves);
	bool enforced;

	if (!hpa_valid(heap))
		hv_fatal(HV_EXIT_NO_MEMORY, "no page for the W^X check");
	*(volatile u8 *)hpa_to_hva(heap) = 0xc3;
	enforced = probe_write((volatile u8 *)__text_start) &&
		   probe_write((volatile u8 *)__rodata_start) &&
		   probe_exec((const void *)&data_ret) &&
		   probe_exec((const void *)&stack_ret) &&
		   probe_exec(hpa_to_hva(heap));
	page_free(heap, 1);
	if (wx || !enforced)
		hv_fatal(HV_EXIT_PANIC, "W^X violated: %llu W+X mappings, "
			 "enforcement %s", wx, enforced ? "ok" : "FAILED");
	pr_info("W^X: %llu mappings, none writable and executable; writes "
		"to text/rodata and execution of data/heap/stack fault",
		leaves);
}

static bool wait_parked(u32 index)
{
	for (int i = 0; i < 1000; i++) {
		if (cpu_state(&cpus[index]) == CPU_PARKED)
			return true;
		udelay(1000);
	}
	return false;
}

static bool run_selftests(void)
{
	bool ok = true;

	if ((opts.selftests & SELFTEST_AP_FAULT) && smp_selftest_fault_cpu) {
		ok = wait_parked(smp_selftest_fault_cpu);
		pr_info("selftest ap_fault: cpu%u %s; the boot CPU goes on",
			smp_selftest_fault_cpu,
			ok ? "reported its fault and parked" : "DID NOT PARK");
	} else if (opts.selftests & SELFTEST_AP_FAULT) {
		pr_warn("selftest ap_fault needs a second CPU");
		ok = false;
	}
	if (opts.selftests & SELFTEST_MEM)
		ok = mem_selftest() && ok;
	return ok;
}

static __noreturn void bsp_main(void)
{
	u32 online;
	bool ok;

	tsc_calibrate();
	smp_discover(&boot_info);
	if (!cpu_enable_virt(&cpus[0]))
		hv_fatal(HV_EXIT_PANIC, "cannot use AMD-V on the boot CPU");
	set_cpu_state(&cpus[0], CPU_ONLINE);
	if ((opts.selftests & SELFTEST_AP_FAULT) && nr_cpus > 1)
		smp_selftest_fault_cpu = nr_cpus - 1;
	online = smp_boot_aps();
	pr_info("smp: %u of %u CPUs online with AMD-V enabled", online,
		nr_cpus);
	check_wx();
	ok = run_selftests() && online == nr_cpus;
	if (boot_info.n_mod) {
		if (!ok)
			hv_fatal(HV_EXIT_PANIC, "not booting the root: a CPU or "
				 "a self-test failed");
		if (!virt_global_init())
			hv_fatal(HV_EXIT_NO_MEMORY, "no memory for intercept maps");
		root_build(&boot_info);
		iommu_init(root_partition, opts.iommu, opts.iommu_intr_pass);
		sched_boot_root();
	}
	pr_info("no root partition module given: nothing to boot");
	if (opts.debug_exit_port)
		hv_exit(ok ? HV_EXIT_OK : HV_EXIT_PANIC);
	pr_info("idle: every CPU is halted in the hypervisor");
	halt_forever();
}

void hv_main(u32 magic, u32 info)
{
	char err[OPTIONS_ERR_LEN], warn[OPTIONS_ERR_LEN];
	const char *berr;
	bool opts_ok;

	percpu_bind(0);
	desc_init_idt();
	desc_load_cpu(&cpus[0]);	/* exceptions are reported from here */
	berr = multiboot_parse(magic, info, early_read, NULL, &boot_info);
	opts_ok = options_parse(berr ? NULL : boot_info.cmdline, &opts, err,
				warn);
	console_init(opts.console_port, opts.baud);
	log_set_level(opts.loglevel);
	exit_set_port(opts.debug_exit_port);
	pr_info("microhv %s starting (Multiboot%u, loader '%s')", HV_VERSION,
		boot_info.protocol, boot_info.loader);
	if (berr)
		hv_fatal(HV_EXIT_BAD_CONFIG, "boot information rejected: %s",
			 berr);
	if (!opts_ok)
		hv_fatal(HV_EXIT_BAD_CONFIG, "command line: %s", err);
	if (warn[0])
		pr_warn("command line: %s", warn);
	report_boot();
	probe_cpu();
	mem_init(&boot_info, &opts);
	vmm_init();
	if (!vmm_alloc_stacks(0, &cpus[0].stacks))
		hv_fatal(HV_EXIT_NO_MEMORY, "no memory for the boot stacks");
	cpu_setup_tables(&cpus[0]);
	switch_stack(cpus[0].stacks.main_top, bsp_main);
}
