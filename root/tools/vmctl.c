/*
 * hvctl's VM commands. Each VM is a microhv-worker process with a
 * control socket at /run/microhv/NAME.sock (root/worker/control.c);
 * these commands start workers and speak that socket's line protocol.
 *
 * Every request has a deadline (CONTROL_TIMEOUT_S to connect, send and
 * get an answer): a stuck worker gets a clear message, never a hung
 * hvctl. Only the waits that are the point of a command (wait, console,
 * a graceful stop's --timeout) are longer.
 */
#define _GNU_SOURCE			/* struct ucred */
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
#define CONTROL_TIMEOUT_S 5		/* a worker answers within this */
#define KILL_TIMEOUT_S 10		/* after "kill", the end within this */
#define EXIT_TURNED_OFF 4		/* enum vm_end's VM_KILLED */
#define EXIT_WORKER_FAILED 5		/* VM_FAILED */

static int fail(const char *vm, const char *what)
{
	fprintf(stderr, "hvctl: %s: %s\n", vm, what);
	return EXIT_HVCTL;
}

/* Send and receive deadlines; 0 s: none (a wait or a console). */
static void set_timeout(int fd, unsigned int s)
{
	struct timeval tv = { .tv_sec = s };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* A timeout shows as EAGAIN on a socket; callers say ETIMEDOUT. */
static int sock_err(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINPROGRESS ?
	       -ETIMEDOUT : -errno;
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
	/* connect waits for room in a stuck worker's backlog: bounded. */
	set_timeout(fd, CONTROL_TIMEOUT_S);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int e = sock_err();

		close(fd);
		return e;
	}
	return fd;
}

/* The worker's pid: the process that listens on the socket. */
static pid_t peer_pid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return -1;
	return cred.pid;
}

/*
 * Sends a command; returns the connected socket or -errno (-ETIMEDOUT:
 * the worker took no command in time). *pid (if not NULL) is the
 * worker's, or -1 if unknown.
 */
