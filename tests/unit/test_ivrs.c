#include <hv/ivrs.h>
#include <hv/string.h>
#include <x86/amd_iommu.h>
#include "harness.h"

static u8 table[512];

static void fix_checksum(u32 len)
{
	u8 sum = 0;

	table[9] = 0;
	for (u32 i = 0; i < len; i++)
		sum += table[i];
	table[9] = (u8)-sum;
}

/* An IVHD header of this type for the IOMMU at 00:02.0. */
static u32 ivhd(u32 off, u8 type, u16 len, u64 base)
{
	u16 devid = 0x10, cap = 0x40;

	table[off] = type;
	memcpy(table + off + 2, &len, 2);
	memcpy(table + off + 4, &devid, 2);
	memcpy(table + off + 6, &cap, 2);
	memcpy(table + off + 8, &base, 8);
	return off + (type == 0x10 ? 24 : 40);
}

static u32 ivrs(u32 len)
{
	memcpy(table, "IVRS", 4);
	memcpy(table + 4, &len, 4);
	fix_checksum(len);
	return len;
}

TEST(ivrs_one_iommu_two_ivhd_types)
{
	struct ivrs_info info;
	u32 off;

	memset(table, 0, sizeof(table));
	/* Legacy IVHD: select 00:03.0, a range up to 01:00.7, padding. */
	off = ivhd(48, 0x10, 24 + 16, 0xfed80000);
	memcpy(table + off, "\x02\x18\x00\x00", 4);
	memcpy(table + off + 4, "\x03\x00\x00\x00", 4);
	memcpy(table + off + 8, "\x04\x07\x01\x00", 4);
	/* Extended IVHD for the same IOMMU: an alias naming 02:00.0. */
	off = ivhd(48 + 40, 0x40, 40 + 8, 0xfed80000);
	memcpy(table + off, "\x42\x20\x00\x00\x00\x00\x02\x00", 8);
	ivrs(48 + 40 + 48);
	CHECK_NULL(ivrs_parse((const void *)table, &info));
	CHECK_EQ(info.n_iommus, 1);
	CHECK_EQ(info.iommus[0].mmio_base, 0xfed80000);
	CHECK_EQ(info.iommus[0].devid, 0x10);
	CHECK_EQ(info.iommus[0].cap_off, 0x40);
	CHECK_EQ(info.iommus[0].ivhd_type, 0x10);
	CHECK_EQ(info.max_devid, 0x200);
}

TEST(ivrs_select_all_and_refusals)
{
	struct ivrs_info info;
	u32 off;

	memset(table, 0, sizeof(table));
	off = ivhd(48, 0x11, 40 + 4, 0xfed80000);
	memcpy(table + off, "\x01\x00\x00\x00", 4);
	ivrs(48 + 44);
	CHECK_NULL(ivrs_parse((const void *)table, &info));
	CHECK_EQ(info.max_devid, IVRS_ALL_DEVICES);
	/* An entry of unknown length: cover everything, keep the IOMMU. */
	memset(table, 0, sizeof(table));
	off = ivhd(48, 0x10, 24 + 8, 0xfed80000);
	memcpy(table + off, "\x02\x08\x00\x00\x90\x00\x00\x00", 8);
	ivrs(48 + 32);
	CHECK_NULL(ivrs_parse((const void *)table, &info));
	CHECK_EQ(info.max_devid, IVRS_ALL_DEVICES);
	/* A block running past the table, no IOMMU, a bad base. */
	ivrs(48 + 31);
	CHECK_STR(ivrs_parse((const void *)table, &info),
		  "IVRS block overruns the table");
	ivrs(48);
	CHECK_STR(ivrs_parse((const void *)table, &info),
		  "IVRS describes no IOMMU");
	memset(table, 0, sizeof(table));
	ivhd(48, 0x10, 24, 0xfed81000);
	ivrs(48 + 24);
	CHECK_STR(ivrs_parse((const void *)table, &info),
		  "IVHD register base missing or not aligned");
	memcpy(table, "APIC", 4);
	CHECK_STR(ivrs_parse((const void *)table, &info), "IVRS malformed");
}

TEST(amdvi_events_described)
{
	struct amdvi_event pf = { { 0x18, 0x2u << 28 | (u32)EVT_FLAG_WRITE,
				    0x100000, 0 } };
	struct amdvi_event odd = { { 0x0102, 0xfu << 28, 0, 1 } };
	char buf[160];

	amdvi_event_describe(&pf, buf, sizeof(buf));
	CHECK_STR(buf, "I/O page fault (code 2) from device 00:03.0 at "
		  "0x100000, write");
	amdvi_event_describe(&odd, buf, sizeof(buf));
	CHECK_STR(buf, "event (code 15) from device 01:00.2 at 0x100000000");
}
