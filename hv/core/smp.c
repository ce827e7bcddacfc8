/*
 * Taking every CPU. The BSP reads the MADT, then starts each AP in turn
 * with INIT-SIPI-SIPI through a trampoline below 1 MiB and waits for it
 * to report. An AP that does not come is reported and left alone.
 */
#include <hv/exit.h>
#include <hv/hvmem.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/partition.h>
#include <hv/percpu.h>
#include <hv/smp.h>
#include <hv/string.h>
#include <hv/virt.h>
#include <x86/cpu.h>
#include <x86/lapic.h>
#include <x86/msr.h>
#include <x86/tsc.h>

struct ap_trampoline_params {
	u16 gdt_limit;
	u32 gdt_base;
	u32 pm_off;
	u16 pm_sel;
	u32 lm_off;
	u16 lm_sel;
	u32 cr3;
	u64 entry;
} __packed;

/* The page after the trampoline: what differs per AP. */
struct ap_start_params {
	u64 stack;
	u32 index;
};

extern const char ap_trampoline_start[], ap_trampoline_end[];
extern const char ap_trampoline_params[];

u32 smp_selftest_fault_cpu;
static struct acpi_madt_info madt;
extern u64 acpi_rsdp_pa;
struct acpi_root acpi_tables;

void ap_main(u32 index);

const struct acpi_madt_info *smp_madt(void)
{
	return &madt;
}

static void find_root_table(const struct boot_info *bi, struct acpi_root *r)
{
	const char *err;
	u64 pa;

	if (bi->have_rsdp) {
		err = acpi_rsdp_parse(bi->rsdp, sizeof(bi->rsdp), r);
		if (!err)
			return;
		pr_warn("acpi: loader's RSDP copy rejected (%s); scanning", err);
	}
	err = acpi_rsdp_scan(fw_read, NULL, &pa);
	if (!err)
		err = acpi_rsdp_parse(fw_read(pa, 36, NULL), 36, r);
	if (!err)
		acpi_rsdp_pa = pa;	/* the root's kernel is told where */
	if (err)
		hv_fatal(HV_EXIT_BAD_CONFIG, "acpi: %s", err);
}

void smp_discover(const struct boot_info *bi)
{
	const struct acpi_table_header *t;
	struct acpi_root root;
	const char *err;
	u32 bsp_apic, n = 1;
	u64 pa;

	find_root_table(bi, &root);
	acpi_tables = root;	/* the IOMMU is found through it later */
	t = acpi_find_table(&root, "APIC", fw_read, NULL, &pa);
	if (!t)
		hv_fatal(HV_EXIT_BAD_CONFIG, "acpi: no valid MADT in the %s",
			 root.xsdt ? "XSDT" : "RSDT");
	err = acpi_madt_parse(t, &madt);
	if (err)
		hv_fatal(HV_EXIT_BAD_CONFIG, "acpi: %s", err);
	if (!lapic_init(madt.lapic_base))
		hv_fatal(HV_EXIT_PANIC, "lapic: cannot map the local APIC");
	bsp_apic = lapic_id();
	cpus[0].apic_id = bsp_apic;
	for (u32 i = 0; i < madt.n_cpus; i++) {
		if (madt.cpus[i].apic_id == bsp_apic)
			continue;
		cpus[n].index = n;
		cpus[n].apic_id = madt.cpus[i].apic_id;
		n++;
	}
	if (n != madt.n_cpus)
		pr_warn("acpi: the boot CPU (APIC %u) is not in the MADT",
			bsp_apic);
	nr_cpus = n;
	pr_info("acpi: MADT at 0x%llx: %u CPUs (%s mode, BSP APIC id %u)%s",
		pa, nr_cpus, lapic_x2apic_mode() ? "x2APIC" : "xAPIC",
		bsp_apic, madt.n_over_limit ? ", some beyond the limit" : "");
}

void cpu_setup_tables(struct percpu *cpu)
{
	for (unsigned i = 0; i < 3; i++)
		cpu->desc.tss.ist[i] = cpu->stacks.ist_top[i];
	desc_load_cpu(cpu);
	write_cr0(read_cr0() | CR0_WP | CR0_NE);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	/* FXSAVE/XSAVE of guest state needs these in the host's CR4. */
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT |
		  ((cpuid(1, 0).ecx & BIT(26)) ? CR4_OSXSAVE : 0));
}

