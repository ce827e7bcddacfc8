/*
 * The SCSI disk target against a temporary sparse image: each command a
 * Linux storvsc + sd guest sends, the error senses, and random CDBs.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <vsp/scsi.h>
#include "harness.h"

#define BLOCKS 1024			/* image size in 512-byte blocks */

struct img {
	char path[32];
	struct scsi_disk d;
};

static struct scsi_result r;

static void img_make(struct img *im, uint64_t blocks, bool ro)
{
	int fd;

	strcpy(im->path, "/tmp/scsi-test-XXXXXX");
	fd = mkstemp(im->path);
	CHECK(fd >= 0);
	CHECK_EQ(ftruncate(fd, (off_t)(blocks * 512)), 0);
	close(fd);
	CHECK_EQ(scsi_disk_open(&im->d, im->path, ro, 7, NULL), 0);
}

static void img_drop(struct img *im)
{
	scsi_disk_close(&im->d);
	unlink(im->path);
}

/* Runs cdb with one contiguous buffer (or none if buf is NULL). */
static void run(struct scsi_disk *d, const uint8_t *cdb, uint8_t len,
		void *buf, size_t blen, bool out)
{
	struct iovec v = { buf, blen };
	struct scsi_data data = { &v, 1, blen, out };

	scsi_execute(d, cdb, len, buf ? &data : NULL, &r);
}

static bool good(void)
{
	return r.status == SCSI_STATUS_GOOD && r.sense_len == 0;
}

static bool sense_is(uint8_t key, uint8_t asc, uint8_t ascq)
{
	return r.status == SCSI_STATUS_CHECK_CONDITION &&
	       r.sense_len == 18 && r.sense[0] == 0x70 &&
	       r.sense[2] == key && r.sense[7] == 10 &&
	       r.sense[12] == asc && r.sense[13] == ascq;
}

static bool bad_field(void)
{
	return sense_is(0x5, 0x24, 0);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (24 - 8 * i);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, v >> 32);
	put_be32(p + 4, (uint32_t)v);
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* READ/WRITE(10)-shaped CDB: op, byte-1 flags, 32-bit LBA, 16-bit count. */
static void cdb10(uint8_t *c, uint8_t op, uint8_t flags, uint32_t lba,
		  uint16_t count)
{
	memset(c, 0, 16);
	c[0] = op;
	c[1] = flags;
	put_be32(c + 2, lba);
	c[7] = count >> 8;
	c[8] = count & 0xff;
}

/* READ/WRITE(16)-shaped CDB. */
static void cdb16(uint8_t *c, uint8_t op, uint8_t flags, uint64_t lba,
		  uint32_t count)
{
	memset(c, 0, 16);
	c[0] = op;
	c[1] = flags;
	put_be64(c + 2, lba);
	put_be32(c + 10, count);
}

static void pattern(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed + (i >> 9));
}

TEST(scsi_open_sizes_and_errors)
{
	struct img im;
	struct scsi_disk d;
	const char *why = NULL;
	int fd;

	CHECK_EQ(scsi_disk_open(&d, "/nonexistent/x.img", false, 1, &why),
		 -ENOENT);
	CHECK(why != NULL);
	CHECK_EQ(d.fd, -1);
	CHECK_EQ(scsi_disk_open(&d, "/dev/null", true, 1, &why), -EINVAL);
	CHECK_EQ(scsi_disk_open(&d, "/tmp", true, 1, NULL), -EINVAL);

	img_make(&im, 2, false);
	scsi_disk_close(&im.d);
	fd = open(im.path, O_RDWR);
	CHECK_EQ(ftruncate(fd, 511), 0);	/* less than one block */
	CHECK_EQ(scsi_disk_open(&d, im.path, false, 1, &why), -EINVAL);
	CHECK_EQ(ftruncate(fd, 4 * 512 + 100), 0);	/* rounded down */
	close(fd);
	CHECK_EQ(scsi_disk_open(&im.d, im.path, false, 0xabc, &why), 0);
	CHECK_EQ(im.d.size, 4 * 512);
	CHECK_EQ(im.d.block_size, 512);
	CHECK_STR(im.d.serial, "microhv-00000abc");
	CHECK_EQ(im.d.naa[0] >> 4, 3);		/* NAA locally assigned */
	CHECK_EQ(im.d.naa[7], 0xbc);
	img_drop(&im);
}

TEST(scsi_inquiry_standard)
{
	uint8_t cdb[6] = { 0x12, 0, 0, 0, 36, 0 };
	uint8_t buf[255];
	struct img im;

	img_make(&im, BLOCKS, false);
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK(good());
	CHECK_EQ(r.transferred, 36);
	CHECK_EQ(buf[0], 0x00);			/* direct-access disk */
	CHECK_EQ(buf[2], 0x05);			/* SPC-3 */
	CHECK_EQ(buf[3], 0x02);
	CHECK_EQ(buf[4], 31);
	CHECK_EQ(buf[7], 0x02);			/* CmdQue */
	CHECK(!memcmp(buf + 8, "Msft    Virtual Disk    ", 24));

	cdb[4] = 255;				/* more than there is */
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK_EQ(r.transferred, 36);
	cdb[4] = 5;				/* allocation length cuts */
	memset(buf, 0xaa, sizeof(buf));
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK(good());
	CHECK_EQ(r.transferred, 5);
	CHECK_EQ(buf[4], 31);
	CHECK_EQ(buf[5], 0xaa);
	cdb[4] = 36;				/* the buffer cuts */
	run(&im.d, cdb, 6, buf, 10, false);
	CHECK_EQ(r.transferred, 10);
	cdb[4] = 0;
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK(good());
	CHECK_EQ(r.transferred, 0);

	cdb[4] = 36;
	cdb[1] = 0x02;				/* CMDDT */
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK(bad_field());
	cdb[1] = 0;
	cdb[2] = 0x80;				/* a page without EVPD */
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK(bad_field());
	cdb[2] = 0;
	run(&im.d, cdb, 5, buf, sizeof(buf), false);	/* short CDB */
	CHECK(bad_field());
	img_drop(&im);
}

