/*
 * storvsp against the fake Linux client: storvsc's init sequence, then
 * SCSI commands through INBAND and GPA-direct packets onto a temp image
 * file, LUN routing, and malformed requests.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "test_vmbus.h"
#include <vsp/storvsp.h>

#define INIT_ID 0xfffffffffffffffdull	/* VMBUS_RQST_INIT */
#define IMAGE_BYTES (4u << 20)

struct rig {
	struct fake_guest *g;
	struct fg_chan c;
	struct scsi_disk disk;
	char path[64];
	uint64_t next_id;
};

static const struct vmbus_guid instance = VMBUS_GUID_INIT(0x5a5a5a5a,
	0x1234, 0x5678, 1, 2, 3, 4, 5, 6, 7, 8);

static void rig_free(struct rig *r)
{
	fg_free(r->g);
	scsi_disk_close(&r->disk);
	unlink(r->path);
	free(r);
}

/* A guest with a controller holding a 4 MiB disk, channel opened the
 * way storvsc does it (128 KiB each way), not yet initialised. */
static struct rig *rig_new(bool with_disk)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct storvsp_config cfg = { .instance = instance };
	const char *why;
	int fd;

	snprintf(r->path, sizeof(r->path), "/tmp/storvsp-test-XXXXXX");
	fd = mkstemp(r->path);
	if (fd < 0 || ftruncate(fd, IMAGE_BYTES))
		abort();
	close(fd);
	if (scsi_disk_open(&r->disk, r->path, false, 7, &why))
		abort();
	r->g = fg_new();
	r->next_id = 1;
	cfg.disk = with_disk ? &r->disk : NULL;
	if (storvsp_add(r->g->s, &cfg, NULL) || !fg_connect(r->g, 1) ||
	    fg_open(r->g, &r->c, 1, 32, 32, 0)) {
		rig_free(r);
		return NULL;
	}
	return r;
}

/*
 * Sends p (INBAND, or GPA-direct over ranges when hdr) and reads the
 * completion into *res. Returns false if there was none or it was not
 * a 64-byte COMP for the same transaction within 80 bytes.
 */
static bool request(struct rig *r, uint64_t id, struct vstor_packet *p,
		    const void *hdr, uint32_t hdr_len, struct vstor_packet *res)
{
	uint16_t type = hdr ? VM_PKT_DATA_USING_GPA_DIRECT :
			      VM_PKT_DATA_INBAND;
	struct vmbus_pkt_desc d;
	uint32_t len;

	p->flags = VSTOR_FLAG_REQUEST_COMPLETION;
	if (!hdr)
		hdr_len = 0;
	if (fg_send(r->g, &r->c, type, VMBUS_PKT_FLAG_COMPLETION_REQUESTED, id,
		    hdr, hdr_len, p, sizeof(*p)))
		return false;
	if (fg_recv(r->g, &r->c, &d, res, sizeof(*res), &len) != 1)
		return false;
	return d.type == VM_PKT_COMP && d.trans_id == id && len == 64 &&
	       d.len8 * 8 <= STORVSC_MAX_PKT_SIZE &&
	       res->operation == VSTOR_OP_COMPLETE_IO;
}

static uint32_t init_op(struct rig *r, uint32_t op, uint16_t version,
			struct vstor_packet *res)
{
	struct vstor_packet p = { .operation = op };

	p.version.major_minor = version;
	if (!request(r, INIT_ID, &p, NULL, 0, res))
		return 0xdeadbeef;
	return res->status;
}

static bool init_sequence(struct rig *r)
{
	struct vstor_packet res;

	return !init_op(r, VSTOR_OP_BEGIN_INITIALIZATION, 0, &res) &&
	       !init_op(r, VSTOR_OP_QUERY_PROTOCOL_VERSION, VSTOR_PROTO_WIN10,
			&res) &&
	       !init_op(r, VSTOR_OP_QUERY_PROPERTIES, 0, &res) &&
	       !init_op(r, VSTOR_OP_END_INITIALIZATION, 0, &res);
}

/* GPA-direct ranges: one range over the given pages from offset. */
struct gpa {
	uint8_t bytes[8 + 8 + 8 * 80];
	uint32_t len;
};

