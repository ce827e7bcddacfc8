/*
 * A SCSI direct-access target over a raw image: the command set a Linux
 * 6.1 guest's storvsc + sd send (hyperv-guest-abi.md section 7.4), plus
 * WRITE SAME (which a guest can send through SG_IO; see scsi.h), bounded
 * by the Block Limits VPD page.
 *
 * Every CDB byte and buffer length comes from the guest. The dispatcher
 * checks the CDB is long enough for its opcode and the buffer's direction;
 * each handler checks its fields, then the LBA range, then the buffer size
 * before it touches the image or guest memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scsi.h"

/* Opcodes (SPC-3, SBC-3). */
enum {
	OP_TEST_UNIT_READY = 0x00,
	OP_REQUEST_SENSE = 0x03,
	OP_READ6 = 0x08,
	OP_WRITE6 = 0x0a,
	OP_INQUIRY = 0x12,
	OP_MODE_SENSE6 = 0x1a,
	OP_START_STOP_UNIT = 0x1b,
	OP_PREVENT_ALLOW = 0x1e,
	OP_READ_CAPACITY10 = 0x25,
	OP_READ10 = 0x28,
	OP_WRITE10 = 0x2a,
	OP_VERIFY10 = 0x2f,
	OP_SYNC_CACHE10 = 0x35,
	OP_WRITE_SAME10 = 0x41,
	OP_MODE_SENSE10 = 0x5a,
	OP_READ16 = 0x88,
	OP_WRITE16 = 0x8a,
	OP_VERIFY16 = 0x8f,
	OP_SYNC_CACHE16 = 0x91,
	OP_WRITE_SAME16 = 0x93,
	OP_SERVICE_ACTION_IN16 = 0x9e,
	OP_REPORT_LUNS = 0xa0,
	OP_READ12 = 0xa8,
	OP_WRITE12 = 0xaa,
};

#define SA_READ_CAPACITY16 0x10

/* Sense keys and additional sense codes (SPC-3 4.5.6 and annex D). */
#define KEY_NO_SENSE 0x0
#define KEY_MEDIUM_ERROR 0x3
#define KEY_ILLEGAL_REQUEST 0x5
#define KEY_DATA_PROTECT 0x7

#define ASC_WRITE_ERROR 0x0c
#define ASC_READ_ERROR 0x11		/* unrecovered read error */
#define ASC_INVALID_OPCODE 0x20
#define ASC_LBA_OUT_OF_RANGE 0x21
#define ASC_INVALID_FIELD 0x24
#define ASC_WRITE_PROTECTED 0x27	/* ascq 0x07: out of space */
#define ASC_SAVING_NOT_SUPPORTED 0x39

#define FIXED_SENSE_LEN 18
#define SECTOR 512			/* the only block size we offer */
#define IO_WINDOW 64			/* iovecs per preadv/pwritev */
#define WRITE_SAME_CHUNK 65536		/* bytes of pattern per pwrite */

#define PERIPHERAL_DISK 0x00
#define PERIPHERAL_NONE 0x7f		/* qualifier 3: no LUN here */

static const char vendor[8] = "Msft    ";
static const char product[16] = "Virtual Disk    ";
static const char revision[4] = "1.0 ";

/* One command in flight. d is NULL for a LUN that does not exist. */
struct cmd {
	struct scsi_disk *d;
	const uint8_t *cdb;		/* at least the opcode's length */
	const struct scsi_data *data;
	size_t room;			/* bytes the iovecs really offer */
	bool lun0;			/* REPORT LUNS lists LUN 0 */
	struct scsi_result *r;
};

enum dir { DIR_NONE, DIR_IN, DIR_OUT };

struct op {
	uint8_t opcode;
	uint8_t cdb_len;
	uint8_t dir;			/* enum dir */
	void (*run)(struct cmd *c);
};

/* Decoded block range of a READ/WRITE/VERIFY/SYNC/WRITE SAME. */
struct range {
	uint64_t lba;
	uint64_t blocks;
	bool fua;
};

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)get_be16(p) << 16 | get_be16(p + 2);
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, v >> 16);
	put_be16(p + 2, v & 0xffff);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, v >> 32);
	put_be32(p + 4, v & 0xffffffff);
}

