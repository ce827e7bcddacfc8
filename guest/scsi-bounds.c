/*
 * In a child: what a guest that sends its own CDBs (SG_IO on /dev/sda)
 * meets at storvsp. The Block Limits VPD page publishes WSNZ and a
 * 2048-block WRITE SAME maximum, and WRITE SAMEs of 0 blocks ("to the
 * end") or over the maximum are refused with ILLEGAL REQUEST, INVALID
 * FIELD IN CDB, so they never touch the disk (the child's root file
 * system). Prints one "child-scsi: ..." line per check and, last,
 * "child-scsi: N failed".
 */
#include <fcntl.h>
#include <scsi/sg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int failed;

/* One CDB; returns the SCSI status (-1: the ioctl failed). */
static int run(int fd, uint8_t *cdb, int len, void *buf, int blen, int dir,
	       uint8_t *sense)
{
	struct sg_io_hdr h = { .interface_id = 'S', .cmdp = cdb,
			       .cmd_len = len, .dxferp = buf,
			       .dxfer_len = blen, .dxfer_direction = dir,
			       .sbp = sense, .mx_sb_len = 32,
			       .timeout = 20000 };

	memset(sense, 0, 32);
	if (ioctl(fd, SG_IO, &h) < 0)
		return -1;
	return h.status;
}

static void check(const char *what, int ok)
{
	printf("child-scsi: %s: %s\n", what, ok ? "ok" : "FAILED");
	failed += !ok;
}

static void block_limits(int fd)
{
	uint8_t cdb[6] = { 0x12, 0x01, 0xb0, 0, 64, 0 }, buf[64] = { 0 };
	uint8_t sense[32];
	uint64_t max = 0;
	int st = run(fd, cdb, 6, buf, 64, SG_DXFER_FROM_DEV, sense);

	for (int i = 36; i < 44; i++)
		max = max << 8 | buf[i];
	printf("child-scsi: block limits: status %d, WSNZ %d, max write "
	       "same %llu\n", st, buf[4] & 1, (unsigned long long)max);
	check("block limits page", st == 0 && buf[1] == 0xb0 &&
	      buf[3] == 0x3c && (buf[4] & 1) && max == 2048);
}

/* WRITE SAME(16) of blocks at lba: must be refused as an invalid field. */
static void refused(int fd, const char *what, uint64_t lba, uint32_t blocks)
{
	uint8_t cdb[16] = { 0x93 }, blk[512] = { 0 }, sense[32];
	int st;

	for (int i = 0; i < 8; i++)
		cdb[2 + i] = (uint8_t)(lba >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		cdb[10 + i] = (uint8_t)(blocks >> (24 - 8 * i));
	st = run(fd, cdb, 16, blk, 512, SG_DXFER_TO_DEV, sense);
	printf("child-scsi: %s: status %d, sense key %#x asc %#x\n", what, st,
	       sense[2] & 0xf, sense[12]);
	check(what, st == 2 && (sense[2] & 0xf) == 5 && sense[12] == 0x24);
}

int main(void)
{
	int fd = open("/dev/sda", O_RDWR);

	if (fd < 0) {
		perror("child-scsi: /dev/sda");
		return 1;
	}
	block_limits(fd);
	refused(fd, "write same of 0 blocks", 0, 0);
	refused(fd, "write same of 2049 blocks", 0, 2049);
	refused(fd, "write same of 2^32-1 blocks", 0, 0xffffffffu);
	close(fd);
	printf("child-scsi: %d failed\n", failed);
	return failed != 0;
}
