/*
 * microhv-worker NAME --kernel BZIMAGE [--initrd FILE] [--cmdline STR]
 *                [--mem MIB] [--vps N] [--disk IMAGE]... [--console-stdout]
 *                [--test-kernel] [--log FILE]
 *
 * --test-kernel: KERNEL is a test kernel from tests/kernels (Multiboot)
 * run with the generic-parent protocol; its result ends the VM.
 * --log FILE: stdout and stderr go to FILE (appended), which is kept
 * under a size cap by rotation to FILE.1 (hvctl passes its NAME.log).
 *
 * Runs one child VM until it ends; the exit status says why (enum
 * vm_end). hvctl starts it and talks to it over its control socket.
 */
#include <errno.h>
#include <execinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker.h"

#define DEFAULT_MEM_MIB 512
#define DEFAULT_CMDLINE "console=ttyS0 panic=-1"

static int usage(const char *why)
{
	fprintf(stderr, "microhv-worker: %s\nusage: microhv-worker NAME "
		"--kernel BZIMAGE [--initrd FILE] [--cmdline STR] [--mem MIB] "
		"[--vps N] [--disk IMAGE]... [--console-stdout] [--test-kernel] "
		"[--log FILE]\n",
		why);
	return VM_FAILED;
}

static bool valid_name(const char *n)
{
	size_t len = strlen(n);

	if (!len || len > 32)
		return false;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
		      (*n >= '0' && *n <= '9') || *n == '-' || *n == '_'))
			return false;
	return true;
}

static bool number(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* The message names the option at fault; NULL when all is well. */
static const char *parse(int argc, char **argv, struct worker_config *c)
{
	uint64_t v;

	*c = (struct worker_config){ .mem_mib = DEFAULT_MEM_MIB, .vps = 1,
				     .cmdline = DEFAULT_CMDLINE };
	if (argc < 2 || !valid_name(argv[1]))
		return "NAME: 1-32 letters, digits, '-' or '_'";
	c->name = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--console-stdout")) {
			c->console_stdout = true;
			continue;
		}
		if (!strcmp(a, "--test-kernel")) {
			c->test_kernel = true;
			continue;
		}
		if (!val)
			return "an option lacks its value";
		i++;
		if (!strcmp(a, "--kernel"))
			c->kernel = val;
		else if (!strcmp(a, "--initrd"))
			c->initrd = val;
		else if (!strcmp(a, "--cmdline"))
			c->cmdline = val;
		else if (!strcmp(a, "--log"))
			c->log = val;
		else if (!strcmp(a, "--mem") && number(val, 64, 65536, &v))
			c->mem_mib = v;
		else if (!strcmp(a, "--mem"))
			return "--mem: MiB between 64 and 65536";
		else if (!strcmp(a, "--vps") && number(val, 1, WORKER_MAX_VPS, &v))
			c->vps = (uint32_t)v;
		else if (!strcmp(a, "--vps"))
			return "--vps: between 1 and 64";
		else if (!strcmp(a, "--disk") && c->n_disks < WORKER_MAX_DISKS)
			c->disks[c->n_disks++] = val;
		else if (!strcmp(a, "--disk"))
			return "--disk: at most 4 disks";
		else
			return "unknown option";
	}
	return c->kernel ? NULL : "--kernel is required";
}

/* A worker bug must say where: the partition dies with us anyway. */
static void on_crash(int sig, siginfo_t *si, void *uc)
{
	void *frames[32];
	int n = backtrace(frames, 32);

	(void)uc;
	fprintf(stderr, "microhv-worker: signal %d at address %p; backtrace:\n",
		sig, si->si_addr);
	backtrace_symbols_fd(frames, n, 2);
	_exit(VM_FAILED);
}

static void catch_crashes(void)
{
	struct sigaction sa = { .sa_sigaction = on_crash,
				.sa_flags = SA_SIGINFO | SA_RESETHAND };

	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
}

int main(int argc, char **argv)
{
	static struct vm vm;
	const char *why = parse(argc, argv, &vm.cfg);
	int r;

	if (why)
		return usage(why);
	setvbuf(stderr, NULL, _IOLBF, 0);
	r = vm.cfg.log ? worker_log_open(vm.cfg.log) : 0;
	if (r) {
		fprintf(stderr, "microhv-worker: --log %s: %s\n", vm.cfg.log,
			strerror(-r));
		return VM_FAILED;
	}
	catch_crashes();
	vm.pm = (struct pm_config){ PM_DEFAULT_SLEEP_CONTROL_PORT,
				    PM_DEFAULT_SLEEP_STATUS_PORT,
				    PM_DEFAULT_S5_SLP_TYP,
				    PM_DEFAULT_RESET_PORT,
				    PM_DEFAULT_RESET_VALUE };
	uart_init(&vm.com1, console_output, &vm);
	rtc_init(&vm.rtc);
	pthread_mutex_init(&vm.rtc_lock, NULL);
	r = vm_create(&vm);
	if (r) {
		worker_log_always(&vm, "cannot create the VM: %s",
				  strerror(-r));
		vm_destroy(&vm);
		return VM_FAILED;
	}
	r = vm.cfg.test_kernel ? boot_test_kernel(&vm) : boot_linux(&vm);
	r = r ? r : devices_create(&vm);
	r = r ? r : control_run(&vm);
	if (r) {
		worker_log_always(&vm, "cannot run the VM: %s", strerror(-r));
		vm.end = VM_FAILED;
	}
	vm_destroy(&vm);
	return vm.end;
}
