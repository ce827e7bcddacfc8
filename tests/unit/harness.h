/*
 * A tiny unit-test harness for the host build of the hypervisor's pure
 * code. Each TEST registers itself; a failed CHECK ends that test only.
 */
#ifndef UNIT_HARNESS_H
#define UNIT_HARNESS_H

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
	struct unit_test *next;
};

void unit_register(struct unit_test *t);
void unit_fail(const char *file, int line, const char *what);

#define TEST(name)                                                          \
	static void test_##name(void);                                      \
	static struct unit_test reg_##name = { #name, test_##name, NULL };  \
	__attribute__((constructor)) static void register_##name(void)      \
	{                                                                   \
		unit_register(&reg_##name);                                 \
	}                                                                   \
	static void test_##name(void)

#define CHECK(cond)                                                         \
	do {                                                                \
		if (!(cond))                                                \
			unit_fail(__FILE__, __LINE__, #cond);               \
	} while (0)

#define CHECK_EQ(a, b)                                                      \
	do {                                                                \
		unsigned long long a_ = (unsigned long long)(a);            \
		unsigned long long b_ = (unsigned long long)(b);            \
		if (a_ != b_) {                                             \
			char m_[256];                                       \
			snprintf(m_, sizeof(m_), "%s == %s (0x%llx != 0x%llx)", \
				 #a, #b, a_, b_);                           \
			unit_fail(__FILE__, __LINE__, m_);                  \
		}                                                           \
	} while (0)

#define CHECK_STR(a, b)                                                     \
	do {                                                                \
		const char *a_ = (a), *b_ = (b);                            \
		if (!a_ || !b_ || strcmp(a_, b_)) {                         \
			char m_[512];                                       \
			snprintf(m_, sizeof(m_), "%.100s == \"%.150s\" (got \"%.150s\")", \
				 #a, b_ ? b_ : "(null)", a_ ? a_ : "(null)"); \
			unit_fail(__FILE__, __LINE__, m_);                  \
		}                                                           \
	} while (0)

#define CHECK_NULL(p) CHECK((p) == NULL)

/* Fake physical memory for code that reaches pages via hpa_to_hva(). */
void *fake_mem_add(unsigned long long pa, unsigned long long len);
void fake_mem_reset(void);
/* A phys_reader_fn over fake memory. */
const void *fake_read(unsigned long long pa, unsigned long long len,
		      void *ctx);

#endif