/* CHECK CONDITION with fixed-format sense, cut to what storvsc takes. */
static void fail(struct scsi_result *r, uint8_t key, uint8_t asc,
		 uint8_t ascq)
{
	uint8_t s[FIXED_SENSE_LEN] = { 0 };

	s[0] = 0x70;			/* current error, fixed format */
	s[2] = key;
	s[7] = FIXED_SENSE_LEN - 8;	/* additional sense length */
	s[12] = asc;
	s[13] = ascq;
	r->status = SCSI_STATUS_CHECK_CONDITION;
	r->sense_len = min_size(sizeof(s), SCSI_SENSE_MAX);
	memcpy(r->sense, s, r->sense_len);
}

static void illegal(struct cmd *c, uint8_t asc)
{
	fail(c->r, KEY_ILLEGAL_REQUEST, asc, 0);
}

/* Sense for a failed read, write or flush of the image. */
static void io_error(struct cmd *c, int err, bool write)
{
	/*
	 * A full host file system is the thin-provisioning "space
	 * allocation failed" case: Linux turns it into ENOSPC instead of
	 * a medium error, so the guest's file system reacts sensibly.
	 */
	if (err == -ENOSPC || err == -EDQUOT)
		fail(c->r, KEY_DATA_PROTECT, ASC_WRITE_PROTECTED, 0x07);
	else if (write)
		fail(c->r, KEY_MEDIUM_ERROR, ASC_WRITE_ERROR, 0);
	else
		fail(c->r, KEY_MEDIUM_ERROR, ASC_READ_ERROR, 0);
}

/*
 * Bytes the buffer really offers: data->len, but never more than the
 * iovecs add up to, so a caller's inconsistent pair cannot make us
 * touch memory past them.
 */
static size_t buffer_room(const struct scsi_data *data)
{
	size_t total = 0;

	if (!data || !data->iov || data->iovcnt <= 0)
		return 0;
	for (int i = 0; i < data->iovcnt && total < data->len; i++)
		total += min_size(data->iov[i].iov_len, data->len - total);
	return total;
}

/* A position inside an iovec list. */
struct iov_pos {
	const struct iovec *iov;
	int cnt;
	int i;				/* current element */
	size_t off;			/* bytes of iov[i] already used */
};

/* Describes the next len bytes (or fewer) as at most IO_WINDOW iovecs. */
static int iov_window(const struct iov_pos *p, size_t len, struct iovec *w)
{
	size_t off = p->off;
	int n = 0;

	for (int i = p->i; i < p->cnt && len && n < IO_WINDOW; i++) {
		size_t take = min_size(p->iov[i].iov_len - off, len);

		if (take) {
			w[n].iov_base = (uint8_t *)p->iov[i].iov_base + off;
			w[n++].iov_len = take;
			len -= take;
		}
		off = 0;
	}
	return n;
}

static void iov_advance(struct iov_pos *p, size_t n)
{
	while (p->i < p->cnt) {
		size_t take = min_size(p->iov[p->i].iov_len - p->off, n);

		p->off += take;
		n -= take;
		if (p->off < p->iov[p->i].iov_len)
			break;
		p->i++;
		p->off = 0;
	}
}

/*
 * Copies len bytes (len <= buffer_room, so data is not NULL unless len
 * is 0) between buf and the iovecs.
 */
static void iov_copy(const struct scsi_data *data, void *buf, size_t len,
		     bool to_iov)
{
	struct iov_pos p = { NULL, 0, 0, 0 };
	struct iovec w[IO_WINDOW];
	uint8_t *b = buf;

	if (len) {
		p.iov = data->iov;
		p.cnt = data->iovcnt;
	}
	while (len) {
		int n = iov_window(&p, len, w);

		if (!n)			/* len > room: a caller bug */
			return;
		for (int i = 0; i < n; i++) {
			if (to_iov)
				memcpy(w[i].iov_base, b, w[i].iov_len);
			else
				memcpy(b, w[i].iov_base, w[i].iov_len);
			b += w[i].iov_len;
			len -= w[i].iov_len;
			iov_advance(&p, w[i].iov_len);
		}
	}
}