TEST(scsi_inquiry_vpd_pages)
{
	static const uint8_t list[] = { 0, 0, 0, 4, 0x00, 0x80, 0x83, 0xb0 };
	uint8_t cdb[6] = { 0x12, 0x01, 0x00, 0, 255, 0 };
	uint8_t buf[255];
	struct img im;

	img_make(&im, BLOCKS, false);
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK(good());
	CHECK_EQ(r.transferred, sizeof(list));
	CHECK(!memcmp(buf, list, sizeof(list)));

	cdb[2] = 0x80;
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK(good());
	CHECK_EQ(r.transferred, 4 + 16);
	CHECK_EQ(buf[1], 0x80);
	CHECK_EQ(buf[3], 16);
	CHECK(!memcmp(buf + 4, "microhv-00000007", 16));

	cdb[2] = 0x83;
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK(good());
	CHECK_EQ(r.transferred, 16);
	CHECK_EQ(buf[1], 0x83);
	CHECK_EQ(buf[3], 12);
	CHECK_EQ(buf[4], 0x01);			/* binary */
	CHECK_EQ(buf[5], 0x03);			/* LU, NAA */
	CHECK_EQ(buf[7], 8);
	CHECK(!memcmp(buf + 8, im.d.naa, 8));
	cdb[4] = 6;
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK_EQ(r.transferred, 6);

	/* Block Limits: what sd reads, from a page of 0x3c bytes. */
	cdb[2] = 0xb0;
	cdb[4] = 255;
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK(good());
	CHECK_EQ(r.transferred, 64);
	CHECK_EQ(buf[1], 0xb0);
	CHECK_EQ(buf[3], 0x3c);
	CHECK_EQ(buf[4], 0x01);			/* WSNZ */
	CHECK_EQ(get_be64(buf + 36), SCSI_WRITE_SAME_MAX_BLOCKS);
	CHECK_EQ(get_be64(buf + 8), 0);		/* no transfer limits */
	cdb[4] = 4;				/* Linux asks the size first */
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK_EQ(r.transferred, 4);

	cdb[2] = 0xb1;			/* not listed, not served */
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK(bad_field());
	CHECK_EQ(r.transferred, 0);
	img_drop(&im);
}

TEST(scsi_report_luns)
{
	uint8_t cdb[12] = { 0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 };
	uint8_t buf[256];
	struct img im;

	img_make(&im, BLOCKS, false);
	memset(buf, 0xaa, sizeof(buf));
	run(&im.d, cdb, 12, buf, sizeof(buf), false);
	CHECK(good());
	CHECK_EQ(r.transferred, 16);
	CHECK_EQ(buf[3], 8);			/* one LUN */
	for (int i = 8; i < 16; i++)
		CHECK_EQ(buf[i], 0);		/* LUN 0 */
	run(&im.d, cdb, 12, buf, 12, false);	/* buffer cuts */
	CHECK_EQ(r.transferred, 12);

	cdb[2] = 0x01;			/* well-known LUNs: none */
	run(&im.d, cdb, 12, buf, sizeof(buf), false);
	CHECK(good());
	CHECK_EQ(r.transferred, 8);
	CHECK_EQ(buf[3], 0);
	cdb[2] = 0x03;
	run(&im.d, cdb, 12, buf, sizeof(buf), false);
	CHECK(bad_field());
	cdb[2] = 0;
	cdb[8] = 0;
	cdb[9] = 15;				/* SPC-3: at least 16 */
	run(&im.d, cdb, 12, buf, sizeof(buf), false);
	CHECK(bad_field());
	cdb[9] = 16;
	run(&im.d, cdb, 12, buf, sizeof(buf), false);
	CHECK_EQ(r.transferred, 16);
	img_drop(&im);
}

TEST(scsi_no_data_commands_are_good)
{
	static const uint8_t ops[] = { 0x00, 0x1b, 0x1e };
	uint8_t cdb[6] = { 0 }, buf[16];
	struct img im;

	img_make(&im, BLOCKS, false);
	for (size_t i = 0; i < sizeof(ops); i++) {
		memset(cdb, 0, sizeof(cdb));
		cdb[0] = ops[i];
		cdb[4] = ops[i] == 0x1b ? 0x01 : 0;	/* START */
		run(&im.d, cdb, 6, NULL, 0, false);
		CHECK(good());
		run(&im.d, cdb, 6, buf, sizeof(buf), true);	/* ignored */
		CHECK(good());
		CHECK_EQ(r.transferred, 0);
		cdb[5] = 0x04;				/* NACA */
		run(&im.d, cdb, 6, NULL, 0, false);
		CHECK(bad_field());
	}
	img_drop(&im);
}

TEST(scsi_read_capacity)
{
	uint8_t cdb[16] = { 0x25 }, buf[64];
	struct img im;

	img_make(&im, BLOCKS, false);
	run(&im.d, cdb, 10, buf, sizeof(buf), false);
	CHECK(good());
	CHECK_EQ(r.transferred, 8);
	CHECK_EQ(buf[2] << 8 | buf[3], BLOCKS - 1);
	CHECK_EQ(buf[6] << 8 | buf[7], 512);
	cdb[5] = 1;				/* LBA without PMI */
	run(&im.d, cdb, 10, buf, sizeof(buf), false);
	CHECK(bad_field());

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x9e;
	cdb[1] = 0x10;
	cdb[13] = 32;
	memset(buf, 0xaa, sizeof(buf));
	run(&im.d, cdb, 16, buf, sizeof(buf), false);
	CHECK(good());
	CHECK_EQ(r.transferred, 32);
	CHECK_EQ(get_be64(buf), BLOCKS - 1);
	CHECK_EQ(buf[10] << 8 | buf[11], 512);
	for (int i = 12; i < 32; i++)
		CHECK_EQ(buf[i], 0);		/* no PI, no LBP */
	cdb[13] = 12;
	run(&im.d, cdb, 16, buf, sizeof(buf), false);
	CHECK_EQ(r.transferred, 12);
	cdb[1] = 0x11;			/* another service action */
	run(&im.d, cdb, 16, buf, sizeof(buf), false);
	CHECK(bad_field());

	/* Past 2 TiB, READ CAPACITY(10) says "use the 16-byte one". */
	im.d.size = 3ull << 40;
	cdb[1] = 0x10;
	cdb[13] = 32;
	run(&im.d, cdb, 16, buf, sizeof(buf), false);
	CHECK_EQ(get_be64(buf), (3ull << 40) / 512 - 1);
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x25;
	run(&im.d, cdb, 10, buf, sizeof(buf), false);
	CHECK(good());
	CHECK(!memcmp(buf, "\xff\xff\xff\xff\x00\x00\x02\x00", 8));
	img_drop(&im);
}

