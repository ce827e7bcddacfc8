/*
 * childbench LABEL CMD [ARG...]: starts a VM with CMD (hvctl run, or
 * QEMU with KVM), watches its console on CMD's stdout and times, in the
 * clock of the machine it runs on (virtual nanoseconds under QEMU
 * -icount shift=0):
 *   boot_ns  from starting CMD to "microhv-bench: init" (the guest's
 *            first user process; the partition or VM is created by CMD)
 *   read_ns  from "microhv-bench: read-start" to "read-done BYTES"
 * Prints "LABEL: boot_ns N", "LABEL: read_ns N", "LABEL: read_bytes N"
 * as it sees them; the console itself goes to stderr.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void line_seen(const char *label, const char *line, uint64_t t0)
{
	static uint64_t read_start;
	const char *p;

	if (strstr(line, "microhv-bench: init")) {
		printf("%s: boot_ns %llu\n", label,
		       (unsigned long long)(now_ns() - t0));
	} else if (strstr(line, "microhv-bench: read-start")) {
		read_start = now_ns();
	} else if ((p = strstr(line, "microhv-bench: read-done ")) &&
		   read_start) {
		printf("%s: read_ns %llu\n", label,
		       (unsigned long long)(now_ns() - read_start));
		printf("%s: read_bytes %llu\n", label,
		       strtoull(p + strlen("microhv-bench: read-done "),
				NULL, 10));
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	char line[1024];
	uint64_t t0;
	int fds[2], status = 0;
	FILE *in;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: childbench LABEL CMD [ARG...]\n");
		return 2;
	}
	if (pipe(fds))
		return 2;
	t0 = now_ns();
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	close(fds[1]);
	in = fdopen(fds[0], "r");
	while (in && fgets(line, sizeof(line), in)) {
		fputs(line, stderr);
		line_seen(argv[1], line, t0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
