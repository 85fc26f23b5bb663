/* Atomics for the lock-free parts of the core (ypipe, pipe credit, refcounts).
 * Cython has no atomics of its own, so every cross-thread access goes through
 * these wrappers over the GCC/Clang __atomic builtins. */
#ifndef MQ_ATOMIC_H
#define MQ_ATOMIC_H

#include <stdint.h>

#define MQ_CACHELINE 64

static inline void *mq_ptr_cas(void **p, void *expected, void *desired)
{
    /* Returns the value that was there; equal to expected on success. */
    __atomic_compare_exchange_n(p, &expected, desired, 0,
                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    return expected;
}
static inline void *mq_ptr_xchg(void **p, void *v)
{ return __atomic_exchange_n(p, v, __ATOMIC_ACQ_REL); }
static inline void mq_ptr_store(void **p, void *v)
{ __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline void *mq_ptr_load(void **p)
{ return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

static inline int mq_int_add(int *p, int v)       /* returns the new value */
{ return __atomic_add_fetch(p, v, __ATOMIC_ACQ_REL); }
static inline int mq_int_load(int *p)
{ return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void mq_int_store(int *p, int v)
{ __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline int mq_int_xchg(int *p, int v)
{ return __atomic_exchange_n(p, v, __ATOMIC_ACQ_REL); }
/* Sequentially consistent pair for the Dekker-style handshake between a
 * writer that parks on a full pipe and the reader that hands credit back. */
static inline void mq_int_store_sc(int *p, int v)
{ __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static inline int mq_int_xchg_sc(int *p, int v)
{ return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }

static inline uint64_t mq_u64_load(uint64_t *p)
{ return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void mq_u64_store(uint64_t *p, uint64_t v)
{ __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }

/* Intrusive multi-producer stack: producers push single nodes from any
 * thread, the single consumer takes the whole list at once. The first field
 * of a node must be its `next` pointer. */
static inline void mq_stack_push(void **head, void *node)
{
    void *old = __atomic_load_n(head, __ATOMIC_RELAXED);
    do {
        *(void **)node = old;
    } while (!__atomic_compare_exchange_n(head, &old, node, 1,
                                          __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}
static inline void *mq_stack_take_all(void **head)
{ return __atomic_exchange_n(head, (void *)0, __ATOMIC_ACQUIRE); }

#endif
