/*
 * How the hypervisor stops. With debug_exit=PORT (QEMU's isa-debug-exit)
 * it writes the code there and QEMU exits with status (code << 1) | 1;
 * otherwise it halts every CPU it can. docs/boot.md lists the codes.
 */
#ifndef HV_EXIT_H
#define HV_EXIT_H

#include <hv/types.h>

enum hv_exit_code {
	HV_EXIT_OK = 0x00,		/* QEMU status 1 */
	HV_EXIT_PANIC = 0x01,		/* 3: the hypervisor itself failed */
	HV_EXIT_NO_VIRT = 0x02,		/* 5: no AMD-V/VT-x, or disabled */
	HV_EXIT_NO_BACKEND = 0x03,	/* 7: vendor backend not written */
	HV_EXIT_BAD_CONFIG = 0x04,	/* 9: command line or boot info */
	HV_EXIT_NO_MEMORY = 0x05,	/* 11: not enough RAM to start */
	HV_EXIT_CPU_UNSUPPORTED = 0x06,	/* 13: a required CPU feature is missing */
};

void exit_set_port(u16 port);
__noreturn void hv_exit(enum hv_exit_code code);

/* Logs why (an error) and stops with code. */
__noreturn void hv_fatal(enum hv_exit_code code, const char *fmt, ...)
	__printf(2, 3);

#endif
