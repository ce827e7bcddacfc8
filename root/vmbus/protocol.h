/*
 * VMBus wire formats: the channel messages carried in SynIC messages,
 * the ring buffer control page and the packets in the rings. Layouts
 * follow Linux 6.1's include/linux/hyperv.h, as tabulated in
 * shared/design/hyperv-guest-abi.md section 6; every size and offset
 * that document states is asserted here, so a layout slip fails the
 * build instead of a guest.
 *
 * Bit fields of the Linux structs are spelled as whole integers plus
 * masks, so the layout does not depend on the compiler's bit-field
 * rules. All multi-byte fields are little-endian (x86 only).
 */
#ifndef ROOT_VMBUS_PROTOCOL_H
#define ROOT_VMBUS_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#define VMBUS_PACKED __attribute__((packed))

/* ------------------------------------------------------------ transport */

#define VMBUS_PAGE_SHIFT 12
#define VMBUS_PAGE_SIZE 4096u

#define VMBUS_MESSAGE_SINT 2		/* SINT of host->guest messages */
#define VMBUS_SYNIC_MESSAGE_TYPE 1u	/* SynIC MessageType we post */
#define VMBUS_MAX_MESSAGE_SIZE 240u	/* a SynIC message payload */

/* Connection ids a guest posts control messages to. */
#define VMBUS_MESSAGE_CONNECTION_ID 1u		/* all messages, < 5.0 */
#define VMBUS_MESSAGE_CONNECTION_ID_4 4u	/* INITIATE_CONTACT, >= 5.0 */

/* Linux keeps relids below this (MAX_CHANNEL_RELIDS); relid 0 is unused. */
#define VMBUS_MAX_RELID 2047u

/* Protocol versions, (major << 16) | minor; Linux tries them newest first. */
enum vmbus_version {
	VMBUS_VERSION_WS2012 = 0x00020004,	/* 2.4 */
	VMBUS_VERSION_WS2012R2 = 0x00030000,	/* 3.0 */
	VMBUS_VERSION_WS2016 = 0x00040000,	/* 4.0 */
	VMBUS_VERSION_4_1 = 0x00040001,
	VMBUS_VERSION_5_0 = 0x00050000,
	VMBUS_VERSION_5_1 = 0x00050001,
	VMBUS_VERSION_5_2 = 0x00050002,		/* WS2019 */
	VMBUS_VERSION_5_3 = 0x00050003,		/* WS2022 */
};

/* ------------------------------------------------------------ messages */

enum vmbus_msgtype {
	VMBUS_MSG_INVALID = 0,
	VMBUS_MSG_OFFERCHANNEL = 1,
	VMBUS_MSG_RESCIND_CHANNELOFFER = 2,
	VMBUS_MSG_REQUESTOFFERS = 3,
	VMBUS_MSG_ALLOFFERS_DELIVERED = 4,
	VMBUS_MSG_OPENCHANNEL = 5,
	VMBUS_MSG_OPENCHANNEL_RESULT = 6,
	VMBUS_MSG_CLOSECHANNEL = 7,
	VMBUS_MSG_GPADL_HEADER = 8,
	VMBUS_MSG_GPADL_BODY = 9,
	VMBUS_MSG_GPADL_CREATED = 10,
	VMBUS_MSG_GPADL_TEARDOWN = 11,
	VMBUS_MSG_GPADL_TORNDOWN = 12,
	VMBUS_MSG_RELID_RELEASED = 13,
	VMBUS_MSG_INITIATE_CONTACT = 14,
	VMBUS_MSG_VERSION_RESPONSE = 15,
	VMBUS_MSG_UNLOAD = 16,
	VMBUS_MSG_UNLOAD_RESPONSE = 17,
	VMBUS_MSG_TL_CONNECT_REQUEST = 21,
	VMBUS_MSG_MODIFYCHANNEL = 22,
	VMBUS_MSG_TL_CONNECT_RESULT = 23,
	VMBUS_MSG_MODIFYCHANNEL_RESPONSE = 24,
	VMBUS_MSG_COUNT = 25,		/* Linux drops types >= this */
};

/* A failure status for OPENCHANNEL_RESULT, GPADL_CREATED and
 * MODIFYCHANNEL_RESPONSE: Linux only tests for non-zero. */
