/* Routing-id table for ROUTER-like sockets: byte strings (0..255 bytes) to
 * pointers, open addressing with linear probing and tombstones. Used only by
 * the socket's own thread. */
#ifndef MQ_IDMAP_H
#define MQ_IDMAP_H

#include <stdint.h>
#include "mq_alloc.h"
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

typedef struct {
    unsigned char *key;     /* NULL: empty; MQ_IDMAP_GONE: tombstone */
    size_t len;
    void *value;
} mq_idslot_t;

typedef struct {
    mq_idslot_t *slots;
    size_t cap;             /* power of two */
    size_t used;            /* live + tombstones */
    size_t live;
    uint64_t seed;          /* random per map: peers choose the keys */
} mq_idmap_t;

/* 32 random bits from the system's CSPRNG, for what a peer must not guess
 * (the start of made-up routing ids, request ids). */
static inline uint32_t mq_random_u32(void)
{
    uint32_t v = 0;
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
    arc4random_buf(&v, sizeof v);
    return v;
#else
#if defined(__linux__) && defined(SYS_getrandom)
    if (syscall(SYS_getrandom, &v, sizeof v, 0) == (long)sizeof v) return v;
#endif
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t got = read(fd, &v, sizeof v);
        close(fd);
        if (got == (ssize_t)sizeof v) return v;
    }
    /* No randomness to be had: at least not the same start every run. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t h = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)&v ^ (uint64_t)getpid();
    h ^= h >> 33; h *= 0xff51afd7ed558ccdULL; h ^= h >> 33;
    return (uint32_t)h;
#endif
}

static unsigned char mq__idmap_gone_byte;
#define MQ_IDMAP_GONE (&mq__idmap_gone_byte)

static inline uint64_t mq__idhash(const mq_idmap_t *m, const unsigned char *k, size_t n)
{
    /* FNV-1a from a random basis, then a finaliser that spreads it over the
     * low bits: ids that a peer picks to share a probe chain for one map do
     * not for another. */
    uint64_t h = 1469598103934665603ULL ^ m->seed;
    for (size_t i = 0; i < n; i++) { h ^= k[i]; h *= 1099511628211ULL; }
    h ^= h >> 33; h *= 0xff51afd7ed558ccdULL; h ^= h >> 33;
    return h;
}

static inline mq_idmap_t *mq_idmap_new(void)
{
    mq_idmap_t *m = (mq_idmap_t *)mq_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cap = 16;
    m->seed = ((uint64_t)mq_random_u32() << 32) | mq_random_u32();
    m->slots = (mq_idslot_t *)mq_calloc(m->cap, sizeof(mq_idslot_t));
    if (!m->slots) { free(m); return NULL; }
    return m;
}

static inline void mq_idmap_free(mq_idmap_t *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key && m->slots[i].key != MQ_IDMAP_GONE) free(m->slots[i].key);
    free(m->slots);
    free(m);
}

static inline mq_idslot_t *mq__idmap_find(mq_idmap_t *m, const unsigned char *k, size_t n)
{
    size_t mask = m->cap - 1;
    for (size_t i = mq__idhash(m, k, n) & mask;; i = (i + 1) & mask) {
        mq_idslot_t *s = &m->slots[i];
        if (!s->key) return NULL;
        if (s->key != MQ_IDMAP_GONE && s->len == n && memcmp(s->key, k, n) == 0) return s;
    }
}

static inline void *mq_idmap_get(mq_idmap_t *m, const unsigned char *k, size_t n)
{
    mq_idslot_t *s = mq__idmap_find(m, k, n);
    return s ? s->value : NULL;
}

static inline int mq__idmap_insert(mq_idmap_t *m, unsigned char *owned_key, size_t n, void *v)
{
    size_t mask = m->cap - 1;
    for (size_t i = mq__idhash(m, owned_key, n) & mask;; i = (i + 1) & mask) {
        mq_idslot_t *s = &m->slots[i];
        if (!s->key || s->key == MQ_IDMAP_GONE) {
            if (!s->key) m->used++;
            s->key = owned_key; s->len = n; s->value = v;
            m->live++;
            return 0;
        }
    }
}

static inline int mq__idmap_grow(mq_idmap_t *m)
{
    mq_idslot_t *old = m->slots;
    size_t oldcap = m->cap;
    size_t ncap = m->live * 4 > oldcap ? oldcap * 2 : oldcap;
    mq_idslot_t *ns = (mq_idslot_t *)mq_calloc(ncap, sizeof(mq_idslot_t));
    if (!ns) return -1;
    m->slots = ns; m->cap = ncap; m->used = 0; m->live = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].key && old[i].key != MQ_IDMAP_GONE)
            mq__idmap_insert(m, old[i].key, old[i].len, old[i].value);
    free(old);
    return 0;
}

/* Maps k to v (replacing). 0, or -1 without memory. */
static inline int mq_idmap_put(mq_idmap_t *m, const unsigned char *k, size_t n, void *v)
{
    mq_idslot_t *s = mq__idmap_find(m, k, n);
    if (s) { s->value = v; return 0; }
    if ((m->used + 1) * 4 > m->cap * 3 && mq__idmap_grow(m) < 0) return -1;
    unsigned char *copy = (unsigned char *)mq_malloc(n ? n : 1);
    if (!copy) return -1;
    memcpy(copy, k, n);
    return mq__idmap_insert(m, copy, n, v);
}

static inline void mq_idmap_del(mq_idmap_t *m, const unsigned char *k, size_t n)
{
    mq_idslot_t *s = mq__idmap_find(m, k, n);
    if (!s) return;
    free(s->key);
    s->key = MQ_IDMAP_GONE;
    s->value = NULL;
    m->live--;
}

#endif
