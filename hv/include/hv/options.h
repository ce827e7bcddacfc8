/*
 * The hypervisor's command line. Options are "key=value" words; the
 * documentation of each lives in docs/boot.md. A bad value is refused
 * with a message naming the option, never silently replaced.
 */
#ifndef HV_OPTIONS_H
#define HV_OPTIONS_H

#include <hv/types.h>

enum log_level {
	LOG_ERR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
};

#define SELFTEST_AP_FAULT BIT(0)	/* a #PF on the last CPU: dump + park */
#define SELFTEST_MEM BIT(1)		/* cycle every page of the pool */

/* What to do about an IOMMU (root DMA isolation). */
enum iommu_mode {
	IOMMU_AUTO = 0,		/* use one if the IVRS lists it */
	IOMMU_REQUIRED,		/* refuse to boot the root without one */
	IOMMU_OFF,		/* leave it off: root DMA is not isolated */
};

struct hv_options {
	enum log_level loglevel;
	u16 console_port;	/* 0: no console */
	u32 baud;
	u16 debug_exit_port;	/* 0: halt instead of exiting QEMU */
	u64 hv_mem;		/* hypervisor pool size in bytes, 0: auto */
	u32 selftests;		/* SELFTEST_* */
	enum iommu_mode iommu;
	bool iommu_intr_pass;	/* iommu_intr=pass: MSIs unchecked */
};

#define OPTIONS_ERR_LEN 128

/*
 * Fills *opts (defaults first) from cmdline. Stops at the first bad
 * option: returns false with a message naming it in err. Unknown
 * options are reported in warn (the last one) but are not an error.
 */
bool options_parse(const char *cmdline, struct hv_options *opts,
		   char *err, char *warn);

/* Parses "64M", "2G", "4096", "0x1000"; false on junk or overflow. */
bool parse_size(const char *s, size_t len, u64 *out);
bool parse_u64(const char *s, size_t len, u64 *out);

#endif