TEST(scsi_mode_sense)
{
	uint8_t cdb[10] = { 0x1a, 0, 0x3f, 0, 255, 0 }, buf[256];
	struct img im, ro;

	img_make(&im, BLOCKS, false);
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK(good());
	CHECK_EQ(r.transferred, 24);
	CHECK_EQ(buf[0], 23);
	CHECK_EQ(buf[2], 0x10);			/* DPOFUA, not WP */
	CHECK_EQ(buf[3], 0);			/* no block descriptors */
	CHECK_EQ(buf[4], 0x08);
	CHECK_EQ(buf[5], 0x12);
	CHECK_EQ(buf[6], 0x04);			/* WCE */
	cdb[1] = 0x08;				/* DBD: the same */
	cdb[2] = 0x08;
	cdb[4] = 4;				/* header only */
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK(good());
	CHECK_EQ(r.transferred, 4);
	CHECK_EQ(buf[0], 23);
	cdb[2] = 0x48;				/* changeable values */
	cdb[4] = 255;
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK_EQ(buf[4], 0x08);
	CHECK_EQ(buf[6], 0);
	cdb[2] = 0xc8;				/* saved: not supported */
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK(sense_is(0x5, 0x39, 0));
	cdb[2] = 0x0a;				/* control page */
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK(bad_field());
	cdb[2] = 0x08;
	cdb[3] = 0x01;				/* a subpage */
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK(bad_field());
	cdb[2] = 0x3f;
	cdb[3] = 0xff;			/* all pages and subpages */
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK(good());
	CHECK_EQ(r.transferred, 24);

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x5a;
	cdb[2] = 0x08;
	cdb[8] = 255;
	run(&im.d, cdb, 10, buf, sizeof(buf), false);
	CHECK(good());
	CHECK_EQ(r.transferred, 28);
	CHECK_EQ(buf[0] << 8 | buf[1], 26);
	CHECK_EQ(buf[3], 0x10);
	CHECK_EQ(buf[6] << 8 | buf[7], 0);
	CHECK_EQ(buf[8], 0x08);
	CHECK_EQ(buf[10], 0x04);
	cdb[8] = 8;
	run(&im.d, cdb, 10, buf, sizeof(buf), false);
	CHECK_EQ(r.transferred, 8);
	run(&im.d, cdb, 6, buf, sizeof(buf), false);	/* 6 bytes: short */
	CHECK(bad_field());

	img_make(&ro, BLOCKS, true);
	run(&ro.d, cdb, 10, buf, sizeof(buf), false);
	CHECK_EQ(buf[3], 0x90);			/* WP */
	cdb[0] = 0x1a;
	cdb[4] = 255;
	run(&ro.d, cdb, 6, buf, sizeof(buf), false);
	CHECK_EQ(buf[2], 0x90);
	img_drop(&ro);
	img_drop(&im);
}

/* A write across odd-sized iovecs reads back across different ones. */
TEST(scsi_read_write_across_odd_iovecs)
{
	static const size_t wsz[] = { 1, 511, 0, 3, 1000, 533 };
	static const size_t rsz[] = { 5, 2000, 43 };
	uint8_t src[2048], dst[2048], disk[2048], cdb[16];
	struct iovec wv[6], rv[3];
	struct scsi_data w = { wv, 6, 2048, true };
	struct scsi_data rd = { rv, 3, 2048, false };
	struct img im;
	size_t off = 0;

	img_make(&im, BLOCKS, false);
	pattern(src, sizeof(src), 3);
	for (int i = 0; i < 6; off += wsz[i++])
		wv[i] = (struct iovec){ src + off, wsz[i] };
	off = 0;
	for (int i = 0; i < 3; off += rsz[i++])
		rv[i] = (struct iovec){ dst + off, rsz[i] };

	cdb10(cdb, 0x2a, 0, 3, 4);
	scsi_execute(&im.d, cdb, 10, &w, &r);
	CHECK(good());
	CHECK_EQ(r.transferred, 2048);
	CHECK_EQ(pread(im.d.fd, disk, sizeof(disk), 3 * 512), 2048);
	CHECK(!memcmp(disk, src, sizeof(src)));

	cdb16(cdb, 0x88, 0, 3, 4);
	scsi_execute(&im.d, cdb, 16, &rd, &r);
	CHECK(good());
	CHECK_EQ(r.transferred, 2048);
	CHECK(!memcmp(dst, src, sizeof(src)));

	/* len, not the iovecs, bounds the buffer. */
	rd.len = 1536;
	scsi_execute(&im.d, cdb, 16, &rd, &r);
	CHECK(bad_field());
	cdb16(cdb, 0x88, 0, 4, 3);
	memset(dst, 0, sizeof(dst));
	scsi_execute(&im.d, cdb, 16, &rd, &r);
	CHECK(good());
	CHECK_EQ(r.transferred, 1536);
	CHECK(!memcmp(dst, src + 512, 1536));
	CHECK_EQ(dst[1536], 0);
	img_drop(&im);
}

/* Each WRITE size writes one block; each READ size reads them all back. */
TEST(scsi_read_write_all_cdb_sizes)
{
	static const uint8_t wops[] = { 0x0a, 0x2a, 0xaa, 0x8a };
	static const uint8_t rops[] = { 0x08, 0x28, 0xa8, 0x88 };
	static const uint8_t len[] = { 6, 10, 12, 16 };
	uint8_t cdb[16], blk[512], *big = malloc(256 * 512);
	struct img im;

	img_make(&im, BLOCKS, false);
	for (int i = 0; i < 4; i++) {
		memset(cdb, 0, sizeof(cdb));
		cdb[0] = wops[i];
		cdb[len[i] == 6 ? 3 : len[i] == 16 ? 9 : 5] = 10 + i;
		cdb[len[i] == 6 ? 4 : len[i] == 10 ? 8 : len[i] - 3] = 1;
		memset(blk, 0x40 + i, sizeof(blk));
		run(&im.d, cdb, len[i], blk, sizeof(blk), true);
		CHECK(good());
	}
	for (int i = 0; i < 4; i++) {
		memset(cdb, 0, sizeof(cdb));
		cdb[0] = rops[i];
		cdb[len[i] == 6 ? 3 : len[i] == 16 ? 9 : 5] = 10;
		cdb[len[i] == 6 ? 4 : len[i] == 10 ? 8 : len[i] - 3] = 4;
		run(&im.d, cdb, len[i], big, 4 * 512, false);
		CHECK(good());
		CHECK_EQ(r.transferred, 4 * 512);
		for (int b = 0; b < 4; b++)
			CHECK(big[b * 512] == 0x40 + b &&
			      big[b * 512 + 511] == 0x40 + b);
	}
	/* READ(6) with length 0 means 256 blocks. */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x08;
	run(&im.d, cdb, 6, big, 256 * 512, false);
	CHECK(good());
	CHECK_EQ(r.transferred, 256 * 512);
	CHECK_EQ(big[12 * 512], 0x42);
	cdb[1] = 0x20;				/* old LUN bits */
	run(&im.d, cdb, 6, big, 256 * 512, false);
	CHECK(bad_field());
	cdb16(cdb, 0x88, 0x20, 0, 1);		/* RDPROTECT */
	run(&im.d, cdb, 16, big, 512, false);
	CHECK(bad_field());
	free(big);
	img_drop(&im);
}