/* Hands a response built in memory to the initiator: at most alloc bytes. */
static void reply(struct cmd *c, void *buf, size_t len, size_t alloc)
{
	size_t n = min_size(min_size(len, alloc), c->room);

	iov_copy(c->data, buf, n, true);
	c->r->transferred = n;
}

static ssize_t rw_once(int fd, bool write, const struct iovec *w, int n,
		       off_t off)
{
	ssize_t got;

	do {
		got = write ? pwritev(fd, w, n, off) : preadv(fd, w, n, off);
	} while (got < 0 && errno == EINTR);
	return got < 0 ? -errno : got;
}

/*
 * Moves len bytes between the image at off and the iovecs; *done says
 * how far it got. Short counts continue where they stopped; a count of
 * 0 means the image shrank under us, reported as EIO.
 */
static int disk_io(int fd, bool write, const struct iovec *iov, int cnt,
		   off_t off, size_t len, size_t *done)
{
	struct iov_pos p = { iov, cnt, 0, 0 };
	struct iovec w[IO_WINDOW];

	*done = 0;
	while (*done < len) {
		int n = iov_window(&p, len - *done, w);
		ssize_t got = rw_once(fd, write, w, n, off + (off_t)*done);

		if (got <= 0)
			return got ? (int)got : -EIO;
		iov_advance(&p, got);
		*done += got;
	}
	return 0;
}

