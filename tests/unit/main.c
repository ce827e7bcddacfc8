/* Runs every registered unit test; prints one line per test and a total. */
#include <stdlib.h>
#include "harness.h"

static struct unit_test *tests;
static jmp_buf bail;
static int current_failed;

void unit_register(struct unit_test *t)
{
	struct unit_test **p = &tests;

	/* Keep them in name order so output is stable. */
	while (*p && strcmp((*p)->name, t->name) < 0)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
}

void unit_fail(const char *file, int line, const char *what)
{
	printf("  %s:%d: check failed: %s\n", file, line, what);
	current_failed = 1;
	longjmp(bail, 1);
}

/* setjmp lives here, alone, so no caller variable can be clobbered. */
static void run_one(struct unit_test *t)
{
	current_failed = 0;
	if (!setjmp(bail))
		t->fn();
	fake_mem_reset();
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	const char *only = argc > 1 ? argv[1] : NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);	/* lines survive a sanitizer exit */

	for (struct unit_test *t = tests; t; t = t->next) {
		if (only && !strstr(t->name, only))
			continue;
		run_one(t);
		printf("%s unit/%s\n", current_failed ? "FAIL" : "PASS",
		       t->name);
		if (current_failed)
			failed++;
		else
			passed++;
	}
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
