/*
 * Ticket spinlock. Pure C with compiler atomics so that the host unit
 * tests use the same lock as the hypervisor.
 */
#ifndef HV_SPINLOCK_H
#define HV_SPINLOCK_H

#include <hv/types.h>

struct spinlock {
	u16 next;
	u16 owner;
};

#define SPINLOCK_INIT { 0, 0 }

static inline void cpu_relax(void)
{
	__builtin_ia32_pause();
}

static inline void spin_lock(struct spinlock *l)
{
	u16 me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);

	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
		cpu_relax();
}

static inline bool spin_trylock(struct spinlock *l)
{
	u16 owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
	u16 expect = owner;

	return __atomic_compare_exchange_n(&l->next, &expect, (u16)(owner + 1),
					   false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->owner, (u16)(l->owner + 1), __ATOMIC_RELEASE);
}

#endif
