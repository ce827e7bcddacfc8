/*
 * The worker's main loop: the control socket, the console and the
 * periodic work of the VMBus server. A client sends one line:
 *
 *   console     then the console's recent output and everything after
 *               it; bytes sent become COM1 input. Detaching (closing)
 *               leaves the VM running.
 *   stop        ask the guest to shut down (the shutdown IC): "ok" or
 *               "error: why"; after "ok", the end line as for wait
 *   kill        turn the VM off now: "ok", then the end line
 *   wait        one line when the VM ends: "end CODE why"
 *   status      "running NAME VPS MiB"
 *
 * When the VM ends, waiters and consoles get the end line and the
 * worker exits with enum vm_end as its status.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "worker.h"

#define MAX_CLIENTS 16
#define BACKLOG_BYTES 16384
#define TICK_MS 10

enum client_kind { CLIENT_NEW, CLIENT_CONSOLE, CLIENT_WAIT };

struct client {
	int fd;
	enum client_kind kind;
	char line[64];
	size_t len;
};

static struct {
	pthread_mutex_t lock;	/* everything below */
	char backlog[BACKLOG_BYTES];
	size_t head, used;
	char out[512];		/* not yet flushed */
	size_t out_len;
	uint8_t in[4096];	/* typed, not yet taken by the UART */
	size_t in_len;
	struct client clients[MAX_CLIENTS];
	struct vm *vm;
} con = { .lock = PTHREAD_MUTEX_INITIALIZER };

static volatile sig_atomic_t terminate;

static void send_all(int fd, const void *buf, size_t len)
{
	/* Consoles are non-blocking: a slow reader loses output, never
	 * stalls the VP that printed it. */
	if (send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
	    errno != EAGAIN)
		return;
}

static void flush_locked(void)
{
	if (!con.out_len)
		return;
	for (size_t i = 0; i < con.out_len; i++) {
		con.backlog[con.head] = con.out[i];
		con.head = (con.head + 1) % BACKLOG_BYTES;
	}
	con.used = con.used + con.out_len > BACKLOG_BYTES ?
			   BACKLOG_BYTES : con.used + con.out_len;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (con.clients[i].kind == CLIENT_CONSOLE)
			send_all(con.clients[i].fd, con.out, con.out_len);
	if (con.vm->cfg.console_stdout)
		worker_log_console(con.out, con.out_len);
	con.out_len = 0;
}

void console_output(void *ctx, uint8_t byte)
{
	(void)ctx;
	pthread_mutex_lock(&con.lock);
	con.out[con.out_len++] = (char)byte;
	if (byte == '\n' || con.out_len == sizeof(con.out))
		flush_locked();
	pthread_mutex_unlock(&con.lock);
}

/* Typed bytes the UART's FIFO had no room for wait here. */
static void feed_uart(struct vm *vm)
{
	size_t n;

	pthread_mutex_lock(&con.lock);
	n = uart_rx_push(&vm->com1, con.in, con.in_len);
	memmove(con.in, con.in + n, con.in_len - n);
	con.in_len -= n;
	pthread_mutex_unlock(&con.lock);
}

static void send_backlog(int fd)
{
	size_t start = (con.head + BACKLOG_BYTES - con.used) % BACKLOG_BYTES;
	size_t first = con.used < BACKLOG_BYTES - start ?
			       con.used : BACKLOG_BYTES - start;

	send_all(fd, con.backlog + start, first);
	send_all(fd, con.backlog, con.used - first);
}

/* A reply that ends the conversation. */
static void answer(struct client *c, const char *reply)
{
	send_all(c->fd, reply, strlen(reply));
	close(c->fd);
	c->fd = -1;
}

/*
 * stop and kill answer "ok" and then wait on the same connection: a
 * client that asked for the end also hears it, however soon it comes
 * (a second connection could find the worker already gone).
 */
static void end_request(struct vm *vm, struct client *c, bool force)
{
	char reply[160];
	int r = 0;

	if (force)
		vm_end(vm, VM_KILLED, "turned off (hvctl stop --force)");
	else
		r = devices_request_shutdown(vm);
	if (r) {
		snprintf(reply, sizeof(reply), "error: the guest's shutdown "
			 "service is not running (%s)\n", strerror(-r));
		answer(c, reply);
		return;
	}
	send_all(c->fd, "ok\n", 3);
	c->kind = CLIENT_WAIT;
}

static void command(struct vm *vm, struct client *c)
{
	char reply[128];

	c->line[c->len] = 0;
	if (!strcmp(c->line, "console")) {
		c->kind = CLIENT_CONSOLE;
		flush_locked();
		send_backlog(c->fd);
	} else if (!strcmp(c->line, "wait")) {
		c->kind = CLIENT_WAIT;
	} else if (!strcmp(c->line, "stop") || !strcmp(c->line, "kill")) {
		end_request(vm, c, !strcmp(c->line, "kill"));
	} else if (!strcmp(c->line, "status")) {
		snprintf(reply, sizeof(reply), "running %s %u %llu\n",
			 vm->cfg.name, vm->cfg.vps,
			 (unsigned long long)vm->cfg.mem_mib);
		answer(c, reply);
	} else {
		snprintf(reply, sizeof(reply), "error: unknown command '%.40s'\n",
			 c->line);
		answer(c, reply);
	}
}

