/*
 * storvsp: the VMBus storage provider Linux's hv_storvsc talks to
 * (shared/design/hyperv-guest-abi.md section 7). One SCSI controller
 * with, at most, one disk: LUN 0 of path 0, target 0, backed by a
 * struct scsi_disk. Requests run synchronously in the thread that
 * services the channel; completions are VM_PKT_COMP packets with a
 * 64-byte vstor_packet and the request's trans_id.
 */
#ifndef ROOT_VSP_STORVSP_H
#define ROOT_VSP_STORVSP_H

#include <stdint.h>

#include "scsi.h"
#include "vmbus/vmbus.h"

/* ------------------------------------------------------------ wire */

enum vstor_operation {
	VSTOR_OP_COMPLETE_IO = 1,
	VSTOR_OP_REMOVE_DEVICE = 2,
	VSTOR_OP_EXECUTE_SRB = 3,
	VSTOR_OP_RESET_LUN = 4,
	VSTOR_OP_RESET_ADAPTER = 5,
	VSTOR_OP_RESET_BUS = 6,
	VSTOR_OP_BEGIN_INITIALIZATION = 7,
	VSTOR_OP_END_INITIALIZATION = 8,
	VSTOR_OP_QUERY_PROTOCOL_VERSION = 9,
	VSTOR_OP_QUERY_PROPERTIES = 10,
	VSTOR_OP_ENUMERATE_BUS = 11,
	VSTOR_OP_FCHBA_DATA = 12,
	VSTOR_OP_CREATE_SUB_CHANNELS = 13,
};

/* Protocol versions, (major << 8) | minor; Linux tries them in order. */
#define VSTOR_PROTO_WIN10 0x0602
#define VSTOR_PROTO_WIN8_1 0x0600
#define VSTOR_PROTO_WIN8 0x0501

#define VSTOR_FLAG_REQUEST_COMPLETION 0x1u

/* NTSTATUS values in vstor_packet.status. */
#define VSTOR_STATUS_SUCCESS 0x00000000u
#define VSTOR_STATUS_INVALID_DEVICE_REQUEST 0xc0000010u
#define VSTOR_STATUS_REVISION_MISMATCH 0xc0000059u
#define VSTOR_STATUS_INVALID_DEVICE_STATE 0xc0000184u

/* vmscsi_request.srb_status */
#define SRB_STATUS_SUCCESS 0x01
#define SRB_STATUS_ERROR 0x04
#define SRB_STATUS_INVALID_REQUEST 0x06
#define SRB_STATUS_DATA_OVERRUN 0x12
#define SRB_STATUS_INVALID_LUN 0x20
#define SRB_STATUS_AUTOSENSE_VALID 0x80

/* vmscsi_request.data_in */
#define VSTOR_DATA_WRITE 0		/* to the device */
#define VSTOR_DATA_READ 1
#define VSTOR_DATA_NONE 2

#define VSTOR_CDB_MAX 16
#define VSTOR_SENSE_MAX 20

/* The win8+ SRB (Linux 6.1 only negotiates win8 and later). */
struct vmscsi_request {
	uint16_t length;
	uint8_t srb_status;
	uint8_t scsi_status;
	uint8_t port_number;
	uint8_t path_id;
	uint8_t target_id;
	uint8_t lun;
	uint8_t cdb_length;
	uint8_t sense_info_length;
	uint8_t data_in;
	uint8_t reserved;
	uint32_t data_transfer_length;
	union {
		uint8_t cdb[VSTOR_CDB_MAX];
		uint8_t sense_data[VSTOR_SENSE_MAX];
	};
	uint16_t reserve;
	uint8_t queue_tag;
	uint8_t queue_action;
	uint32_t srb_flags;
	uint32_t time_out_value;
	uint32_t queue_sort_key;
} VMBUS_PACKED;
_Static_assert(sizeof(struct vmscsi_request) == 52, "vmscsi_request");
_Static_assert(offsetof(struct vmscsi_request, data_transfer_length) == 12,
	       "data_transfer_length@12");
_Static_assert(offsetof(struct vmscsi_request, cdb) == 16, "cdb@16");
_Static_assert(offsetof(struct vmscsi_request, reserve) == 36, "reserve@36");
_Static_assert(offsetof(struct vmscsi_request, srb_flags) == 40,
	       "srb_flags@40");
_Static_assert(offsetof(struct vmscsi_request, time_out_value) == 44,
	       "time_out_value@44");

struct vstor_channel_properties {
	uint32_t reserved;
	uint16_t max_channel_cnt;
	uint16_t reserved1;
	uint32_t flags;			/* bit 0: multi-channel */
	uint32_t max_transfer_bytes;
	uint64_t reserved2;
} VMBUS_PACKED;
_Static_assert(sizeof(struct vstor_channel_properties) == 24, "properties");

struct vstor_protocol_version {
	uint16_t major_minor;
	uint16_t revision;
} VMBUS_PACKED;
_Static_assert(sizeof(struct vstor_protocol_version) == 4, "version");

struct vstor_packet {
	uint32_t operation;		/* enum vstor_operation */
	uint32_t flags;
	uint32_t status;		/* NTSTATUS */
	union {
		struct vmscsi_request srb;
		struct vstor_channel_properties properties;
		struct vstor_protocol_version version;
		uint16_t sub_channel_count;
		uint8_t buffer[52];
	};
} VMBUS_PACKED;
_Static_assert(sizeof(struct vstor_packet) == 64, "vstor_packet");
_Static_assert(offsetof(struct vstor_packet, srb) == 12, "union@12");

/* storvsc drops completions bigger than this (descriptor included). */
#define STORVSC_MAX_PKT_SIZE \
	(sizeof(struct vmbus_pkt_desc) + sizeof(struct vstor_packet))
_Static_assert(STORVSC_MAX_PKT_SIZE == 80, "storvsc packet limit");

/* What QUERY_PROPERTIES reports: Linux sizes its queues from it. */
#define STORVSP_MAX_TRANSFER 0x40000u

#define STORVSP_SCSI_GUID                                                    \
	VMBUS_GUID_INIT(0xba6163d9, 0x04a1, 0x4d29, 0xb6, 0x05, 0x72, 0xe2,  \
			0xff, 0xb1, 0xdc, 0x7f)

/* ------------------------------------------------------------ API */

struct storvsp_config {
	struct vmbus_guid instance;	/* the controller's if_instance */
	struct scsi_disk *disk;		/* LUN 0:0:0; NULL: no disk */
};

/*
 * Registers a SCSI controller with the server; *out (if out is not
 * NULL) is its channel. The server owns the provider state; the disk
 * stays the caller's and must outlive the server (close it after
 * vmbus_server_destroy). 0 or -errno.
 */
int storvsp_add(struct vmbus_server *s, const struct storvsp_config *cfg,
		struct vmbus_channel **out);

#endif
