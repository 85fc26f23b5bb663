/* One small poller API over epoll (Linux), kqueue (BSD, macOS) and poll()
 * (everywhere; chosen at run time with MQCORE_POLLER=poll so the tests cover
 * it). Level-triggered everywhere: an io thread states what it wants for
 * each fd and changes that only when its interest changes, so there is no
 * edge-triggered read-until-EAGAIN rule to keep.
 *
 * Reported events: MQ_POLLIN, MQ_POLLOUT, MQ_POLLERR (error or hang-up). */
#ifndef MQ_POLLER_H
#define MQ_POLLER_H

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mq_alloc.h"
#if defined(__linux__)
#include <sys/epoll.h>
#define MQ_HAVE_EPOLL 1
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#define MQ_HAVE_KQUEUE 1
#endif

#define MQ_POLLIN 1
#define MQ_POLLOUT 2
#define MQ_POLLERR 4

typedef struct { void *ptr; int events; } mq_pevent_t;

typedef struct {
    int kind;               /* 0 poll, 1 epoll, 2 kqueue */
    int kfd;                /* epoll or kqueue fd */
    /* poll() backend: dense arrays plus an fd -> slot map */
    struct pollfd *pfds;
    void **ptrs;
    int n, cap;
    int *slot_of_fd;
    int slot_cap;
    int scan_from;          /* poll(): where the next scan starts (fairness) */
} mq_poller_t;

static inline int mq__grow_slots(mq_poller_t *p, int fd)
{
    if (fd < p->slot_cap) return 0;
    int ncap = p->slot_cap ? p->slot_cap : 64;
    while (ncap <= fd) ncap *= 2;
    int *s = (int *)mq_realloc(p->slot_of_fd, sizeof(int) * ncap);
    if (!s) return -1;
    for (int i = p->slot_cap; i < ncap; i++) s[i] = -1;
    p->slot_of_fd = s; p->slot_cap = ncap;
    return 0;
}

static inline mq_poller_t *mq_poller_new(int force_poll)
{
    mq_poller_t *p = (mq_poller_t *)mq_calloc(1, sizeof *p);
    if (!p) return NULL;
    p->kfd = -1;
#if defined(MQ_HAVE_EPOLL)
    if (!force_poll) {
        p->kfd = epoll_create1(EPOLL_CLOEXEC);
        if (p->kfd >= 0) { p->kind = 1; return p; }
        /* Out of descriptors or memory is the caller's error to report,
         * not a reason to run on the slower backend for good. */
        if (errno == EMFILE || errno == ENFILE || errno == ENOMEM) { free(p); return NULL; }
    }
#elif defined(MQ_HAVE_KQUEUE)
    if (!force_poll) {
        p->kfd = kqueue();
        if (p->kfd >= 0) { p->kind = 2; return p; }
        if (errno == EMFILE || errno == ENFILE || errno == ENOMEM) { free(p); return NULL; }
    }
#endif
    p->kind = 0;
    return p;
}

static inline void mq_poller_free(mq_poller_t *p)
{
    if (!p) return;
    if (p->kfd >= 0) close(p->kfd);
    free(p->pfds); free(p->ptrs); free(p->slot_of_fd); free(p);
}

static inline short mq__poll_mask(int events)
{
    return (short)(((events & MQ_POLLIN) ? POLLIN : 0) | ((events & MQ_POLLOUT) ? POLLOUT : 0));
}

#if defined(MQ_HAVE_EPOLL)
static inline int mq__epoll_set(mq_poller_t *p, int op, int fd, void *ptr, int events)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = ((events & MQ_POLLIN) ? EPOLLIN : 0) | ((events & MQ_POLLOUT) ? EPOLLOUT : 0);
    ev.data.ptr = ptr;
    return epoll_ctl(p->kfd, op, fd, &ev);
}
#endif

#if defined(MQ_HAVE_KQUEUE)
static inline int mq__kq_set(mq_poller_t *p, int fd, void *ptr, int events)
{
    struct kevent ch[2];
    EV_SET(&ch[0], fd, EVFILT_READ, EV_ADD | ((events & MQ_POLLIN) ? EV_ENABLE : EV_DISABLE), 0, 0, ptr);
    EV_SET(&ch[1], fd, EVFILT_WRITE, EV_ADD | ((events & MQ_POLLOUT) ? EV_ENABLE : EV_DISABLE), 0, 0, ptr);
    return kevent(p->kfd, ch, 2, NULL, 0, NULL);
}
#endif

static inline int mq_poller_add(mq_poller_t *p, int fd, void *ptr, int events)
{
#if defined(MQ_HAVE_EPOLL)
    if (p->kind == 1) return mq__epoll_set(p, EPOLL_CTL_ADD, fd, ptr, events);
#elif defined(MQ_HAVE_KQUEUE)
    if (p->kind == 2) return mq__kq_set(p, fd, ptr, events);
#endif
    if (mq__grow_slots(p, fd) < 0) return -1;
    if (p->slot_of_fd[fd] >= 0) { errno = EEXIST; return -1; }
    if (p->n == p->cap) {
        int ncap = p->cap ? p->cap * 2 : 16;
        struct pollfd *np = (struct pollfd *)mq_realloc(p->pfds, sizeof(struct pollfd) * ncap);
        if (!np) return -1;
        p->pfds = np;
        void **nptr = (void **)mq_realloc(p->ptrs, sizeof(void *) * ncap);
        if (!nptr) return -1;
        p->ptrs = nptr;
        p->cap = ncap;
    }
    p->pfds[p->n].fd = fd;
    p->pfds[p->n].events = mq__poll_mask(events);
    p->pfds[p->n].revents = 0;
    p->ptrs[p->n] = ptr;
    p->slot_of_fd[fd] = p->n++;
    return 0;
}

