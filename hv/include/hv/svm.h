/* AMD-V (SVM) backend entry points, used through hv/virt.h only. */
#ifndef HV_SVM_H
#define HV_SVM_H

#include <hv/virt.h>

/* CPUID 8000_000Ah EDX feature bits. */
#define SVM_FEAT_NPT BIT(0)
#define SVM_FEAT_LBRV BIT(1)
#define SVM_FEAT_SVML BIT(2)
#define SVM_FEAT_NRIPS BIT(3)
#define SVM_FEAT_TSC_RATE BIT(4)
#define SVM_FEAT_VMCB_CLEAN BIT(5)
#define SVM_FEAT_FLUSH_BY_ASID BIT(6)
#define SVM_FEAT_DECODE_ASSISTS BIT(7)
#define SVM_FEAT_PAUSE_FILTER BIT(10)
#define SVM_FEAT_PAUSE_THRESHOLD BIT(12)
#define SVM_FEAT_AVIC BIT(13)
#define SVM_FEAT_VMSAVE_VIRT BIT(15)
#define SVM_FEAT_VGIF BIT(16)
#define SVM_FEAT_GMET BIT(17)
#define SVM_FEAT_X2AVIC BIT(18)
#define SVM_FEAT_VNMI BIT(25)

/* Raw facts the probe decides on; gathered by svm.c, judged by caps.c. */
struct svm_probe_input {
	u32 max_ext_leaf;	/* CPUID 8000_0000h EAX */
	u32 ext1_ecx;		/* CPUID 8000_0001h ECX: bit 2 = SVM */
	u32 svm_eax, svm_ebx, svm_edx;	/* CPUID 8000_000Ah */
	bool vm_cr_readable;
	u64 vm_cr;
};

enum virt_status svm_evaluate(const struct svm_probe_input *in,
			      struct virt_caps *caps, char why[VIRT_WHY_LEN]);
void svm_describe(u32 features, char *buf, size_t len);

enum virt_status svm_probe(struct virt_caps *caps, char why[VIRT_WHY_LEN]);
enum virt_status svm_cpu_enable(struct percpu *cpu, char why[VIRT_WHY_LEN]);
bool svm_cpu_selftest(struct percpu *cpu);

#endif