static int sync_fd(struct scsi_disk *d)
{
	int ret;

	do {
		ret = d->sync ? d->sync(d->fd) : fdatasync(d->fd);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : 0;
}

/* A write (or a failed one, which may have changed some blocks) ended. */
static void note_write(struct scsi_disk *d)
{
	__atomic_add_fetch(&d->writes, 1, __ATOMIC_ACQ_REL);
}

/*
 * One fdatasync, with flush_lock held on entry and exit but not across
 * the call. It covers the writes finished before it started.
 */
static int sync_now(struct scsi_disk *d)
{
	uint64_t covers = __atomic_load_n(&d->writes, __ATOMIC_ACQUIRE);
	int err;

	d->flushing = true;
	d->syncs++;
	pthread_mutex_unlock(&d->flush_lock);
	err = sync_fd(d);
	pthread_mutex_lock(&d->flush_lock);
	d->flushing = false;
	if (!err && covers > d->synced)
		d->synced = covers;
	pthread_cond_broadcast(&d->flush_done);
	return err;
}

/*
 * Makes every write finished before this call durable. Nothing to do
 * when a successful fdatasync started after the last of them; while one
 * runs, wait for it: it may cover us, else (or if it failed) start our
 * own. So floods of flushes cost one fdatasync per burst of writes.
 */
static int disk_flush(struct scsi_disk *d)
{
	uint64_t want = __atomic_load_n(&d->writes, __ATOMIC_ACQUIRE);
	int err = 0;

	pthread_mutex_lock(&d->flush_lock);
	while (!err && d->synced < want) {
		if (d->flushing)
			pthread_cond_wait(&d->flush_done, &d->flush_lock);
		else
			err = sync_now(d);
	}
	pthread_mutex_unlock(&d->flush_lock);
	return err;
}

static uint64_t capacity(const struct scsi_disk *d)
{
	return d->size / d->block_size;
}

/* blocks == 0 still needs a real lba; no lba + blocks, so no wrap. */
static bool in_range(const struct scsi_disk *d, const struct range *rg)
{
	uint64_t cap = capacity(d);

	return rg->lba < cap && rg->blocks <= cap - rg->lba;
}

/* The group code (top 3 opcode bits) fixes where LBA and length sit. */
static void decode_range(const uint8_t *cdb, struct range *rg)
{
	switch (cdb[0] >> 5) {
	case 0:				/* 6-byte: 21-bit LBA, 0 = 256 */
		rg->lba = (uint32_t)(cdb[1] & 0x1f) << 16 | get_be16(cdb + 2);
		rg->blocks = cdb[4] ? cdb[4] : 256;
		break;
	case 1:
	case 2:				/* 10-byte */
		rg->lba = get_be32(cdb + 2);
		rg->blocks = get_be16(cdb + 7);
		break;
	case 5:				/* 12-byte */
		rg->lba = get_be32(cdb + 2);
		rg->blocks = get_be32(cdb + 6);
		break;
	default:			/* 16-byte */
		rg->lba = get_be64(cdb + 2);
		rg->blocks = get_be32(cdb + 10);
		break;
	}
	rg->fua = (cdb[0] >> 5) && (cdb[1] & 0x08);
}

/* Range check with the sense for a miss. */
static bool range_ok(struct cmd *c, const struct range *rg)
{
	if (in_range(c->d, rg))
		return true;
	illegal(c, ASC_LBA_OUT_OF_RANGE);
	return false;
}

static bool writable(struct cmd *c)
{
	if (!c->d->read_only)
		return true;
	fail(c->r, KEY_DATA_PROTECT, ASC_WRITE_PROTECTED, 0);
	return false;
}

/*
 * Shared checks of READ and WRITE: no protection information (bits 7:5
 * of byte 1, also the old LUN field in 6-byte CDBs), the range on the
 * medium, and a buffer big enough for the whole transfer.
 */
static bool rw_prepare(struct cmd *c, struct range *rg, size_t *bytes)
{
	decode_range(c->cdb, rg);
	if (c->cdb[1] & 0xe0) {
		illegal(c, ASC_INVALID_FIELD);
		return false;
	}
	if (!range_ok(c, rg))
		return false;
	*bytes = rg->blocks * c->d->block_size;	/* <= size: no wrap */
	if (*bytes > c->room || *bytes > UINT32_MAX) {
		illegal(c, ASC_INVALID_FIELD);
		return false;
	}
	return true;
}

static void rw_transfer(struct cmd *c, const struct range *rg, size_t bytes,
			bool write)
{
	off_t off = (off_t)(rg->lba * c->d->block_size);
	size_t done;
	int err;

	if (!bytes)			/* no data; the buffer may be NULL */
		return;
	err = disk_io(c->d->fd, write, c->data->iov, c->data->iovcnt, off,
		      bytes, &done);
	c->r->transferred = done;
	c->r->io_bytes = done;
	if (write)
		note_write(c->d);
	if (!err && write && rg->fua)
		err = disk_flush(c->d);
	if (err)
		io_error(c, err, write);
}

static void op_read(struct cmd *c)
{
	struct range rg;
	size_t bytes;

	if (rw_prepare(c, &rg, &bytes))
		rw_transfer(c, &rg, bytes, false);
}

static void op_write(struct cmd *c)
{
	struct range rg;
	size_t bytes;

	if (rw_prepare(c, &rg, &bytes) && writable(c))
		rw_transfer(c, &rg, bytes, true);
}

/* Only BYTCHK=0 (check the medium, which we trust) and no protection. */
static void op_verify(struct cmd *c)
{
	struct range rg;

	decode_range(c->cdb, &rg);
	if (c->cdb[1] & 0xe6)
		illegal(c, ASC_INVALID_FIELD);
	else
		range_ok(c, &rg);
}

/*
 * Number of blocks 0 means "to the end"; IMMED is honoured by waiting.
 * The whole image is flushed whatever the range: fdatasync has no finer
 * grain.
 */
static void op_sync_cache(struct cmd *c)
{
	struct range rg;
	int err;

	decode_range(c->cdb, &rg);
	if (!range_ok(c, &rg) || c->d->read_only)
		return;
	err = disk_flush(c->d);
	if (err)
		io_error(c, err, true);
}

/* Fills buf (chunk bytes) with copies of the one block the guest sent. */
static void write_same_pattern(struct cmd *c, uint8_t *buf, size_t chunk)
{
	size_t bs = c->d->block_size;

	iov_copy(c->data, buf, bs, false);
	c->r->transferred = bs;
	for (size_t off = bs; off < chunk; off += bs)
		memcpy(buf + off, buf, bs);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * Zeroes without moving the bytes: a hole in a file (reads as zeroes,
 * frees the space of a sparse image), or a zeroed range where holes are
 * not offered (a block device without discard that zeroes). false when
 * neither works here: then the caller writes.
 */
static bool zero_range(int fd, off_t off, off_t len)
{
	if (!fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
		       len))
		return true;
	return !fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off,
			  len);
}

