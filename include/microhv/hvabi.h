/*
 * The microhv hypervisor ABI: what partitions see. It follows the
 * Hyper-V TLFS (codes, statuses, structure layouts); docs/abi.md lists
 * every place microhv differs. Shared by the hypervisor, the test
 * kernels, the root kernel module and its library, so it uses only
 * fixed-width types and no other header of ours.
 */
#ifndef MICROHV_HVABI_H
#define MICROHV_HVABI_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

#ifndef static_assert
#define static_assert _Static_assert
#endif

#define HV_PACKED __attribute__((packed))

/* ------------------------------------------------------------------ CPUID */

#define HV_CPUID_VENDOR 0x40000000u	/* EAX max leaf, EBX:ECX:EDX vendor */
#define HV_CPUID_INTERFACE 0x40000001u	/* EAX "Hv#1" */
#define HV_CPUID_VERSION 0x40000002u
#define HV_CPUID_FEATURES 0x40000003u	/* EAX:EBX privileges, EDX misc */
#define HV_CPUID_HINTS 0x40000004u
#define HV_CPUID_LIMITS 0x40000005u
#define HV_CPUID_MAX_LEAF 0x4000000au

#define HV_INTERFACE_HV1 0x31237648u	/* "Hv#1" */
/* Children see "Microsoft Hv"; the root sees "microhv root". */
#define HV_VENDOR_MICROSOFT_EBX 0x7263694du
#define HV_VENDOR_MICROSOFT_ECX 0x666f736fu
#define HV_VENDOR_MICROSOFT_EDX 0x76482074u
#define HV_VENDOR_MICROHV_EBX 0x7263696du	/* "micr" */
#define HV_VENDOR_MICROHV_ECX 0x2076686fu	/* "ohv " */
#define HV_VENDOR_MICROHV_EDX 0x746f6f72u	/* "root" */

/* Partition privileges: CPUID 0x40000003 EAX (bits 0-31), EBX (32-63). */
#define HV_PRIV_VP_RUNTIME (1ull << 0)
#define HV_PRIV_TIME_REF_COUNT (1ull << 1)
#define HV_PRIV_SYNIC_REGS (1ull << 2)
#define HV_PRIV_SYNTIMER_REGS (1ull << 3)
#define HV_PRIV_APIC_REGS (1ull << 4)
#define HV_PRIV_HYPERCALL_MSRS (1ull << 5)
#define HV_PRIV_VP_INDEX (1ull << 6)
#define HV_PRIV_RESET (1ull << 7)
#define HV_PRIV_STATS (1ull << 8)
#define HV_PRIV_REFERENCE_TSC (1ull << 9)
#define HV_PRIV_FREQUENCY_REGS (1ull << 11)
#define HV_PRIV_CREATE_PARTITIONS (1ull << 32)
#define HV_PRIV_ACCESS_PARTITION_ID (1ull << 33)
#define HV_PRIV_ACCESS_MEMORY_POOL (1ull << 34)
#define HV_PRIV_POST_MESSAGES (1ull << 36)
#define HV_PRIV_SIGNAL_EVENTS (1ull << 37)
#define HV_PRIV_ACCESS_STATS (1ull << 40)
#define HV_PRIV_CPU_MANAGEMENT (1ull << 44)
#define HV_PRIV_ACCESS_VP_REGISTERS (1ull << 49)
#define HV_PRIV_START_VP (1ull << 53)
#define HV_PRIV_ISOLATION (1ull << 54)

/* ------------------------------------------------------------ synthetic MSRs */

#define HV_MSR_GUEST_OS_ID 0x40000000u
#define HV_MSR_HYPERCALL 0x40000001u
#define HV_MSR_VP_INDEX 0x40000002u
#define HV_MSR_RESET 0x40000003u
#define HV_MSR_TIME_REF_COUNT 0x40000020u
#define HV_MSR_HYPERCALL_ENABLE (1ull << 0)
#define HV_MSR_HYPERCALL_LOCKED (1ull << 1)
#define HV_MSR_REFERENCE_TSC 0x40000021u	/* bit 0 enable, 63:12 GPFN */
#define HV_MSR_TSC_FREQUENCY 0x40000022u	/* Hz */
#define HV_MSR_APIC_FREQUENCY 0x40000023u	/* Hz */
#define HV_MSR_VP_ASSIST_PAGE 0x40000073u
#define HV_MSR_SCONTROL 0x40000080u
#define HV_MSR_SVERSION 0x40000081u
#define HV_MSR_SIEFP 0x40000082u
#define HV_MSR_SIMP 0x40000083u
#define HV_MSR_EOM 0x40000084u
#define HV_MSR_SINT0 0x40000090u		/* ... SINT15 0x4000009f */
#define HV_MSR_STIMER0_CONFIG 0x400000b0u	/* CONFIG/COUNT pairs, 4 timers */
#define HV_MSR_STIMER0_COUNT 0x400000b1u
#define HV_MSR_CRASH_P0 0x40000100u		/* ... P4 0x40000104 */
#define HV_MSR_CRASH_CTL 0x40000105u
#define HV_MSR_PAGE_ENABLE (1ull << 0)		/* SIMP, SIEFP, TSC page */
#define HV_CRASH_CTL_NOTIFY (1ull << 63)
#define HV_CRASH_CTL_NOTIFY_MSG (1ull << 62)

