/*
 * A child that speaks raw VMBus to its worker and abuses it: hypercalls
 * the worker must refuse, malformed channel messages, GPADLs naming
 * memory the child does not have or whose sizes do not add up, channel
 * opens that cannot work, and ring indices and packets that lie. Each
 * abuse must be refused (a failure status where the protocol has one,
 * silence where it has none) and logged once by the worker, and the
 * worker must keep answering: the test ends with a fresh INITIATE_CONTACT,
 * the offers and an UNLOAD, all of which must be answered.
 * root/initramfs/root-tests.sh (group vmbus-abuse) runs it with
 * `hvctl run --test-kernel` and checks the worker's log.
 *
 * SINT 2 is masked: the child polls its message slot instead of taking
 * interrupts. Replies are checked in order, so a reply to something the
 * server should have dropped shows up as the wrong message at the next
 * expected one, or within a quiet window.
 *
 * Memory: a child gets no memory map, so tk_alloc_pages() has nothing to
 * hand out; the SynIC pages and rings are page-aligned statics (the bss
 * is zeroed at entry, and GPA == VA in the test kernel's identity map).
 */
#include <hv/string.h>
#include "../lib/tk.h"
#include "../../../root/vmbus/protocol.h"	/* wire formats only */

#define PAGE 4096u
#define PFN(p) ((u64)(uintptr_t)(p) >> 12)

#define SINT_VMBUS_VECTOR 0xf3		/* as Linux's; never taken here */
#define SIM_SLOT (VMBUS_MESSAGE_SINT * HV_MESSAGE_SIZE)	/* 512 */
#define SIEF_AREA (VMBUS_MESSAGE_SINT * 256)	/* SINT 2's event flags */
#define MESSAGE_PENDING 0x1u

/* TIME_REF_COUNT counts 100 ns. QEMU TCG is slow: be generous. */
#define REPLY_TIMEOUT (10ull * 10000000)	/* 10 s */
#define QUIET_TIME (5000000ull)			/* 0.5 s */

/* The heartbeat and shutdown ICs' class GUIDs (root/vsp/ic.h). */
static const struct vmbus_guid heartbeat_type =
	VMBUS_GUID_INIT(0x57164f39, 0x9115, 0x4e78, 0xab, 0x55, 0x38, 0x2f,
			0x3b, 0xd5, 0x42, 0x2d);
static const struct vmbus_guid shutdown_type =
	VMBUS_GUID_INIT(0x0e0b6031, 0x5213, 0x4934, 0x81, 0x8b, 0x38, 0xd9,
			0x0c, 0xed, 0x39, 0xdb);

/* GPADL ids: the refused ones count up from where Linux starts its
 * own, so the first refused is GPADL_FIRST + 1. */
#define GPADL_FIRST 0xe1e10u
#define GPADL_REFUSED (GPADL_FIRST + 1)
#define GPADL_SPLIT 0xe1e01u
#define GPADL_HB_RING 0xe1e40u
#define GPADL_SD_RING 0xe1e50u
#define GPADL_UNKNOWN 0xbadu
#define RELID_UNKNOWN 77u
/* A PFN no 64 MiB child has: 4 GiB. */
#define PFN_FAR 0x100000ull

/*
 * The heartbeat ring: 2 pages guest->host, 4 host->guest. The server
 * refuses a host->guest ring whose data area cannot hold the IC's
 * largest packet (4 KiB) plus a trailer, so that side needs 2+ data
 * pages. The shutdown ring has 3 data pages guest->host, room for a
 * packet over the IC's 4 KiB limit.
 */
#define HB_PAGES 6u
#define HB_SEND 2u
#define SD_PAGES 8u
#define SD_SEND 4u

static u8 hypercall_page[PAGE] __aligned(PAGE);
static u8 sim_page[PAGE] __aligned(PAGE);
static u8 sief_page[PAGE] __aligned(PAGE);
static u8 monitor_pages[2][PAGE] __aligned(PAGE);
static u8 hb_ring[HB_PAGES][PAGE] __aligned(PAGE);
static u8 sd_ring[SD_PAGES][PAGE] __aligned(PAGE);

/* One host->guest message, copied out of the slot. */
struct msg {
	u32 type;		/* VMBus msgtype, 0 if shorter than that */
	u32 size;		/* the SynIC payload size */
	u8 data[VMBUS_MAX_MESSAGE_SIZE] __aligned(8);
};

struct channel {
	const char *name;
	u32 relid, conn;
	u32 gpadl;
};

static u32 msg_conn = VMBUS_MESSAGE_CONNECTION_ID_4;
static struct channel heartbeat = { .name = "heartbeat" };
static struct channel shutdown = { .name = "shutdown" };
static u32 nr_offers;

