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
/* Relaxed access for a field one thread reads on its hot path while another
 * may change it rarely, where no other data hangs on the value (the pipe's
 * credit step). */
static inline int mq_int_load_relaxed(int *p)
{ return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void mq_int_store_relaxed(int *p, int v)
{ __atomic_store_n(p, v, __ATOMIC_RELAXED); }

/* The Dekker-style handshakes of the pipe (a writer parks on a full pipe;
 * the reader hands credit back, or a binder raises the limit) need, on each
 * side, a full barrier between "I store" and "I load what the other side
 * stored": otherwise both loads may see the old values (store->load is the
 * one reordering x86 allows, and C11 allows it for release/acquire) and the
 * writer sleeps forever. A side either uses seq_cst for both its store and
 * its load, or puts mq_fence_sc() between them. */
static inline void mq_int_store_sc(int *p, int v)
{ __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static inline int mq_int_load_sc(int *p)
{ return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline int mq_int_xchg_sc(int *p, int v)
{ return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
static inline void mq_fence_sc(void)
{ __atomic_thread_fence(__ATOMIC_SEQ_CST); }

/* Inside a spin-wait loop: tells the CPU (and a hyperthread sibling). */
static inline void mq_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* The fast paths' flag (engine/fast_write.pxi, fast_read.pxi): its holder
 * owns a connection's fd side for a few non-blocking syscalls at most, so
 * a waiter spins. */
static inline void mq_spin_lock(int *flag)
{
    while (__atomic_exchange_n(flag, 1, __ATOMIC_ACQ_REL))
        while (__atomic_load_n(flag, __ATOMIC_RELAXED))
            mq_cpu_relax();
}
static inline int mq_spin_trylock(int *flag)
{ return __atomic_exchange_n(flag, 1, __ATOMIC_ACQ_REL) == 0; }
static inline void mq_spin_unlock(int *flag)
{ __atomic_store_n(flag, 0, __ATOMIC_RELEASE); }

/* A counter one thread bumps and another reads: the load is seq_cst so it
 * can close a handshake; the store is a plain release (it runs per message)
 * and its side of a handshake is closed by mq_fence_sc(). */
static inline uint64_t mq_u64_load(uint64_t *p)
{ return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void mq_u64_store_release(uint64_t *p, uint64_t v)
{ __atomic_store_n(p, v, __ATOMIC_RELEASE); }

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