static void gpa_build(struct gpa *x, uint32_t offset, uint32_t byte_count,
		      const uint64_t *pfns, uint32_t n)
{
	struct vmbus_gpa_direct_hdr h = { .range_count = 1 };
	struct vmbus_gpa_range rg = { .byte_count = byte_count,
				      .byte_offset = offset };

	memcpy(x->bytes, &h, 8);
	memcpy(x->bytes + 8, &rg, 8);
	memcpy(x->bytes + 16, pfns, n * 8);
	x->len = 16 + 8 * n;
}

/* An SRB to (path, target, lun) with a CDB and a buffer of len bytes on
 * pages pfns at offset (no buffer when len is 0). */
static void srb_packet(struct vstor_packet *p, uint8_t path, uint8_t target,
		       uint8_t lun, const uint8_t *cdb, uint8_t cdb_len,
		       uint8_t data_in, uint32_t len)
{
	*p = (struct vstor_packet){ .operation = VSTOR_OP_EXECUTE_SRB };
	p->srb.length = sizeof(p->srb);
	p->srb.path_id = path;
	p->srb.target_id = target;
	p->srb.lun = lun;
	p->srb.cdb_length = cdb_len;
	p->srb.sense_info_length = VSTOR_SENSE_MAX;
	p->srb.data_in = data_in;
	p->srb.data_transfer_length = len;
	p->srb.queue_tag = 0xff;
	p->srb.queue_action = 0x20;
	p->srb.time_out_value = 60;
	memcpy(p->srb.cdb, cdb, cdb_len > 16 ? 16 : cdb_len);
}

static bool srb(struct rig *r, uint8_t path, uint8_t target, uint8_t lun,
		const uint8_t *cdb, uint8_t cdb_len, uint8_t data_in,
		uint32_t offset, uint32_t len, const uint64_t *pfns,
		uint32_t npfns, struct vstor_packet *res)
{
	struct vstor_packet p;
	struct gpa x;

	srb_packet(&p, path, target, lun, cdb, cdb_len, data_in, len);
	if (!npfns)
		return request(r, r->next_id++, &p, NULL, 0, res);
	gpa_build(&x, offset, len, pfns, npfns);
	return request(r, r->next_id++, &p, x.bytes, x.len, res);
}

static const uint64_t data_pfn[1] = { FG_DATA_PFN };

TEST(storvsp_init_sequence)
{
	struct rig *r = rig_new(true);
	struct vstor_packet res;

	CHECK(r);
	CHECK_EQ(init_op(r, VSTOR_OP_BEGIN_INITIALIZATION, 0, &res), 0);
	/* A newer protocol than we know: mismatch, version echoed; Linux
	 * then tries 6.0. */
	CHECK_EQ(init_op(r, VSTOR_OP_QUERY_PROTOCOL_VERSION, 0x0700, &res),
		 VSTOR_STATUS_REVISION_MISMATCH);
	CHECK_EQ(res.version.major_minor, 0x0700);
	CHECK_EQ(init_op(r, VSTOR_OP_QUERY_PROTOCOL_VERSION, 0x0402, &res),
		 VSTOR_STATUS_REVISION_MISMATCH);
	CHECK_EQ(init_op(r, VSTOR_OP_QUERY_PROTOCOL_VERSION, VSTOR_PROTO_WIN8_1,
			 &res), 0);
	CHECK_EQ(res.version.major_minor, VSTOR_PROTO_WIN8_1);
	CHECK_EQ(init_op(r, VSTOR_OP_QUERY_PROPERTIES, 0, &res), 0);
	CHECK_EQ(res.properties.max_transfer_bytes, 0x40000);
	CHECK_EQ(res.properties.max_channel_cnt, 0);
	CHECK_EQ(res.properties.flags, 0);
	CHECK_EQ(init_op(r, VSTOR_OP_END_INITIALIZATION, 0, &res), 0);
	CHECK_EQ(r->g->nlogs, 0);
	rig_free(r);
}