#define VMBUS_STATUS_OK 0u
#define VMBUS_STATUS_UNSUCCESSFUL 0xc0000001u	/* NTSTATUS */

struct vmbus_guid {
	uint8_t b[16];			/* wire (memory) order */
};
_Static_assert(sizeof(struct vmbus_guid) == 16, "guid");

/*
 * A GUID from its canonical text "aaaaaaaa-bbbb-cccc-dddd-dddddddddddd":
 * the first three fields are stored little-endian, the rest as written.
 */
#define VMBUS_GUID_INIT(a, b, c, d0, d1, d2, d3, d4, d5, d6, d7)             \
	{ {                                                                   \
		(a) & 0xff, ((a) >> 8) & 0xff, ((a) >> 16) & 0xff,           \
		((a) >> 24) & 0xff, (b) & 0xff, ((b) >> 8) & 0xff,           \
		(c) & 0xff, ((c) >> 8) & 0xff, d0, d1, d2, d3, d4, d5, d6, d7 \
	} }

struct vmbus_msg_header {
	uint32_t msgtype;		/* enum vmbus_msgtype */
	uint32_t padding;
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_msg_header) == 8, "message header");

/* The offer proper (struct vmbus_channel_offer), 176 bytes. */
struct vmbus_offer {
	struct vmbus_guid if_type;
	struct vmbus_guid if_instance;
	uint64_t reserved1;
	uint64_t reserved2;
	uint16_t chn_flags;
	uint16_t mmio_megabytes;
	uint8_t user_def[120];
	uint16_t sub_channel_index;
	uint16_t reserved3;
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_offer) == 176, "offer");

#define VMBUS_OFFER_MONITOR_ALLOCATED 0x01u	/* monitor_flags bit 0 */
#define VMBUS_OFFER_DEDICATED_INTERRUPT 0x0001u /* interrupt_flags bit 0 */

struct vmbus_msg_offer_channel {
	struct vmbus_msg_header header;
	struct vmbus_offer offer;
	uint32_t child_relid;
	uint8_t monitorid;
	uint8_t monitor_flags;		/* monitor_allocated:1 */
	uint16_t interrupt_flags;	/* is_dedicated_interrupt:1 */
	uint32_t connection_id;
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_msg_offer_channel) == 196, "OFFERCHANNEL");
_Static_assert(offsetof(struct vmbus_msg_offer_channel, offer) == 8, "offer@8");
_Static_assert(offsetof(struct vmbus_msg_offer_channel, offer.if_instance) ==
	       24, "if_instance@24");
_Static_assert(offsetof(struct vmbus_msg_offer_channel, offer.reserved1) == 40,
	       "reserved1@40");
_Static_assert(offsetof(struct vmbus_msg_offer_channel, offer.chn_flags) == 56,
	       "chn_flags@56");
_Static_assert(offsetof(struct vmbus_msg_offer_channel,
			offer.mmio_megabytes) == 58, "mmio_megabytes@58");
_Static_assert(offsetof(struct vmbus_msg_offer_channel, offer.user_def) == 60,
	       "user_def@60");
_Static_assert(offsetof(struct vmbus_msg_offer_channel,
			offer.sub_channel_index) == 180,
	       "sub_channel_index@180");
_Static_assert(offsetof(struct vmbus_msg_offer_channel, child_relid) == 184,
	       "child_relid@184");
_Static_assert(offsetof(struct vmbus_msg_offer_channel, monitorid) == 188,
	       "monitorid@188");
_Static_assert(offsetof(struct vmbus_msg_offer_channel, monitor_flags) == 189,
	       "monitor_allocated@189");
_Static_assert(offsetof(struct vmbus_msg_offer_channel, interrupt_flags) ==
	       190, "is_dedicated_interrupt@190");
_Static_assert(offsetof(struct vmbus_msg_offer_channel, connection_id) == 192,
	       "connection_id@192");

struct vmbus_msg_rescind_offer {
	struct vmbus_msg_header header;
	uint32_t child_relid;
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_msg_rescind_offer) == 12, "RESCIND");

/* REQUESTOFFERS, ALLOFFERS_DELIVERED, UNLOAD and UNLOAD_RESPONSE are a
 * bare header. */

