/*
 * Bounds on what a child can make its worker write into the root: the
 * worker's log lives in /run/microhv (tmpfs, i.e. RAM), and a guest
 * decides how often the worker has something to say. Two bounds, both
 * pure enough to unit-test (tests/unit/root/test_logbound.c):
 *
 * - a token bucket on lines: a burst, then a steady rate; what it
 *   refuses is counted and reported with the next line let through;
 * - a size cap on the file: past it, NAME.log becomes NAME.log.1 (the
 *   older .1 goes) and a new NAME.log starts, so one VM's log never
 *   takes more than twice the cap.
 *
 * Neither locks: the worker's log.c serializes its callers.
 */
#ifndef ROOT_WORKER_LOGBOUND_H
#define ROOT_WORKER_LOGBOUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct log_bucket {
	uint32_t burst;			/* lines that may come at once */
	uint32_t per_sec;		/* lines per second after that */
	uint64_t credit;		/* in thousandths of a line */
	uint64_t last_ms;		/* when credit was last topped up */
	uint64_t suppressed;		/* refused since the last line let out */
};

/* A full bucket at now_ms. burst and per_sec must not be 0. */
void log_bucket_init(struct log_bucket *b, uint32_t burst, uint32_t per_sec,
		     uint64_t now_ms);
/*
 * Whether a line may go out at now_ms (a monotonic clock; going back
 * counts as no time passing). When it may, *suppressed is how many were
 * refused since the last one let out: say so first.
 */
bool log_bucket_take(struct log_bucket *b, uint64_t now_ms,
		     uint64_t *suppressed);

struct log_file {
	const char *path;		/* NAME.log; rotated to NAME.log.1 */
	int fds[2];			/* both get the new file (-1: unused) */
	uint64_t size;			/* bytes in the current file */
	uint64_t cap;			/* rotate before passing it */
};

/*
 * Appends len bytes through fd (one of f->fds), first rotating when
 * they would take the file past cap. If the rotation fails the bytes
 * are dropped: the cap holds either way. 0 or -errno.
 */
int log_file_write(struct log_file *f, int fd, const void *buf, size_t len);

#endif