/* ------------------------------------------------------------ SynIC */

static u64 ref_time(void)
{
	return tk_rdmsr(HV_MSR_TIME_REF_COUNT);
}

/* What the worker must give a child that speaks VMBus. */
static bool vmbus_capable(void)
{
	u32 r[4];

	tk_cpuid(HV_CPUID_FEATURES, 0, r);
	return (r[0] & HV_PRIV_SYNIC_REGS) &&
	       (r[1] & (HV_PRIV_POST_MESSAGES >> 32)) &&
	       (r[1] & (HV_PRIV_SIGNAL_EVENTS >> 32));
}

static void synic_setup(void)
{
	tk_wrmsr(HV_MSR_GUEST_OS_ID, 0x8100000601c00000ull);
	tk_wrmsr(HV_MSR_HYPERCALL, (u64)(uintptr_t)hypercall_page |
		 HV_MSR_HYPERCALL_ENABLE);
	tk_wrmsr(HV_MSR_SIMP, (u64)(uintptr_t)sim_page | HV_MSR_PAGE_ENABLE);
	tk_wrmsr(HV_MSR_SIEFP, (u64)(uintptr_t)sief_page | HV_MSR_PAGE_ENABLE);
	/* Masked: messages wait in the slot, we poll it. */
	tk_wrmsr(HV_MSR_SINT0 + VMBUS_MESSAGE_SINT,
		 SINT_VMBUS_VECTOR | HV_SINT_MASKED);
	tk_wrmsr(HV_MSR_SCONTROL, 1);
	tk_printf("abuse: 1. SynIC on: SIMP %p, SIEF %p, SINT2 masked "
		  "(vector 0x%x), polling slot 2\n", sim_page, sief_page,
		  SINT_VMBUS_VECTOR);
}

/*
 * Takes the message in SINT 2's slot, if any. The slot is freed before
 * MessagePending is looked at: the hypervisor sets the flag only while
 * the slot is busy, so a flag set before our store is seen after it.
 */
static bool take_message(struct msg *m)
{
	volatile u8 *slot = sim_page + SIM_SLOT;
	u32 *type = (u32 *)(uintptr_t)slot;

	if (!__atomic_load_n(type, __ATOMIC_ACQUIRE))
		return false;
	m->size = MIN(slot[4], VMBUS_MAX_MESSAGE_SIZE);
	memcpy(m->data, (const u8 *)(uintptr_t)slot + 16, sizeof(m->data));
	m->type = 0;
	if (m->size >= sizeof(m->type))
		memcpy(&m->type, m->data, sizeof(m->type));
	__atomic_exchange_n(type, 0, __ATOMIC_SEQ_CST);
	if (slot[5] & MESSAGE_PENDING)
		tk_wrmsr(HV_MSR_EOM, 0);
	return true;
}

/* Polls for up to timeout (100 ns units). */
static bool recv_msg(struct msg *m, u64 timeout)
{
	u64 end = ref_time() + timeout;

	for (;;) {
		for (int i = 0; i < 1000; i++) {
			if (take_message(m))
				return true;
			__builtin_ia32_pause();
		}
		if (ref_time() > end)
			return false;
	}
}

/* ------------------------------------------------------------ hypercalls */

static u16 post_raw(u32 conn, u32 reserved, u32 synic_type, const void *msg,
		    u32 size)
{
	struct hv_input_post_message *in = tk_hc_in();

	memset(in, 0, sizeof(*in));
	in->connection_id = conn;
	in->reserved = reserved;
	in->message_type = synic_type;
	in->payload_size = size;
	memcpy(in->payload, msg, MIN(size, VMBUS_MAX_MESSAGE_SIZE));
	return HV_RESULT_STATUS(tk_hypercall(HV_HC_MAKE(HVCALL_POST_MESSAGE,
							0, 0, 0),
					     (u64)(uintptr_t)in, 0));
}

static u16 post(u32 conn, const void *msg, u32 size)
{
	return post_raw(conn, 0, VMBUS_SYNIC_MESSAGE_TYPE, msg, size);
}

/* HvSignalEvent, fast: connection id in 31:0, flag number in 47:32. */
static u16 doorbell_raw(u64 rdx)
{
	return HV_RESULT_STATUS(tk_hvcall_fast(HVCALL_SIGNAL_EVENT, rdx, 0));
}

static u16 doorbell(u32 conn)
{
	return doorbell_raw(conn);
}

static void check_status(u16 got, u16 want, const char *what)
{
	if (got != want)
		tk_fail("%s: status 0x%x, expected 0x%x", what, got, want);
	tk_printf("abuse:    %s -> 0x%x\n", what, got);
}