/* SINTn: vector, masked, auto-EOI, polling. */
#define HV_SINT_COUNT 16
#define HV_SINT_VECTOR(v) ((uint8_t)(v))
#define HV_SINT_MASKED (1ull << 16)
#define HV_SINT_AUTO_EOI (1ull << 17)
#define HV_SINT_POLLING (1ull << 18)

/* STIMERn_CONFIG. */
#define HV_STIMER_COUNT 4
#define HV_STIMER_ENABLE (1ull << 0)
#define HV_STIMER_PERIODIC (1ull << 1)
#define HV_STIMER_LAZY (1ull << 2)
#define HV_STIMER_AUTO_ENABLE (1ull << 3)
#define HV_STIMER_VECTOR(c) ((uint8_t)((c) >> 4))
#define HV_STIMER_DIRECT (1ull << 12)
#define HV_STIMER_SINT(c) ((uint32_t)((c) >> 16) & 0xf)
#define HV_STIMER_RSVD_MASK 0xfffffffffff0e000ull

/* The reference TSC page (TLFS "Partition Reference TSC Mechanism"). */
struct hv_reference_tsc_page {
	uint32_t tsc_sequence;		/* 0: invalid, use TIME_REF_COUNT */
	uint32_t reserved1;
	uint64_t tsc_scale;
	int64_t tsc_offset;
} HV_PACKED;
static_assert(sizeof(struct hv_reference_tsc_page) == 24, "TSC page");

/* CPUID 0x40000003 EDX ("misc") and 0x40000004 EAX (hints). */
#define HV_FEATURE_FREQUENCY_MSRS_AVAILABLE (1u << 8)
#define HV_FEATURE_GUEST_CRASH_MSRS_AVAILABLE (1u << 10)
#define HV_FEATURE_DIRECT_SYNTHETIC_TIMERS (1u << 19)
#define HV_HINT_DEPRECATING_AEOI (1u << 9)

/* ------------------------------------------------------------ hypercalls */

/* Input value (RCX). */
#define HV_HC_CODE(rcx) ((uint16_t)(rcx))
#define HV_HC_FAST (1ull << 16)
#define HV_HC_VARHDR(rcx) (((rcx) >> 17) & 0x3ff)
#define HV_HC_NESTED (1ull << 31)
#define HV_HC_REP_COUNT(rcx) (((rcx) >> 32) & 0xfff)
#define HV_HC_REP_START(rcx) (((rcx) >> 48) & 0xfff)
#define HV_HC_RSVD_MASK 0xf000f00078000000ull
#define HV_HC_MAKE(code, fast, reps, start)                                  \
	((uint64_t)(code) | ((fast) ? HV_HC_FAST : 0) |                       \
	 ((uint64_t)(reps) << 32) | ((uint64_t)(start) << 48))

/* Result value (RAX). */
#define HV_RESULT(status, reps) ((uint64_t)(status) | ((uint64_t)(reps) << 32))
#define HV_RESULT_STATUS(rax) ((uint16_t)(rax))
#define HV_RESULT_REPS(rax) (((rax) >> 32) & 0xfff)

