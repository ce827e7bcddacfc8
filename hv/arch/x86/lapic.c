#include <hv/log.h>
#include <hv/vmm.h>
#include <x86/cpu.h>
#include <x86/lapic.h>
#include <x86/msr.h>
#include <x86/tsc.h>

#define LAPIC_ID 0x020
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define X2APIC_MSR(reg) (0x800u + ((reg) >> 4))

#define ICR_NMI (4u << 8)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_BUSY (1u << 12)

static volatile u32 *mmio;
static u64 mmio_base;
static bool x2apic;

/* The root may switch its CPUs to x2APIC: ask the CPU, not a flag. */
static bool in_x2apic_mode(void)
{
	return rdmsr(MSR_APIC_BASE) & APIC_BASE_EXTD;
}

bool lapic_init(u64 madt_base)
{
	u64 msr = rdmsr(MSR_APIC_BASE);
	u64 base = msr & 0x000ffffffffff000ull;

	x2apic = msr & APIC_BASE_EXTD;
	if (x2apic)
		return true;
	if (madt_base && madt_base != base)
		pr_warn("lapic: MADT says 0x%llx, APIC_BASE says 0x%llx; "
			"using the MSR", madt_base, base);
	if (!vmm_map_mmio(hpa(base), PAGE_SIZE))
		return false;
	mmio = (volatile u32 *)(uintptr_t)base;
	mmio_base = base;
	return true;
}

bool lapic_x2apic_mode(void)
{
	return x2apic;
}

u32 lapic_id(void)
{
	if (in_x2apic_mode())
		return (u32)rdmsr(X2APIC_MSR(LAPIC_ID));
	return mmio[LAPIC_ID / 4] >> 24;
}

static bool send_ipi(u32 apic_id, u32 icr)
{
	if (in_x2apic_mode()) {
		wrmsr(X2APIC_MSR(LAPIC_ICR_LOW), ((u64)apic_id << 32) | icr);
		return true;
	}
	mmio[LAPIC_ICR_HIGH / 4] = apic_id << 24;
	mmio[LAPIC_ICR_LOW / 4] = icr;
	for (int i = 0; i < 1000; i++) {
		if (!(mmio[LAPIC_ICR_LOW / 4] & ICR_BUSY))
			return true;
		udelay(10);
	}
	return false;
}

bool lapic_send_init(u32 apic_id)
{
	return send_ipi(apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
}

bool lapic_send_sipi(u32 apic_id, u8 vector)
{
	return send_ipi(apic_id, ICR_STARTUP | ICR_LEVEL_ASSERT | vector);
}

bool lapic_send_nmi(u32 apic_id)
{
	return send_ipi(apic_id, ICR_NMI | ICR_LEVEL_ASSERT);
}

u64 lapic_mmio_base(void)
{
	return mmio_base;
}

u32 lapic_read(u32 reg)
{
	if (in_x2apic_mode())
		return (u32)rdmsr(X2APIC_MSR(reg));
	return mmio[reg / 4];
}

void lapic_write(u32 reg, u32 val)
{
	if (in_x2apic_mode())
		wrmsr(X2APIC_MSR(reg), val);
	else
		mmio[reg / 4] = val;
}

void lapic_write_icr(u32 dest, u32 low)
{
	send_ipi(dest, low);
}