bool cpu_enable_virt(struct percpu *cpu)
{
	char why[VIRT_WHY_LEN];
	enum virt_status s = virt_cpu_enable(cpu, why);

	if (s) {
		pr_err("cpu%u: cannot enable %s: %s", cpu->index,
		       virt_backend_name(virt_caps.vendor), why);
		return false;
	}
	if (!cpu_virt_setup(cpu)) {
		pr_err("cpu%u: no memory for per-CPU state", cpu->index);
		return false;
	}
	if (!virt_cpu_selftest(cpu)) {
		pr_err("cpu%u: VMRUN self-test failed", cpu->index);
		return false;
	}
	pr_info("cpu%u: AMD-V enabled (APIC id %u, hsave 0x%llx), VMRUN "
		"self-test passed", cpu->index, cpu->apic_id,
		hpa_u64(cpu->svm_hsave));
	return true;
}

static void selftest_fault(struct percpu *cpu)
{
	pr_info("cpu%u: selftest: faulting on purpose (write to 0x10)",
		cpu->index);
	__asm__ __volatile__("movq $0xdead, 0x10" ::: "memory");
}

/* Where every AP arrives from the trampoline, on its own stack. */
void ap_main(u32 index)
{
	struct percpu *cpu = &cpus[index];

	percpu_bind(index);
	cpu_setup_tables(cpu);
	if (lapic_id() != cpu->apic_id)
		pr_warn("cpu%u: APIC id %u, MADT said %u", index, lapic_id(),
			cpu->apic_id);
	if (!cpu_enable_virt(cpu)) {
		set_cpu_state(cpu, CPU_FAILED);
		halt_forever();
	}
	set_cpu_state(cpu, CPU_ONLINE);
	if (smp_selftest_fault_cpu == index)
		selftest_fault(cpu);
	root_partition_run(index);	/* sleeps until the root exists */
}

static void install_trampoline(hpa_t page)
{
	u64 size = (u64)(ap_trampoline_end - ap_trampoline_start);
	u64 off = (u64)(ap_trampoline_params - ap_trampoline_start);
	u8 *dst = hpa_to_hva(page);
	struct ap_trampoline_params *p = (void *)(dst + off);
	u32 base = (u32)hpa_u64(page);

	memcpy(dst, ap_trampoline_start, size);
	p->gdt_base += base;
	p->pm_off += base;
	p->lm_off += base;
	p->cr3 = (u32)vmm_cr3();
	p->entry = (u64)(uintptr_t)ap_main;
}

static bool wait_started(struct percpu *cpu, u64 us)
{
	for (u64 t = 0; t < us; t += 100) {
		if (cpu_state(cpu) != CPU_STARTING)
			return true;
		udelay(100);
	}
	return cpu_state(cpu) != CPU_STARTING;
}

static bool start_ap(struct percpu *cpu, struct ap_start_params *p,
		     u8 vector)
{
	if (!vmm_alloc_stacks(cpu->index, &cpu->stacks)) {
		pr_err("cpu%u: no memory for stacks", cpu->index);
		return false;
	}
	p->index = cpu->index;
	p->stack = cpu->stacks.main_top - 8;	/* as if called: ABI alignment */
	set_cpu_state(cpu, CPU_STARTING);
	mfence();
	lapic_send_init(cpu->apic_id);
	udelay(10000);
	for (int i = 0; i < 2 && cpu_state(cpu) == CPU_STARTING; i++) {
		lapic_send_sipi(cpu->apic_id, vector);
		wait_started(cpu, i ? 1000000 : 200);
	}
	/* A CPU that came up and then parked (a self-test) did come up. */
	return cpu_state(cpu) == CPU_ONLINE || cpu_state(cpu) == CPU_PARKED;
}

u32 smp_boot_aps(void)
{
	hpa_t page = mem_ap_trampoline_page();
	struct ap_start_params *p = hpa_to_hva(hpa_add(page, PAGE_SIZE));
	u32 online = 1;

	if (hpa_u64(page) >= SZ_1M || vmm_cr3() >= SZ_4G)
		hv_fatal(HV_EXIT_PANIC, "smp: trampoline or PML4 out of reach");
	install_trampoline(page);
	if (!vmm_set_code_page(page, true))
		hv_fatal(HV_EXIT_PANIC, "smp: cannot map the trampoline");
	for (u32 i = 1; i < nr_cpus; i++) {
		struct percpu *cpu = &cpus[i];

		if (start_ap(cpu, p, (u8)(hpa_u64(page) >> PAGE_SHIFT))) {
			online++;
		} else if (cpu_state(cpu) == CPU_STARTING) {
			pr_err("cpu%u: APIC id %u did not start", i,
			       cpu->apic_id);
			set_cpu_state(cpu, CPU_ABSENT);
		}
	}
	/* The page goes back to being data; the root gets it later. */
	vmm_set_code_page(page, false);
	return online;
}