enum hv_status {
	HV_STATUS_SUCCESS = 0x0000,
	HV_STATUS_INVALID_HYPERCALL_CODE = 0x0002,
	HV_STATUS_INVALID_HYPERCALL_INPUT = 0x0003,
	HV_STATUS_INVALID_ALIGNMENT = 0x0004,
	HV_STATUS_INVALID_PARAMETER = 0x0005,
	HV_STATUS_ACCESS_DENIED = 0x0006,
	HV_STATUS_INVALID_PARTITION_STATE = 0x0007,
	HV_STATUS_OPERATION_DENIED = 0x0008,
	HV_STATUS_UNKNOWN_PROPERTY = 0x0009,
	HV_STATUS_PROPERTY_VALUE_OUT_OF_RANGE = 0x000a,
	HV_STATUS_INSUFFICIENT_MEMORY = 0x000b,
	HV_STATUS_INVALID_PARTITION_ID = 0x000d,
	HV_STATUS_INVALID_VP_INDEX = 0x000e,
	HV_STATUS_NOT_FOUND = 0x0010,
	HV_STATUS_INVALID_PORT_ID = 0x0011,
	HV_STATUS_INVALID_CONNECTION_ID = 0x0012,
	HV_STATUS_INSUFFICIENT_BUFFERS = 0x0013,
	HV_STATUS_INVALID_VP_STATE = 0x0015,
	HV_STATUS_INVALID_SYNIC_STATE = 0x0018,
	HV_STATUS_NO_RESOURCES = 0x001d,
	HV_STATUS_INVALID_REGISTER_VALUE = 0x0050,
};

enum hv_call_code {
	HVCALL_NOTIFY_LONG_SPIN_WAIT = 0x0008,	/* microhv: the null call */
	HVCALL_CREATE_PARTITION = 0x0040,
	HVCALL_INITIALIZE_PARTITION = 0x0041,
	HVCALL_FINALIZE_PARTITION = 0x0042,
	HVCALL_DELETE_PARTITION = 0x0043,
	HVCALL_GET_PARTITION_PROPERTY = 0x0044,
	HVCALL_SET_PARTITION_PROPERTY = 0x0045,
	HVCALL_GET_PARTITION_ID = 0x0046,
	HVCALL_DEPOSIT_MEMORY = 0x0048,
	HVCALL_WITHDRAW_MEMORY = 0x0049,
	HVCALL_GET_MEMORY_BALANCE = 0x004a,
	HVCALL_MAP_GPA_PAGES = 0x004b,
	HVCALL_UNMAP_GPA_PAGES = 0x004c,
	HVCALL_INSTALL_INTERCEPT = 0x004d,
	HVCALL_CREATE_VP = 0x004e,
	HVCALL_DELETE_VP = 0x004f,
	HVCALL_GET_VP_REGISTERS = 0x0050,
	HVCALL_SET_VP_REGISTERS = 0x0051,
	HVCALL_GET_SYSTEM_PROPERTY = 0x007b,
	HVCALL_POST_MESSAGE = 0x005c,
	HVCALL_SIGNAL_EVENT = 0x005d,
	HVCALL_ASSERT_VIRTUAL_INTERRUPT = 0x0094,
	HVCALL_START_VIRTUAL_PROCESSOR = 0x0099,
	HVCALL_SIGNAL_EVENT_DIRECT = 0x00c0,
	HVCALL_POST_MESSAGE_DIRECT = 0x00c1,
	HVCALL_DISPATCH_VP = 0x00c2,
	HVCALL_MAP_VP_STATE_PAGE = 0x00e1,
	HVCALL_UNMAP_VP_STATE_PAGE = 0x00e2,
};

#define HV_PARTITION_ID_INVALID 0ull
#define HV_PARTITION_ID_SELF (~0ull)
#define HV_ROOT_PARTITION_ID 1ull
#define HV_VP_INDEX_SELF 0xfffffffeu

/* CreatePartition (0x40): 56 bytes in, the new id out. */
#define HV_PARTITION_CREATION_EXO (1ull << 8)
#define HV_PARTITION_CREATION_LAPIC (1ull << 13)
#define HV_PARTITION_CREATION_INTERCEPT_MESSAGE_PAGE (1ull << 19)
#define HV_PARTITION_CREATION_X2APIC (1ull << 22)

struct hv_input_create_partition {
	uint64_t flags;
	uint32_t proximity_domain_id;
	uint32_t proximity_flags;
	uint32_t compatibility_version;
	uint32_t padding;
	uint64_t disabled_processor_features[2];
	uint64_t disabled_processor_xsave_features;
	uint64_t isolation_properties;
} HV_PACKED;
static_assert(sizeof(struct hv_input_create_partition) == 56, "CreatePartition");

struct hv_output_partition_id {
	uint64_t partition_id;
} HV_PACKED;