TEST(scsi_write_flush_reopen)
{
	uint8_t a[1024], b[512], got[1024], cdb[16];
	struct img im;

	img_make(&im, BLOCKS, false);
	pattern(a, sizeof(a), 11);
	pattern(b, sizeof(b), 99);
	cdb10(cdb, 0x2a, 0x08, 100, 2);		/* FUA */
	run(&im.d, cdb, 10, a, sizeof(a), true);
	CHECK(good());
	cdb16(cdb, 0x8a, 0, BLOCKS - 1, 1);	/* the last block */
	run(&im.d, cdb, 16, b, sizeof(b), true);
	CHECK(good());
	cdb10(cdb, 0x35, 0, 0, 0);		/* SYNCHRONIZE CACHE(10) */
	run(&im.d, cdb, 10, NULL, 0, false);
	CHECK(good());
	cdb16(cdb, 0x91, 0x02, 0, BLOCKS);	/* (16), IMMED */
	run(&im.d, cdb, 16, NULL, 0, false);
	CHECK(good());
	cdb10(cdb, 0x35, 0, BLOCKS, 0);
	run(&im.d, cdb, 10, NULL, 0, false);
	CHECK(sense_is(0x5, 0x21, 0));
	cdb16(cdb, 0x91, 0, 1, BLOCKS);
	run(&im.d, cdb, 16, NULL, 0, false);
	CHECK(sense_is(0x5, 0x21, 0));

	scsi_disk_close(&im.d);
	CHECK_EQ(scsi_disk_open(&im.d, im.path, true, 7, NULL), 0);
	cdb10(cdb, 0x28, 0, 100, 2);
	run(&im.d, cdb, 10, got, sizeof(got), false);
	CHECK(good());
	CHECK(!memcmp(got, a, sizeof(a)));
	cdb10(cdb, 0x28, 0, BLOCKS - 1, 1);
	run(&im.d, cdb, 10, got, 512, false);
	CHECK(!memcmp(got, b, sizeof(b)));
	img_drop(&im);
}

/*
 * The flush seam: counts fdatasync calls, can hold the caller until the
 * test lets go (a flush in flight), and can fail.
 */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int calls;
	bool hold, held;
	int fail;			/* errno to fail with, 0: none */
} fake = { .lock = PTHREAD_MUTEX_INITIALIZER,
	    .cond = PTHREAD_COND_INITIALIZER };

static int fake_sync(int fd)
{
	pthread_mutex_lock(&fake.lock);
	fake.calls++;
	fake.held = true;
	pthread_cond_broadcast(&fake.cond);
	while (fake.hold)
		pthread_cond_wait(&fake.cond, &fake.lock);
	fake.held = false;
	pthread_mutex_unlock(&fake.lock);
	if (fake.fail) {
		errno = fake.fail;
		return -1;
	}
	return fdatasync(fd);
}

static void fake_reset(struct scsi_disk *d)
{
	fake.calls = 0;
	fake.hold = fake.held = false;
	fake.fail = 0;
	d->sync = fake_sync;
}

static void write_block(struct scsi_disk *d, uint32_t lba, uint8_t flags)
{
	uint8_t blk[512], cdb[16];

	pattern(blk, sizeof(blk), (uint8_t)lba);
	cdb10(cdb, 0x2a, flags, lba, 1);
	run(d, cdb, 10, blk, sizeof(blk), true);
	CHECK(good());
}

static void sync_cache(struct scsi_disk *d)
{
	uint8_t cdb[16];

	cdb10(cdb, 0x35, 0, 0, 0);
	run(d, cdb, 10, NULL, 0, false);
}

/* fdatasync only when something was written since the last one began. */
TEST(scsi_flush_only_when_dirty)
{
	uint8_t blk[512], cdb[16];
	struct img im;

	img_make(&im, BLOCKS, false);
	fake_reset(&im.d);
	for (int i = 0; i < 10; i++) {
		sync_cache(&im.d);
		CHECK(good());
	}
	CHECK_EQ(fake.calls, 0);		/* nothing written yet */
	write_block(&im.d, 1, 0);
	for (int i = 0; i < 10; i++) {
		sync_cache(&im.d);
		CHECK(good());
	}
	CHECK_EQ(fake.calls, 1);
	write_block(&im.d, 2, 0x08);		/* FUA: flushed before done */
	CHECK_EQ(fake.calls, 2);
	sync_cache(&im.d);			/* the FUA's covered it */
	CHECK_EQ(fake.calls, 2);
	write_block(&im.d, 3, 0x08);		/* FUA on a clean disk too */
	CHECK_EQ(fake.calls, 3);

	pattern(blk, sizeof(blk), 1);
	cdb16(cdb, 0x93, 0, 10, 4);		/* WRITE SAME dirties */
	run(&im.d, cdb, 16, blk, sizeof(blk), true);
	CHECK(good());
	sync_cache(&im.d);
	CHECK_EQ(fake.calls, 4);
	cdb10(cdb, 0x28, 0, 1, 1);		/* a read does not */
	run(&im.d, cdb, 10, blk, sizeof(blk), false);
	sync_cache(&im.d);
	CHECK_EQ(fake.calls, 4);

	/* A failed flush leaves the disk dirty: the next one tries again. */
	write_block(&im.d, 4, 0);
	fake.fail = EIO;
	sync_cache(&im.d);
	CHECK(sense_is(0x3, 0x0c, 0));
	CHECK_EQ(fake.calls, 5);
	fake.fail = 0;
	sync_cache(&im.d);
	CHECK(good());
	CHECK_EQ(fake.calls, 6);
	CHECK_EQ(im.d.syncs, 6);
	img_drop(&im);
}

