/* Describing AMD IOMMU event log entries. Pure code: unit-tested. */
#include <hv/printf.h>
#include <x86/amd_iommu.h>

static const char *const event_names[] = {
	[EVT_ILLEGAL_DEV_TABLE_ENTRY] = "illegal device table entry",
	[EVT_IO_PAGE_FAULT] = "I/O page fault",
	[EVT_DEV_TAB_HW_ERROR] = "device table hardware error",
	[EVT_PAGE_TAB_HW_ERROR] = "page table hardware error",
	[EVT_ILLEGAL_COMMAND] = "illegal command",
	[EVT_COMMAND_HW_ERROR] = "command hardware error",
};

static const char *event_name(u32 code)
{
	if (code < ARRAY_SIZE(event_names) && event_names[code])
		return event_names[code];
	return "event";
}

void amdvi_event_describe(const struct amdvi_event *e, char *buf, size_t len)
{
	u32 code = EVT_CODE(e), devid = e->dw[0] & 0xffff;
	u64 addr = ((u64)e->dw[3] << 32) | e->dw[2];

	hv_snprintf(buf, len, "%s (code %u) from device %02x:%02x.%u at "
		    "0x%llx%s", event_name(code), code, devid >> 8,
		    (devid >> 3) & 0x1f, devid & 7, addr,
		    code != EVT_IO_PAGE_FAULT ? "" :
		    (e->dw[1] & EVT_FLAG_WRITE) ? ", write" : ", read");
}