TEST(storvsp_init_order_enforced)
{
	struct rig *r = rig_new(true);
	static const uint8_t tur[6] = { 0 };
	struct vstor_packet res;

	CHECK(r);
	CHECK(srb(r, 0, 0, 0, tur, 6, VSTOR_DATA_NONE, 0, 0, NULL, 0, &res));
	CHECK_EQ(res.status, VSTOR_STATUS_INVALID_DEVICE_STATE);
	CHECK_EQ(init_op(r, VSTOR_OP_QUERY_PROTOCOL_VERSION, VSTOR_PROTO_WIN10,
			 &res), VSTOR_STATUS_INVALID_DEVICE_STATE);
	CHECK_EQ(init_op(r, VSTOR_OP_END_INITIALIZATION, 0, &res),
		 VSTOR_STATUS_INVALID_DEVICE_STATE);
	CHECK_EQ(init_op(r, VSTOR_OP_CREATE_SUB_CHANNELS, 0, &res),
		 VSTOR_STATUS_INVALID_DEVICE_REQUEST);
	CHECK(init_sequence(r));
	/* Resets complete at once: nothing is ever outstanding. */
	CHECK_EQ(init_op(r, VSTOR_OP_RESET_BUS, 0, &res), 0);
	rig_free(r);
}

TEST(storvsp_inquiry_and_lun_routing)
{
	struct rig *r = rig_new(true);
	static const uint8_t inq[6] = { 0x12, 0, 0, 0, 36, 0 };
	static const uint8_t tur[6] = { 0 };
	static const uint8_t rl[12] = { 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0 };
	uint8_t *buf = fg_ptr(r->g, FG_DATA_PFN);
	struct vstor_packet res;

	CHECK(r);
	CHECK(init_sequence(r));
	CHECK(srb(r, 0, 0, 0, inq, 6, VSTOR_DATA_READ, 0, 36, data_pfn, 1,
		  &res));
	CHECK_EQ(res.status, 0);
	CHECK_EQ(res.srb.srb_status, SRB_STATUS_SUCCESS);
	CHECK_EQ(res.srb.scsi_status, 0);
	CHECK_EQ(res.srb.data_transfer_length, 36);
	CHECK_EQ(buf[0], 0x00);
	CHECK(!memcmp(buf + 8, "Msft    Virtual Disk    ", 24));
	/* LUN 1 and other targets/paths: no LUN there, target present. */
	memset(buf, 0, 64);
	CHECK(srb(r, 0, 0, 1, inq, 6, VSTOR_DATA_READ, 0, 36, data_pfn, 1,
		  &res));
	CHECK_EQ(buf[0], 0x7f);
	CHECK(srb(r, 3, 1, 0, inq, 6, VSTOR_DATA_READ, 0, 36, data_pfn, 1,
		  &res));
	CHECK_EQ(buf[0], 0x7f);
	CHECK(srb(r, 0, 0, 1, tur, 6, VSTOR_DATA_NONE, 0, 0, NULL, 0, &res));
	CHECK_EQ(res.srb.srb_status, SRB_STATUS_INVALID_LUN);
	CHECK_EQ(res.srb.data_transfer_length, 0);
	/* REPORT LUNS: LUN 0 only, from LUN 0 and from LUN 5. */
	CHECK(srb(r, 0, 0, 0, rl, 12, VSTOR_DATA_READ, 0, 64, data_pfn, 1,
		  &res));
	CHECK_EQ(res.srb.srb_status, SRB_STATUS_SUCCESS);
	CHECK_EQ(buf[3], 8);
	CHECK(srb(r, 0, 0, 5, rl, 12, VSTOR_DATA_READ, 0, 64, data_pfn, 1,
		  &res));
	CHECK_EQ(buf[3], 8);
	CHECK(srb(r, 0, 0, 0, tur, 6, VSTOR_DATA_NONE, 0, 0, NULL, 0, &res));
	CHECK_EQ(res.srb.srb_status, SRB_STATUS_SUCCESS);
	CHECK_EQ(r->g->nlogs, 0);
	rig_free(r);
}

TEST(storvsp_no_disk_controller)
{
	struct rig *r = rig_new(false);
	static const uint8_t inq[6] = { 0x12, 0, 0, 0, 36, 0 };
	static const uint8_t rc[10] = { 0x25 };
	uint8_t *buf = fg_ptr(r->g, FG_DATA_PFN);
	struct vstor_packet res;

	CHECK(r);
	CHECK(init_sequence(r));
	CHECK(srb(r, 0, 0, 0, inq, 6, VSTOR_DATA_READ, 0, 36, data_pfn, 1,
		  &res));
	CHECK_EQ(buf[0], 0x7f);
	CHECK(srb(r, 0, 0, 0, rc, 10, VSTOR_DATA_READ, 0, 8, data_pfn, 1,
		  &res));
	CHECK_EQ(res.srb.srb_status, SRB_STATUS_INVALID_LUN);
	rig_free(r);
}

