/* Stream-socket plumbing for the tcp and ipc transports: resolving,
 * listening, non-blocking connect and accept, and writes that never raise
 * SIGPIPE. Platform differences (accept4, SO_NOSIGPIPE, abstract unix names)
 * stay in this header. */
#ifndef MQ_NET_H
#define MQ_NET_H

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

/* Longest ipc path: sun_path less its terminating NUL. */
#define IPC_PATH_MAX ((int)sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

typedef struct {
    struct sockaddr_storage ss;
    socklen_t len;
} mq_addr_t;

static inline int mq__nonblock_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* Every fd the core reads and writes: non-blocking, closed on exec, and
 * (where MSG_NOSIGNAL is missing) without SIGPIPE. Closes fd on failure. */
static inline int mq__prepare_fd(int fd)
{
    if (mq__nonblock_cloexec(fd) < 0) { int e = errno; close(fd); errno = e; return -1; }
#ifdef SO_NOSIGPIPE
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    return fd;
}

static inline int mq__socket(int family)
{
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    return mq__prepare_fd(fd);
}

/* host: "*" (any), a numeric address or a name; port: decimal or "*"/"0".
 * ipv6: allow IPv6 results (and make "*" mean [::] dual-stack). */
static inline int mq_tcp_resolve(const char *host, const char *port, int ipv6,
                                 int passive, mq_addr_t *out)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = ipv6 ? AF_UNSPEC : AF_INET;
    const char *h = host;
    if (strcmp(host, "*") == 0) {
        h = NULL;
        hints.ai_flags |= AI_PASSIVE;
        if (ipv6) hints.ai_family = AF_INET6;
    }
    if (!passive && h == NULL) { errno = EINVAL; return -1; }
    const char *p = (strcmp(port, "*") == 0) ? "0" : port;
    /* A numeric IPv6 literal is accepted even without the IPV6 option, as
     * libzmq does for "[::1]". */
    if (h && strchr(h, ':')) hints.ai_family = AF_INET6;
    int rc = getaddrinfo(h, p, &hints, &res);
    if (rc != 0 || !res) {
        if (res) freeaddrinfo(res);
        errno = EINVAL;
        return -1;
    }
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = (socklen_t)res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* "/path" or "@abstract" (Linux). */
static inline int mq_ipc_addr(const char *path, mq_addr_t *out)
{
    struct sockaddr_un *un = (struct sockaddr_un *)&out->ss;
    size_t n = strlen(path);
    memset(un, 0, sizeof *un);
    un->sun_family = AF_UNIX;
    if (n == 0 || n >= sizeof un->sun_path) { errno = ENAMETOOLONG; return -1; }
    memcpy(un->sun_path, path, n);
    if (path[0] == '@') {
#ifdef __linux__
        un->sun_path[0] = '\0';
        out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
        return 0;
#else
        errno = EINVAL;
        return -1;
#endif
    }
    out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    return 0;
}

static inline int mq_listen(const mq_addr_t *a, int backlog, int *fd_out)
{
    int family = a->ss.ss_family;
    int fd = mq__socket(family);
    if (fd < 0) return -1;
    int one = 1, zero = 0;
    if (family != AF_UNIX) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0 || listen(fd, backlog) < 0) {
        int e = errno; close(fd); errno = e; return -1;
    }
    *fd_out = fd;
    return 0;
}

static inline int mq_local_addr(int fd, mq_addr_t *out)
{
    out->len = sizeof out->ss;
    return getsockname(fd, (struct sockaddr *)&out->ss, &out->len);
}

/* Writes "tcp://1.2.3.4:5" or "tcp://[::1]:5". */
static inline int mq_tcp_endpoint(const mq_addr_t *a, char *buf, size_t n)
{
    char host[INET6_ADDRSTRLEN];
    if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
        return snprintf(buf, n, "tcp://[%s]:%u", host, (unsigned)ntohs(s6->sin6_port));
    }
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a->ss;
    inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
    return snprintf(buf, n, "tcp://%s:%u", host, (unsigned)ntohs(s4->sin_port));
}

/* Returns 0 when connected at once, 1 when in progress, -1 on error. */
static inline int mq_connect_start(const mq_addr_t *a, int *fd_out)
{
    int fd = mq__socket(a->ss.ss_family);
    if (fd < 0) return -1;
    *fd_out = fd;
    if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0) return 0;
    if (errno == EINPROGRESS || errno == EAGAIN) return 1;
    int e = errno; close(fd); *fd_out = -1; errno = e;
    return -1;
}

/* After the fd turned writable: 0 when the connection is up, else -1/errno. */
static inline int mq_connect_finish(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return -1;
    if (err) { errno = err; return -1; }
    return 0;
}

static inline int mq_accept(int lfd)
{
    int fd;
    do { fd = accept(lfd, NULL, NULL); } while (fd < 0 && errno == EINTR);
    if (fd < 0) return -1;
    return mq__prepare_fd(fd);
}

static inline void mq_tune_stream(int fd, int is_tcp, int sndbuf, int rcvbuf)
{
    int one = 1;
    if (is_tcp) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (sndbuf >= 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (rcvbuf >= 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
}

static inline void mq_tcp_keepalive(int fd, int on, int cnt, int idle, int intvl)
{
    if (on == -1) return;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
#ifdef TCP_KEEPCNT
    if (on && cnt != -1) setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
#endif
#ifdef TCP_KEEPIDLE
    if (on && idle != -1) setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
#endif
#ifdef TCP_KEEPINTVL
    if (on && intvl != -1) setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
#endif
}

static inline ssize_t mq_writev(int fd, struct iovec *iov, int n)
{
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = iov;
    m.msg_iovlen = n;
    ssize_t rc;
    do { rc = sendmsg(fd, &m, MSG_NOSIGNAL); } while (rc < 0 && errno == EINTR);
    return rc;
}

static inline ssize_t mq_read(int fd, void *buf, size_t n)
{
    ssize_t rc;
    do { rc = read(fd, buf, n); } while (rc < 0 && errno == EINTR);
    return rc;
}

#endif