/* ------------------------------------------------------------ messages */

static const char *msg_name(u32 type)
{
	static const char *const names[VMBUS_MSG_COUNT] = {
		[VMBUS_MSG_OFFERCHANNEL] = "OFFERCHANNEL",
		[VMBUS_MSG_RESCIND_CHANNELOFFER] = "RESCIND_CHANNELOFFER",
		[VMBUS_MSG_ALLOFFERS_DELIVERED] = "ALLOFFERS_DELIVERED",
		[VMBUS_MSG_OPENCHANNEL_RESULT] = "OPENCHANNEL_RESULT",
		[VMBUS_MSG_GPADL_CREATED] = "GPADL_CREATED",
		[VMBUS_MSG_GPADL_TORNDOWN] = "GPADL_TORNDOWN",
		[VMBUS_MSG_VERSION_RESPONSE] = "VERSION_RESPONSE",
		[VMBUS_MSG_UNLOAD_RESPONSE] = "UNLOAD_RESPONSE",
		[VMBUS_MSG_MODIFYCHANNEL_RESPONSE] = "MODIFYCHANNEL_RESPONSE",
	};

	return type < VMBUS_MSG_COUNT && names[type] ? names[type] :
						       "a host message";
}

/* Posts a channel message; the hypercall succeeds whatever the server
 * thinks of the message itself (docs/vmbus.md). */
static void send_msg(const void *msg, u32 size, const char *what)
{
	u16 st = post(msg_conn, msg, size);

	if (st)
		tk_fail("%s: PostMessage status 0x%x, expected SUCCESS", what,
			st);
	tk_printf("abuse:    sent %s\n", what);
}

static void expect(struct msg *m, u32 type, u32 min_size, const char *after)
{
	if (!recv_msg(m, REPLY_TIMEOUT))
		tk_fail("%s: no %s within 10 s", after, msg_name(type));
	if (m->type != type)
		tk_fail("%s: got %s (type %u, %u bytes), expected %s", after,
			msg_name(m->type), m->type, m->size, msg_name(type));
	if (m->size < min_size)
		tk_fail("%s: %s of %u bytes, expected %u", after,
			msg_name(type), m->size, min_size);
}

/* Nothing may answer what came before. */
static void quiet(const char *what)
{
	struct msg m;

	if (recv_msg(&m, QUIET_TIME))
		tk_fail("%s: unexpected %s (type %u) in reply", what,
			msg_name(m.type), m.type);
	tk_printf("abuse:    no reply to %s, as expected\n", what);
}

/* ------------------------------------------------------------ 2. hypercalls */

static void hypercall_checks(void)
{
	struct vmbus_msg_header h = { .msgtype = VMBUS_MSG_REQUESTOFFERS };
	u8 big[VMBUS_MAX_MESSAGE_SIZE] = { VMBUS_MSG_REQUESTOFFERS };

	tk_printf("abuse: 2. hypercalls the worker must refuse\n");
	check_status(post(99, &h, sizeof(h)), HV_STATUS_INVALID_CONNECTION_ID,
		     "PostMessage to connection 99");
	check_status(post(msg_conn, big, VMBUS_MAX_MESSAGE_SIZE + 1),
		     HV_STATUS_INVALID_PARAMETER, "PostMessage of 241 bytes");
	check_status(post_raw(msg_conn, 0, 0, &h, sizeof(h)),
		     HV_STATUS_INVALID_PARAMETER,
		     "PostMessage with SynIC message type 0");
	check_status(post_raw(msg_conn, 0, 0x80000001u, &h, sizeof(h)),
		     HV_STATUS_INVALID_PARAMETER,
		     "PostMessage with a hypervisor message type");
	check_status(post_raw(msg_conn, 1, VMBUS_SYNIC_MESSAGE_TYPE, &h,
			      sizeof(h)),
		     HV_STATUS_INVALID_PARAMETER,
		     "PostMessage with its reserved field set");
	/* Well-formed for the hypercall; the server ignores the type. */
	check_status(post_raw(msg_conn, 0, 2, &h, sizeof(h)),
		     HV_STATUS_SUCCESS, "PostMessage of SynIC message type 2");
	check_status(doorbell(0x7f), HV_STATUS_INVALID_CONNECTION_ID,
		     "SignalEvent to connection 0x7f");
	check_status(doorbell(0x11), HV_STATUS_INVALID_CONNECTION_ID,
		     "SignalEvent to relid 1's doorbell before any offer");
	quiet("the refused hypercalls");
}

/* ------------------------------------------------------------ 3. early */