/* Initialize/Finalize/Delete (fast: RDX = partition id). */
struct hv_input_partition_id {
	uint64_t partition_id;
} HV_PACKED;

/* Get/SetPartitionProperty (0x44/0x45). */
struct hv_input_get_partition_property {
	uint64_t partition_id;
	uint32_t property_code;
	uint32_t padding;
} HV_PACKED;
static_assert(sizeof(struct hv_input_get_partition_property) == 16, "GetProp");

struct hv_input_set_partition_property {
	uint64_t partition_id;
	uint32_t property_code;
	uint32_t padding;
	uint64_t value;
} HV_PACKED;
static_assert(sizeof(struct hv_input_set_partition_property) == 24, "SetProp");

#define HV_PROPERTY_PRIVILEGE_FLAGS 0x00010000u
#define HV_PROPERTY_SYNTHETIC_PROC_FEATURES 0x00010001u
#define HV_PROPERTY_UNIMPLEMENTED_MSR_ACTION 0x00050017u
#define HV_PROPERTY_PROCESSOR_VENDOR 0x00060000u
#define HV_PROPERTY_PHYSICAL_ADDRESS_WIDTH 0x00060006u
/*
 * microhv's own read-only properties (not in the TLFS): per-partition
 * exit counters, one per enum hv_exit_stat. See docs/abi.md.
 */
#define HV_PROPERTY_MICROHV_EXIT_COUNT(n) (0x7f000000u + (n))
/* Hypervisor-wide, read on SELF by the root (see docs/abi.md). */
#define HV_PROPERTY_MICROHV_HV_FREE_PAGES 0x7f100000u
#define HV_PROPERTY_MICROHV_PARTITIONS 0x7f100001u
#define HV_PROPERTY_MICROHV_DEPOSITED_PAGES 0x7f100002u

enum hv_exit_stat {
	HV_EXIT_STAT_TOTAL = 0,
	HV_EXIT_STAT_HYPERCALL,
	HV_EXIT_STAT_CPUID,
	HV_EXIT_STAT_MSR,
	HV_EXIT_STAT_IO,
	HV_EXIT_STAT_NPF,
	HV_EXIT_STAT_HLT,
	HV_EXIT_STAT_SHUTDOWN,
	HV_EXIT_STAT_INTR,
	HV_EXIT_STAT_NMI,
	HV_EXIT_STAT_EXCEPTION,
	HV_EXIT_STAT_INVALID,
	HV_EXIT_STAT_OTHER,
	HV_EXIT_STAT_COUNT
};

/* GetSystemProperty (0x7b). */
#define HV_SYSTEM_PROPERTY_SCHEDULER_TYPE 15u
#define HV_SCHEDULER_TYPE_ROOT 4u

struct hv_input_get_system_property {
	uint32_t property_id;
	uint32_t reserved;
} HV_PACKED;

/* Deposit (0x48 rep) / Withdraw (0x49 rep) / GetMemoryBalance (0x4a). */
struct hv_input_deposit_memory {
	uint64_t partition_id;
	uint64_t gpa_page_list[];	/* root PFNs */
} HV_PACKED;
static_assert(sizeof(struct hv_input_deposit_memory) == 8, "Deposit header");

struct hv_input_withdraw_memory {
	uint64_t partition_id;
	uint64_t proximity_domain_info;
} HV_PACKED;
static_assert(sizeof(struct hv_input_withdraw_memory) == 16, "Withdraw");

struct hv_output_get_memory_balance {
	uint64_t pages_available;
	uint64_t pages_in_use;
} HV_PACKED;

/* MapGpaPages (0x4b rep) / UnmapGpaPages (0x4c rep). */
#define HV_MAP_GPA_READABLE 0x1u
#define HV_MAP_GPA_WRITABLE 0x2u
#define HV_MAP_GPA_KERNEL_EXECUTABLE 0x4u
#define HV_MAP_GPA_USER_EXECUTABLE 0x8u
#define HV_MAP_GPA_PERMISSIONS_MASK 0xfu
#define HV_MAP_GPA_ADJUSTABLE 0x8000u
#define HV_MAP_GPA_NOT_CACHED 0x200000u
#define HV_MAP_GPA_LARGE_PAGE 0x80000000u

struct hv_input_map_gpa_pages {
	uint64_t target_partition_id;
	uint64_t target_gpa_base;	/* a GFN */
	uint32_t map_flags;
	uint32_t padding;
	uint64_t source_gpa_page_list[];
} HV_PACKED;
static_assert(sizeof(struct hv_input_map_gpa_pages) == 24, "MapGpaPages");