static void rw10(uint8_t *cdb, uint8_t op, uint32_t lba, uint16_t blocks)
{
	memset(cdb, 0, 10);
	cdb[0] = op;
	cdb[2] = lba >> 24;
	cdb[3] = lba >> 16;
	cdb[4] = lba >> 8;
	cdb[5] = lba;
	cdb[7] = blocks >> 8;
	cdb[8] = blocks;
}

/* Writes a pattern through scattered guest pages at an odd offset,
 * reads it back elsewhere, and checks the image file in between. */
TEST(storvsp_read_write_gpa_direct)
{
	struct rig *r = rig_new(true);
	uint64_t wp[3], rp[3] = { FG_DATA_PFN + 20, FG_DATA_PFN + 5,
				  FG_DATA_PFN + 11 };
	uint8_t cdb[10], file[4096];
	static const uint8_t sync[10] = { 0x35 };
	struct vstor_packet res;
	const uint32_t off = 512, len = 8 * 512;	/* spans 2 pages */

	CHECK(r);
	CHECK(init_sequence(r));
	for (int i = 0; i < 3; i++)
		wp[i] = fg_page(r->g);
	for (uint32_t i = 0; i < len; i++) {
		uint32_t at = off + i;

		((uint8_t *)fg_ptr(r->g, wp[at / 4096]))[at % 4096] =
			(uint8_t)(i * 13 + 1);
	}
	rw10(cdb, 0x2a, 100, 8);
	CHECK(srb(r, 0, 0, 0, cdb, 10, VSTOR_DATA_WRITE, off, len, wp, 2,
		  &res));
	CHECK_EQ(res.srb.srb_status, SRB_STATUS_SUCCESS);
	CHECK_EQ(res.srb.data_transfer_length, len);
	CHECK_EQ(pread(r->disk.fd, file, len, 100 * 512), len);
	for (uint32_t i = 0; i < len; i++)
		CHECK_EQ(file[i], (uint8_t)(i * 13 + 1));
	/* Read into three non-contiguous pages starting 3000 bytes in. */
	rw10(cdb, 0x28, 100, 8);
	CHECK(srb(r, 0, 0, 0, cdb, 10, VSTOR_DATA_READ, 3000, len, rp, 3,
		  &res));
	CHECK_EQ(res.srb.srb_status, SRB_STATUS_SUCCESS);
	CHECK_EQ(res.srb.data_transfer_length, len);
	for (uint32_t i = 0; i < len; i++) {
		uint32_t at = 3000 + i;

		CHECK_EQ(((uint8_t *)fg_ptr(r->g, rp[at / 4096]))[at % 4096],
			 (uint8_t)(i * 13 + 1));
	}
	CHECK(srb(r, 0, 0, 0, sync, 10, VSTOR_DATA_NONE, 0, 0, NULL, 0, &res));
	CHECK_EQ(res.srb.srb_status, SRB_STATUS_SUCCESS);
	CHECK_EQ(res.srb.scsi_status, 0);
	CHECK_EQ(r->g->nlogs, 0);
	rig_free(r);
}

TEST(storvsp_max_transfer)
{
	struct rig *r = rig_new(true);
	uint64_t pfns[65];
	uint8_t cdb[10];
	struct vstor_packet res;

	CHECK(r);
	CHECK(init_sequence(r));
	for (int i = 0; i < 65; i++)
		pfns[i] = FG_DATA_PFN + i;
	rw10(cdb, 0x28, 0, 512);	/* 256 KiB, unaligned: 65 pages */
	CHECK(srb(r, 0, 0, 0, cdb, 10, VSTOR_DATA_READ, 8, 0x40000, pfns, 65,
		  &res));
	CHECK_EQ(res.srb.srb_status, SRB_STATUS_SUCCESS);
	CHECK_EQ(res.srb.data_transfer_length, 0x40000);
	/* One byte more than we advertised: refused. */
	CHECK(srb(r, 0, 0, 0, cdb, 10, VSTOR_DATA_READ, 8, 0x40001, pfns, 65,
		  &res));
	CHECK_EQ(res.srb.srb_status, SRB_STATUS_INVALID_REQUEST);
	rig_free(r);
}

