#include <hv/options.h>
#include "harness.h"

static struct hv_options o;
static char err[OPTIONS_ERR_LEN], warn[OPTIONS_ERR_LEN];

TEST(options_defaults)
{
	CHECK(options_parse(NULL, &o, err, warn));
	CHECK_EQ(o.loglevel, LOG_INFO);
	CHECK_EQ(o.console_port, 0x3f8);
	CHECK_EQ(o.baud, 115200);
	CHECK_EQ(o.debug_exit_port, 0);
	CHECK_EQ(o.hv_mem, 0);
	CHECK_EQ(o.selftests, 0);
	CHECK_EQ(o.iommu, IOMMU_AUTO);
	CHECK_STR(warn, "");
}

TEST(options_iommu)
{
	CHECK(options_parse("iommu=required", &o, err, warn));
	CHECK_EQ(o.iommu, IOMMU_REQUIRED);
	CHECK(options_parse("iommu=off", &o, err, warn));
	CHECK_EQ(o.iommu, IOMMU_OFF);
	CHECK(!o.iommu_intr_pass);
	CHECK(options_parse("iommu_intr=pass", &o, err, warn));
	CHECK(o.iommu_intr_pass);
	CHECK(options_parse("iommu_intr=block", &o, err, warn));
	CHECK(!o.iommu_intr_pass);
	CHECK(!options_parse("iommu_intr=maybe", &o, err, warn));
	CHECK(strstr(err, "iommu_intr: expected block or pass"));
	CHECK(!options_parse("iommu=yes", &o, err, warn));
	CHECK(strstr(err, "iommu=yes") &&
	      strstr(err, "expected auto, required or off"));
}

TEST(options_every_key)
{
	CHECK(options_parse("  loglevel=debug console=com2 baud=9600 "
			    "debug_exit=0xf4 hv_mem=64M selftest=mem,ap_fault",
			    &o, err, warn));
	CHECK_EQ(o.loglevel, LOG_DEBUG);
	CHECK_EQ(o.console_port, 0x2f8);
	CHECK_EQ(o.baud, 9600);
	CHECK_EQ(o.debug_exit_port, 0xf4);
	CHECK_EQ(o.hv_mem, 64ull << 20);
	CHECK_EQ(o.selftests, SELFTEST_MEM | SELFTEST_AP_FAULT);
	CHECK(options_parse("loglevel=0 console=0x2e8 console=none", &o, err,
			    warn));
	CHECK_EQ(o.loglevel, LOG_ERR);
	CHECK_EQ(o.console_port, 0);
}

TEST(options_bad_values_name_the_option)
{
	CHECK(!options_parse("loglevel=loud", &o, err, warn));
	CHECK(strstr(err, "loglevel=loud") && strstr(err, "expected 0-3"));
	CHECK(!options_parse("hv_mem=1M", &o, err, warn));
	CHECK(strstr(err, "hv_mem"));
	CHECK(!options_parse("baud=7", &o, err, warn));
	CHECK(strstr(err, "baud"));
	CHECK(!options_parse("debug_exit=", &o, err, warn));
	CHECK(strstr(err, "debug_exit"));
	CHECK(!options_parse("console=com9", &o, err, warn));
	CHECK(!options_parse("selftest=mem,bogus", &o, err, warn));
	CHECK(strstr(err, "selftest"));
	CHECK(!options_parse("hv_mem=99999999999999999999G", &o, err, warn));
}

TEST(options_unknown_is_a_warning)
{
	CHECK(options_parse("frobnicate=1 loglevel=warn", &o, err, warn));
	CHECK(strstr(warn, "frobnicate=1"));
	CHECK_EQ(o.loglevel, LOG_WARN);
}

TEST(options_parse_size_and_number)
{
	u64 v;

	CHECK(parse_size("4096", 4, &v) && v == 4096);
	CHECK(parse_size("2G", 2, &v) && v == 2ull << 30);
	CHECK(parse_size("8k", 2, &v) && v == 8192);
	CHECK(parse_size("0x1000", 6, &v) && v == 0x1000);
	CHECK(!parse_size("", 0, &v));
	CHECK(!parse_size("M", 1, &v));
	CHECK(!parse_size("12Q", 3, &v));
	CHECK(!parse_size("17179869184G", 12, &v));
	CHECK(parse_u64("18446744073709551615", 20, &v) && v == ~0ull);
	CHECK(!parse_u64("18446744073709551616", 20, &v));
	CHECK(!parse_u64("0x", 2, &v));
}