struct flusher {
	struct scsi_disk *d;
	pthread_t thread;
	struct scsi_result res;
};

static void *flush_thread(void *arg)
{
	struct flusher *f = arg;
	uint8_t cdb[10] = { 0x35 };

	scsi_execute(f->d, cdb, 10, NULL, &f->res);
	return NULL;
}

/* Until a flush sits in the fake fdatasync; false after 5 s. */
static bool fake_wait_held(void)
{
	struct timespec t;
	bool held;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += 5;
	pthread_mutex_lock(&fake.lock);
	while (!fake.held &&
	       !pthread_cond_timedwait(&fake.cond, &fake.lock, &t))
		;
	held = fake.held;
	pthread_mutex_unlock(&fake.lock);
	return held;
}

static void flush_start(struct flusher *f, struct scsi_disk *d)
{
	f->d = d;
	CHECK_EQ(pthread_create(&f->thread, NULL, flush_thread, f), 0);
}

/*
 * Flushes that arrive while one runs wait for it and are covered by it;
 * one that follows a write finished during it needs (and gets) its own.
 */
TEST(scsi_flush_merges_concurrent)
{
	struct flusher f[4];
	struct img im;

	img_make(&im, BLOCKS, false);
	fake_reset(&im.d);
	write_block(&im.d, 1, 0);
	fake.hold = true;
	flush_start(&f[0], &im.d);
	CHECK(fake_wait_held());
	flush_start(&f[1], &im.d);
	flush_start(&f[2], &im.d);
	usleep(50000);				/* both wait for f[0] */
	write_block(&im.d, 2, 0);		/* during the fdatasync */
	flush_start(&f[3], &im.d);
	usleep(50000);
	pthread_mutex_lock(&fake.lock);
	CHECK_EQ(fake.calls, 1);
	fake.hold = false;
	pthread_cond_broadcast(&fake.cond);
	pthread_mutex_unlock(&fake.lock);
	for (int i = 0; i < 4; i++) {
		pthread_join(f[i].thread, NULL);
		CHECK_EQ(f[i].res.status, SCSI_STATUS_GOOD);
	}
	CHECK_EQ(fake.calls, 2);
	sync_cache(&im.d);
	CHECK_EQ(fake.calls, 2);
	img_drop(&im);
}

TEST(scsi_lba_out_of_range)
{
	uint8_t buf[1024], cdb[16];
	struct img im;

	img_make(&im, BLOCKS, false);
	cdb10(cdb, 0x28, 0, BLOCKS, 1);
	run(&im.d, cdb, 10, buf, sizeof(buf), false);
	CHECK(sense_is(0x5, 0x21, 0));
	CHECK_EQ(r.transferred, 0);
	cdb10(cdb, 0x28, 0, BLOCKS - 1, 2);
	run(&im.d, cdb, 10, buf, sizeof(buf), false);
	CHECK(sense_is(0x5, 0x21, 0));
	cdb10(cdb, 0x28, 0, BLOCKS - 1, 1);
	run(&im.d, cdb, 10, buf, sizeof(buf), false);
	CHECK(good());
	cdb10(cdb, 0x28, 0, BLOCKS - 1, 0);	/* no blocks: fine */
	run(&im.d, cdb, 10, buf, sizeof(buf), false);
	CHECK(good());
	CHECK_EQ(r.transferred, 0);
	cdb10(cdb, 0x2a, 0, BLOCKS, 0);	/* but the LBA must exist */
	run(&im.d, cdb, 10, buf, sizeof(buf), true);
	CHECK(sense_is(0x5, 0x21, 0));

	memset(cdb, 0, sizeof(cdb));		/* WRITE(12) */
	cdb[0] = 0xaa;
	put_be32(cdb + 2, BLOCKS);
	cdb[9] = 1;
	run(&im.d, cdb, 12, buf, sizeof(buf), true);
	CHECK(sense_is(0x5, 0x21, 0));
	cdb[0] = 0x08;				/* READ(6) past the end */
	cdb[1] = 0x1f;
	cdb[4] = 1;
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK(sense_is(0x5, 0x21, 0));

	cdb10(cdb, 0x2f, 0, BLOCKS - 2, 2);	/* VERIFY(10) */
	run(&im.d, cdb, 10, NULL, 0, false);
	CHECK(good());
	cdb10(cdb, 0x2f, 0, BLOCKS - 2, 3);
	run(&im.d, cdb, 10, NULL, 0, false);
	CHECK(sense_is(0x5, 0x21, 0));
	cdb10(cdb, 0x2f, 0x02, 0, 1);		/* BYTCHK: unsupported */
	run(&im.d, cdb, 10, buf, 512, true);
	CHECK(bad_field());
	img_drop(&im);
}

/* LBA + count must not wrap around 2^64 into range. */
TEST(scsi_lba_overflow)
{
	static const uint8_t ops[] = { 0x88, 0x8a, 0x8f, 0x91, 0x93 };
	static const uint64_t lbas[] = { ~0ull, ~0ull, ~0ull - 1, 1ull << 63 };
	static const uint32_t counts[] = { 1, 2, 3, 0xffffffff };
	uint8_t cdb[16], *buf = malloc(4096);
	struct img im;

	img_make(&im, BLOCKS, false);
	for (size_t o = 0; o < sizeof(ops); o++) {
		for (int i = 0; i < 4; i++) {
			cdb16(cdb, ops[o], 0, lbas[i], counts[i]);
			run(&im.d, cdb, 16, buf, 4096, ops[o] == 0x8a ||
			    ops[o] == 0x93);
			/* Too long a WRITE SAME is refused before its LBA. */
			if (ops[o] == 0x93 &&
			    counts[i] > SCSI_WRITE_SAME_MAX_BLOCKS)
				CHECK(bad_field());
			else
				CHECK(sense_is(0x5, 0x21, 0));
			CHECK_EQ(r.transferred, 0);
		}
	}
	cdb16(cdb, 0x88, 0, 0, 0xffffffff);
	run(&im.d, cdb, 16, buf, 4096, false);
	CHECK(sense_is(0x5, 0x21, 0));
	cdb16(cdb, 0x93, 0, ~0ull, 0);	/* "to the end": WSNZ refuses it */
	run(&im.d, cdb, 16, buf, 512, true);
	CHECK(bad_field());
	free(buf);
	img_drop(&im);
}