struct hv_input_unmap_gpa_pages {
	uint64_t target_partition_id;
	uint64_t target_gpa_base;
	uint32_t unmap_flags;
	uint32_t padding;
} HV_PACKED;
static_assert(sizeof(struct hv_input_unmap_gpa_pages) == 24, "UnmapGpaPages");

/* CreateVp (0x4e), DeleteVp (0x4f, fast). */
struct hv_input_create_vp {
	uint64_t partition_id;
	uint32_t vp_index;
	uint8_t padding[3];
	uint8_t subnode_type;
	uint64_t subnode_id;
	uint64_t proximity_domain_info;
	uint64_t flags;
} HV_PACKED;
static_assert(sizeof(struct hv_input_create_vp) == 40, "CreateVp");

struct hv_input_delete_vp {
	uint64_t partition_id;
	uint32_t vp_index;
	uint32_t reserved;
} HV_PACKED;
static_assert(sizeof(struct hv_input_delete_vp) == 16, "DeleteVp");

/* Get/SetVpRegisters (0x50/0x51 rep). */
struct hv_input_vp_registers {
	uint64_t partition_id;
	uint32_t vp_index;
	uint8_t input_vtl;
	uint8_t reserved8;
	uint16_t reserved16;
} HV_PACKED;
static_assert(sizeof(struct hv_input_vp_registers) == 16, "VpRegisters");

struct hv_register_value {
	uint64_t low;
	uint64_t high;
} HV_PACKED;

struct hv_register_assoc {
	uint32_t name;
	uint32_t reserved1;
	uint64_t reserved2;
	struct hv_register_value value;
} HV_PACKED;
static_assert(sizeof(struct hv_register_assoc) == 32, "register assoc");

/* Segment and table register values, as 16-byte register values. */
struct hv_x64_segment_register {
	uint64_t base;
	uint32_t limit;
	uint16_t selector;
	uint16_t attributes;	/* type 3:0 S 4 DPL 6:5 P 7 AVL 12 L 13 DB 14 G 15 */
} HV_PACKED;
static_assert(sizeof(struct hv_x64_segment_register) == 16, "segment reg");

struct hv_x64_table_register {
	uint16_t pad[3];
	uint16_t limit;
	uint64_t base;
} HV_PACKED;
static_assert(sizeof(struct hv_x64_table_register) == 16, "table reg");

enum hv_register_name {
	HV_REG_EXPLICIT_SUSPEND = 0x00000000,
	HV_REG_INTERCEPT_SUSPEND = 0x00000001,
	HV_REG_DISPATCH_SUSPEND = 0x00000003,
	HV_REG_INTERNAL_ACTIVITY_STATE = 0x00000004,
	HV_REG_PENDING_INTERRUPTION = 0x00010002,
	HV_REG_INTERRUPT_STATE = 0x00010003,
	HV_REG_RAX = 0x00020000,	/* ... R15 = 0x0002000f */
	HV_REG_RCX, HV_REG_RDX, HV_REG_RBX, HV_REG_RSP, HV_REG_RBP,
	HV_REG_RSI, HV_REG_RDI, HV_REG_R8, HV_REG_R9, HV_REG_R10, HV_REG_R11,
	HV_REG_R12, HV_REG_R13, HV_REG_R14, HV_REG_R15,
	HV_REG_RIP = 0x00020010,
	HV_REG_RFLAGS = 0x00020011,
	HV_REG_CR0 = 0x00040000,
	HV_REG_CR2 = 0x00040001,
	HV_REG_CR3 = 0x00040002,
	HV_REG_CR4 = 0x00040003,
	HV_REG_CR8 = 0x00040004,
	HV_REG_DR0 = 0x00050000,	/* ... DR3 = 0x00050003 */
	HV_REG_DR1, HV_REG_DR2, HV_REG_DR3,
	HV_REG_DR6 = 0x00050004,
	HV_REG_DR7 = 0x00050005,
	HV_REG_ES = 0x00060000,
	HV_REG_CS, HV_REG_SS, HV_REG_DS, HV_REG_FS, HV_REG_GS, HV_REG_LDTR,
	HV_REG_TR,
	HV_REG_IDTR = 0x00070000,
	HV_REG_GDTR = 0x00070001,
	HV_REG_TSC = 0x00080000,
	HV_REG_EFER = 0x00080001,
	HV_REG_KERNEL_GS_BASE = 0x00080002,
	HV_REG_APIC_BASE = 0x00080003,
	HV_REG_PAT = 0x00080004,
	HV_REG_SYSENTER_CS = 0x00080005,
	HV_REG_SYSENTER_EIP = 0x00080006,
	HV_REG_SYSENTER_ESP = 0x00080007,
	HV_REG_STAR = 0x00080008,
	HV_REG_LSTAR = 0x00080009,
	HV_REG_CSTAR = 0x0008000a,
	HV_REG_SFMASK = 0x0008000b,
	HV_REG_GUEST_OS_ID = 0x00090002,
	HV_REG_VP_INDEX = 0x00090003,
};