static int write_same_io(struct cmd *c, const struct range *rg,
			 const uint8_t *buf, size_t chunk)
{
	size_t bs = c->d->block_size;
	uint64_t left = rg->blocks * bs;
	off_t off = (off_t)(rg->lba * bs);
	int err = 0;

	if (all_zero(buf, bs) && zero_range(c->d->fd, off, (off_t)left))
		return 0;
	while (!err && left) {
		struct iovec v = { (void *)buf, min_size(chunk, left) };
		size_t done;

		err = disk_io(c->d->fd, true, &v, 1, off, v.iov_len, &done);
		off += (off_t)v.iov_len;
		left -= v.iov_len;
	}
	return err;
}

static void write_same_run(struct cmd *c, const struct range *rg)
{
	size_t bs = c->d->block_size, chunk = WRITE_SAME_CHUNK / bs * bs;
	uint8_t *buf = malloc(chunk);
	int err = -ENOMEM;

	if (buf) {
		write_same_pattern(c, buf, chunk);
		c->r->io_bytes = rg->blocks * bs;
		err = write_same_io(c, rg, buf, chunk);
		note_write(c->d);
	}
	free(buf);
	if (err)
		io_error(c, err, true);
}

/*
 * WRITE SAME without UNMAP, ANCHOR or NDOB: the guest's one block copied
 * over 1 to SCSI_WRITE_SAME_MAX_BLOCKS blocks. 0 blocks would mean "to
 * the end of the medium" (terabytes in one request); the Block Limits
 * page sets WSNZ, so it is an invalid field, as is anything over the
 * maximum it publishes.
 */
static void op_write_same(struct cmd *c)
{
	struct range rg;

	decode_range(c->cdb, &rg);
	if ((c->cdb[1] & 0xf9) || !rg.blocks ||
	    rg.blocks > SCSI_WRITE_SAME_MAX_BLOCKS) {
		illegal(c, ASC_INVALID_FIELD);
		return;
	}
	if (!range_ok(c, &rg))
		return;
	if (c->room < c->d->block_size) {
		illegal(c, ASC_INVALID_FIELD);
		return;
	}
	if (writable(c))
		write_same_run(c, &rg);
}

static void op_good(struct cmd *c)
{
	(void)c;
}

/* Standard INQUIRY data: SPC-3, CmdQue, Msft Virtual Disk. */
static size_t std_inquiry(uint8_t *buf, uint8_t peripheral)
{
	memset(buf, 0, 36);
	buf[0] = peripheral;
	buf[2] = 0x05;			/* SPC-3: Linux tries RC16, VPD */
	buf[3] = 0x02;			/* response data format 2 */
	buf[4] = 36 - 5;		/* additional length */
	buf[7] = 0x02;			/* CmdQue */
	memcpy(buf + 8, vendor, sizeof(vendor));
	memcpy(buf + 16, product, sizeof(product));
	memcpy(buf + 32, revision, sizeof(revision));
	return 36;
}

/* VPD 0x83: one NAA designator, binary, associated with the LU. */
static size_t vpd_ids(const struct scsi_disk *d, uint8_t *p)
{
	p[4] = 0x01;			/* code set: binary */
	p[5] = 0x03;			/* association LU, type NAA */
	p[6] = 0;
	p[7] = sizeof(d->naa);
	memcpy(p + 8, d->naa, sizeof(d->naa));
	return 8 + sizeof(d->naa);
}

/*
 * VPD 0xb0, Block Limits (SBC-3 6.5.3), 64 bytes: only WSNZ and the
 * MAXIMUM WRITE SAME LENGTH, which Linux's sd reads (from a page this
 * long) to split write-zeroes; every other limit 0 ("not reported").
 */
static size_t vpd_block_limits(uint8_t *p)
{
	memset(p + 4, 0, 60);
	p[4] = 0x01;			/* WSNZ */
	put_be64(p + 36, SCSI_WRITE_SAME_MAX_BLOCKS);
	return 64;
}