static struct vmbus_msg_initiate_contact contact(u32 version)
{
	struct vmbus_msg_initiate_contact c = {
		.header.msgtype = VMBUS_MSG_INITIATE_CONTACT,
		.vmbus_version_requested = version,
		.target_vcpu = (u32)tk_rdmsr(HV_MSR_VP_INDEX),
		.monitor_page1 = (u64)(uintptr_t)monitor_pages[0],
		.monitor_page2 = (u64)(uintptr_t)monitor_pages[1],
	};

	c.msg_sint = VMBUS_MESSAGE_SINT;
	return c;
}

/* A GPADL_HEADER with one range of byte_count bytes from offset. */
static u32 gpadl_header(u8 *buf, u32 relid, u32 id, u16 buflen,
			u16 rangecount, u32 byte_count, u32 offset,
			const u64 *pfns, u32 npfns)
{
	struct vmbus_msg_gpadl_header h = {
		.header.msgtype = VMBUS_MSG_GPADL_HEADER, .child_relid = relid,
		.gpadl = id, .range_buflen = buflen, .rangecount = rangecount,
	};
	struct vmbus_gpa_range r = { .byte_count = byte_count,
				     .byte_offset = offset };

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), &r, sizeof(r));
	memcpy(buf + sizeof(h) + sizeof(r), pfns, npfns * 8);
	return sizeof(h) + sizeof(r) + npfns * 8;
}

static void before_contact(void)
{
	struct vmbus_msg_initiate_contact c = contact(VMBUS_VERSION_5_3);
	struct vmbus_msg_header odd = { .msgtype = 99 };
	u8 buf[VMBUS_MAX_MESSAGE_SIZE];
	u64 pfn = PFN(hb_ring);
	u32 len;

	tk_printf("abuse: 3. malformed messages before contact\n");
	send_msg(&c, 8, "INITIATE_CONTACT cut to 8 bytes");
	send_msg(&c, 4, "a 4-byte message, shorter than a header");
	send_msg(&odd, sizeof(odd), "message type 99");
	odd.msgtype = VMBUS_MSG_VERSION_RESPONSE;
	send_msg(&odd, sizeof(odd), "VERSION_RESPONSE, a host->guest type");
	len = gpadl_header(buf, 1, GPADL_FIRST, 16, 1, PAGE, 0, &pfn, 1);
	send_msg(buf, len, "GPADL_HEADER before INITIATE_CONTACT");
	c.target_vcpu = 7;	/* the VM has one VP */
	send_msg(&c, sizeof(c), "INITIATE_CONTACT answering to VP 7");
	quiet("the malformed messages");
}

/* ------------------------------------------------------------ 4. contact */

static u8 try_contact(const struct vmbus_msg_initiate_contact *c,
		      const char *what)
{
	struct vmbus_msg_version_response r;
	struct msg m;

	send_msg(c, sizeof(*c), what);
	expect(&m, VMBUS_MSG_VERSION_RESPONSE, sizeof(r), what);
	memcpy(&r, m.data, sizeof(r));
	tk_printf("abuse:    VERSION_RESPONSE: version_supported %u, "
		  "connection_state %u, msg_conn_id %u\n", r.version_supported,
		  r.connection_state, r.msg_conn_id);
	if (r.version_supported) {
		TK_CHECK_EQ(r.connection_state, 0);
		TK_CHECK(r.msg_conn_id != 0);
		msg_conn = r.msg_conn_id;
	}
	return r.version_supported;
}

static void connect_5_3(const char *what)
{
	struct vmbus_msg_initiate_contact c = contact(VMBUS_VERSION_5_3);

	/* Contact always goes to connection 4 for 5.x (doc 6.1). */
	msg_conn = VMBUS_MESSAGE_CONNECTION_ID_4;
	if (!try_contact(&c, what))
		tk_fail("%s: version 5.3 refused", what);
}

static void note_offer(const struct vmbus_msg_offer_channel *o)
{
	struct channel *ch = NULL;

	if (!memcmp(&o->offer.if_type, &heartbeat_type, sizeof(heartbeat_type)))
		ch = &heartbeat;
	else if (!memcmp(&o->offer.if_type, &shutdown_type,
			 sizeof(shutdown_type)))
		ch = &shutdown;
	tk_printf("abuse:    OFFERCHANNEL relid %u connection 0x%x %s\n",
		  o->child_relid, o->connection_id,
		  ch ? ch->name : "(left alone)");
	TK_CHECK(o->child_relid != 0 && o->child_relid <= VMBUS_MAX_RELID);
	if (ch) {
		ch->relid = o->child_relid;
		ch->conn = o->connection_id;
	}
}