/* InstallIntercept (0x4d). */
#define HV_INTERCEPT_ACCESS_READ 0x1u
#define HV_INTERCEPT_ACCESS_WRITE 0x2u
#define HV_INTERCEPT_ACCESS_EXECUTE 0x4u
#define HV_INTERCEPT_TYPE_X64_IO_PORT 0x0u
#define HV_INTERCEPT_TYPE_X64_MSR 0x1u
#define HV_INTERCEPT_TYPE_X64_CPUID 0x2u
#define HV_INTERCEPT_TYPE_EXCEPTION 0x3u
#define HV_INTERCEPT_TYPE_HYPERCALL 0x8u	/* PostMessage/SignalEvent */

struct hv_input_install_intercept {
	uint64_t partition_id;
	uint32_t access_type_mask;
	uint32_t intercept_type;
	uint64_t parameter;
} HV_PACKED;
static_assert(sizeof(struct hv_input_install_intercept) == 24, "InstallIntercept");

/* AssertVirtualInterrupt (0x94). */
#define HV_INTERRUPT_TYPE_FIXED 0u
#define HV_INTERRUPT_TYPE_NMI 4u
#define HV_INTERRUPT_TYPE_INIT 5u
#define HV_INTERRUPT_TYPE_SIPI 6u

struct hv_input_assert_virtual_interrupt {
	uint64_t partition_id;
	uint32_t interrupt_type;
	uint32_t control_flags;	/* bit 0 level, bit 1 logical destination */
	uint64_t dest_addr;
	uint32_t vector;
	uint8_t target_vtl;
	uint8_t rsvd8;
	uint16_t rsvd16;
} HV_PACKED;
static_assert(sizeof(struct hv_input_assert_virtual_interrupt) == 32, "AssertVI");

/* StartVirtualProcessor (0x99): an initial 64-bit context. */
struct hv_initial_vp_context {
	uint64_t rip;
	uint64_t rsp;
	uint64_t rflags;
	struct hv_x64_segment_register cs, ds, es, fs, gs, ss, tr, ldtr;
	struct hv_x64_table_register idtr, gdtr;
	uint64_t efer;
	uint64_t cr0;
	uint64_t cr3;
	uint64_t cr4;
	uint64_t msr_cr_pat;
} HV_PACKED;
static_assert(sizeof(struct hv_initial_vp_context) == 224, "initial VP context");

struct hv_input_start_virtual_processor {
	uint64_t partition_id;
	uint32_t vp_index;
	uint8_t target_vtl;
	uint8_t padding[3];
	struct hv_initial_vp_context context;
} HV_PACKED;
static_assert(sizeof(struct hv_input_start_virtual_processor) == 240, "StartVp");

/* DispatchVp (0xc2), root scheduler. */
#define HV_DISPATCH_VP_FLAG_CLEAR_INTERCEPT_SUSPEND 0x1u
#define HV_VP_DISPATCH_STATE_INVALID 0u
#define HV_VP_DISPATCH_STATE_BLOCKED 1u
#define HV_VP_DISPATCH_STATE_READY 2u
#define HV_VP_DISPATCH_EVENT_INVALID 0u
#define HV_VP_DISPATCH_EVENT_SUSPEND 1u
#define HV_VP_DISPATCH_EVENT_INTERCEPT 2u

struct hv_input_dispatch_vp {
	uint64_t partition_id;
	uint32_t vp_index;
	uint32_t flags;
	uint64_t time_slice;
	uint64_t spec_ctrl;
} HV_PACKED;
static_assert(sizeof(struct hv_input_dispatch_vp) == 32, "DispatchVp");

struct hv_output_dispatch_vp {
	uint32_t dispatch_state;
	uint32_t dispatch_event;
} HV_PACKED;
static_assert(sizeof(struct hv_output_dispatch_vp) == 8, "DispatchVp out");