static inline int mq_poller_mod(mq_poller_t *p, int fd, void *ptr, int events)
{
#if defined(MQ_HAVE_EPOLL)
    if (p->kind == 1) return mq__epoll_set(p, EPOLL_CTL_MOD, fd, ptr, events);
#elif defined(MQ_HAVE_KQUEUE)
    if (p->kind == 2) return mq__kq_set(p, fd, ptr, events);
#endif
    if (fd >= p->slot_cap || p->slot_of_fd[fd] < 0) { errno = ENOENT; return -1; }
    int i = p->slot_of_fd[fd];
    p->pfds[i].events = mq__poll_mask(events);
    p->ptrs[i] = ptr;
    return 0;
}

static inline int mq_poller_del(mq_poller_t *p, int fd)
{
#if defined(MQ_HAVE_EPOLL)
    if (p->kind == 1) {
        struct epoll_event ev;
        memset(&ev, 0, sizeof ev);
        return epoll_ctl(p->kfd, EPOLL_CTL_DEL, fd, &ev);
    }
#elif defined(MQ_HAVE_KQUEUE)
    if (p->kind == 2) {
        struct kevent ch[2];
        EV_SET(&ch[0], fd, EVFILT_READ, EV_DELETE, 0, 0, NULL);
        EV_SET(&ch[1], fd, EVFILT_WRITE, EV_DELETE, 0, 0, NULL);
        kevent(p->kfd, &ch[0], 1, NULL, 0, NULL);
        kevent(p->kfd, &ch[1], 1, NULL, 0, NULL);
        return 0;
    }
#endif
    if (fd >= p->slot_cap || p->slot_of_fd[fd] < 0) { errno = ENOENT; return -1; }
    int i = p->slot_of_fd[fd];
    int last = p->n - 1;
    if (i != last) {
        p->pfds[i] = p->pfds[last];
        p->ptrs[i] = p->ptrs[last];
        p->slot_of_fd[p->pfds[i].fd] = i;
    }
    p->n--;
    p->slot_of_fd[fd] = -1;
    return 0;
}

/* Fills at most max events; returns how many, 0 on timeout, -1 on error. */
static inline int mq_poller_wait(mq_poller_t *p, mq_pevent_t *out, int max, int timeout_ms)
{
#if defined(MQ_HAVE_EPOLL)
    if (p->kind == 1) {
        struct epoll_event evs[256];
        if (max > 256) max = 256;
        int n = epoll_wait(p->kfd, evs, max, timeout_ms);
        for (int i = 0; i < n; i++) {
            int e = 0;
            if (evs[i].events & EPOLLIN) e |= MQ_POLLIN;
            if (evs[i].events & EPOLLOUT) e |= MQ_POLLOUT;
            if (evs[i].events & (EPOLLERR | EPOLLHUP)) e |= MQ_POLLERR;
            out[i].ptr = evs[i].data.ptr;
            out[i].events = e;
        }
        return n;
    }
#elif defined(MQ_HAVE_KQUEUE)
    if (p->kind == 2) {
        struct kevent evs[256];
        struct timespec ts, *tsp = NULL;
        if (max > 256) max = 256;
        if (timeout_ms >= 0) {
            ts.tv_sec = timeout_ms / 1000;
            ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
            tsp = &ts;
        }
        int n = kevent(p->kfd, NULL, 0, evs, max, tsp);
        for (int i = 0; i < n; i++) {
            int e = 0;
            if (evs[i].filter == EVFILT_READ) e |= MQ_POLLIN;
            if (evs[i].filter == EVFILT_WRITE) e |= MQ_POLLOUT;
            if (evs[i].flags & EV_ERROR) e |= MQ_POLLERR;
            out[i].ptr = evs[i].udata;
            out[i].events = e;
        }
        return n;
    }
#endif
    int rc = poll(p->pfds, (nfds_t)p->n, timeout_ms);
    if (rc <= 0) return rc;
    /* The scan starts where the last one left off, so that with more
       ready descriptors than `max` the later slots get their turn too. */
    int k = 0, n = p->n;
    int start = p->scan_from < n ? p->scan_from : 0;
    for (int j = 0; j < n && k < max; j++) {
        int i = start + j < n ? start + j : start + j - n;
        short r = p->pfds[i].revents;
        if (!r) continue;
        int e = 0;
        if (r & POLLIN) e |= MQ_POLLIN;
        if (r & POLLOUT) e |= MQ_POLLOUT;
        if (r & (POLLERR | POLLHUP | POLLNVAL)) e |= MQ_POLLERR;
        out[k].ptr = p->ptrs[i];
        out[k].events = e;
        k++;
        p->scan_from = i + 1;
    }
    return k;
}

#endif