/* REQUESTOFFERS: the offers until ALLOFFERS_DELIVERED; their count. */
static u32 request_offers(void)
{
	struct vmbus_msg_header h = { .msgtype = VMBUS_MSG_REQUESTOFFERS };
	struct vmbus_msg_offer_channel o;
	struct msg m;
	u32 n = 0;

	send_msg(&h, sizeof(h), "REQUESTOFFERS");
	for (;;) {
		if (!recv_msg(&m, REPLY_TIMEOUT))
			tk_fail("offers: nothing within 10 s after %u", n);
		if (m.type == VMBUS_MSG_ALLOFFERS_DELIVERED)
			return n;
		if (m.type != VMBUS_MSG_OFFERCHANNEL)
			tk_fail("offers: got %s (type %u)", msg_name(m.type),
				m.type);
		if (m.size < sizeof(o) || ++n > 64)
			tk_fail("offers: offer of %u bytes, or too many",
				m.size);
		memcpy(&o, m.data, sizeof(o));
		note_offer(&o);
	}
}

static void contact_and_offers(void)
{
	struct vmbus_msg_initiate_contact c = contact(VMBUS_VERSION_5_3);
	struct vmbus_msg_header h = { .msgtype = VMBUS_MSG_REQUESTOFFERS };

	tk_printf("abuse: 4. contact and offers\n");
	c.msg_sint = 3;
	if (try_contact(&c, "INITIATE_CONTACT 5.3 asking for SINT 3"))
		tk_fail("a 5.3 contact on SINT 3 was accepted");
	c = contact(0x00090000);
	if (try_contact(&c, "INITIATE_CONTACT for version 9.0"))
		tk_fail("version 9.0 was accepted");
	connect_5_3("INITIATE_CONTACT 5.3");
	nr_offers = request_offers();
	tk_printf("abuse:    %u offers, then ALLOFFERS_DELIVERED\n", nr_offers);
	if (!heartbeat.relid || !shutdown.relid)
		tk_fail("no heartbeat or shutdown IC offered");
	send_msg(&h, sizeof(h), "a second REQUESTOFFERS");
	quiet("the second REQUESTOFFERS");

	check_status(doorbell_raw(heartbeat.conn | 1ull << 32),
		     HV_STATUS_INVALID_PARAMETER,
		     "SignalEvent on the heartbeat with flag number 1");
	check_status(doorbell_raw(heartbeat.conn | 1ull << 48),
		     HV_STATUS_INVALID_PARAMETER,
		     "SignalEvent on the heartbeat with RsvdZ bit 48 set");
	check_status(doorbell(heartbeat.conn), HV_STATUS_SUCCESS,
		     "SignalEvent on the heartbeat, not open yet");
}

/* ------------------------------------------------------------ 5. GPADLs */

static void expect_created(u32 id, bool ok, const char *what)
{
	struct vmbus_msg_gpadl_created c;
	struct msg m;

	expect(&m, VMBUS_MSG_GPADL_CREATED, sizeof(c), what);
	memcpy(&c, m.data, sizeof(c));
	tk_printf("abuse:    GPADL_CREATED gpadl 0x%x creation_status 0x%x\n",
		  c.gpadl, c.creation_status);
	TK_CHECK_EQ(c.gpadl, id);
	if (ok != !c.creation_status)
		tk_fail("%s: creation_status 0x%x", what, c.creation_status);
}

static u32 gpadl_body(u8 *buf, u32 id, const u64 *pfns, u32 npfns)
{
	struct vmbus_msg_gpadl_body b = {
		.header.msgtype = VMBUS_MSG_GPADL_BODY, .gpadl = id };

	memcpy(buf, &b, sizeof(b));
	memcpy(buf + sizeof(b), pfns, npfns * 8);
	return sizeof(b) + npfns * 8;
}

/* A GPADL_HEADER the server must refuse at once with GPADL_CREATED. */
static void bad_gpadl(u32 relid, u16 buflen, u16 rangecount, u32 bytes,
		      u32 offset, const u64 *pfns, u32 npfns, const char *what)
{
	static u32 id = GPADL_FIRST;
	u8 buf[VMBUS_MAX_MESSAGE_SIZE];
	u32 len = gpadl_header(buf, relid, ++id, buflen, rangecount, bytes,
			       offset, pfns, npfns);

	send_msg(buf, len, what);
	expect_created(id, false, what);
}

/* Whole pages of a ring as one GPADL, split over BODY messages after
 * header_pfns PFNs, as Linux splits long ones. */
