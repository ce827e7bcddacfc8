/*
 * A fake Linux VMBus client for the VMBus server's unit tests (and the
 * storvsp and IC tests): a memfd as guest RAM, host callbacks that
 * record posted messages, signals and log lines, and the guest's side
 * of the protocol done the way Linux 6.1's hv_vmbus does it (GPADLs
 * split into header + bodies, rings written and read with its
 * signalling rules). Implemented in test_vmbus.c.
 */
#ifndef TEST_VMBUS_H
#define TEST_VMBUS_H

#include <stdbool.h>
#include <stdint.h>

#include <vmbus/vmbus.h>

#define FG_RAM_BYTES (8u << 20)
#define FG_VPS 4
#define FG_DATA_PFN 16		/* 256 contiguous pages for I/O buffers */
#define FG_DATA_PAGES 256
#define FG_MAX_MSGS 4096
#define FG_MAX_SIGNALS 8192
#define FG_MAX_LOGS 256
#define FG_MAX_RING_PAGES 256

struct fg_msg {
	uint32_t vp;
	uint32_t len;
	uint8_t data[VMBUS_MAX_MESSAGE_SIZE];
};

struct fake_guest {
	struct guest_memory mem;
	struct vmbus_server *s;
	struct fg_msg msgs[FG_MAX_MSGS];	/* what the host posted */
	unsigned int nmsgs, msg_pos;		/* recorded, consumed */
	int eagain;			/* refuse this many posts with -EAGAIN */
	int post_error;			/* fail this many posts with -EIO */
	bool signal_error;		/* fail every signal with -EIO */
	uint32_t sig_vp[FG_MAX_SIGNALS], sig_relid[FG_MAX_SIGNALS];
	unsigned int nsigs;
	char logs[FG_MAX_LOGS][300];
	unsigned int nlogs;
	unsigned int next_page;
	uint32_t next_gpadl;
};

/* The guest's view of one ring. */
struct fg_ring {
	struct vmbus_ring_ctl *ctl;
	uint8_t *pages[FG_MAX_RING_PAGES];
	uint32_t size;
};

struct fg_chan {
	uint32_t relid, conn_id, gpadl, vp;
	uint32_t npages, send_pages;		/* GPADL pages, g->h part */
	uint64_t pfns[2 * FG_MAX_RING_PAGES];
	struct fg_ring out;			/* guest -> host */
	struct fg_ring in;			/* host -> guest */
};

/* A fresh guest with RAM and a server (vp_count FG_VPS). */
struct fake_guest *fg_new(void);
void fg_free(struct fake_guest *g);
void *fg_ptr(struct fake_guest *g, uint64_t pfn);
/* A zeroed page, never adjacent to the previous one. */
uint64_t fg_page(struct fake_guest *g);

enum hv_status fg_post(struct fake_guest *g, uint32_t conn, const void *msg,
		       uint32_t len);
/* The next message the host posted if it has this type and length (0:
 * any length), else NULL. Consumes it either way. */
const void *fg_expect(struct fake_guest *g, uint32_t type, uint32_t len);
/* Messages posted and not consumed yet. */
unsigned int fg_pending(struct fake_guest *g);

/* INITIATE_CONTACT (on conn 4 for >= 5.0, else 1); the response's
 * version_supported, or -1 without a response. */
int fg_contact(struct fake_guest *g, uint32_t version);
/* Contact at 5.3 and REQUESTOFFERS, expecting n offers. */
bool fg_connect(struct fake_guest *g, unsigned int n_offers);
/* A GPADL over pfns, split as Linux does; the GPADL_CREATED status, or
 * -1 without one. *id: the GPADL id used. */
int fg_gpadl(struct fake_guest *g, uint32_t relid, const uint64_t *pfns,
	     uint32_t n, uint32_t *id);
/* GPADL + OPENCHANNEL of send + recv pages per direction (control page
 * included); the OPENCHANNEL_RESULT status or -1. */
int fg_open(struct fake_guest *g, struct fg_chan *c, uint32_t relid,
	    uint32_t send_pages, uint32_t recv_pages, uint32_t vp);
/* CLOSECHANNEL then GPADL_TEARDOWN; true if GPADL_TORNDOWN came. */
bool fg_close(struct fake_guest *g, struct fg_chan *c);

/* Writes a packet like Linux (signal on empty unless masked). hdr goes
 * between the descriptor and the payload (GPA-direct ranges). 0 or
 * -EAGAIN when full. */
int fg_send(struct fake_guest *g, struct fg_chan *c, uint16_t type,
	    uint16_t flags, uint64_t trans_id, const void *hdr,
	    uint32_t hdr_len, const void *data, uint32_t len);
/* Reads a packet like Linux (signals the host when it freed the space
 * pending_send_sz asks for). 1 with *d and the payload, 0 if empty. */
int fg_recv(struct fake_guest *g, struct fg_chan *c, struct vmbus_pkt_desc *d,
	    void *payload, uint32_t max, uint32_t *len);

unsigned int fg_signals(struct fake_guest *g, uint32_t relid);
/* Whether no kind was logged twice ("<prefix>: <kind>: ..." unique). */
bool fg_logs_once_per_kind(struct fake_guest *g);
bool fg_logged(struct fake_guest *g, const char *needle);

#endif