TEST(storvsp_check_condition_sense)
{
	struct rig *r = rig_new(true);
	static const uint8_t bad[6] = { 0xc7 };
	uint8_t cdb[10];
	struct vstor_packet res;

	CHECK(r);
	CHECK(init_sequence(r));
	CHECK(srb(r, 0, 0, 0, bad, 6, VSTOR_DATA_NONE, 0, 0, NULL, 0, &res));
	CHECK_EQ(res.srb.scsi_status, SCSI_STATUS_CHECK_CONDITION);
	CHECK_EQ(res.srb.srb_status,
		 SRB_STATUS_ERROR | SRB_STATUS_AUTOSENSE_VALID);
	CHECK(res.srb.sense_info_length >= 14);
	CHECK(res.srb.sense_info_length <= VSTOR_SENSE_MAX);
	CHECK_EQ(res.srb.sense_data[0], 0x70);
	CHECK_EQ(res.srb.sense_data[2], 0x05);		/* ILLEGAL REQUEST */
	/* Sense is cut to what the initiator has room for. */
	{
		struct vstor_packet p = { .operation = VSTOR_OP_EXECUTE_SRB };

		p.srb.cdb_length = 6;
		p.srb.cdb[0] = 0xc7;
		p.srb.data_in = VSTOR_DATA_NONE;
		p.srb.sense_info_length = 8;
		CHECK(request(r, 5, &p, NULL, 0, &res));
		CHECK_EQ(res.srb.sense_info_length, 8);
		CHECK_EQ(res.srb.sense_data[2], 0x05);
		CHECK_EQ(res.srb.sense_data[8], 0);
	}
	/* Beyond the end of the disk. */
	rw10(cdb, 0x28, IMAGE_BYTES / 512, 1);
	CHECK(srb(r, 0, 0, 0, cdb, 10, VSTOR_DATA_READ, 0, 512, data_pfn, 1,
		  &res));
	CHECK_EQ(res.srb.scsi_status, SCSI_STATUS_CHECK_CONDITION);
	CHECK_EQ(res.srb.data_transfer_length, 0);
	rig_free(r);
}