static void ring_gpadl(struct channel *ch, u8 (*ring)[PAGE], u32 pages,
		       u32 header_pfns, u32 id)
{
	u8 buf[VMBUS_MAX_MESSAGE_SIZE];
	u64 pfns[16];
	u32 len;

	for (u32 i = 0; i < pages; i++)
		pfns[i] = PFN(ring[i]);
	len = gpadl_header(buf, ch->relid, id, 8 + pages * 8, 1,
			   pages * PAGE, 0, pfns, header_pfns);
	send_msg(buf, len, "GPADL_HEADER of a ring");
	if (header_pfns < pages) {
		len = gpadl_body(buf, id, pfns + header_pfns,
				 pages - header_pfns);
		send_msg(buf, len, "GPADL_BODY with the rest of the ring");
	}
	expect_created(id, true, "a ring GPADL");
	ch->gpadl = id;
}

static void gpadl_abuse(void)
{
	u64 pfns[3] = { PFN(hb_ring[0]), PFN(hb_ring[1]), PFN(hb_ring[2]) };
	u64 far[2] = { PFN(hb_ring[0]), PFN_FAR };
	u64 huge = (1ull << 52) - 1;
	u32 hb = heartbeat.relid, len;
	u8 buf[VMBUS_MAX_MESSAGE_SIZE];

	tk_printf("abuse: 5. GPADLs\n");
	bad_gpadl(hb, 24, 1, 2 * PAGE, 0, far, 2,
		  "GPADL_HEADER with PFN 0x100000 (4 GiB, beyond RAM)");
	bad_gpadl(hb, 16, 1, PAGE, 0, &huge, 1, "GPADL_HEADER with PFN 2^52-1");
	bad_gpadl(hb, 8, 1, PAGE, 0, pfns, 0,
		  "GPADL_HEADER with range_buflen 8 for one range");
	bad_gpadl(hb, 16, 0, PAGE, 0, pfns, 1,
		  "GPADL_HEADER with rangecount 0");
	bad_gpadl(hb, 16, 1, PAGE, 0, pfns, 2,
		  "GPADL_HEADER with more bytes than range_buflen");
	bad_gpadl(hb, 24, 1, PAGE, 0, pfns, 2,
		  "GPADL_HEADER with 2 PFNs for a 1-page range");
	bad_gpadl(hb, 16, 1, PAGE, PAGE, pfns, 1,
		  "GPADL_HEADER with byte_offset 4096");
	bad_gpadl(RELID_UNKNOWN, 16, 1, PAGE, 0, pfns, 1,
		  "GPADL_HEADER for unknown relid 77");

	/* A header waiting for one more PFN gets two. */
	len = gpadl_header(buf, hb, GPADL_SPLIT, 24, 1, 2 * PAGE, 0, pfns, 1);
	send_msg(buf, len, "GPADL_HEADER of 2 pages carrying 1 PFN");
	len = gpadl_body(buf, GPADL_SPLIT, pfns + 1, 2);
	send_msg(buf, len, "GPADL_BODY with 2 PFNs where 1 fits");
	expect_created(GPADL_SPLIT, false, "a GPADL_BODY beyond range_buflen");

	len = gpadl_body(buf, GPADL_UNKNOWN, pfns, 1);
	send_msg(buf, len, "GPADL_BODY for unknown GPADL 0xbad");
	quiet("the GPADL_BODY for an unknown GPADL");

	ring_gpadl(&heartbeat, hb_ring, HB_PAGES, HB_PAGES, GPADL_HB_RING);
	/* Refusing a duplicate must not take the original with it: the
	 * heartbeat opens on it below. */
	len = gpadl_header(buf, hb, GPADL_HB_RING, 16, 1, PAGE, 0, pfns, 1);
	send_msg(buf, len, "GPADL_HEADER reusing the ring's id");
	expect_created(GPADL_HB_RING, false, "a GPADL id already in use");
}

/* ------------------------------------------------------------ 5b. opens */

static void open_channel(u32 relid, u32 gpadl, u32 send_pages, u32 vp,
			 bool ok, const char *what)
{
	struct vmbus_msg_open_channel o = {
		.header.msgtype = VMBUS_MSG_OPENCHANNEL, .child_relid = relid,
		.openid = relid, .ringbuffer_gpadl = gpadl, .target_vp = vp,
		.downstream_ring_page_offset = send_pages,
	};
	struct vmbus_msg_open_result r;
	struct msg m;

	send_msg(&o, sizeof(o), what);
	expect(&m, VMBUS_MSG_OPENCHANNEL_RESULT, sizeof(r), what);
	memcpy(&r, m.data, sizeof(r));
	tk_printf("abuse:    OPENCHANNEL_RESULT relid %u status 0x%x\n",
		  r.child_relid, r.status);
	TK_CHECK_EQ(r.child_relid, relid);
	TK_CHECK_EQ(r.openid, relid);
	if (ok != !r.status)
		tk_fail("%s: status 0x%x", what, r.status);
}

