/*
 * AMD IOMMU hardware structures and registers (AMD I/O Virtualization
 * Technology (IOMMU) Specification, 48882). Only what microhv uses: a
 * device table, a command buffer, an event log and v1 host page tables
 * (the IOPTE_* bits in hv/pgtable.h).
 */
#ifndef X86_AMD_IOMMU_H
#define X86_AMD_IOMMU_H

#include <hv/types.h>

#define AMDVI_MMIO_SIZE 0x4000

/* Registers (3.4). */
#define AMDVI_DEVTAB_BASE 0x0000	/* 51:12 base, 8:0 pages - 1 */
#define AMDVI_CMDBUF_BASE 0x0008	/* 51:12 base, 59:56 log2 entries */
#define AMDVI_EVTLOG_BASE 0x0010	/* 51:12 base, 59:56 log2 entries */
#define AMDVI_CONTROL 0x0018
#define AMDVI_EXT_FEATURES 0x0030
#define AMDVI_CMD_HEAD 0x2000
#define AMDVI_CMD_TAIL 0x2008
#define AMDVI_EVT_HEAD 0x2010
#define AMDVI_EVT_TAIL 0x2018
#define AMDVI_STATUS 0x2020

#define AMDVI_CTL_IOMMU_EN BIT(0)
#define AMDVI_CTL_EVTLOG_EN BIT(2)
#define AMDVI_CTL_CMDBUF_EN BIT(12)
#define AMDVI_STATUS_EVT_OVERFLOW BIT(0)
#define AMDVI_LEN_SHIFT 56

/* A device table entry (2.2.2). */
struct amdvi_dte {
	u64 q[4];
};
static_assert(sizeof(struct amdvi_dte) == 32, "AMD IOMMU device table entry");

#define DTE_V BIT(0)			/* q[0]: the entry is valid */
#define DTE_TV BIT(1)			/* q[0]: translation info valid */
#define DTE_MODE_SHIFT 9		/* q[0]: page table levels */
#define DTE_IR BIT(61)
#define DTE_IW BIT(62)
#define DTE_DOMAIN_MASK 0xffffull	/* q[1] */
/* q[2]: interrupts (2.2.2.2). IV on with IntCtl "forward unmapped" and
 * no table: fixed and arbitrated MSIs pass as they are; the *Pass bits
 * left clear target-abort INIT and ExtINT; NMI and LINT0/1 pass. */
#define DTE_IV BIT(0)
#define DTE_INIT_PASS BIT(56)
#define DTE_EINT_PASS BIT(57)
#define DTE_NMI_PASS BIT(58)
#define DTE_INTCTL_FORWARD (1ull << 60)
#define DTE_LINT0_PASS BIT(62)
#define DTE_LINT1_PASS BIT(63)
#define DTE_ROOT_INTERRUPTS (DTE_IV | DTE_INTCTL_FORWARD | DTE_NMI_PASS | \
			     DTE_LINT0_PASS | DTE_LINT1_PASS)
#define DTE_PER_PAGE (4096 / sizeof(struct amdvi_dte))
#define DTE_ENTRIES 65536u		/* 2 MiB: the most a table can be */

/* A command (2.4). */
struct amdvi_cmd {
	u64 lo, hi;
};
static_assert(sizeof(struct amdvi_cmd) == 16, "AMD IOMMU command");

#define CMD_OPCODE_SHIFT 60
#define CMD_COMPLETION_WAIT 1ull	/* lo: store address | S; hi: data */
#define CMD_INV_DEVTAB_ENTRY 2ull	/* lo: DeviceID */
#define CMD_INV_IOMMU_PAGES 3ull	/* lo: domain << 32; hi: address */
#define CMD_CW_STORE BIT(0)
#define CMD_INV_SIZE BIT(0)		/* hi: the address encodes a range */
#define CMD_INV_PDE BIT(1)		/* hi: cached table entries too */
#define CMD_INV_ALL_ADDRESSES 0x7ffffffffffff000ull

/* An event log entry (2.5). */
struct amdvi_event {
	u32 dw[4];
};
static_assert(sizeof(struct amdvi_event) == 16, "AMD IOMMU event");

#define EVT_CODE(e) ((e)->dw[1] >> 28)
#define EVT_ILLEGAL_DEV_TABLE_ENTRY 1
#define EVT_IO_PAGE_FAULT 2
#define EVT_DEV_TAB_HW_ERROR 3
#define EVT_PAGE_TAB_HW_ERROR 4
#define EVT_ILLEGAL_COMMAND 5
#define EVT_COMMAND_HW_ERROR 6
#define EVT_FLAG_PRESENT BIT(20)	/* dw[1]: the translation existed */
#define EVT_FLAG_WRITE BIT(21)		/* dw[1]: the access was a write */

/*
 * One line saying what an event log entry reports: its kind, the device
 * (bus:dev.fn), the address and, for I/O page faults, read or write.
 * Pure: unit-tested.
 */
void amdvi_event_describe(const struct amdvi_event *e, char *buf, size_t len);

#endif
