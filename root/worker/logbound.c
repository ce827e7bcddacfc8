/* The log's rate limit and size cap (see logbound.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "logbound.h"

#define MILLI 1000u			/* credit units per line */

void log_bucket_init(struct log_bucket *b, uint32_t burst, uint32_t per_sec,
		     uint64_t now_ms)
{
	*b = (struct log_bucket){ .burst = burst, .per_sec = per_sec,
				  .credit = (uint64_t)burst * MILLI,
				  .last_ms = now_ms };
}

/* per_sec lines a second is per_sec thousandths of a line a millisecond. */
static void refill(struct log_bucket *b, uint64_t now_ms)
{
	uint64_t full = (uint64_t)b->burst * MILLI;
	uint64_t elapsed = now_ms > b->last_ms ? now_ms - b->last_ms : 0;

	b->last_ms = now_ms > b->last_ms ? now_ms : b->last_ms;
	if (elapsed >= full)		/* per_sec >= 1: fills it; no overflow */
		b->credit = full;
	else if (b->credit + elapsed * b->per_sec > full)
		b->credit = full;
	else
		b->credit += elapsed * b->per_sec;
}

bool log_bucket_take(struct log_bucket *b, uint64_t now_ms,
		     uint64_t *suppressed)
{
	refill(b, now_ms);
	if (b->credit < MILLI) {
		b->suppressed++;
		return false;
	}
	b->credit -= MILLI;
	*suppressed = b->suppressed;
	b->suppressed = 0;
	return true;
}

/* NAME.log -> NAME.log.1, a new NAME.log onto both fds. */
static int rotate(struct log_file *f)
{
	char old[512];
	int fd;

	if (snprintf(old, sizeof(old), "%s.1", f->path) >= (int)sizeof(old))
		return -ENAMETOOLONG;
	if (rename(f->path, old))
		return -errno;
	fd = open(f->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (int i = 0; i < 2; i++)
		if (f->fds[i] >= 0 && dup2(fd, f->fds[i]) < 0) {
			close(fd);
			return -errno;
		}
	close(fd);
	f->size = 0;
	return 0;
}

int log_file_write(struct log_file *f, int fd, const void *buf, size_t len)
{
	const char *p = buf;
	int err;

	if (f->size + len > f->cap) {
		err = rotate(f);
		if (err)
			return err;
	}
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EIO;
		f->size += (uint64_t)n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