/*
 * microhv: a child VP made other VPs of its partition runnable (an IPI,
 * INIT or SIPI to a VP whose root thread is blocked). READY + this
 * event; the VPs to wake are in the run state below. See docs/abi.md.
 */
#define HV_VP_DISPATCH_EVENT_MICROHV_WAKE 0x80000001u

/*
 * microhv's scheduling hints for the root, in the second half of a VP's
 * intercept message page, written before DispatchVp returns.
 */
#define HV_MICROHV_RUN_STATE_OFFSET 2048
#define HV_MICROHV_NO_DEADLINE (~0ull)
struct hv_microhv_run_state {
	/* Nanoseconds from the return until the VP's next timer expires
	 * (HV_MICROHV_NO_DEADLINE: none armed). */
	uint64_t timer_deadline_ns;
	uint64_t wake_vps;		/* bit n: wake VP n's thread */
	uint64_t reserved[6];
} HV_PACKED;
static_assert(sizeof(struct hv_microhv_run_state) == 64, "run state");

/* Map/UnmapVpStatePage (0xe1/0xe2). */
#define HV_VP_STATE_PAGE_REGISTERS 0u
#define HV_VP_STATE_PAGE_INTERCEPT_MESSAGE 1u

struct hv_input_map_vp_state_page {
	uint64_t partition_id;
	uint32_t vp_index;
	uint16_t type;
	uint8_t input_vtl;
	uint8_t flags;
	uint64_t requested_map_location;
} HV_PACKED;
static_assert(sizeof(struct hv_input_map_vp_state_page) == 24, "MapVpStatePage");

struct hv_output_map_vp_state_page {
	uint64_t map_location;	/* a PFN */
} HV_PACKED;

/* ------------------------------------------------------------ messages */

#define HV_MESSAGE_SIZE 256
#define HV_MESSAGE_PAYLOAD_BYTES 240

enum hv_message_type {
	HVMSG_NONE = 0,
	HVMSG_UNMAPPED_GPA = 0x80000000u,
	HVMSG_GPA_INTERCEPT = 0x80000001u,
	HVMSG_TIMER_EXPIRED = 0x80000010u,
	HVMSG_INVALID_VP_REGISTER_VALUE = 0x80000020u,
	HVMSG_UNRECOVERABLE_EXCEPTION = 0x80000021u,
	HVMSG_X64_IO_PORT_INTERCEPT = 0x80010000u,
	HVMSG_X64_MSR_INTERCEPT = 0x80010001u,
	HVMSG_X64_CPUID_INTERCEPT = 0x80010002u,
	HVMSG_X64_EXCEPTION_INTERCEPT = 0x80010003u,
	HVMSG_HYPERCALL_INTERCEPT = 0x80000050u,
	HVMSG_X64_HALT = 0x80010007u,
};

struct hv_message_header {
	uint32_t message_type;
	uint8_t payload_size;
	uint8_t message_flags;	/* bit 0 msg_pending */
	uint16_t reserved;
	uint64_t sender;	/* intercepts: the partition id */
} HV_PACKED;
static_assert(sizeof(struct hv_message_header) == 16, "message header");

struct hv_message {
	struct hv_message_header header;
	uint64_t payload[HV_MESSAGE_PAYLOAD_BYTES / 8];
} HV_PACKED;
static_assert(sizeof(struct hv_message) == HV_MESSAGE_SIZE, "hv_message");

#define HV_INTERCEPT_ACCESS_TYPE_READ 0
#define HV_INTERCEPT_ACCESS_TYPE_WRITE 1
#define HV_INTERCEPT_ACCESS_TYPE_EXECUTE 2

struct hv_x64_intercept_message_header {
	uint32_t vp_index;
	uint8_t instruction_length;	/* bits 3:0; cr8 in 7:4 */
	uint8_t intercept_access_type;
	uint16_t execution_state;
	struct hv_x64_segment_register cs;
	uint64_t rip;
	uint64_t rflags;
} HV_PACKED;
static_assert(sizeof(struct hv_x64_intercept_message_header) == 40,
	      "intercept header");

#define HV_IO_ACCESS_SIZE_MASK 0x7u
#define HV_IO_ACCESS_STRING (1u << 3)
#define HV_IO_ACCESS_REP (1u << 4)

