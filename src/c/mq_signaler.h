/* A wake-up fd: eventfd on Linux, a non-blocking pipe elsewhere.
 * One signal may be outstanding at a time (the mailbox guarantees it), so
 * recv only has to drain. The read end is what select/poll/epoll watch and
 * what a Socket exposes as its FD. */
#ifndef MQ_SIGNALER_H
#define MQ_SIGNALER_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

typedef struct { int rfd; int wfd; } mq_sig_t;

static inline int mq_sig_open(mq_sig_t *s)
{
#ifdef __linux__
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) return -1;
    s->rfd = s->wfd = fd;
#else
    int fds[2];
    if (pipe(fds) < 0) return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    s->rfd = fds[0]; s->wfd = fds[1];
#endif
    return 0;
}

static inline void mq_sig_close(mq_sig_t *s)
{
    if (s->rfd >= 0) close(s->rfd);
    if (s->wfd >= 0 && s->wfd != s->rfd) close(s->wfd);
    s->rfd = s->wfd = -1;
}

static inline void mq_sig_send(mq_sig_t *s)
{
#ifdef __linux__
    uint64_t one = 1;
    ssize_t n;
    do { n = write(s->wfd, &one, sizeof one); } while (n < 0 && errno == EINTR);
#else
    char c = 0;
    ssize_t n;
    do { n = write(s->wfd, &c, 1); } while (n < 0 && errno == EINTR);
#endif
}

static inline void mq_sig_drain(mq_sig_t *s)
{
#ifdef __linux__
    /* One read resets an eventfd's counter. */
    uint64_t v;
    ssize_t n;
    do { n = read(s->rfd, &v, sizeof v); } while (n < 0 && errno == EINTR);
#else
    char buf[64];
    ssize_t n;
    do { n = read(s->rfd, buf, sizeof buf); } while (n > 0 || (n < 0 && errno == EINTR));
#endif
}

/* Waits for the signal fd to become readable and, when `fd` is not -1
 * (poll skips a negative fd), for `fd` to become readable or hang up.
 * Returns the ready ones as bits (1 the signal, 2 fd), 0 on timeout, -1
 * with errno EINTR when a signal arrived (the caller then lets Python run
 * its handlers, so Ctrl-C works). */
static inline int mq_sig_wait_fd(mq_sig_t *s, int fd, int timeout_ms)
{
    struct pollfd p[2];
    p[0].fd = s->rfd; p[0].events = POLLIN; p[0].revents = 0;
    p[1].fd = fd; p[1].events = POLLIN; p[1].revents = 0;
    int rc = poll(p, 2, timeout_ms);
    if (rc < 0) return -1;
    return (p[0].revents ? 1 : 0) | (p[1].revents ? 2 : 0);
}

/* Waits for the signal fd alone: 1 when signalled, 0 on timeout, -1
 * (EINTR) on a signal. */
static inline int mq_sig_wait(mq_sig_t *s, int timeout_ms)
{
    return mq_sig_wait_fd(s, -1, timeout_ms);
}

#endif

#ifndef MQ_COND_WAIT
#define MQ_COND_WAIT
#ifdef __linux__
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#endif
/* Names the calling thread (shown by top, perf, gdb). */
static inline void mq_name_this_thread(const char *name)
{
#if defined(__linux__)
    pthread_setname_np(pthread_self(), name);
#elif defined(__APPLE__)
    pthread_setname_np(name);
#else
    (void)name;
#endif
}

#include <pthread.h>
#include <time.h>
/* pthread_cond_timedwait for `ms` milliseconds from now (the caller holds m). */
static inline int mq_cond_wait_ms(pthread_cond_t *c, pthread_mutex_t *m, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    return pthread_cond_timedwait(c, m, &ts);
}
#endif
