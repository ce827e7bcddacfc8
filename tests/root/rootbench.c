/*
 * rootbench: the root-overhead workload of make bench. The same binary
 * runs in root Linux on microhv and in the same kernel without it, both
 * under QEMU -icount, where CLOCK_MONOTONIC is virtual time (one
 * instruction = 1 ns). Prints "rootbench: NAME NANOSECONDS".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static uint64_t now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + t.tv_nsec;
}

/* CPU: an FNV-style hash over a buffer, many rounds. */
static uint64_t cpu(const uint8_t *b, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (int r = 0; r < 8; r++)
		for (size_t i = 0; i < n; i++)
			h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

int main(void)
{
	size_t n = 16 << 20;
	uint8_t *a = malloc(n), *b = malloc(n);
	volatile uint64_t sink = 0;
	uint64_t t0, t1, t2, t3;

	for (size_t i = 0; i < n; i++)
		a[i] = (uint8_t)(i * 31);
	t0 = now();
	sink += cpu(a, n / 4);
	t1 = now();
	for (int r = 0; r < 16; r++) {	/* memory: 256 MiB copied */
		memcpy(b, a, n);
		a[r] = b[n - 1 - r];
	}
	t2 = now();
	for (int i = 0; i < 200000; i++)	/* system calls */
		sink += syscall(SYS_getppid);
	t3 = now();
	printf("rootbench: cpu %llu\n", (unsigned long long)(t1 - t0));
	printf("rootbench: memory %llu\n", (unsigned long long)(t2 - t1));
	printf("rootbench: syscall %llu\n", (unsigned long long)(t3 - t2));
	printf("rootbench: total %llu\n", (unsigned long long)(t3 - t0));
	return sink == 42;
}