struct hv_x64_io_port_intercept_message {
	struct hv_x64_intercept_message_header header;
	uint16_t port_number;
	uint8_t access_info;
	uint8_t instruction_byte_count;
	uint32_t reserved;
	uint64_t rax;
	uint8_t instruction_bytes[16];
	struct hv_x64_segment_register ds;
	struct hv_x64_segment_register es;
	uint64_t rcx;
	uint64_t rsi;
	uint64_t rdi;
} HV_PACKED;
static_assert(sizeof(struct hv_x64_io_port_intercept_message) == 128,
	      "I/O intercept");

struct hv_x64_memory_intercept_message {
	struct hv_x64_intercept_message_header header;
	uint32_t cache_type;
	uint8_t instruction_byte_count;
	uint8_t memory_access_info;
	uint8_t tpr_priority;
	uint8_t reserved;
	uint64_t guest_virtual_address;
	uint64_t guest_physical_address;
	uint8_t instruction_bytes[16];
} HV_PACKED;
static_assert(sizeof(struct hv_x64_memory_intercept_message) == 80,
	      "memory intercept");

struct hv_x64_msr_intercept_message {
	struct hv_x64_intercept_message_header header;
	uint32_t msr_number;
	uint32_t reserved;
	uint64_t rdx;
	uint64_t rax;
} HV_PACKED;
static_assert(sizeof(struct hv_x64_msr_intercept_message) == 64,
	      "MSR intercept");

struct hv_x64_cpuid_intercept_message {
	struct hv_x64_intercept_message_header header;
	uint64_t rax, rcx, rdx, rbx;
	uint64_t default_result_rax, default_result_rcx;
	uint64_t default_result_rdx, default_result_rbx;
} HV_PACKED;
static_assert(sizeof(struct hv_x64_cpuid_intercept_message) == 104,
	      "CPUID intercept");

struct hv_x64_exception_intercept_message {
	struct hv_x64_intercept_message_header header;
	uint16_t exception_vector;
	uint8_t exception_info;	/* bit 0 error code valid */
	uint8_t instruction_byte_count;
	uint32_t error_code;
	uint64_t exception_parameter;
} HV_PACKED;
static_assert(sizeof(struct hv_x64_exception_intercept_message) == 56,
	      "exception intercept");

struct hv_x64_hypercall_intercept_message {
	struct hv_x64_intercept_message_header header;
	uint64_t rax, rbx, rcx, rdx, r8, rsi, rdi;
	struct hv_register_value xmm[6];
	uint32_t flags;			/* bit 0 isolated */
	uint32_t reserved;
} HV_PACKED;
static_assert(sizeof(struct hv_x64_hypercall_intercept_message) == 200,
	      "hypercall intercept");

struct hv_timer_message_payload {
	uint32_t timer_index;
	uint32_t reserved;
	uint64_t expiration_time;	/* reference time, 100 ns */
	uint64_t delivery_time;
} HV_PACKED;
static_assert(sizeof(struct hv_timer_message_payload) == 24, "timer message");

/* ------------------------------------------------------------ SynIC calls */

/* PostMessage (0x5c), from a child: to a connection. */
struct hv_input_post_message {
	uint32_t connection_id;
	uint32_t reserved;
	uint32_t message_type;
	uint32_t payload_size;
	uint64_t payload[HV_MESSAGE_PAYLOAD_BYTES / 8];
} HV_PACKED;
static_assert(sizeof(struct hv_input_post_message) == 256, "PostMessage");

/* PostMessageDirect (0xc1), root to a child VP's SINT (Linux's layout). */
struct hv_input_post_message_direct {
	uint64_t partition_id;
	uint32_t vp_index;
	uint8_t vtl;
	uint8_t padding[3];
	uint32_t sint_index;
	struct hv_message message;
	uint32_t padding2;
} HV_PACKED;
static_assert(sizeof(struct hv_input_post_message_direct) == 280,
	      "PostMessageDirect");

/* SignalEventDirect (0xc0): set a SIEF flag of a child VP's SINT. */
struct hv_input_signal_event_direct {
	uint64_t target_partition;
	uint32_t target_vp;
	uint8_t target_vtl;
	uint8_t target_sint;
	uint16_t flag_number;
} HV_PACKED;
static_assert(sizeof(struct hv_input_signal_event_direct) == 16,
	      "SignalEventDirect");

struct hv_output_signal_event_direct {
	uint8_t newly_signaled;
	uint8_t reserved[7];
} HV_PACKED;

#define HV_SYNIC_EVENT_FLAGS_PER_SINT 2048	/* bits in a SIEF slot */

#endif