static int request_pid(const char *vm, const char *cmd, pid_t *pid)
{
	int fd = connect_vm(vm), e;
	size_t len = strlen(cmd);

	if (pid)
		*pid = fd >= 0 ? peer_pid(fd) : -1;
	if (fd < 0)
		return fd;
	if (write(fd, cmd, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
		e = sock_err();
		close(fd);
		return e ? e : -EIO;
	}
	return fd;
}

static int request(const char *vm, const char *cmd)
{
	return request_pid(vm, cmd, NULL);
}

/* A request whose answer may take as long as the VM runs. */
static int request_long(const char *vm, const char *cmd)
{
	int fd = request(vm, cmd);

	if (fd >= 0)
		set_timeout(fd, 0);
	return fd;
}

/* A line without its newline: its length, or -ETIMEDOUT (nothing in
 * time; what came is kept), or 0 at the end of the stream. */
static ssize_t read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r = 0;

	while (n + 1 < len) {
		r = read(fd, buf + n, 1);
		if (r <= 0 || buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = 0;
	if (r < 0 && !n)
		return sock_err();
	return (ssize_t)n;
}

static int no_vm(const char *vm, int err)
{
	char why[96];

	if (err == -ENOENT || err == -ECONNREFUSED)
		return fail(vm, "no such VM running");
	if (err != -ETIMEDOUT)
		return fail(vm, strerror(-err));
	snprintf(why, sizeof(why), "the worker did not answer in %d s "
		 "(stuck?); hvctl stop --force ends it", CONTROL_TIMEOUT_S);
	return fail(vm, why);
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

/* Starts the worker (*pid) and waits until it answers. */
static int start_vm(const char *vm, int argc, char **argv, pid_t *pid)
{
	int fd = connect_vm(vm);

	if (fd >= 0) {
		close(fd);
		return fail(vm, "already running");
	}
	*pid = start_worker(vm, argc, argv);
	if (*pid < 0)
		return fail(vm, strerror(-*pid));
	return await_worker(vm, *pid);
}

static int cmd_start(const char *vm, int argc, char **argv)
{
	pid_t pid;

	return start_vm(vm, argc, argv, &pid);
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
	int fd = request_long(vm, "console"), r;

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

/*
 * A worker that closed without its end line: when it is our child
 * (hvctl run), its exit says what happened; SIGKILL is what
 * hvctl stop --force does to a worker that does not answer.
 */
static int worker_gone(const char *vm, pid_t child)
{
	int st;

	if (child <= 0 || waitpid(child, &st, 0) != child)
		return fail(vm, "the worker went away without saying why");
	if (WIFEXITED(st)) {
		printf("%s: the worker exited (status %d)\n", vm,
		       WEXITSTATUS(st));
		return WEXITSTATUS(st);
	}
	printf("%s: the worker was killed (signal %d)\n", vm, WTERMSIG(st));
	return WTERMSIG(st) == SIGKILL ? EXIT_TURNED_OFF : EXIT_WORKER_FAILED;
}

/*
 * The "end CODE why" line on a waiting connection: prints why, returns
 * CODE. -ETIMEDOUT if the connection's deadline passed first.
 */
static int read_end(const char *vm, int fd, pid_t child)
{
	char line[256];
	ssize_t n = read_line(fd, line, sizeof(line));
	int code;

	if (n < 0)
		return (int)n;
	if (!n || sscanf(line, "end %d", &code) != 1)
		return worker_gone(vm, child);
	printf("%s: %s\n", vm, strchr(line + 4, ' ') ?
	       strchr(line + 4, ' ') + 1 : "ended");
	return code;
}

static int wait_end(const char *vm, int fd, pid_t child)
{
	int r = read_end(vm, fd, child);

	close(fd);
	return r < 0 ? no_vm(vm, r) : r;
}

static int cmd_wait(const char *vm, int argc, char **argv)
{
	int fd = request_long(vm, "wait");

	(void)argc;
	(void)argv;
	if (fd < 0)
		return no_vm(vm, fd);
	return wait_end(vm, fd, 0);
}

static void on_alarm(int sig)
{
	(void)sig;
	fprintf(stderr, "hvctl: the guest did not shut down in time; "
		"try --force\n");
	_exit(EXIT_HVCTL);
}

/* Asks the guest to shut down; the answer, then the end, on one socket. */
static int stop_graceful(const char *vm, unsigned int timeout)
{
	char reply[160];
	int fd = request(vm, "stop");
	ssize_t n;

	if (fd < 0)
		return no_vm(vm, fd);
	n = read_line(fd, reply, sizeof(reply));
	if (n < 0 || strcmp(reply, "ok")) {
		close(fd);
		return n < 0 ? no_vm(vm, (int)n) :
		       fail(vm, reply[0] ? reply : "no answer");
	}
	set_timeout(fd, 0);
	signal(SIGALRM, on_alarm);
	alarm(timeout);
	return wait_end(vm, fd, 0);
}

/* /proc/PID/FILE into buf, NUL-terminated: its length, or -1. */
static ssize_t read_proc(pid_t pid, const char *file, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = pid > 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n;
}

/* Whether pid still runs (a zombie does not: it holds no partition). */
static bool running(pid_t pid)
{
	char stat[256];
	ssize_t n = read_proc(pid, "stat", stat, sizeof(stat));

	/* "PID (comm) STATE ...": comm may hold spaces, not ") ". */
	return n > 0 && strstr(stat, ") ") && strstr(stat, ") ")[2] != 'Z';
}

/* The pid is a microhv-worker (not a pid reused since). */
static bool is_worker(pid_t pid)
{
	char comm[32];
	ssize_t n = read_proc(pid, "comm", comm, sizeof(comm));

	return n > 0 && !strncmp(comm, WORKER "\n", (size_t)n);
}

/* "microhv-worker NAME ..." among the processes: -1 if none. */
static pid_t find_worker(const char *vm)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = -1;

	while (d && found < 0 && (e = readdir(d))) {
		char cmd[128];
		pid_t pid = atoi(e->d_name);
		ssize_t n = read_proc(pid, "cmdline", cmd, sizeof(cmd));

		/* argv[0] then argv[1], NUL-separated */
		if (n > 0 && (size_t)n > strlen(cmd) + 1 && is_worker(pid) &&
		    !strcmp(cmd + strlen(cmd) + 1, vm))
			found = pid;
	}
	if (d)
		closedir(d);
	return found;
}

/*
 * The worker did not end the VM in time: SIGKILL it. The partition
 * dies with the process that created it; the socket it left is
 * removed so the name can be used again.
 */
static int kill_worker(const char *vm, pid_t pid)
{
	char path[128];

	/* Its socket's backlog full, no peer to ask: look by name. */
	if (pid <= 0)
		pid = find_worker(vm);
	if (pid <= 0 || (running(pid) && !is_worker(pid)))
		return fail(vm, "the worker does not answer and its pid is "
			    "unknown");
	if (running(pid)) {
		fprintf(stderr, "hvctl: %s: the worker (pid %d) did not turn "
			"the VM off in time; killing it\n", vm, (int)pid);
		kill(pid, SIGKILL);
		for (int i = 0; i < CONTROL_TIMEOUT_S * 100 && running(pid);
		     i++)
			usleep(10000);
		if (running(pid))
			return fail(vm, "the worker survived SIGKILL");
	}
	snprintf(path, sizeof(path), "%s/%s.sock", RUN_DIR, vm);
	unlink(path);
	printf("%s: turned off (hvctl stop --force killed its worker)\n", vm);
	return EXIT_TURNED_OFF;
}

/*
 * Turns the VM off whatever state its worker is in: asks it ("kill":
 * "ok", then the end line on the same socket), and if it does not
 * answer or does not end in time, kills it by the pid the socket's
 * peer credentials name.
 */
static int stop_force(const char *vm)
{
	char reply[160];
	pid_t pid;
	int fd = request_pid(vm, "kill", &pid), r = -ETIMEDOUT;

	if (fd < 0 && fd != -ETIMEDOUT)
		return no_vm(vm, fd);
	if (fd >= 0 && read_line(fd, reply, sizeof(reply)) > 0 &&
	    !strcmp(reply, "ok")) {
		set_timeout(fd, KILL_TIMEOUT_S);
		r = read_end(vm, fd, 0);
	}
	if (fd >= 0)
		close(fd);
	return r >= 0 ? r : kill_worker(vm, pid);
}

static int cmd_stop(const char *vm, int argc, char **argv)
{
	bool force = false;
	unsigned timeout = 120;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			force = true;
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = (unsigned)atoi(argv[++i]);
		else
			return fail(vm, "usage: hvctl stop NAME [--force] "
				    "[--timeout SECONDS]");
	}
	return force ? stop_force(vm) : stop_graceful(vm, timeout);
}

static int cmd_run(const char *vm, int argc, char **argv)
{
	pid_t pid;
	int r = start_vm(vm, argc, argv, &pid), fd;

	if (r)
		return r;
	fd = request_long(vm, "wait");	/* before the VM can end */
	if (fd < 0)
		return no_vm(vm, fd);
	r = attach(vm);
	if (r) {	/* detached (the VM runs on) or failed */
		close(fd);
		return r == 1 ? 0 : r;
	}
	return wait_end(vm, fd, pid);
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
		if (fd == -ETIMEDOUT)
			printf("not-answering %s\n", name);
		if (fd < 0)
			continue;
		if (read_line(fd, line, sizeof(line)) > 0)
			printf("%s\n", line);
		else
			printf("not-answering %s\n", name);
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