static void drop(struct client *c)
{
	close(c->fd);
	c->fd = -1;
}

static void client_input(struct vm *vm, struct client *c)
{
	char buf[512];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			drop(c);
		return;
	}
	if (c->kind == CLIENT_CONSOLE) {
		size_t room = sizeof(con.in) - con.in_len;

		n = (size_t)n < room ? n : (ssize_t)room;
		memcpy(con.in + con.in_len, buf, n);
		con.in_len += n;
		return;
	}
	for (ssize_t i = 0; i < n && c->fd >= 0 && c->kind == CLIENT_NEW; i++) {
		if (buf[i] == '\n')
			command(vm, c);
		else if (c->len < sizeof(c->line) - 1)
			c->line[c->len++] = buf[i];
	}
}

static void accept_client(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (con.clients[i].fd < 0) {
			con.clients[i] = (struct client){ .fd = fd };
			return;
		}
	}
	close(fd);	/* full */
}

static int listen_socket(struct vm *vm, char *path, size_t len)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	mkdir("/run", 0755);	/* a bare initramfs may lack it */
	mkdir(WORKER_RUN_DIR, 0700);
	snprintf(path, len, "%s/%s.sock", WORKER_RUN_DIR, vm->cfg.name);
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 8)) {
		int e = -errno;

		close(fd);
		return e == -EADDRINUSE ? -EEXIST : e;
	}
	return fd;
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static int tick_timer(void)
{
	struct itimerspec its = { { 0, TICK_MS * 1000000 },
				  { 0, TICK_MS * 1000000 } };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd >= 0)
		timerfd_settime(fd, 0, &its, NULL);
	return fd;
}

/* Drains stop at once (an atomic store: async-signal-safe); the main
 * loop ends the VM when poll returns. */
static void on_term(int sig)
{
	(void)sig;
	terminate = 1;
	if (con.vm && con.vm->vmbus)
		vmbus_server_stop(con.vm->vmbus);
}

/* The end, for everyone still attached: a line for waiters, words for
 * consoles. */
static void announce_end(struct vm *vm)
{
	char line[256], text[256];

	snprintf(line, sizeof(line), "end %d %s\n", vm->end, vm->end_why);
	snprintf(text, sizeof(text), "\r\n[microhv: %s ended: %s]\r\n",
		 vm->cfg.name, vm->end_why);
	pthread_mutex_lock(&con.lock);
	flush_locked();
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &con.clients[i];

		if (c->fd < 0)
			continue;
		if (c->kind != CLIENT_NEW) {
			const char *t = c->kind == CLIENT_WAIT ? line : text;

			fcntl(c->fd, F_SETFL, 0);	/* this one must arrive */
			send(c->fd, t, strlen(t), MSG_NOSIGNAL);
		}
		drop(c);
	}
	pthread_mutex_unlock(&con.lock);
}

static void poll_once(struct vm *vm, int lfd, int tfd)
{
	struct pollfd p[3 + MAX_CLIENTS] = {
		{ lfd, POLLIN, 0 }, { tfd, POLLIN, 0 }, { vm->wake_fd, POLLIN, 0 },
	};
	uint64_t dummy;
	int n = 3;

	for (int i = 0; i < MAX_CLIENTS; i++)
		p[n++] = (struct pollfd){ con.clients[i].fd, POLLIN, 0 };
	if (poll(p, n, -1) < 0)
		return;
	if (p[0].revents)
		accept_client(lfd);
	/* Commands before the tick: a "kill" stops the drains it would
	 * run rather than waiting for them. */
	pthread_mutex_lock(&con.lock);
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (con.clients[i].fd >= 0 && p[3 + i].revents)
			client_input(vm, &con.clients[i]);
	pthread_mutex_unlock(&con.lock);
	if (p[2].revents && read(vm->wake_fd, &dummy, sizeof(dummy)) < 0)
		return;
	if (p[1].revents && read(tfd, &dummy, sizeof(dummy)) > 0) {
		devices_tick(vm, now_ms());
		feed_uart(vm);
		pthread_mutex_lock(&con.lock);
		flush_locked();		/* a prompt without a newline */
		pthread_mutex_unlock(&con.lock);
	}
}

int control_run(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = on_term };
	char path[108];
	int lfd, tfd, r;

	con.vm = vm;
	for (int i = 0; i < MAX_CLIENTS; i++)
		con.clients[i].fd = -1;
	lfd = listen_socket(vm, path, sizeof(path));
	if (lfd < 0)
		return lfd;
	tfd = tick_timer();
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	r = vm_start(vm);
	if (r)
		vm_end(vm, VM_FAILED, "cannot start the VPs: %s", strerror(-r));
	while (!vm_ended(vm)) {
		if (terminate)
			vm_end(vm, VM_KILLED, "the worker was told to stop");
		poll_once(vm, lfd, tfd);
	}
	vm_stop_vps(vm);
	worker_log_always(vm, "VM ended: %s", vm->end_why);
	announce_end(vm);
	unlink(path);
	close(lfd);
	close(tfd);
	return 0;
}