#define VMBUS_OPEN_USER_DATA 120

struct vmbus_msg_open_channel {
	struct vmbus_msg_header header;
	uint32_t child_relid;
	uint32_t openid;
	uint32_t ringbuffer_gpadl;
	uint32_t target_vp;
	uint32_t downstream_ring_page_offset;	/* g->h ring pages */
	uint8_t userdata[VMBUS_OPEN_USER_DATA];
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_msg_open_channel) == 148, "OPENCHANNEL");
_Static_assert(offsetof(struct vmbus_msg_open_channel,
			downstream_ring_page_offset) == 24, "page offset@24");

struct vmbus_msg_open_result {
	struct vmbus_msg_header header;
	uint32_t child_relid;
	uint32_t openid;
	uint32_t status;
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_msg_open_result) == 20,
	       "OPENCHANNEL_RESULT");

struct vmbus_msg_close_channel {
	struct vmbus_msg_header header;
	uint32_t child_relid;
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_msg_close_channel) == 12, "CLOSECHANNEL");

/* One GPA range: byte_count bytes from byte_offset into pfn[0]. */
struct vmbus_gpa_range {
	uint32_t byte_count;
	uint32_t byte_offset;
	/* uint64_t pfn[DIV_ROUND_UP(byte_offset + byte_count, 4096)]; */
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_gpa_range) == 8, "gpa_range");

struct vmbus_msg_gpadl_header {
	struct vmbus_msg_header header;
	uint32_t child_relid;
	uint32_t gpadl;
	uint16_t range_buflen;		/* bytes of ranges with PFNs */
	uint16_t rangecount;
	/* struct vmbus_gpa_range range[]; with PFNs, may continue in BODYs */
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_msg_gpadl_header) == 20, "GPADL_HEADER");

struct vmbus_msg_gpadl_body {
	struct vmbus_msg_header header;
	uint32_t msgnumber;		/* Linux leaves it 0 */
	uint32_t gpadl;
	/* uint64_t pfn[]; */
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_msg_gpadl_body) == 16, "GPADL_BODY");

/* PFNs that fit one message, as Linux splits a GPADL (doc 6.3). */
#define VMBUS_GPADL_HEADER_PFNS 26
#define VMBUS_GPADL_BODY_PFNS 28
_Static_assert(sizeof(struct vmbus_msg_gpadl_header) +
	       sizeof(struct vmbus_gpa_range) +
	       VMBUS_GPADL_HEADER_PFNS * 8 <= VMBUS_MAX_MESSAGE_SIZE,
	       "header PFNs");
_Static_assert(sizeof(struct vmbus_msg_gpadl_body) +
	       VMBUS_GPADL_BODY_PFNS * 8 <= VMBUS_MAX_MESSAGE_SIZE,
	       "body PFNs");

struct vmbus_msg_gpadl_created {
	struct vmbus_msg_header header;
	uint32_t child_relid;
	uint32_t gpadl;
	uint32_t creation_status;
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_msg_gpadl_created) == 20, "GPADL_CREATED");

struct vmbus_msg_gpadl_teardown {
	struct vmbus_msg_header header;
	uint32_t child_relid;
	uint32_t gpadl;
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_msg_gpadl_teardown) == 16,
	       "GPADL_TEARDOWN");

struct vmbus_msg_gpadl_torndown {
	struct vmbus_msg_header header;
	uint32_t gpadl;
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_msg_gpadl_torndown) == 12,
	       "GPADL_TORNDOWN");

struct vmbus_msg_relid_released {
	struct vmbus_msg_header header;
	uint32_t child_relid;
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_msg_relid_released) == 12,
	       "RELID_RELEASED");

struct vmbus_msg_initiate_contact {
	struct vmbus_msg_header header;
	uint32_t vmbus_version_requested;
	uint32_t target_vcpu;		/* VP for host->guest messages */
	union {
		uint64_t interrupt_page;	/* < 5.0 */
		struct {
			uint8_t msg_sint;	/* >= 5.0 */
			uint8_t padding1[7];
		};
	};
	uint64_t monitor_page1;
	uint64_t monitor_page2;
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_msg_initiate_contact) == 40,
	       "INITIATE_CONTACT");
_Static_assert(offsetof(struct vmbus_msg_initiate_contact, msg_sint) == 16,
	       "msg_sint@16");