/* A transfer larger than the buffer is refused without touching it. */
TEST(scsi_short_buffer_refused)
{
	uint8_t *buf = malloc(1000), cdb[16], zero[1024] = { 0 };
	uint8_t disk[1024];
	struct img im;

	img_make(&im, BLOCKS, false);
	memset(buf, 0x5a, 1000);
	cdb10(cdb, 0x28, 0, 0, 2);
	run(&im.d, cdb, 10, buf, 1000, false);
	CHECK(bad_field());
	CHECK_EQ(r.transferred, 0);
	for (int i = 0; i < 1000; i++)
		CHECK_EQ(buf[i], 0x5a);
	cdb10(cdb, 0x2a, 0, 0, 2);
	run(&im.d, cdb, 10, buf, 1000, true);
	CHECK(bad_field());
	CHECK_EQ(pread(im.d.fd, disk, sizeof(disk), 0), 1024);
	CHECK(!memcmp(disk, zero, sizeof(zero)));
	cdb10(cdb, 0x28, 0, 0, 1);
	run(&im.d, cdb, 10, NULL, 0, false);	/* no buffer at all */
	CHECK(bad_field());
	cdb10(cdb, 0x28, 0, 0, 0);
	run(&im.d, cdb, 10, NULL, 0, false);
	CHECK(good());
	free(buf);
	img_drop(&im);
}

TEST(scsi_direction_mismatch)
{
	uint8_t buf[512], cdb[16];
	struct img im;

	img_make(&im, BLOCKS, false);
	cdb10(cdb, 0x28, 0, 0, 1);
	run(&im.d, cdb, 10, buf, sizeof(buf), true);
	CHECK(bad_field());
	cdb10(cdb, 0x2a, 0, 0, 1);
	run(&im.d, cdb, 10, buf, sizeof(buf), false);
	CHECK(bad_field());
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x12;
	cdb[4] = 36;
	run(&im.d, cdb, 6, buf, sizeof(buf), true);
	CHECK(bad_field());
	img_drop(&im);
}

TEST(scsi_read_only_refuses_writes)
{
	uint8_t buf[512], cdb[16], zero[512] = { 0 };
	struct img im;

	img_make(&im, BLOCKS, true);
	memset(buf, 0x77, sizeof(buf));
	cdb10(cdb, 0x2a, 0, 0, 1);
	run(&im.d, cdb, 10, buf, sizeof(buf), true);
	CHECK(sense_is(0x7, 0x27, 0));
	CHECK_EQ(r.transferred, 0);
	cdb16(cdb, 0x93, 0, 0, 4);		/* WRITE SAME(16) */
	run(&im.d, cdb, 16, buf, sizeof(buf), true);
	CHECK(sense_is(0x7, 0x27, 0));
	cdb10(cdb, 0x35, 0, 0, 0);
	run(&im.d, cdb, 10, NULL, 0, false);
	CHECK(good());
	cdb10(cdb, 0x28, 0, 0, 1);
	run(&im.d, cdb, 10, buf, sizeof(buf), false);
	CHECK(good());
	CHECK(!memcmp(buf, zero, sizeof(zero)));
	img_drop(&im);
}

TEST(scsi_unknown_opcode_sense)
{
	static const uint8_t want[18] = {
		0x70, 0, 0x05, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0x20, 0,
	};
	uint8_t cdb[16] = { 0x04 };		/* FORMAT UNIT */
	struct img im;

	img_make(&im, BLOCKS, false);
	run(&im.d, cdb, 6, NULL, 0, false);
	CHECK_EQ(r.status, SCSI_STATUS_CHECK_CONDITION);
	CHECK_EQ(r.sense_len, 18);
	CHECK(!memcmp(r.sense, want, sizeof(want)));
	CHECK_EQ(r.sense[18], 0);
	cdb[0] = 0x42;			/* UNMAP: not advertised */
	run(&im.d, cdb, 10, NULL, 0, false);
	CHECK(sense_is(0x5, 0x20, 0));
	run(&im.d, cdb, 0, NULL, 0, false);	/* no opcode at all */
	CHECK(sense_is(0x5, 0x20, 0));
	scsi_execute(&im.d, NULL, 6, NULL, &r);
	CHECK(sense_is(0x5, 0x20, 0));
	cdb[0] = 0x28;				/* READ(10) in 6 bytes */
	run(&im.d, cdb, 6, NULL, 0, false);
	CHECK(bad_field());
	img_drop(&im);
}

TEST(scsi_request_sense)
{
	uint8_t cdb[6] = { 0x03, 0, 0, 0, 252, 0 }, buf[252];
	struct img im;

	img_make(&im, BLOCKS, false);
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK(good());
	CHECK_EQ(r.transferred, 18);
	CHECK_EQ(buf[0], 0x70);
	CHECK_EQ(buf[2], 0);			/* NO SENSE */
	CHECK_EQ(buf[7], 10);
	CHECK_EQ(buf[12], 0);
	cdb[4] = 8;
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK_EQ(r.transferred, 8);
	cdb[1] = 0x01;				/* descriptor format */
	run(&im.d, cdb, 6, buf, sizeof(buf), false);
	CHECK(bad_field());
	img_drop(&im);
}

static bool blocks_are(int fd, uint64_t lba, uint64_t n, const uint8_t *blk)
{
	uint8_t got[512];

	for (uint64_t i = 0; i < n; i++) {
		if (pread(fd, got, 512, (off_t)((lba + i) * 512)) != 512 ||
		    memcmp(got, blk, 512))
			return false;
	}
	return true;
}

TEST(scsi_write_same)
{
	uint8_t blk[512], zero[512] = { 0 }, cdb[16];
	struct img im;

	img_make(&im, BLOCKS, false);
	pattern(blk, sizeof(blk), 5);
	cdb16(cdb, 0x93, 0, 10, 300);		/* more than one chunk */
	run(&im.d, cdb, 16, blk, sizeof(blk), true);
	CHECK(good());
	CHECK_EQ(r.transferred, 512);
	CHECK(blocks_are(im.d.fd, 10, 300, blk));
	CHECK(blocks_are(im.d.fd, 9, 1, zero));
	CHECK(blocks_are(im.d.fd, 310, 1, zero));

	cdb10(cdb, 0x41, 0, 3, 2);		/* WRITE SAME(10) zeroes */
	run(&im.d, cdb, 10, zero, sizeof(zero), true);
	CHECK(good());
	CHECK(blocks_are(im.d.fd, 3, 2, zero));
	cdb16(cdb, 0x93, 0, BLOCKS - 3, 3);	/* up to the end */
	run(&im.d, cdb, 16, blk, sizeof(blk), true);
	CHECK(good());
	CHECK(blocks_are(im.d.fd, BLOCKS - 3, 3, blk));
	CHECK(blocks_are(im.d.fd, BLOCKS - 4, 1, zero));

	cdb16(cdb, 0x93, 0x08, 0, 1);		/* UNMAP */
	run(&im.d, cdb, 16, blk, sizeof(blk), true);
	CHECK(bad_field());
	cdb16(cdb, 0x93, 0x01, 0, 1);		/* NDOB */
	run(&im.d, cdb, 16, blk, sizeof(blk), true);
	CHECK(bad_field());
	cdb16(cdb, 0x93, 0, 0, 1);
	run(&im.d, cdb, 16, blk, 511, true);	/* less than a block */
	CHECK(bad_field());
	img_drop(&im);
}

