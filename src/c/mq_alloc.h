/* The core's allocator entry points: libc's malloc/calloc/realloc, plus a
 * process-wide fault injector so that tests can make any one allocation
 * fail and check that the failure comes out as a clean ENOMEM.
 *
 * When the injector is off (always, outside tests) each call costs one
 * relaxed load and a branch predicted not taken: no lock, no atomic
 * read-modify-write. When it is armed, every call goes through
 * mq_alloc_slow(), which counts the call and decides whether it fails:
 *   mq_alloc_fail_at = k > 0: the k-th call from now fails, and then the
 *   next mq_alloc_fail_count - 1 calls as well; 0: none fails (count only).
 * Only calls from threads in scope count: every thread (all_threads), or
 * the threads that joined the scope (the arming one and those that call
 * mq_alloc_join_scope), so that a test can aim at the user-facing code
 * alone, whose failures then come out in a known order.
 * The whole extension is one translation unit, so these statics are
 * process-wide. */
#ifndef MQ_ALLOC_H
#define MQ_ALLOC_H

#include <stdlib.h>
#include <errno.h>

static int mq_alloc_armed;          /* read on every call: relaxed */
static long mq_alloc_calls;         /* calls since arming */
static long mq_alloc_fail_at;       /* the call number that fails first; 0: none */
static long mq_alloc_fail_count;    /* how many calls fail from there */
static long mq_alloc_failed;        /* calls made to fail since arming */
static int mq_alloc_all_threads;    /* every thread is in scope */
static int mq_alloc_scope_gen;      /* bumped by each arming: older joins lapse */
static __thread int mq_alloc_joined;    /* the scope generation this thread joined */

static void mq_alloc_join_scope(void)
{ mq_alloc_joined = __atomic_load_n(&mq_alloc_scope_gen, __ATOMIC_SEQ_CST); }

static void mq_alloc_arm(long fail_at, long fail_count, int all_threads)
{
    __atomic_store_n(&mq_alloc_armed, 0, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&mq_alloc_scope_gen, 1, __ATOMIC_SEQ_CST);
    mq_alloc_join_scope();
    __atomic_store_n(&mq_alloc_all_threads, all_threads, __ATOMIC_SEQ_CST);
    __atomic_store_n(&mq_alloc_calls, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&mq_alloc_failed, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&mq_alloc_fail_at, fail_at, __ATOMIC_SEQ_CST);
    __atomic_store_n(&mq_alloc_fail_count, fail_count > 0 ? fail_count : 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&mq_alloc_armed, 1, __ATOMIC_SEQ_CST);
}

static void mq_alloc_disarm(void)
{
    __atomic_store_n(&mq_alloc_armed, 0, __ATOMIC_SEQ_CST);
}

static long mq_alloc_call_count(void)
{ return __atomic_load_n(&mq_alloc_calls, __ATOMIC_SEQ_CST); }

static long mq_alloc_fail_total(void)
{ return __atomic_load_n(&mq_alloc_failed, __ATOMIC_SEQ_CST); }

/* 1 when this call is to fail. Out of line: only tests get here. */
static __attribute__((noinline, cold)) int mq_alloc_slow(void)
{
    long n, at, cnt;
    if (!__atomic_load_n(&mq_alloc_all_threads, __ATOMIC_SEQ_CST) &&
            mq_alloc_joined != __atomic_load_n(&mq_alloc_scope_gen, __ATOMIC_SEQ_CST))
        return 0;
    n = __atomic_add_fetch(&mq_alloc_calls, 1, __ATOMIC_SEQ_CST);
    at = __atomic_load_n(&mq_alloc_fail_at, __ATOMIC_SEQ_CST);
    cnt = __atomic_load_n(&mq_alloc_fail_count, __ATOMIC_SEQ_CST);
    if (at > 0 && n >= at && n - at < cnt) {
        __atomic_add_fetch(&mq_alloc_failed, 1, __ATOMIC_SEQ_CST);
        errno = ENOMEM;
        return 1;
    }
    return 0;
}

#define MQ_ALLOC_INJECTED() \
    (__builtin_expect(__atomic_load_n(&mq_alloc_armed, __ATOMIC_RELAXED), 0) && mq_alloc_slow())

static inline void *mq_malloc(size_t n)
{
    if (MQ_ALLOC_INJECTED()) return NULL;
    return malloc(n);
}

static inline void *mq_calloc(size_t k, size_t n)
{
    if (MQ_ALLOC_INJECTED()) return NULL;
    return calloc(k, n);
}

/* On failure p is left as it was, as with realloc. */
static inline void *mq_realloc(void *p, size_t n)
{
    if (MQ_ALLOC_INJECTED()) return NULL;
    return realloc(p, n);
}

#endif
