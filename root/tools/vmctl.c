/*
 * hvctl's VM commands. Each VM is a microhv-worker process with a
 * control socket at /run/microhv/NAME.sock (root/worker/control.c);
 * these commands start workers and speak that socket's line protocol.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "vmctl.h"

#define RUN_DIR "/run/microhv"
#define WORKER "microhv-worker"
#define DETACH_KEY 0x1d		/* Ctrl-] */
#define EXIT_HVCTL 20
#define START_TIMEOUT_S 120

static int fail(const char *vm, const char *what)
{
	fprintf(stderr, "hvctl: %s: %s\n", vm, what);
	return EXIT_HVCTL;
}

static int connect_vm(const char *vm)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (snprintf(a.sun_path, sizeof(a.sun_path), "%s/%s.sock", RUN_DIR,
		     vm) >= (int)sizeof(a.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

/* Sends a command; returns the connected socket or -errno. */
static int request(const char *vm, const char *cmd)
{
	int fd = connect_vm(vm);
	size_t len = strlen(cmd);

	if (fd < 0)
		return fd;
	if (write(fd, cmd, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
		close(fd);
		return -EIO;
	}
	return fd;
}

static ssize_t read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		ssize_t r = read(fd, buf + n, 1);

		if (r <= 0)
			break;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = 0;
	return (ssize_t)n;
}

static int no_vm(const char *vm, int err)
{
	if (err == -ENOENT || err == -ECONNREFUSED)
		return fail(vm, "no such VM running");
	return fail(vm, strerror(-err));
}

/* ------------------------------------------------------------ start */

static int start_worker(const char *vm, int argc, char **argv)
{
	char log[256];
	char **args = calloc(argc + 5, sizeof(*args));
	pid_t pid;
	int fd;

	if (!args)
		return -ENOMEM;
	mkdir("/run", 0755);
	mkdir(RUN_DIR, 0700);
	snprintf(log, sizeof(log), "%s/%s.log", RUN_DIR, vm);
	/* The worker keeps its log under a size cap (--log). */
	args[0] = WORKER;
	args[1] = (char *)vm;
	args[2] = "--log";
	args[3] = log;
	memcpy(args + 4, argv, argc * sizeof(*argv));
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* A new VM, a new log: the last one's rotated part goes. */
		strcat(log, ".1");
		unlink(log);
		log[strlen(log) - 2] = 0;
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		setsid();
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(WORKER, args);
		_exit(127);
	}
	free(args);
	return pid;
}

/* The worker's own words, when it failed to come up. */
static void show_log(const char *vm)
{
	char path[256], buf[2048];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s.log", RUN_DIR, vm);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0)
		fprintf(stderr, "%.*s", (int)n, buf);
}

/* Ready once its socket answers; dead if the process is gone. */
static int await_worker(const char *vm, pid_t pid)
{
	for (int i = 0; i < START_TIMEOUT_S * 10; i++) {
		int status, fd = request(vm, "status");

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "hvctl: %s: the worker failed (exit %d):\n",
				vm, WEXITSTATUS(status));
			show_log(vm);
			return EXIT_HVCTL;
		}
		usleep(100000);
	}
	return fail(vm, "the worker did not come up");
}

static int cmd_start(const char *vm, int argc, char **argv)
{
	int fd = connect_vm(vm);
	pid_t pid;

	if (fd >= 0) {
		close(fd);
		return fail(vm, "already running");
	}
	pid = start_worker(vm, argc, argv);
	if (pid < 0)
		return fail(vm, strerror(-pid));
	return await_worker(vm, pid);
}

/* ------------------------------------------------------------ console */

static struct termios saved_tty;
static bool tty_raw;

static void restore_tty(void)
{
	if (tty_raw)
		tcsetattr(0, TCSANOW, &saved_tty);
	tty_raw = false;
}

static void raw_tty(void)
{
	struct termios t;

	if (!isatty(0) || tcgetattr(0, &saved_tty))
		return;
	t = saved_tty;
	cfmakeraw(&t);
	if (!tcsetattr(0, TCSANOW, &t)) {
		tty_raw = true;
		atexit(restore_tty);
	}
}