/* Builds VPD page 'page' after its 4-byte header; 0 if unsupported. */
static size_t vpd_page(const struct scsi_disk *d, uint8_t page, uint8_t *p)
{
	static const uint8_t pages[] = { 0x00, 0x80, 0x83, 0xb0 };
	size_t len;

	memset(p, 0, 4);
	p[1] = page;
	switch (page) {
	case 0x00:
		memcpy(p + 4, pages, sizeof(pages));
		len = 4 + sizeof(pages);
		break;
	case 0x80:
		len = 4 + strnlen(d->serial, sizeof(d->serial) - 1);
		memcpy(p + 4, d->serial, len - 4);
		break;
	case 0x83:
		len = vpd_ids(d, p);
		break;
	case 0xb0:
		len = vpd_block_limits(p);
		break;
	default:
		return 0;
	}
	put_be16(p + 2, len - 4);
	return len;
}

/*
 * An absent LUN still answers INQUIRY (qualifier 3); for a VPD page it
 * gets an empty one so the reply is well formed.
 */
static size_t inquiry_data(struct cmd *c, bool evpd, uint8_t *buf)
{
	uint8_t page = c->cdb[2];

	if (!evpd)
		return std_inquiry(buf, c->d ? PERIPHERAL_DISK :
				   PERIPHERAL_NONE);
	if (c->d)
		return vpd_page(c->d, page, buf);
	memset(buf, 0, 4);
	buf[0] = PERIPHERAL_NONE;
	buf[1] = page;
	return 4;
}

static void op_inquiry(struct cmd *c)
{
	uint8_t buf[64];
	bool evpd = c->cdb[1] & 0x01;
	size_t len;

	/* CMDDT (obsolete) and reserved bits; a page needs EVPD. */
	if ((c->cdb[1] & 0xfe) || (!evpd && c->cdb[2])) {
		illegal(c, ASC_INVALID_FIELD);
		return;
	}
	len = inquiry_data(c, evpd, buf);
	if (!len)
		illegal(c, ASC_INVALID_FIELD);
	else
		reply(c, buf, len, get_be16(c->cdb + 3));
}

/* REPORT LUNS: this target has LUN 0 or nothing. */
static void op_report_luns(struct cmd *c)
{
	uint8_t buf[16] = { 0 };
	uint8_t select = c->cdb[2];
	uint32_t alloc = get_be32(c->cdb + 6);
	bool lun0 = c->lun0 && select != 0x01;	/* 1: well-known only */

	/* SPC-3: an allocation length under 16 is an error. */
	if (select > 0x02 || alloc < 16) {
		illegal(c, ASC_INVALID_FIELD);
		return;
	}
	put_be32(buf, lun0 ? 8 : 0);
	reply(c, buf, lun0 ? 16 : 8, alloc);
}

/* Sense is delivered with each failure, so nothing is ever pending. */
static void op_request_sense(struct cmd *c)
{
	uint8_t buf[FIXED_SENSE_LEN] = { 0 };

	if (c->cdb[1]) {		/* DESC: no descriptor format */
		illegal(c, ASC_INVALID_FIELD);
		return;
	}
	buf[0] = 0x70;
	buf[2] = KEY_NO_SENSE;
	buf[7] = FIXED_SENSE_LEN - 8;
	reply(c, buf, sizeof(buf), c->cdb[4]);
}

static void op_read_capacity10(struct cmd *c)
{
	uint64_t last = capacity(c->d) - 1;
	uint8_t buf[8];

	/* Without PMI the LBA field must be 0. */
	if (!(c->cdb[8] & 0x01) && get_be32(c->cdb + 2)) {
		illegal(c, ASC_INVALID_FIELD);
		return;
	}
	/* All ones tells the initiator to use READ CAPACITY(16). */
	put_be32(buf, last > UINT32_MAX ? UINT32_MAX : (uint32_t)last);
	put_be32(buf + 4, c->d->block_size);
	reply(c, buf, sizeof(buf), sizeof(buf));
}

/* No protection, no logical block provisioning, 1:1 physical blocks. */
static void op_service_action_in(struct cmd *c)
{
	uint8_t buf[32] = { 0 };

	if ((c->cdb[1] & 0x1f) != SA_READ_CAPACITY16) {
		illegal(c, ASC_INVALID_FIELD);
		return;
	}
	put_be64(buf, capacity(c->d) - 1);
	put_be32(buf + 8, c->d->block_size);
	reply(c, buf, sizeof(buf), get_be32(c->cdb + 10));
}

