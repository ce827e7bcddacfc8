/*
 * How a test kernel runs as a child: what its parent (a root test
 * kernel, or hvctl under root Linux) puts in its memory and registers,
 * and how it reports. Shared by tests/kernels and root/tools/hvctl.
 */
#ifndef MICROHV_TKPROTO_H
#define MICROHV_TKPROTO_H

#include <stdint.h>

#define TK_CHILD_MAGIC 0x4d484331u	/* EAX at entry */
#define TK_CHILD_INFO_GPA 0x1000ull	/* EBX: struct tk_child_info */
#define TK_CHILD_ENTRY_MODE_CR0 0x11	/* flat 32-bit, paging off */
#define TK_RESULT_PORT 0xf4		/* OUT: TK_EXIT_BASE + result */
#define TK_CONSOLE_PORT 0x3f8		/* OUT: one byte of console */
#define TK_EXIT_BASE 0x10
/* arg for a parent that only follows the generic policy (hvctl). */
#define TK_ARG_GENERIC 0x47454e45ull

struct tk_child_info {
	uint32_t magic;
	uint32_t index;		/* which child of its parent */
	uint64_t arg;		/* test-defined */
};

#endif
