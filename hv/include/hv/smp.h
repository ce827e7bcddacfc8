/* Finding the CPUs (ACPI MADT) and taking every one of them. */
#ifndef HV_SMP_H
#define HV_SMP_H

#include <hv/acpi.h>
#include <hv/bootinfo.h>
#include <hv/vmm.h>

struct percpu;

/* Fills cpus[] from the MADT; the BSP is cpus[0]. Stops on failure. */
void smp_discover(const struct boot_info *bi);

/* The MADT smp_discover() read (its I/O APICs, for the root's trap). */
const struct acpi_madt_info *smp_madt(void);

/* Starts every other CPU; returns how many came online. */
u32 smp_boot_aps(void);

/* Common per-CPU bring-up: descriptor tables on cpu->stacks. */
void cpu_setup_tables(struct percpu *cpu);

/* Turns virtualization on for the calling CPU and proves it with VMRUN. */
bool cpu_enable_virt(struct percpu *cpu);

extern u32 smp_selftest_fault_cpu;

/* core/sched.c */
bool cpu_virt_setup(struct percpu *cpu);
void sched_release_aps(void);
__noreturn void sched_boot_root(void);	/* 0: none */

#endif