static struct vmbus_ring_ctl *ring_ctl(u8 (*ring)[PAGE], u32 page)
{
	return (struct vmbus_ring_ctl *)ring[page];
}

static volatile u8 *sief_byte(u32 relid)
{
	return sief_page + SIEF_AREA + relid / 8;
}

/* An open IC speaks first: its negotiation is in our ring, signalled. */
static void check_ic_spoke(struct channel *ch, u8 (*ring)[PAGE],
			   u32 send_pages)
{
	volatile struct vmbus_ring_ctl *out = ring_ctl(ring, send_pages);

	TK_CHECK(out->write_index != 0);
	TK_CHECK(*sief_byte(ch->relid) & (1u << (ch->relid % 8)));
	*sief_byte(ch->relid) = 0;
	tk_printf("abuse:    %s wrote %u bytes to its ring and set SIEF bit "
		  "%u\n", ch->name, out->write_index, ch->relid);
}

static void open_abuse(void)
{
	u32 hb = heartbeat.relid;

	open_channel(RELID_UNKNOWN, heartbeat.gpadl, HB_SEND, 0, false,
		     "OPENCHANNEL for unknown relid 77");
	open_channel(hb, heartbeat.gpadl, 5, 0, false,
		     "OPENCHANNEL with downstream offset 5 of 6 pages");
	open_channel(hb, GPADL_REFUSED, HB_SEND, 0, false,
		     "OPENCHANNEL with a refused GPADL");
	open_channel(shutdown.relid, heartbeat.gpadl, HB_SEND, 0, false,
		     "OPENCHANNEL with another channel's GPADL");
	open_channel(hb, heartbeat.gpadl, HB_SEND, 9, false,
		     "OPENCHANNEL for target VP 9");
	open_channel(hb, heartbeat.gpadl, HB_SEND, 0, true,
		     "OPENCHANNEL heartbeat, downstream offset 2");
	check_ic_spoke(&heartbeat, hb_ring, HB_SEND);
	open_channel(hb, heartbeat.gpadl, HB_SEND, 0, false,
		     "OPENCHANNEL heartbeat again, already open");
}

/* ------------------------------------------------------------ 6. rings */

/*
 * Writes a packet header at offset off of the guest->host data area of
 * data_bytes, and its trailer if the packet fits (readers ignore the
 * trailer's content); the index is published separately.
 */
static void put_packet(u8 (*ring)[PAGE], u32 data_bytes, u32 off, u16 len8)
{
	struct vmbus_pkt_desc d = { .type = VM_PKT_DATA_INBAND,
				    .offset8 = 2, .len8 = len8 };
	u8 *data = ring[1];

	memcpy(data + off, &d, sizeof(d));
	if (off + len8 * 8u + VMBUS_PKT_TRAILER <= data_bytes)
		memset(data + off + len8 * 8u, 0, VMBUS_PKT_TRAILER);
}

static void publish(u8 (*ring)[PAGE], u32 write_index)
{
	__atomic_store_n(&ring_ctl(ring, 0)->write_index, write_index,
			 __ATOMIC_RELEASE);
}

static u32 host_read_index(u8 (*ring)[PAGE])
{
	return __atomic_load_n(&ring_ctl(ring, 0)->read_index,
			       __ATOMIC_ACQUIRE);
}

static void ring_doorbells(const struct channel *ch, int n, const char *what)
{
	for (int i = 0; i < n; i++)
		check_status(doorbell(ch->conn), HV_STATUS_SUCCESS, what);
}

static void close_channel(const struct channel *ch)
{
	struct vmbus_msg_close_channel c = {
		.header.msgtype = VMBUS_MSG_CLOSECHANNEL,
		.child_relid = ch->relid };

	send_msg(&c, sizeof(c), "CLOSECHANNEL");
}