/*
 * One request is bounded: 0 blocks ("to the end", WSNZ) and more than
 * the Block Limits maximum are invalid fields, and nothing is written.
 */
TEST(scsi_write_same_bounded)
{
	uint64_t big = 2 * SCSI_WRITE_SAME_MAX_BLOCKS + 16;
	uint8_t blk[512], zero[512] = { 0 }, cdb[16];
	struct img im;

	img_make(&im, big, false);
	pattern(blk, sizeof(blk), 9);
	cdb16(cdb, 0x93, 0, 8, 0);		/* to the end */
	run(&im.d, cdb, 16, blk, sizeof(blk), true);
	CHECK(bad_field());
	CHECK(blocks_are(im.d.fd, 8, 1, zero));
	cdb10(cdb, 0x41, 0, 0, 0);
	run(&im.d, cdb, 10, blk, sizeof(blk), true);
	CHECK(bad_field());
	cdb16(cdb, 0x93, 0, 0, SCSI_WRITE_SAME_MAX_BLOCKS + 1);
	run(&im.d, cdb, 16, blk, sizeof(blk), true);
	CHECK(bad_field());
	CHECK(blocks_are(im.d.fd, 0, 1, zero));
	CHECK(blocks_are(im.d.fd, SCSI_WRITE_SAME_MAX_BLOCKS, 1, zero));
	cdb16(cdb, 0x93, 0, 0, 0xffffffffu);
	run(&im.d, cdb, 16, blk, sizeof(blk), true);
	CHECK(bad_field());

	cdb16(cdb, 0x93, 0, 1, SCSI_WRITE_SAME_MAX_BLOCKS);	/* the most */
	run(&im.d, cdb, 16, blk, sizeof(blk), true);
	CHECK(good());
	CHECK(blocks_are(im.d.fd, 1, SCSI_WRITE_SAME_MAX_BLOCKS, blk));
	CHECK(blocks_are(im.d.fd, SCSI_WRITE_SAME_MAX_BLOCKS + 1, 1, zero));
	img_drop(&im);
}

/* Zeroes over written blocks free them (a hole) where the file allows. */
TEST(scsi_write_same_zeroes_punch)
{
	uint8_t *data = malloc(256 * 512), zero[512] = { 0 }, cdb[16];
	struct stat before, after;
	struct img im;

	img_make(&im, BLOCKS, false);
	pattern(data, 256 * 512, 3);
	cdb10(cdb, 0x2a, 0, 0, 256);
	run(&im.d, cdb, 10, data, 256 * 512, true);
	CHECK(good());
	CHECK_EQ(fsync(im.d.fd), 0);
	CHECK_EQ(fstat(im.d.fd, &before), 0);
	cdb16(cdb, 0x93, 0, 0, 256);
	run(&im.d, cdb, 16, zero, sizeof(zero), true);
	CHECK(good());
	CHECK(blocks_are(im.d.fd, 0, 256, zero));
	CHECK_EQ(fstat(im.d.fd, &after), 0);
	/* /tmp's file system punches holes on the machines we test on. */
	CHECK(after.st_blocks < before.st_blocks);
	free(data);
	img_drop(&im);
}

/* Host failures become MEDIUM ERROR, or DATA PROTECT for a full disk. */
TEST(scsi_io_errors_become_sense)
{
	uint8_t buf[1024] = { 0 }, cdb[16];
	struct img im;
	int fd, full;

	img_make(&im, BLOCKS, false);
	fd = im.d.fd;
	im.d.fd = open(im.path, O_RDONLY);	/* writes fail: EBADF */
	cdb10(cdb, 0x2a, 0, 0, 1);
	run(&im.d, cdb, 10, buf, 512, true);
	CHECK(sense_is(0x3, 0x0c, 0));
	close(im.d.fd);

	full = open("/dev/full", O_RDWR);	/* writes fail: ENOSPC */
	CHECK(full >= 0);
	im.d.fd = full;
	run(&im.d, cdb, 10, buf, 512, true);
	CHECK(sense_is(0x7, 0x27, 0x07));
	cdb16(cdb, 0x93, 0, 0, 4);
	run(&im.d, cdb, 16, buf, 512, true);
	CHECK(sense_is(0x7, 0x27, 0x07));
	cdb10(cdb, 0x35, 0, 0, 0);	/* no fdatasync on a chardev */
	run(&im.d, cdb, 10, NULL, 0, false);
	CHECK(sense_is(0x3, 0x0c, 0));
	close(full);

	/* The image shrank under us: a read meets EOF part-way. */
	im.d.fd = fd;
	CHECK_EQ(ftruncate(fd, 512), 0);
	cdb10(cdb, 0x28, 0, 0, 2);
	run(&im.d, cdb, 10, buf, sizeof(buf), false);
	CHECK(sense_is(0x3, 0x11, 0));
	CHECK_EQ(r.transferred, 512);
	img_drop(&im);
}

