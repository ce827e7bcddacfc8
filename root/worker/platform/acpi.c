/*
 * The child's ACPI tables. Field layouts follow ACPI 6.5 chapter 5; the
 * FADT is the 276-byte revision 6 one. Everything is little-endian, as on
 * the only host this runs on.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "acpi.h"
#include "aml.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "ACPI tables are written with host-endian stores");

#define TABLE_ALIGN 16
#define OEM_REVISION 1
#define CREATOR_ID "MHVW"		/* the microhv worker */
#define CREATOR_REVISION 1

#define RSDP_V1_LEN 20			/* the first checksum covers */
#define FADT_REVISION 6
#define FADT_MINOR_REVISION 0		/* ACPI 6.0 defined this layout */
#define MADT_REVISION 5
#define XSDT_REVISION 1
#define DSDT_REVISION 2			/* 2 or more: 64-bit integers */

/* FADT Flags (ACPI 6.5 table 5.10). */
#define FADT_PWR_BUTTON (1u << 4)	/* no fixed-feature power button */
#define FADT_SLP_BUTTON (1u << 5)	/* no fixed-feature sleep button */
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_HW_REDUCED_ACPI (1u << 20)

/* FADT IAPC_BOOT_ARCH (table 5.11); the 8042 bit (1) stays clear. */
#define BOOT_ARCH_VGA_NOT_PRESENT (1u << 2)
#define BOOT_ARCH_CMOS_RTC_NOT_PRESENT (1u << 5)

#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1

#define MADT_LAPIC_ADDRESS 0xfee00000u
#define MADT_TYPE_LOCAL_APIC 0
#define MADT_LAPIC_ENABLED 1u

#define COM1_PORT 0x3f8
#define COM1_PORTS 8

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_header) == 36, "ACPI table header");

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum;
	uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP revision 2");

/* Generic Address Structure (ACPI 6.5 section 5.2.3.2). */
struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS");

enum { XSDT_FADT, XSDT_MADT, XSDT_ENTRIES };

struct acpi_xsdt {
	struct acpi_header header;
	uint64_t entry[XSDT_ENTRIES];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_xsdt) == 36 + 8 * XSDT_ENTRIES, "XSDT");

struct acpi_fadt {
	struct acpi_header header;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_revision;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	char hypervisor_vendor[8];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6");
_Static_assert(offsetof(struct acpi_fadt, iapc_boot_arch) == 0x6d, "FADT");
_Static_assert(offsetof(struct acpi_fadt, flags) == 0x70, "FADT flags");
_Static_assert(offsetof(struct acpi_fadt, reset_reg) == 0x74, "FADT");
_Static_assert(offsetof(struct acpi_fadt, minor_revision) == 0x83, "FADT");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 0x8c, "FADT X_DSDT");
_Static_assert(offsetof(struct acpi_fadt, sleep_control_reg) == 0xf4, "FADT");
_Static_assert(offsetof(struct acpi_fadt, sleep_status_reg) == 0x100, "FADT");
_Static_assert(offsetof(struct acpi_fadt, hypervisor_vendor) == 0x10c, "FADT");

struct acpi_madt {
	struct acpi_header header;
	uint32_t lapic_address;
	uint32_t flags;			/* PCAT_COMPAT clear: no 8259s */
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT");

struct acpi_madt_lapic {
	uint8_t type;
	uint8_t length;
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_lapic) == 8, "MADT Local APIC");

/* Where each table goes, as offsets from the start of the buffer. */
struct layout {
	size_t rsdp, xsdt, fadt, madt, dsdt;
};

static size_t align_up(size_t v)
{
	return (v + TABLE_ALIGN - 1) & ~(size_t)(TABLE_ALIGN - 1);
}

static size_t madt_size(uint32_t n_vps)
{
	return sizeof(struct acpi_madt) +
	       n_vps * sizeof(struct acpi_madt_lapic);
}

/* The DSDT goes last: it is the only table whose size must be measured. */
static void plan_layout(const struct acpi_config *cfg, struct layout *l)
{
	l->rsdp = 0;
	l->xsdt = align_up(l->rsdp + sizeof(struct acpi_rsdp));
	l->fadt = align_up(l->xsdt + sizeof(struct acpi_xsdt));
	l->madt = align_up(l->fadt + sizeof(struct acpi_fadt));
	l->dsdt = align_up(l->madt + madt_size(cfg->n_vps));
}

