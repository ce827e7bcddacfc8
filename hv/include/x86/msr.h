/* MSR numbers the hypervisor itself uses. */
#ifndef X86_MSR_H
#define X86_MSR_H

#define MSR_APIC_BASE 0x0000001b
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN (1ull << 11)

#define MSR_PAT 0x00000277
#define MSR_EFER 0xc0000080
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define EFER_SVME (1ull << 12)

#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX 0xc0000103

/* AMD SVM */
#define MSR_VM_CR 0xc0010114
#define VM_CR_LOCK (1ull << 3)
#define VM_CR_SVMDIS (1ull << 4)
#define MSR_VM_HSAVE_PA 0xc0010117

/* Intel VMX */
#define MSR_FEATURE_CONTROL 0x0000003a
#define FEATURE_CONTROL_LOCK (1ull << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ull << 2)

/* RDTSCP's TSC_AUX exists (CPUID 0x80000001 EDX bit 27). */
bool cpu_has_tsc_aux(void);

#endif
