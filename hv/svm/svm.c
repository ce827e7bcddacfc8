/* AMD-V on each CPU: detection, enabling, and a VMRUN round trip. */
#include <hv/hvmem.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/percpu.h>
#include <hv/printf.h>
#include <hv/svm.h>
#include <x86/cpu.h>
#include <x86/desc.h>
#include <x86/msr.h>
#include "vmcb.h"

extern const char svm_selftest_guest[];

static struct svm_probe_input gather(void)
{
	struct svm_probe_input in = { 0 };
	struct cpuid_regs r = cpuid(0x80000000u, 0);

	in.max_ext_leaf = r.eax;
	if (in.max_ext_leaf >= 0x80000001u)
		in.ext1_ecx = cpuid(0x80000001u, 0).ecx;
	if (in.max_ext_leaf >= 0x8000000au) {
		r = cpuid(0x8000000au, 0);
		in.svm_eax = r.eax;
		in.svm_ebx = r.ebx;
		in.svm_edx = r.edx;
	}
	if (in.ext1_ecx & BIT(2))
		in.vm_cr_readable = rdmsr_safe(MSR_VM_CR, &in.vm_cr);
	return in;
}

enum virt_status svm_probe(struct virt_caps *caps, char why[VIRT_WHY_LEN])
{
	struct svm_probe_input in = gather();

	return svm_evaluate(&in, caps, why);
}

enum virt_status svm_cpu_enable(struct percpu *cpu, char why[VIRT_WHY_LEN])
{
	struct svm_probe_input in = gather();
	struct virt_caps mine;
	enum virt_status s = svm_evaluate(&in, &mine, why);

	/* Firmware may set things up differently per CPU: check each. */
	if (s)
		return s;
	cpu->svm_hsave = page_alloc(1);
	if (!hpa_valid(cpu->svm_hsave)) {
		hv_snprintf(why, VIRT_WHY_LEN, "no memory for the host save "
			    "area");
		return VIRT_FAILED;
	}
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, hpa_u64(cpu->svm_hsave));
	if (!(rdmsr(MSR_EFER) & EFER_SVME)) {
		hv_snprintf(why, VIRT_WHY_LEN, "EFER.SVME did not stick");
		return VIRT_FAILED;
	}
	/* The host's FS/GS/TR and syscall MSRs, VMLOADed after each exit. */
	cpu->host_vmcb = page_alloc(1);
	if (!hpa_valid(cpu->host_vmcb)) {
		hv_snprintf(why, VIRT_WHY_LEN, "no memory for the host VMCB");
		return VIRT_FAILED;
	}
	__asm__ __volatile__("vmsave %%rax" ::"a"(hpa_u64(cpu->host_vmcb))
			     : "memory");
	return VIRT_OK;
}

/* VMCB attribute format: descriptor bits 40-47 and 52-55. */
static u16 seg_attrib(u64 desc)
{
	return (u16)(((desc >> 40) & 0xff) | (((desc >> 52) & 0xf) << 8));
}

static void flat_seg(struct vmcb_seg *s, u16 sel, u64 desc)
{
	*s = (struct vmcb_seg){ sel, seg_attrib(desc), 0xffffffffu, 0 };
}

struct table_reg {
	u16 limit;
	u64 base;
} __packed;

/*
 * The guest shares the host's page tables (no NPT yet) and segments,
 * runs svm_selftest_guest and must exit with VMMCALL at that address.
 */
static void selftest_vmcb(struct vmcb *v, const struct percpu *cpu,
			  u64 stack_top)
{
	struct table_reg gdtr, idtr;

	__asm__ __volatile__("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	v->control.intercept_misc1 = SVM_INTERCEPT_HLT | SVM_INTERCEPT_SHUTDOWN;
	v->control.intercept_misc2 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL;
	v->control.asid = 1;
	v->control.tlb_control = SVM_TLB_FLUSH_ALL;
	flat_seg(&v->save.cs, GDT_CODE, cpu->desc.gdt[1]);
	flat_seg(&v->save.ss, GDT_DATA, cpu->desc.gdt[2]);
	flat_seg(&v->save.ds, GDT_DATA, cpu->desc.gdt[2]);
	flat_seg(&v->save.es, GDT_DATA, cpu->desc.gdt[2]);
	v->save.gdtr = (struct vmcb_seg){ 0, 0, gdtr.limit, gdtr.base };
	v->save.idtr = (struct vmcb_seg){ 0, 0, idtr.limit, idtr.base };
	v->save.efer = rdmsr(MSR_EFER);
	v->save.cr0 = read_cr0();
	v->save.cr3 = read_cr3();
	v->save.cr4 = read_cr4();
	v->save.g_pat = rdmsr(MSR_PAT);
	v->save.dr6 = 0xffff0ff0;
	v->save.dr7 = 0x400;
	v->save.rflags = 0x2;
	v->save.rip = (u64)(uintptr_t)svm_selftest_guest;
	v->save.rsp = stack_top;
}

bool svm_cpu_selftest(struct percpu *cpu)
{
	hpa_t vmcb_pa = page_alloc(1), stack = page_alloc(1);
	struct vmcb *v;
	bool ok = false;

	if (!hpa_valid(vmcb_pa) || !hpa_valid(stack))
		goto out;
	v = hpa_to_hva(vmcb_pa);
	selftest_vmcb(v, cpu, hpa_u64(stack) + PAGE_SIZE);
	svm_vmrun_raw(hpa_u64(vmcb_pa));
	ok = v->control.exit_code == SVM_EXIT_VMMCALL &&
	     v->save.rip == (u64)(uintptr_t)svm_selftest_guest;
	if (!ok)
		pr_err("cpu%u: VMRUN self-test: exit 0x%llx at rip 0x%llx "
		       "(info1 0x%llx)", cpu->index, v->control.exit_code,
		       v->save.rip, v->control.exit_info1);
out:
	if (hpa_valid(vmcb_pa))
		page_free(vmcb_pa, 1);
	if (hpa_valid(stack))
		page_free(stack, 1);
	return ok;
}