/*
 * Caching page: WCE=1, because writes land in the host's page cache
 * until SYNCHRONIZE CACHE or FUA. The changeable-values view is all
 * zero: MODE SELECT is not supported.
 */
static size_t caching_page(uint8_t *p, bool changeable)
{
	memset(p, 0, 20);
	p[0] = 0x08;
	p[1] = 20 - 2;
	if (!changeable)
		p[2] = 0x04;		/* WCE */
	return 20;
}

/* Page control 3 (saved) is refused; pages 0x3f (all) and 0x08 exist. */
static bool mode_sense_ok(struct cmd *c, bool ten)
{
	uint8_t pc = c->cdb[2] >> 6, page = c->cdb[2] & 0x3f;
	uint8_t sub = c->cdb[3];
	uint8_t allowed = ten ? 0x18 : 0x08;	/* LLBAA, DBD */

	if (pc == 3) {
		illegal(c, ASC_SAVING_NOT_SUPPORTED);
		return false;
	}
	if ((c->cdb[1] & ~allowed) ||
	    !((page == 0x3f && (sub == 0x00 || sub == 0xff)) ||
	      (page == 0x08 && sub == 0x00))) {
		illegal(c, ASC_INVALID_FIELD);
		return false;
	}
	return true;
}

/*
 * No block descriptors, whatever DBD says (allowed when DBD is 0, and
 * what Linux copes with best). The device-specific byte carries WP and
 * DPOFUA: FUA is honoured, so Linux may use it instead of flushes.
 */
static void op_mode_sense(struct cmd *c)
{
	bool ten = c->cdb[0] == OP_MODE_SENSE10;
	size_t hdr = ten ? 8 : 4, len, alloc;
	uint8_t buf[8 + 20] = { 0 };
	uint8_t devspec = 0x10 | (c->d->read_only ? 0x80 : 0);

	if (!mode_sense_ok(c, ten))
		return;
	len = hdr + caching_page(buf + hdr, (c->cdb[2] >> 6) == 1);
	if (ten) {
		put_be16(buf, len - 2);
		buf[3] = devspec;
		alloc = get_be16(c->cdb + 7);
	} else {
		buf[0] = len - 1;
		buf[2] = devspec;
		alloc = c->cdb[4];
	}
	reply(c, buf, len, alloc);
}

static const struct op ops[] = {
	{ OP_TEST_UNIT_READY, 6, DIR_NONE, op_good },
	{ OP_REQUEST_SENSE, 6, DIR_IN, op_request_sense },
	{ OP_READ6, 6, DIR_IN, op_read },
	{ OP_WRITE6, 6, DIR_OUT, op_write },
	{ OP_INQUIRY, 6, DIR_IN, op_inquiry },
	{ OP_MODE_SENSE6, 6, DIR_IN, op_mode_sense },
	{ OP_START_STOP_UNIT, 6, DIR_NONE, op_good },
	{ OP_PREVENT_ALLOW, 6, DIR_NONE, op_good },
	{ OP_READ_CAPACITY10, 10, DIR_IN, op_read_capacity10 },
	{ OP_READ10, 10, DIR_IN, op_read },
	{ OP_WRITE10, 10, DIR_OUT, op_write },
	{ OP_VERIFY10, 10, DIR_NONE, op_verify },
	{ OP_SYNC_CACHE10, 10, DIR_NONE, op_sync_cache },
	{ OP_WRITE_SAME10, 10, DIR_OUT, op_write_same },
	{ OP_MODE_SENSE10, 10, DIR_IN, op_mode_sense },
	{ OP_READ16, 16, DIR_IN, op_read },
	{ OP_WRITE16, 16, DIR_OUT, op_write },
	{ OP_VERIFY16, 16, DIR_NONE, op_verify },
	{ OP_SYNC_CACHE16, 16, DIR_NONE, op_sync_cache },
	{ OP_WRITE_SAME16, 16, DIR_OUT, op_write_same },
	{ OP_SERVICE_ACTION_IN16, 16, DIR_IN, op_service_action_in },
	{ OP_REPORT_LUNS, 12, DIR_IN, op_report_luns },
	{ OP_READ12, 12, DIR_IN, op_read },
	{ OP_WRITE12, 12, DIR_OUT, op_write },
};

