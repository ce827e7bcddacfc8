/*
 * The worker's log: stderr (and, with --console-stdout, the console on
 * stdout), which hvctl points at /run/microhv/NAME.log, in RAM. A child
 * decides how often the worker has something to say, so every line
 * passes a rate limit and, with --log, the file a size cap
 * (logbound.h; the numbers and why are in docs/root.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "logbound.h"
#include "worker.h"

#define LOG_BURST 100			/* lines at once */
#define LOG_PER_SEC 10			/* lines a second after that */
#define LOG_CAP (1u << 20)		/* bytes per file, two files */
#define LOG_LINE_MAX 512

static struct {
	pthread_mutex_t lock;		/* everything below */
	struct log_bucket bucket;
	struct log_file file;
	bool capped;			/* --log given: file has a cap */
	bool ready;
} wlog = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* With the lock held: the bucket starts full on first use. */
static void ready_locked(void)
{
	if (wlog.ready)
		return;
	log_bucket_init(&wlog.bucket, LOG_BURST, LOG_PER_SEC, mono_ms());
	wlog.ready = true;
}

int worker_log_open(const char *path)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	fflush(NULL);
	if (dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || fstat(fd, &st)) {
		int e = -errno;

		close(fd);
		return e;
	}
	close(fd);
	pthread_mutex_lock(&wlog.lock);
	wlog.file = (struct log_file){ path, { 2, 1 }, (uint64_t)st.st_size,
				       LOG_CAP };
	wlog.capped = true;
	pthread_mutex_unlock(&wlog.lock);
	return 0;
}

/* With the lock held. A log that cannot be written has no one to tell. */
static void emit_locked(int fd, const char *s, size_t len)
{
	if (wlog.capped)
		log_file_write(&wlog.file, fd, s, len);
	else if (write(fd, s, len) < 0)
		return;
}

/* With the lock held: what the rate limit held back, if anything. */
static void note_suppressed_locked(struct vm *vm, uint64_t suppressed)
{
	char note[128];

	if (!suppressed)
		return;
	snprintf(note, sizeof(note), "microhv-worker %s: %llu messages "
		 "suppressed (rate limit)\n", vm->cfg.name,
		 (unsigned long long)suppressed);
	emit_locked(2, note, strlen(note));
}

static void vlog(struct vm *vm, bool limited, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	uint64_t suppressed;
	int n;

	n = snprintf(line, sizeof(line) - 1, "microhv-worker %s: ",
		     vm->cfg.name);
	if (n < 0 || n >= (int)sizeof(line) - 1)
		n = 0;
	vsnprintf(line + n, sizeof(line) - 1 - n, fmt, ap);
	strcat(line, "\n");
	pthread_mutex_lock(&wlog.lock);
	ready_locked();
	if (!limited) {
		suppressed = wlog.bucket.suppressed;
		wlog.bucket.suppressed = 0;
	} else if (!log_bucket_take(&wlog.bucket, mono_ms(), &suppressed)) {
		pthread_mutex_unlock(&wlog.lock);
		return;
	}
	note_suppressed_locked(vm, suppressed);
	emit_locked(2, line, strlen(line));
	pthread_mutex_unlock(&wlog.lock);
}

void worker_log(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(vm, true, fmt, ap);
	va_end(ap);
}

void worker_log_always(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(vm, false, fmt, ap);
	va_end(ap);
}

void worker_log_console(const void *buf, size_t len)
{
	pthread_mutex_lock(&wlog.lock);
	emit_locked(1, buf, len);
	pthread_mutex_unlock(&wlog.lock);
}
