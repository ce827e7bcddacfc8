/*
 * The worker log's bounds: the token bucket against a fake clock, and
 * rotation at the size cap against files in /tmp.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <worker/logbound.h>
#include "harness.h"

/* Lines let out of n tries at t, each try 'step' ms after the last. */
static int try_lines(struct log_bucket *b, uint64_t *t, int n, uint64_t step,
		     uint64_t *reported)
{
	uint64_t s;
	int out = 0;

	for (int i = 0; i < n; i++, *t += step) {
		if (log_bucket_take(b, *t, &s)) {
			out++;
			*reported += s;
		}
	}
	return out;
}

TEST(logbound_burst_then_rate)
{
	struct log_bucket b;
	uint64_t t = 5000, reported = 0;

	log_bucket_init(&b, 100, 10, t);
	/* A flood at one instant: the burst, nothing more. */
	CHECK_EQ(try_lines(&b, &t, 1000, 0, &reported), 100);
	CHECK_EQ(b.suppressed, 900);
	CHECK_EQ(reported, 0);
	/* 10 a second after that: 100 ms buys one line, which says how
	 * many were dropped before it. */
	t += 99;
	CHECK_EQ(try_lines(&b, &t, 1, 0, &reported), 0);
	t += 1;
	CHECK_EQ(try_lines(&b, &t, 1, 0, &reported), 1);
	CHECK_EQ(reported, 901);
	CHECK_EQ(b.suppressed, 0);
	/* A steady flood, one try per ms for 10 s more (the bucket just
	 * emptied): 10 lines a second. */
	reported = 0;
	CHECK_EQ(try_lines(&b, &t, 10001, 1, &reported), 100);
	CHECK_EQ(reported + 100, 10001);
	/* A quiet minute refills the burst, no more. */
	t += 60000;
	CHECK_EQ(try_lines(&b, &t, 500, 0, &reported), 100);
}

TEST(logbound_clock_edges)
{
	struct log_bucket b;
	uint64_t t = 1000, s = 7;

	log_bucket_init(&b, 2, 1, t);
	CHECK(log_bucket_take(&b, t, &s));
	CHECK_EQ(s, 0);
	CHECK(log_bucket_take(&b, t, &s));
	CHECK(!log_bucket_take(&b, t, &s));
	/* A clock going back adds nothing (and does not wrap). */
	CHECK(!log_bucket_take(&b, 10, &s));
	CHECK(!log_bucket_take(&b, 1999, &s));
	CHECK(log_bucket_take(&b, 2000, &s));
	CHECK_EQ(s, 3);
	/* Years later: full, not overflowed. */
	CHECK(log_bucket_take(&b, ~0ull - 5, &s));
	CHECK(log_bucket_take(&b, ~0ull - 5, &s));
	CHECK(!log_bucket_take(&b, ~0ull - 5, &s));
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? ~0ull : (uint64_t)st.st_size;
}

/* Past the cap NAME.log becomes NAME.log.1; two files at most. */
TEST(logbound_rotates_at_cap)
{
	char dir[] = "/tmp/logbound-XXXXXX", path[64], old[80], line[100];
	struct log_file f;
	int fd, fd2;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/vm.log", dir);
	snprintf(old, sizeof(old), "%s.1", path);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	fd2 = dup(fd);
	CHECK(fd >= 0 && fd2 >= 0);
	f = (struct log_file){ path, { fd, fd2 }, 0, 1000 };
	memset(line, 'x', sizeof(line));
	for (int i = 0; i < 10; i++)
		CHECK_EQ(log_file_write(&f, fd, line, sizeof(line)), 0);
	CHECK_EQ(file_size(path), 1000);
	CHECK_EQ(file_size(old), ~0ull);
	CHECK_EQ(log_file_write(&f, fd2, line, 10), 0);	/* over: rotate */
	CHECK_EQ(file_size(old), 1000);
	CHECK_EQ(file_size(path), 10);
	CHECK_EQ(f.size, 10);
	/* Both fds now write the new file. */
	CHECK_EQ(log_file_write(&f, fd, line, 5), 0);
	CHECK_EQ(file_size(path), 15);
	/* A flood: never more than two files' worth. */
	for (int i = 0; i < 1000; i++)
		CHECK_EQ(log_file_write(&f, i & 1 ? fd : fd2, line,
					sizeof(line)), 0);
	CHECK(file_size(path) <= 1000);
	CHECK(file_size(old) <= 1000);

	/* The directory gone: rotation fails, the bytes are dropped. */
	unlink(old);
	unlink(path);
	rmdir(dir);
	f.size = 1000;
	CHECK(log_file_write(&f, fd, line, 10) < 0);
	CHECK_EQ(f.size, 1000);
	close(fd);
	close(fd2);
}
