/* Basic types shared by every hypervisor file and by the host unit tests. */
#ifndef HV_TYPES_H
#define HV_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef static_assert
#define static_assert _Static_assert
#endif

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef unsigned long long u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef long long s64;

/*
 * Typed addresses. A host physical, guest physical and guest virtual
 * address are different things; wrapping them in structs makes the
 * compiler refuse to mix them. Convert explicitly with the helpers below.
 * Host virtual addresses are plain pointers.
 */
typedef struct { u64 raw; } hpa_t;
typedef struct { u64 raw; } gpa_t;
typedef struct { u64 raw; } gva_t;

static inline hpa_t hpa(u64 a) { return (hpa_t){ a }; }
static inline gpa_t gpa(u64 a) { return (gpa_t){ a }; }
static inline gva_t gva(u64 a) { return (gva_t){ a }; }
static inline u64 hpa_u64(hpa_t a) { return a.raw; }
static inline u64 gpa_u64(gpa_t a) { return a.raw; }
static inline u64 gva_u64(gva_t a) { return a.raw; }
static inline hpa_t hpa_add(hpa_t a, u64 off) { return hpa(a.raw + off); }
static inline gpa_t gpa_add(gpa_t a, u64 off) { return gpa(a.raw + off); }

#define INVALID_HPA ((hpa_t){ ~0ull })
static inline bool hpa_valid(hpa_t a) { return a.raw != ~0ull; }

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ull << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define SZ_1K 0x400ull
#define SZ_1M 0x100000ull
#define SZ_2M 0x200000ull
#define SZ_1G 0x40000000ull
#define SZ_4G 0x100000000ull

#define ALIGN_DOWN(x, a) ((x) & ~((u64)(a) - 1))
#define ALIGN_UP(x, a) ALIGN_DOWN((x) + (u64)(a) - 1, (a))
#define IS_ALIGNED(x, a) (((x) & ((u64)(a) - 1)) == 0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define BIT(n) (1ull << (n))

#define __packed __attribute__((packed))
#define __aligned(n) __attribute__((aligned(n)))
#define __noreturn __attribute__((noreturn))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __section(s) __attribute__((section(s)))
#define __used __attribute__((used))
#ifndef __always_inline		/* glibc has it too (host unit tests) */
#define __always_inline inline __attribute__((always_inline))
#endif
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#define barrier() __asm__ __volatile__("" ::: "memory")

#endif