TEST(scsi_absent_lun)
{
	uint8_t cdb[12] = { 0x12, 0, 0, 0, 36, 0 }, buf[64];
	struct iovec v = { buf, sizeof(buf) };
	struct scsi_data data = { &v, 1, sizeof(buf), false };

	CHECK(scsi_execute_absent(cdb, 6, &data, false, &r));
	CHECK(good());
	CHECK_EQ(r.transferred, 36);
	CHECK_EQ(buf[0], 0x7f);
	cdb[1] = 0x01;				/* a VPD page: empty */
	CHECK(scsi_execute_absent(cdb, 6, &data, false, &r));
	CHECK(good());
	CHECK_EQ(r.transferred, 4);
	CHECK_EQ(buf[0], 0x7f);
	cdb[1] = 0x02;
	CHECK(scsi_execute_absent(cdb, 6, &data, false, &r));
	CHECK(bad_field());
	CHECK(scsi_execute_absent(cdb, 5, &data, false, &r));
	CHECK(bad_field());

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0xa0;
	cdb[9] = 64;
	memset(buf, 0xaa, sizeof(buf));
	CHECK(scsi_execute_absent(cdb, 12, &data, false, &r));
	CHECK(good());
	CHECK_EQ(r.transferred, 8);
	CHECK_EQ(buf[3], 0);			/* no LUNs */
	CHECK(scsi_execute_absent(cdb, 12, &data, true, &r));
	CHECK_EQ(r.transferred, 16);
	CHECK_EQ(buf[3], 8);
	CHECK_EQ(buf[8] | buf[15], 0);		/* LUN 0 */

	cdb[0] = 0x00;				/* TEST UNIT READY */
	CHECK(!scsi_execute_absent(cdb, 6, NULL, false, &r));
	cdb[0] = 0x28;
	CHECK(!scsi_execute_absent(cdb, 10, &data, true, &r));
	CHECK(!scsi_execute_absent(cdb, 0, &data, true, &r));
	CHECK(!scsi_execute_absent(NULL, 6, &data, true, &r));
}

/* xorshift64: the same sequence on every run. */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static bool is_write(uint8_t op)
{
	return memchr("\x0a\x2a\xaa\x8a\x41\x93", op, 6) != NULL;
}

/* The length the group code (top 3 opcode bits) gives a CDB. */
static uint8_t group_len(uint8_t op)
{
	static const uint8_t len[8] = { 6, 10, 10, 16, 16, 12, 16, 16 };

	return len[op >> 5];
}

/*
 * Mostly real opcodes, so the fields behind them get exercised. Half
 * the time "tame": the right length and direction, zero fields but for
 * a small LBA and a small length (or allocation length) where the
 * group's layout has them, and maybe one random byte, so many commands
 * get past the checks to the image.
 */
static void random_cdb(uint8_t *cdb, uint8_t *len, bool *out)
{
	static const uint8_t ops[] = {
		0x00, 0x03, 0x08, 0x0a, 0x12, 0x1a, 0x1b, 0x1e, 0x25, 0x28,
		0x2a, 0x2f, 0x35, 0x41, 0x5a, 0x88, 0x8a, 0x8f, 0x91, 0x93,
		0x9e, 0xa0, 0xa8, 0xaa, 0x42, 0x04, 0x55, 0x15,
	};
	uint8_t g;

	for (int i = 0; i < 16; i++)
		cdb[i] = (uint8_t)rnd();
	if (rnd() % 4)
		cdb[0] = ops[rnd() % sizeof(ops)];
	*len = rnd() % 17;
	*out = rnd() % 2;
	if (rnd() % 2)
		return;
	g = group_len(cdb[0]);
	memset(cdb + 1, 0, 15);
	cdb[g == 6 ? 3 : g == 16 ? 9 : 5] = rnd() % 64;
	cdb[g == 6 ? 4 : g == 10 ? 8 : g - 3] = rnd() % 2 ? rnd() % 8 : rnd();
	if (cdb[0] == 0x9e)
		cdb[1] = 0x10;			/* READ CAPACITY(16) */
	if (cdb[0] == 0x1a || cdb[0] == 0x5a)
		cdb[2] = rnd() % 2 ? 0x3f : 0x08;
	if (rnd() % 2)
		cdb[1 + rnd() % 15] = (uint8_t)rnd();
	if (rnd() % 8)
		*len = g;
	if (rnd() % 8)
		*out = is_write(cdb[0]);
}

/* Up to 8 exact-size heap pieces, so ASan sees any overrun. */
static int random_iov(struct iovec *v, size_t *total)
{
	int n = rnd() % 9;

	*total = 0;
	for (int i = 0; i < n; i++) {
		size_t len = rnd() % 3 ? rnd() % 1500 : rnd() % 20000;

		v[i].iov_base = malloc(len ? len : 1);
		v[i].iov_len = len;
		*total += len;
	}
	return n;
}

static bool result_valid(const struct scsi_data *data)
{
	static const uint8_t ascs[] = {
		0x0c, 0x11, 0x20, 0x21, 0x24, 0x27, 0x39,
	};
	size_t len = data ? data->len : 0;

	if (r.transferred > len)
		return false;
	if (r.status == SCSI_STATUS_GOOD)
		return r.sense_len == 0;
	if (r.status != SCSI_STATUS_CHECK_CONDITION || r.sense_len != 18 ||
	    r.sense[0] != 0x70 || r.sense[7] != 10 ||
	    !memchr("\x03\x05\x07", r.sense[2], 3))
		return false;
	return memchr(ascs, r.sense[12], sizeof(ascs)) != NULL;
}

static bool random_one(struct scsi_disk *rw, struct scsi_disk *ro)
{
	struct iovec v[8];
	struct scsi_data data, *dp = &data;
	uint8_t cdb[16], len;
	size_t total;
	int pick = rnd() % 8;
	bool ok;

	random_cdb(cdb, &len, &data.to_device);
	data.iovcnt = random_iov(v, &total);
	data.iov = v;
	data.len = rnd() % 4 ? total : total / 2;
	if (rnd() % 16 == 0)
		dp = NULL;
	if (pick == 0) {
		ok = !scsi_execute_absent(cdb, len, dp, rnd() % 2, &r) ||
		     result_valid(dp);
	} else {
		scsi_execute(pick == 1 ? ro : rw, cdb, len, dp, &r);
		ok = result_valid(dp);
	}
	if (!ok)
		printf("  cdb %02x %02x %02x len %u: status %u sense %x/%x\n",
		       cdb[0], cdb[1], cdb[2], len, r.status, r.sense[2],
		       r.sense[12]);
	for (int i = 0; i < data.iovcnt; i++)
		free(v[i].iov_base);
	return ok;
}

TEST(scsi_random_cdbs)
{
	struct img im;
	struct scsi_disk ro;
	int moved = 0;

	img_make(&im, 64, false);
	CHECK_EQ(scsi_disk_open(&ro, im.path, true, 8, NULL), 0);
	for (int i = 0; i < 20000; i++) {
		CHECK(random_one(&im.d, &ro));
		moved += r.transferred > 0;
	}
	/* The generator must reach the handlers, not only the errors. */
	CHECK(moved > 1000);
	scsi_disk_close(&ro);
	img_drop(&im);
}