static void heartbeat_ring_abuse(void)
{
	struct vmbus_msg_gpadl_teardown t = {
		.header.msgtype = VMBUS_MSG_GPADL_TEARDOWN,
		.child_relid = heartbeat.relid, .gpadl = heartbeat.gpadl };
	struct msg m;

	publish(hb_ring, 13);
	check_status(doorbell(heartbeat.conn), HV_STATUS_SUCCESS,
		     "heartbeat doorbell with write_index 13");
	/* A good packet now: a stopped channel must leave it alone. */
	put_packet(hb_ring, (HB_SEND - 1) * PAGE, 0, 2);
	publish(hb_ring, 16 + VMBUS_PKT_TRAILER);
	ring_doorbells(&heartbeat, 3, "heartbeat doorbell, channel stopped");
	TK_CHECK_EQ(host_read_index(hb_ring), 0);
	tk_printf("abuse:    the stopped heartbeat channel left its ring "
		  "alone\n");

	/* Closing restarts it: the same GPADL opens afresh, with zeroed
	 * control pages as a new open would have. */
	close_channel(&heartbeat);
	quiet("CLOSECHANNEL");
	memset(ring_ctl(hb_ring, 0), 0, PAGE);
	memset(ring_ctl(hb_ring, HB_SEND), 0, PAGE);
	open_channel(heartbeat.relid, heartbeat.gpadl, HB_SEND, 0, true,
		     "OPENCHANNEL heartbeat after the close");
	check_ic_spoke(&heartbeat, hb_ring, HB_SEND);

	/* Tearing down a ring in use waits for the close. */
	send_msg(&t, sizeof(t), "GPADL_TEARDOWN of the open heartbeat ring");
	t.gpadl = GPADL_UNKNOWN;
	send_msg(&t, sizeof(t), "GPADL_TEARDOWN of unknown GPADL 0xbad");
	quiet("the teardowns");
	close_channel(&heartbeat);
	expect(&m, VMBUS_MSG_GPADL_TORNDOWN,
	       sizeof(struct vmbus_msg_gpadl_torndown), "the close");
	TK_CHECK_EQ(((struct vmbus_msg_gpadl_torndown *)m.data)->gpadl,
		    heartbeat.gpadl);
	tk_printf("abuse:    GPADL_TORNDOWN 0x%x after the close\n",
		  heartbeat.gpadl);
}

static void shutdown_ring_abuse(void)
{
	u32 big = 4096 + 16;	/* over the IC's 4 KiB packet limit */
	u32 next = big + VMBUS_PKT_TRAILER;

	ring_gpadl(&shutdown, sd_ring, SD_PAGES, 5, GPADL_SD_RING);
	open_channel(shutdown.relid, shutdown.gpadl, SD_SEND, 0, true,
		     "OPENCHANNEL shutdown, downstream offset 4");
	check_ic_spoke(&shutdown, sd_ring, SD_SEND);

	put_packet(sd_ring, (SD_SEND - 1) * PAGE, 0, big / 8);
	publish(sd_ring, next);
	check_status(doorbell(shutdown.conn), HV_STATUS_SUCCESS,
		     "shutdown doorbell, a 4112-byte packet");
	TK_CHECK_EQ(host_read_index(sd_ring), next);
	tk_printf("abuse:    the oversized packet was skipped, read_index "
		  "%u\n", next);

	put_packet(sd_ring, (SD_SEND - 1) * PAGE, next, 0xffff);
	publish(sd_ring, next + 16 + VMBUS_PKT_TRAILER);
	check_status(doorbell(shutdown.conn), HV_STATUS_SUCCESS,
		     "shutdown doorbell, a packet with len8 0xffff");
	ring_doorbells(&shutdown, 2, "shutdown doorbell, channel stopped");
	TK_CHECK_EQ(host_read_index(sd_ring), next);
	tk_printf("abuse:    the stopped shutdown channel left its ring "
		  "alone\n");
}

/* ------------------------------------------------------------ 7. alive */

static void still_answers(void)
{
	struct vmbus_msg_header h = { .msgtype = VMBUS_MSG_UNLOAD };
	struct msg m;
	u32 n;

	tk_printf("abuse: 7. the worker still answers\n");
	connect_5_3("INITIATE_CONTACT 5.3 again (a reset)");
	n = request_offers();
	TK_CHECK_EQ(n, nr_offers);
	tk_printf("abuse:    the same %u offers again\n", n);
	send_msg(&h, sizeof(h), "UNLOAD");
	expect(&m, VMBUS_MSG_UNLOAD_RESPONSE, sizeof(h), "UNLOAD");
	tk_printf("abuse:    UNLOAD_RESPONSE\n");
}

void child_main(void)
{
	if (!tk_generic_parent() || !vmbus_capable())
		tk_skip("needs a worker's VMBus (hvctl run --test-kernel)");
	synic_setup();
	hypercall_checks();
	before_contact();
	contact_and_offers();
	gpadl_abuse();
	open_abuse();
	tk_printf("abuse: 6. ring abuse\n");
	heartbeat_ring_abuse();
	shutdown_ring_abuse();
	still_answers();
	tk_printf("abuse: every abuse refused; the worker still answers\n");
	tk_pass();
}

void test_main(void)
{
	tk_skip("a child of a worker only (hvctl run --test-kernel)");
}