TEST(storvsp_bad_requests)
{
	struct rig *r = rig_new(true);
	static const uint8_t tur[16] = { 0 };
	uint64_t outside = FG_RAM_BYTES / 4096;
	uint8_t cdb[10];
	struct vstor_packet res, p = { .operation = VSTOR_OP_EXECUTE_SRB };
	struct vmbus_pkt_desc d;
	uint32_t len;

	CHECK(r);
	CHECK(init_sequence(r));
	CHECK(srb(r, 0, 0, 0, tur, 0, VSTOR_DATA_NONE, 0, 0, NULL, 0, &res));
	CHECK_EQ(res.srb.srb_status, SRB_STATUS_INVALID_REQUEST);
	CHECK(srb(r, 0, 0, 0, tur, 17, VSTOR_DATA_NONE, 0, 0, NULL, 0, &res));
	CHECK_EQ(res.srb.srb_status, SRB_STATUS_INVALID_REQUEST);
	CHECK(srb(r, 0, 0, 0, tur, 6, 3, 0, 0, NULL, 0, &res));
	CHECK_EQ(res.srb.srb_status, SRB_STATUS_INVALID_REQUEST);
	rw10(cdb, 0x28, 0, 1);
	/* A buffer length but no ranges; ranges shorter than the length;
	 * a PFN outside guest RAM. */
	CHECK(srb(r, 0, 0, 0, cdb, 10, VSTOR_DATA_READ, 0, 512, NULL, 0,
		  &res));
	CHECK_EQ(res.srb.srb_status, SRB_STATUS_INVALID_REQUEST);
	{
		struct gpa x;

		p.srb.data_transfer_length = 512;
		p.srb.cdb_length = 10;
		p.srb.data_in = VSTOR_DATA_READ;
		memcpy(p.srb.cdb, cdb, 10);
		gpa_build(&x, 0, 256, data_pfn, 1);
		CHECK(request(r, 77, &p, x.bytes, x.len, &res));
		CHECK_EQ(res.srb.srb_status, SRB_STATUS_INVALID_REQUEST);
	}
	CHECK(srb(r, 0, 0, 0, cdb, 10, VSTOR_DATA_READ, 0, 512, &outside, 1,
		  &res));
	CHECK_EQ(res.srb.srb_status, SRB_STATUS_INVALID_REQUEST);
	/* More scattered pieces than a 256 KiB transfer needs. */
	{
		static uint8_t x[8 + 200 * 16];
		struct vmbus_gpa_direct_hdr h = { .range_count = 200 };

		memcpy(x, &h, 8);
		for (int i = 0; i < 200; i++) {
			struct vmbus_gpa_range rg = { 1, 0 };
			uint64_t pfn = FG_DATA_PFN + 2 * (i % 100) + i / 100;

			memcpy(x + 8 + i * 16, &rg, 8);
			memcpy(x + 16 + i * 16, &pfn, 8);
		}
		p.srb.data_transfer_length = 200;
		CHECK(request(r, 78, &p, x, sizeof(x), &res));
		CHECK_EQ(res.srb.srb_status, SRB_STATUS_INVALID_REQUEST);
	}
	CHECK(fg_logged(r->g, "bad-buffer"));
	CHECK(fg_logged(r->g, "bad-gpa"));
	/* A short vstor packet still gets a full-size error completion. */
	CHECK_EQ(fg_send(r->g, &r->c, VM_PKT_DATA_INBAND, 1, 88, NULL, 0, &p,
			 40), 0);
	CHECK_EQ(fg_recv(r->g, &r->c, &d, &res, sizeof(res), &len), 1);
	CHECK_EQ(len, 64);
	CHECK_EQ(d.trans_id, 88);
	CHECK_EQ(res.status, VSTOR_STATUS_INVALID_DEVICE_REQUEST);
	/* Unknown operation. */
	CHECK_EQ(init_op(r, 99, 0, &res), VSTOR_STATUS_INVALID_DEVICE_REQUEST);
	/* No completion requested: none sent. */
	CHECK_EQ(fg_send(r->g, &r->c, VM_PKT_DATA_INBAND, 0, 89, NULL, 0, &p,
			 64), 0);
	CHECK_EQ(fg_recv(r->g, &r->c, &d, &res, sizeof(res), &len), 0);
	CHECK(fg_logs_once_per_kind(r->g));
	rig_free(r);
}

/* The guest queues far more requests than completions fit; the host
 * stops taking them until completions are read. */
TEST(storvsp_completion_backpressure)
{
	struct rig *r = rig_new(true);
	struct vstor_packet p = { .operation = VSTOR_OP_EXECUTE_SRB }, res;
	struct vmbus_pkt_desc d;
	uint32_t len, sent = 0, got = 0;

	CHECK(r);
	CHECK(init_sequence(r));
	p.srb.cdb_length = 6;		/* TEST UNIT READY */
	p.srb.data_in = VSTOR_DATA_NONE;
	p.flags = VSTOR_FLAG_REQUEST_COMPLETION;
	while (sent < 3000) {
		if (!fg_send(r->g, &r->c, VM_PKT_DATA_INBAND, 1, 1000 + sent,
			     NULL, 0, &p, sizeof(p))) {
			sent++;
			continue;
		}
		CHECK_EQ(fg_recv(r->g, &r->c, &d, &res, sizeof(res), &len), 1);
		CHECK_EQ(d.trans_id, 1000 + got);
		got++;
	}
	while (fg_recv(r->g, &r->c, &d, &res, sizeof(res), &len)) {
		CHECK_EQ(d.trans_id, 1000 + got);
		CHECK_EQ(res.srb.srb_status, SRB_STATUS_SUCCESS);
		got++;
	}
	vmbus_server_tick(r->g->s, 1);
	while (fg_recv(r->g, &r->c, &d, &res, sizeof(res), &len))
		got++;
	CHECK_EQ(got, 3000);
	CHECK_EQ(r->g->nlogs, 0);
	rig_free(r);
}

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A well-formed range over n pages at a random offset and length. */
static void gpa_build_random(struct gpa *x, const uint64_t *pfns, uint32_t n)
{
	uint32_t off = rnd() % 4096, hi = n * 4096 - off;
	uint32_t lo = (n - 1) * 4096 >= off ? (n - 1) * 4096 - off + 1 : 1;

	gpa_build(x, off, lo + (uint32_t)(rnd() % (hi - lo + 1)), pfns, n);
}

