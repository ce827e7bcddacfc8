#include <hv/percpu.h>
#include <x86/cpu.h>
#include <x86/msr.h>

struct percpu cpus[HV_MAX_CPUS];
u32 nr_cpus = 1;
static bool gs_ready;

void percpu_bind(u32 index)
{
	struct percpu *c = &cpus[index];

	c->self = c;
	c->index = index;
	wrmsr(MSR_GS_BASE, (u64)(uintptr_t)c);
	if (index == 0)
		gs_ready = true;
}

u32 this_cpu_index(void)
{
	return gs_ready ? this_cpu()->index : 0;
}