static const struct op *find_op(uint8_t opcode)
{
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].opcode == opcode)
			return &ops[i];
	return NULL;
}

/*
 * The CDB must be as long as its opcode says, must not ask for NACA
 * (control byte bit 2), and a buffer, if any, must point the way the
 * command moves data.
 */
static bool cdb_ok(const struct op *op, const struct cmd *c,
		   uint8_t cdb_len)
{
	if (cdb_len < op->cdb_len || (c->cdb[op->cdb_len - 1] & 0x04))
		return false;
	if (!c->room || op->dir == DIR_NONE)
		return true;
	return (op->dir == DIR_OUT) == c->data->to_device;
}

static void dispatch(struct cmd *c, const struct op *op, uint8_t cdb_len)
{
	if (!op)
		illegal(c, ASC_INVALID_OPCODE);
	else if (!cdb_ok(op, c, cdb_len))
		illegal(c, ASC_INVALID_FIELD);
	else
		op->run(c);
}

void scsi_execute(struct scsi_disk *d, const uint8_t *cdb, uint8_t cdb_len,
		  const struct scsi_data *data, struct scsi_result *r)
{
	struct cmd c = { d, cdb, data, buffer_room(data), true, r };

	memset(r, 0, sizeof(*r));
	if (!cdb)
		cdb_len = 0;
	dispatch(&c, cdb_len ? find_op(cdb[0]) : NULL, cdb_len);
}

bool scsi_execute_absent(const uint8_t *cdb, uint8_t cdb_len,
			 const struct scsi_data *data, bool lun0_present,
			 struct scsi_result *r)
{
	struct cmd c = { NULL, cdb, data, buffer_room(data), lun0_present,
			 r };

	memset(r, 0, sizeof(*r));
	if (!cdb || !cdb_len ||
	    (cdb[0] != OP_INQUIRY && cdb[0] != OP_REPORT_LUNS))
		return false;
	dispatch(&c, find_op(cdb[0]), cdb_len);
	return true;
}

static int say(const char **why, const char *msg, int err)
{
	if (why)
		*why = msg;
	return err;
}

static int image_size(int fd, uint64_t *size, const char **why)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return say(why, "cannot stat the disk image", -errno);
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		return 0;
	}
	if (!S_ISBLK(st.st_mode))
		return say(why, "not a regular file or block device", -EINVAL);
	if (ioctl(fd, BLKGETSIZE64, size) < 0)
		return say(why, "cannot read the block device's size", -errno);
	return 0;
}

/* A serial and a locally assigned NAA (type 3) name, both from id. */
static void name_disk(struct scsi_disk *d, uint32_t id)
{
	snprintf(d->serial, sizeof(d->serial), "microhv-%08x", id);
	put_be64(d->naa, 3ull << 60 | (uint64_t)0x6d6876 << 32 | id);
}

int scsi_disk_open(struct scsi_disk *d, const char *path, bool read_only,
		   uint32_t id, const char **why)
{
	uint64_t size = 0;
	int err;

	memset(d, 0, sizeof(*d));
	/* Default attributes hold no resources: nothing to destroy. */
	pthread_mutex_init(&d->flush_lock, NULL);
	pthread_cond_init(&d->flush_done, NULL);
	d->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (d->fd < 0)
		return say(why, "cannot open the disk image", -errno);
	err = image_size(d->fd, &size, why);
	if (!err && size < SECTOR)
		err = say(why, "the disk image is smaller than 512 bytes",
			  -EINVAL);
	if (!err && size > INT64_MAX)
		err = say(why, "the disk image is too large", -EFBIG);
	if (err) {
		scsi_disk_close(d);
		return err;
	}
	d->size = size / SECTOR * SECTOR;
	d->block_size = SECTOR;
	d->read_only = read_only;
	name_disk(d, id);
	return 0;
}

void scsi_disk_close(struct scsi_disk *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}