static uint8_t checksum_fix(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

/* Copies s into a fixed-width ACPI id field, space-padded, truncated. */
static void put_id(char *field, size_t width, const char *s)
{
	size_t n = strnlen(s, width);

	memset(field, ' ', width);
	memcpy(field, s, n);
}

static const char *oem_id(const struct acpi_config *cfg)
{
	return cfg->oem_id ? cfg->oem_id : ACPI_DEFAULT_OEM_ID;
}

static const char *oem_table_id(const struct acpi_config *cfg)
{
	return cfg->oem_table_id ? cfg->oem_table_id :
				   ACPI_DEFAULT_OEM_TABLE_ID;
}

static void fill_header(struct acpi_header *h, const char sig[4],
			size_t len, uint8_t revision,
			const struct acpi_config *cfg)
{
	memcpy(h->signature, sig, 4);
	h->length = (uint32_t)len;
	h->revision = revision;
	put_id(h->oem_id, sizeof(h->oem_id), oem_id(cfg));
	put_id(h->oem_table_id, sizeof(h->oem_table_id), oem_table_id(cfg));
	h->oem_revision = OEM_REVISION;
	memcpy(h->creator_id, CREATOR_ID, 4);
	h->creator_revision = CREATOR_REVISION;
}

/* Sets the checksum of the table at t so that all its bytes sum to 0. */
static void seal_table(uint8_t *t, size_t len)
{
	size_t at = offsetof(struct acpi_header, checksum);

	t[at] = 0;
	t[at] = checksum_fix(t, len);
}

static void write_rsdp(uint8_t *buf, const struct layout *l,
		       uint64_t base_gpa, const struct acpi_config *cfg)
{
	struct acpi_rsdp r = { .revision = 2 };

	memcpy(r.signature, "RSD PTR ", sizeof(r.signature));
	put_id(r.oem_id, sizeof(r.oem_id), oem_id(cfg));
	r.length = sizeof(r);
	r.xsdt_address = base_gpa + l->xsdt;	/* and no RSDT */
	r.checksum = checksum_fix(&r, RSDP_V1_LEN);
	r.extended_checksum = checksum_fix(&r, sizeof(r));
	memcpy(buf + l->rsdp, &r, sizeof(r));
}

static void write_xsdt(uint8_t *buf, const struct layout *l,
		       uint64_t base_gpa, const struct acpi_config *cfg)
{
	struct acpi_xsdt x = { 0 };

	fill_header(&x.header, "XSDT", sizeof(x), XSDT_REVISION, cfg);
	x.entry[XSDT_FADT] = base_gpa + l->fadt;
	x.entry[XSDT_MADT] = base_gpa + l->madt;
	memcpy(buf + l->xsdt, &x, sizeof(x));
	seal_table(buf + l->xsdt, sizeof(x));
}

static struct acpi_gas io_byte_register(uint16_t port)
{
	return (struct acpi_gas){
		.space_id = GAS_SYSTEM_IO,
		.bit_width = 8,
		.access_size = GAS_ACCESS_BYTE,
		.address = port,
	};
}

/*
 * Hardware-reduced: no FACS, SCI, PM1 blocks, PM timer or GPEs; sleep and
 * reset go through the three byte-wide I/O registers of cfg->pm.
 */
static void write_fadt(uint8_t *buf, const struct layout *l,
		       uint64_t base_gpa, const struct acpi_config *cfg)
{
	struct acpi_fadt f = { 0 };
	uint64_t dsdt = base_gpa + l->dsdt;

	fill_header(&f.header, "FACP", sizeof(f), FADT_REVISION, cfg);
	f.minor_revision = FADT_MINOR_REVISION;
	/* The 32-bit copy is optional; ACPICA prefers X_DSDT anyway. */
	f.dsdt = dsdt <= UINT32_MAX ? (uint32_t)dsdt : 0;
	f.x_dsdt = dsdt;
	f.iapc_boot_arch = BOOT_ARCH_VGA_NOT_PRESENT |
			   BOOT_ARCH_CMOS_RTC_NOT_PRESENT;
	f.flags = FADT_HW_REDUCED_ACPI | FADT_RESET_REG_SUP | FADT_PWR_BUTTON |
		  FADT_SLP_BUTTON;
	f.reset_reg = io_byte_register(cfg->pm.reset_port);
	f.reset_value = cfg->pm.reset_value;
	f.sleep_control_reg = io_byte_register(cfg->pm.sleep_control_port);
	f.sleep_status_reg = io_byte_register(cfg->pm.sleep_status_port);
	put_id(f.hypervisor_vendor, sizeof(f.hypervisor_vendor),
	       ACPI_HYPERVISOR_VENDOR);
	memcpy(buf + l->fadt, &f, sizeof(f));
	seal_table(buf + l->fadt, sizeof(f));
}

static void write_madt(uint8_t *buf, const struct layout *l,
		       const struct acpi_config *cfg)
{
	struct acpi_madt m = { .lapic_address = MADT_LAPIC_ADDRESS };
	size_t len = madt_size(cfg->n_vps);
	uint8_t *p = buf + l->madt + sizeof(m);

	fill_header(&m.header, "APIC", len, MADT_REVISION, cfg);
	memcpy(buf + l->madt, &m, sizeof(m));
	for (uint32_t vp = 0; vp < cfg->n_vps; vp++) {
		struct acpi_madt_lapic e = {
			.type = MADT_TYPE_LOCAL_APIC,
			.length = sizeof(e),
			.processor_uid = (uint8_t)vp,
			.apic_id = (uint8_t)vp,
			.flags = MADT_LAPIC_ENABLED,
		};

		memcpy(p + vp * sizeof(e), &e, sizeof(e));
	}
	seal_table(buf + l->madt, len);
}

/* Name (\_S5, Package (4) { SLP_TYPa, SLP_TYPb, 0, 0 }) */
static void emit_s5(struct aml *a, uint8_t slp_typ)
{
	aml_name(a, "\\_S5");
	aml_package_begin(a, 4);
	aml_integer(a, slp_typ);
	for (int i = 0; i < 3; i++)
		aml_integer(a, 0);
	aml_end(a);
}

static void emit_empty_crs(struct aml *a)
{
	struct aml_res r;

	aml_res_init(&r);
	aml_name(a, "_CRS");
	aml_resource_template(a, &r);
}

/* The device Linux's hv_vmbus binds to; its _CRS must exist. */
static void emit_vmbus(struct aml *a)
{
	aml_device_begin(a, "VMBS");
	aml_name(a, "_HID");
	aml_string(a, "VMBus");
	aml_name(a, "_UID");
	aml_integer(a, 0);
	emit_empty_crs(a);
	aml_end(a);
}

/*
 * The module device: hv_vmbus takes the MMIO ranges for its devices from
 * the first ancestor _CRS that has Address descriptors.
 */
static void emit_vmod(struct aml *a, const struct acpi_config *cfg)
{
	aml_device_begin(a, "VMOD");
	aml_name(a, "_HID");
	aml_string(a, "ACPI0004");
	aml_name(a, "_UID");
	aml_integer(a, 0);
	if (cfg->mmio_size) {
		struct aml_res r;

		aml_res_init(&r);
		aml_res_qword_memory(&r, cfg->mmio_base, cfg->mmio_size);
		aml_name(a, "_CRS");
		aml_resource_template(a, &r);
	}
	emit_vmbus(a);
	aml_end(a);
}

/*
 * No IRQ descriptor on purpose: the child has no interrupt controller for
 * legacy IRQs, so 8250_pnp registers ttyS0 with irq 0 and polls it.
 */
static void emit_com1(struct aml *a)
{
	struct aml_res r;

	aml_device_begin(a, "COM1");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501");
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_res_init(&r);
	aml_res_io16(&r, COM1_PORT, COM1_PORT, 1, COM1_PORTS);
	aml_name(a, "_CRS");
	aml_resource_template(a, &r);
	aml_end(a);
}

/*
 * Emits the whole DSDT at dsdt (may be NULL to measure) and seals it.
 * *len is its size whether or not it fitted in room.
 */
static int build_dsdt(const struct acpi_config *cfg, uint8_t *dsdt,
		      size_t room, size_t *len)
{
	struct acpi_header h = { 0 };
	struct aml a;
	int err;

	aml_init(&a, dsdt, room);
	aml_bytes(&a, &h, sizeof(h));	/* filled in at the end */
	emit_s5(&a, cfg->pm.s5_slp_typ);
	aml_scope_begin(&a, "\\_SB");
	emit_vmod(&a, cfg);
	emit_com1(&a);
	aml_end(&a);
	*len = a.len;
	err = aml_finish(&a);
	if (err)
		return err;
	fill_header(&h, "DSDT", a.len, DSDT_REVISION, cfg);
	memcpy(dsdt, &h, sizeof(h));
	seal_table(dsdt, a.len);
	return 0;
}

static bool config_valid(const struct acpi_config *cfg)
{
	if (cfg->n_vps == 0 || cfg->n_vps > ACPI_MAX_VPS)
		return false;
	if (cfg->mmio_size && cfg->mmio_base + cfg->mmio_size - 1 <
				      cfg->mmio_base)
		return false;
	return pm_config_valid(&cfg->pm);
}

int acpi_build(const struct acpi_config *cfg, uint64_t base_gpa, void *buf,
	       size_t buf_size, struct acpi_tables *out)
{
	uint8_t *b = buf;
	struct layout l;
	size_t dsdt_len;
	bool fits;
	int err;

	if (!config_valid(cfg) || base_gpa % TABLE_ALIGN)
		return -EINVAL;
	plan_layout(cfg, &l);
	fits = b && buf_size > l.dsdt;
	err = build_dsdt(cfg, fits ? b + l.dsdt : NULL,
			 fits ? buf_size - l.dsdt : 0, &dsdt_len);
	out->size = l.dsdt + dsdt_len;
	out->rsdp_gpa = base_gpa + l.rsdp;
	if (err)
		return err;
	memset(b, 0, l.dsdt);		/* the padding between tables */
	write_rsdp(b, &l, base_gpa, cfg);
	write_xsdt(b, &l, base_gpa, cfg);
	write_fadt(b, &l, base_gpa, cfg);
	write_madt(b, &l, cfg);
	return 0;
}