_Static_assert(offsetof(struct vmbus_msg_initiate_contact, monitor_page1) ==
	       24, "monitor_page1@24");

struct vmbus_msg_version_response {
	struct vmbus_msg_header header;
	uint8_t version_supported;
	uint8_t connection_state;	/* 0: ok */
	uint16_t padding;
	uint32_t msg_conn_id;		/* >= 5.0 */
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_msg_version_response) == 16,
	       "VERSION_RESPONSE");

struct vmbus_msg_modify_channel {
	struct vmbus_msg_header header;
	uint32_t child_relid;
	uint32_t target_vp;
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_msg_modify_channel) == 16,
	       "MODIFYCHANNEL");

struct vmbus_msg_modify_response {
	struct vmbus_msg_header header;
	uint32_t child_relid;
	uint32_t status;
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_msg_modify_response) == 16,
	       "MODIFYCHANNEL_RESPONSE");

/* ------------------------------------------------------------ rings */

/*
 * The first page of each ring (struct hv_ring_buffer). The rest of that
 * page is reserved; the data area starts on the next page. Not packed:
 * all u32, so naturally laid out, and its fields can be used atomically.
 */
struct vmbus_ring_ctl {
	uint32_t write_index;		/* owned by the writer */
	uint32_t read_index;		/* owned by the reader */
	uint32_t interrupt_mask;	/* reader: "draining, don't signal" */
	uint32_t pending_send_sz;	/* blocked writer: bytes it needs */
	uint32_t reserved1[12];
	uint32_t feature_bits;
};
_Static_assert(sizeof(struct vmbus_ring_ctl) == 0x44, "ring control");
_Static_assert(offsetof(struct vmbus_ring_ctl, interrupt_mask) == 0x08,
	       "interrupt_mask@8");
_Static_assert(offsetof(struct vmbus_ring_ctl, pending_send_sz) == 0x0c,
	       "pending_send_sz@0xc");
_Static_assert(offsetof(struct vmbus_ring_ctl, feature_bits) == 0x40,
	       "feature_bits@0x40");

#define VMBUS_RING_FEAT_PENDING_SEND_SZ 0x1u

enum vmbus_packet_type {
	VM_PKT_DATA_INBAND = 0x6,
	VM_PKT_DATA_USING_XFER_PAGES = 0x7,
	VM_PKT_DATA_USING_GPA_DIRECT = 0x9,
	VM_PKT_COMP = 0xb,
};

#define VMBUS_PKT_FLAG_COMPLETION_REQUESTED 0x1u

/* Every packet starts with this; len8/offset8 count 8-byte units. */
struct vmbus_pkt_desc {
	uint16_t type;			/* enum vmbus_packet_type */
	uint16_t offset8;		/* payload offset in the packet */
	uint16_t len8;			/* packet length, no trailer */
	uint16_t flags;
	uint64_t trans_id;
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_pkt_desc) == 16, "packet descriptor");

/* Each packet is followed by this (the writer's start index << 32). */
#define VMBUS_PKT_TRAILER 8u

/* VM_PKT_DATA_USING_GPA_DIRECT: after the descriptor, then the ranges
 * (struct vmbus_gpa_range + PFNs each), back to back. */
struct vmbus_gpa_direct_hdr {
	uint32_t reserved;
	uint32_t range_count;
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_gpa_direct_hdr) == 8, "GPA direct header");

/* VM_PKT_DATA_USING_XFER_PAGES: after the descriptor (netvsc RX). */
struct vmbus_xfer_page_hdr {
	uint16_t pageset_id;
	uint8_t sender_owns_set;
	uint8_t reserved;
	uint32_t range_count;
	/* struct { uint32_t byte_count, byte_offset; } range[]; */
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmbus_xfer_page_hdr) == 8, "xfer page header");

/* len8 is 16 bits: no packet is longer than this. */
#define VMBUS_MAX_PACKET (UINT16_MAX * 8u)

/* Largest host->guest packet (descriptor included) Linux takes by
 * default (VMBUS_DEFAULT_MAX_PKT_SIZE); bigger ones desync its ring. */
#define VMBUS_DEFAULT_MAX_PKT_SIZE 4096u

#endif
