/*
 * microhv-worker: one process per child VM in the root partition, as
 * Hyper-V's vmwp. It owns the child's memory (a memfd mapped into the
 * partition), loads its kernel, builds its firmware tables, runs each
 * VP on its own thread and serves the VP's intercepts: the platform
 * devices (COM1, ACPI sleep/reset), unknown MSRs, and the VMBus server
 * with its providers (storvsp, heartbeat, shutdown).
 *
 * A control socket (/run/microhv/NAME.sock) lets hvctl attach the
 * console, stop the VM and wait for its end (control.c).
 */
#ifndef ROOT_WORKER_WORKER_H
#define ROOT_WORKER_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../lib/libmicrohv.h"
#include "../vmbus/vmbus.h"
#include "platform/pm.h"
#include "platform/rtc.h"
#include "platform/uart.h"

#define WORKER_MAX_VPS 64
#define WORKER_MAX_DISKS 4
#define WORKER_RUN_DIR "/run/microhv"

struct worker_config {
	const char *name;
	const char *kernel, *initrd, *cmdline;
	const char *disks[WORKER_MAX_DISKS];
	const char *log;		/* --log: the capped log file */
	unsigned int n_disks;
	uint64_t mem_mib;
	uint32_t vps;
	bool console_stdout;	/* echo the console on stdout too */
	bool test_kernel;	/* kernel is a tests/kernels image */
};

/* Why a VM ended: the worker's exit status (hvctl wait reports it). */
enum vm_end {
	VM_RUNNING = -1,
	VM_POWERED_OFF = 0,	/* ACPI S5 from the guest */
	VM_RESET = 1,		/* the guest asked for a reset */
	VM_CRASHED = 2,		/* the guest reported a panic (crash MSRs) */
	VM_TRIPLE_FAULT = 3,
	VM_KILLED = 4,		/* hvctl stop --force */
	VM_FAILED = 5,		/* the worker could not go on */
};

struct ic;

struct vp_thread {
	struct vm *vm;
	uint32_t index;
	pthread_t thread;
	bool started;
};

/* The crash MSRs (HV_MSR_CRASH_P0..CTL): the guest's last words. */
struct crash_msrs {
	uint64_t p[5];
};

struct vm {
	struct worker_config cfg;
	struct mhv_vm part;
	struct guest_memory mem;
	struct vp_thread vps[WORKER_MAX_VPS];
	struct uart com1;
	struct rtc rtc;
	pthread_mutex_t rtc_lock;
	struct pm_config pm;
	struct vmbus_server *vmbus;
	struct ic *shutdown_ic, *heartbeat_ic;
	struct crash_msrs crash;
	pthread_mutex_t lock;		/* end, crash */
	enum vm_end end;
	char end_why[160];
	int wake_fd;			/* eventfd: the main loop looks again */
};

/* vm.c: memory, partition, VPs and their threads. */
int vm_create(struct vm *vm);
int vm_start(struct vm *vm);
/* Ends the VM (first reason wins), stops the VMBus server's drains
 * and wakes the main loop. */
void vm_end(struct vm *vm, enum vm_end end, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool vm_ended(struct vm *vm);
void vm_stop_vps(struct vm *vm);
void vm_destroy(struct vm *vm);

/* boot.c: the kernel, initrd, command line, ACPI tables, boot VP. */
int boot_linux(struct vm *vm);
/* Or a test kernel; its result port ends the VM. */
int boot_test_kernel(struct vm *vm);

/* exits.c: one VP's intercepts. */
void *vp_thread_main(void *arg);

/* devices.c: the VMBus server and the providers. */
int devices_create(struct vm *vm);
void devices_tick(struct vm *vm, uint64_t now_ms);
/* Asks the guest to shut down (the shutdown IC); -errno if it cannot. */
int devices_request_shutdown(struct vm *vm);

/* control.c: the control socket, the console and the main loop. */
int control_run(struct vm *vm);
/* The UART's output: the log, attached consoles, stdout. */
void console_output(void *ctx, uint8_t byte);

/*
 * log.c: one line to the worker's log, through a rate limit (a burst,
 * then a few lines a second; what it drops is counted in the next line
 * let through). worker_log_always skips the limit: only for lines a
 * guest cannot repeat (the VM's start and end), and reports what the
 * limit held back.
 */
void worker_log(struct vm *vm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void worker_log_always(struct vm *vm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* --log FILE: stdout and stderr to FILE, kept under a size cap by
 * rotation to FILE.1. 0 or -errno. */
int worker_log_open(const char *path);
/* The console echoed on stdout (--console-stdout), under the same cap. */
void worker_log_console(const void *buf, size_t len);

#endif