/* Relays until the VM ends (0), the user detaches (1) or an error. */
static int relay(int fd)
{
	struct pollfd p[2] = { { fd, POLLIN, 0 }, { 0, POLLIN, 0 } };
	char buf[4096];
	bool stdin_open = true;

	for (;;) {
		ssize_t n;

		if (poll(p, stdin_open ? 2 : 1, -1) < 0 && errno != EINTR)
			return -1;
		if (p[0].revents) {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				return 0;
			if (write(1, buf, n) != n)
				return -1;
		}
		if (stdin_open && p[1].revents) {
			n = read(0, buf, sizeof(buf));
			if (n <= 0) {
				stdin_open = false;	/* keep watching output */
				continue;
			}
			if (tty_raw && memchr(buf, DETACH_KEY, n))
				return 1;
			if (write(fd, buf, n) != n)
				return -1;
		}
	}
}

/* 0 when the VM ended, 1 when the user detached, else an exit status. */
static int attach(const char *vm)
{
	int fd = request(vm, "console"), r;

	if (fd < 0)
		return no_vm(vm, fd);
	if (isatty(0))
		fprintf(stderr, "[hvctl: console of %s; Ctrl-] detaches]\r\n", vm);
	raw_tty();
	r = relay(fd);
	restore_tty();
	close(fd);
	if (r == 1)
		fprintf(stderr, "\n[hvctl: detached; %s keeps running]\n", vm);
	return r < 0 ? EXIT_HVCTL : r;
}

static int cmd_console(const char *vm, int argc, char **argv)
{
	int r = attach(vm);

	(void)argc;
	(void)argv;
	return r == 1 ? 0 : r;
}

/* ------------------------------------------------------------ wait/stop */

/* The "end CODE why" line on a wait connection: prints why, returns CODE. */
static int wait_end(const char *vm, int fd)
{
	char line[256];
	int code;

	if (read_line(fd, line, sizeof(line)) <= 0 ||
	    sscanf(line, "end %d", &code) != 1) {
		close(fd);
		return fail(vm, "the worker went away without saying why");
	}
	close(fd);
	printf("%s: %s\n", vm, strchr(line + 4, ' ') ?
	       strchr(line + 4, ' ') + 1 : "ended");
	return code;
}

static int cmd_wait(const char *vm, int argc, char **argv)
{
	int fd = request(vm, "wait");

	(void)argc;
	(void)argv;
	if (fd < 0)
		return no_vm(vm, fd);
	return wait_end(vm, fd);
}

static void on_alarm(int sig)
{
	(void)sig;
	fprintf(stderr, "hvctl: the guest did not shut down in time; "
		"try --force\n");
	_exit(EXIT_HVCTL);
}

static int cmd_stop(const char *vm, int argc, char **argv)
{
	bool force = false;
	unsigned timeout = 120;
	char reply[160];
	int fd;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			force = true;
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = (unsigned)atoi(argv[++i]);
		else
			return fail(vm, "usage: hvctl stop NAME [--force] "
				    "[--timeout SECONDS]");
	}
	fd = request(vm, force ? "kill" : "stop");
	if (fd < 0)
		return no_vm(vm, fd);
	read_line(fd, reply, sizeof(reply));
	close(fd);
	if (strcmp(reply, "ok"))
		return fail(vm, reply[0] ? reply : "no answer");
	signal(SIGALRM, on_alarm);
	alarm(timeout);
	return cmd_wait(vm, 0, NULL);
}

static int cmd_run(const char *vm, int argc, char **argv)
{
	int r = cmd_start(vm, argc, argv), fd;

	if (r)
		return r;
	fd = request(vm, "wait");	/* before the VM can end */
	if (fd < 0)
		return no_vm(vm, fd);
	r = attach(vm);
	if (r) {	/* detached (the VM runs on) or failed */
		close(fd);
		return r == 1 ? 0 : r;
	}
	return wait_end(vm, fd);
}

int vmctl_list(void)
{
	DIR *d = opendir(RUN_DIR);
	struct dirent *e;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char name[64], line[160];
		int fd;

		if (len < 6 || len - 5 >= sizeof(name) ||
		    strcmp(e->d_name + len - 5, ".sock"))
			continue;
		memcpy(name, e->d_name, len - 5);
		name[len - 5] = 0;
		fd = request(name, "status");
		if (fd < 0)
			continue;
		if (read_line(fd, line, sizeof(line)) > 0)
			printf("%s\n", line);
		close(fd);
	}
	closedir(d);
	return 0;
}

const struct vm_command vm_commands[] = {
	{ "start", cmd_start },
	{ "run", cmd_run },
	{ "console", cmd_console },
	{ "stop", cmd_stop },
	{ "wait", cmd_wait },
	{ NULL, NULL },
};