/* Random vstor packets, SRB fields and ranges: no crash, every request
 * completed at 64 bytes, each kind of complaint logged once. */
TEST(storvsp_random_requests)
{
	struct rig *r = rig_new(true);
	struct vstor_packet p, res;
	uint64_t pfns[8];
	struct gpa x;

	CHECK(r);
	for (int i = 0; i < 5000; i++) {
		uint8_t *raw = (uint8_t *)&p;
		uint32_t n = 1 + rnd() % 8;

		for (size_t j = 0; j < sizeof(p); j++)
			raw[j] = (uint8_t)rnd();
		p.operation = rnd() % 4 ? VSTOR_OP_EXECUTE_SRB : rnd() % 16;
		if (rnd() % 2) {
			p.srb.path_id = p.srb.target_id = p.srb.lun = 0;
			p.srb.cdb_length = 6 + 4 * (rnd() % 3);
			p.srb.cdb[0] = (uint8_t[]){ 0x28, 0x2a, 0x12, 0x00, 0x35,
						    0x9e, 0xa0, 0x1a }[rnd() % 8];
			p.srb.data_transfer_length = rnd() % 20000;
			p.srb.data_in = rnd() % 3;
		}
		for (uint32_t j = 0; j < n; j++)
			pfns[j] = rnd() % 8 ? FG_DATA_PFN + rnd() % 200 :
					      rnd() % (1u << 20);
		gpa_build_random(&x, pfns, n);
		if (i == 100)
			CHECK(init_sequence(r));
		CHECK(request(r, i + 1, &p, rnd() % 3 ? x.bytes : NULL, x.len,
			      &res));
	}
	CHECK(fg_logs_once_per_kind(r->g));
	rig_free(r);
}

/*
 * The disk bytes each request moves count against the drain: ten
 * WRITE SAMEs of 1 MiB each, queued without a doorbell, take two
 * passes of at most VMBUS_DRAIN_BYTES (8 MiB) each.
 */
TEST(storvsp_drain_charges_disk_bytes)
{
	struct rig *r = rig_new(true);
	uint8_t cdb[16] = { 0x93 };
	struct vstor_packet p, res;
	struct vmbus_pkt_desc d;
	struct gpa x;
	uint32_t len;
	int done = 0;

	CHECK(r && init_sequence(r));
	cdb[12] = SCSI_WRITE_SAME_MAX_BLOCKS >> 8 & 0xff;	/* blocks */
	cdb[13] = SCSI_WRITE_SAME_MAX_BLOCKS & 0xff;
	srb_packet(&p, 0, 0, 0, cdb, 16, VSTOR_DATA_WRITE, 512);
	p.flags = VSTOR_FLAG_REQUEST_COMPLETION;
	gpa_build(&x, 0, 512, data_pfn, 1);
	r->c.out.ctl->interrupt_mask = 1;
	for (int i = 0; i < 10; i++)
		CHECK_EQ(fg_send(r->g, &r->c, VM_PKT_DATA_USING_GPA_DIRECT,
				 VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 100 + i,
				 x.bytes, x.len, &p, sizeof(p)), 0);
	r->c.out.ctl->interrupt_mask = 0;
	vmbus_server_tick(r->g->s, 1);
	while (fg_recv(r->g, &r->c, &d, &res, sizeof(res), &len) == 1) {
		CHECK_EQ(res.srb.scsi_status, SCSI_STATUS_GOOD);
		done++;
	}
	CHECK_EQ(done, VMBUS_DRAIN_BYTES / (SCSI_WRITE_SAME_MAX_BLOCKS * 512));
	vmbus_server_tick(r->g->s, 2);
	while (fg_recv(r->g, &r->c, &d, &res, sizeof(res), &len) == 1)
		done++;
	CHECK_EQ(done, 10);
	rig_free(r);
}
