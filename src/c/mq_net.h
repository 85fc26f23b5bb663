/* Socket plumbing for the transports (the rows in transport/): resolving,
 * listening, non-blocking connect and accept, socket options, and writes
 * that never raise SIGPIPE. Sockets are made stream or datagram (udp). Platform differences (accept4, SO_NOSIGPIPE, abstract unix names)
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
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

/* A prepared socket of the given type (SOCK_STREAM, SOCK_DGRAM) and family. */
static inline int mq_socket(int family, int type)
{
    int fd = socket(family, type, 0);
    if (fd < 0) return -1;
    return mq__prepare_fd(fd);
}

static inline int mq_addr_family(const mq_addr_t *a)
{
    return a->ss.ss_family;
}

/* host: "*" (any), a numeric address or a name; port: decimal or "0" (the
 * caller maps "*" to "0"). socktype: SOCK_STREAM or SOCK_DGRAM.
 * ipv6: allow IPv6 results (and make "*" mean [::] dual-stack). */
static inline int mq_ip_resolve(const char *host, const char *port, int ipv6,
                                int passive, int socktype, mq_addr_t *out)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = socktype;
    hints.ai_family = ipv6 ? AF_UNSPEC : AF_INET;
    const char *h = host;
    if (strcmp(host, "*") == 0) {
        h = NULL;
        hints.ai_flags |= AI_PASSIVE;
        if (ipv6) hints.ai_family = AF_INET6;
    }
    if (!passive && h == NULL) { errno = EINVAL; return -1; }
    /* A numeric IPv6 literal is accepted even without the IPV6 option, as
     * libzmq does for "[::1]". */
    if (h && strchr(h, ':')) hints.ai_family = AF_INET6;
    int rc = getaddrinfo(h, port, &hints, &res);
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

/* Splits "host:port" or "[v6]:port" at the last colon into the two buffers
 * (brackets dropped). -1/EINVAL when either part is missing or too long. */
static inline int mq_split_host_port(const char *address, char *host, size_t hn,
                                     char *port, size_t pn)
{
    const char *colon = strrchr(address, ':');
    if (colon == NULL || colon == address || colon[1] == '\0') { errno = EINVAL; return -1; }
    const char *h = address;
    size_t n = (size_t)(colon - address);
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') { h++; n -= 2; }
    if (n == 0 || n >= hn || strlen(colon + 1) >= pn) { errno = EINVAL; return -1; }
    memcpy(host, h, n);
    host[n] = '\0';
    strcpy(port, colon + 1);
    return 0;
}

/* A port as written in an endpoint: decimal 0..65535, or "*" (any, as 0)
 * where allow_any. The number, or -1. */
static inline int mq_parse_port(const char *port, int allow_any)
{
    if (strcmp(port, "*") == 0) return allow_any ? 0 : -1;
    if (port[0] == '\0' || strlen(port) > 5) return -1;
    long v = 0;
    for (const char *c = port; *c; c++) {
        if (*c < '0' || *c > '9') return -1;
        v = v * 10 + (*c - '0');
    }
    return v <= 65535 ? (int)v : -1;
}

/* Whether a host is written as an address (IPv4 dots or IPv6 hex and
 * colons) rather than as a name: a name that does not resolve on bind is
 * reported as no such device, a bad number as invalid. */
static inline int mq_looks_numeric(const char *host)
{
    return host[strspn(host, "0123456789.:abcdefABCDEF")] == '\0';
}

/* "scheme://address" into buf (cut to fit). */
static inline void mq_endpoint_name(char *buf, size_t n, const char *scheme, const char *address)
{
    snprintf(buf, n, "%s://%s", scheme, address);
}

/* "/path" or "@abstract" (Linux). */
static inline int mq_ipc_addr(const char *path, mq_addr_t *out)
{
    struct sockaddr_un *un = (struct sockaddr_un *)&out->ss;
    size_t n = strlen(path);
    memset(un, 0, sizeof *un);
    un->sun_family = AF_UNIX;
    if (n == 0 || (n == 1 && path[0] == '@')) { errno = EINVAL; return -1; }
    if (n >= sizeof un->sun_path) { errno = ENAMETOOLONG; return -1; }
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

/* The path of an ipc address as it was given ("@name" for an abstract one). */
static inline char *mq_ipc_path(const mq_addr_t *a, char *buf, size_t n)
{
    const struct sockaddr_un *un = (const struct sockaddr_un *)&a->ss;
    size_t len = a->len > offsetof(struct sockaddr_un, sun_path)
        ? a->len - offsetof(struct sockaddr_un, sun_path) : 0;
    if (len >= n) len = n - 1;
    memcpy(buf, un->sun_path, len);
    buf[len] = '\0';
    if (len > 0 && buf[0] == '\0') buf[0] = '@';
    return buf;
}

/* A new private directory for a wildcard ipc bind, in $TMPDIR (else /tmp), as
 * Python's tempfile.mkdtemp: "<dir>/mqcore-XXXXXX". 0, or -1 with errno. */
static inline int mq_make_temp_dir(char *buf, size_t n)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0') base = "/tmp";
    if ((size_t)snprintf(buf, n, "%s/mqcore-XXXXXX", base) >= n) { errno = ENAMETOOLONG; return -1; }
    return mkdtemp(buf) ? 0 : -1;
}

/* rmdir of the directory a path is in (fails, harmlessly, unless empty). */
static inline void mq_remove_parent_dir(char *path)
{
    char *slash = strrchr(path, '/');
    if (slash == NULL || slash == path) return;
    *slash = '\0';
    rmdir(path);
    *slash = '/';
}

/* The inode of a file (0: none), which tells a socket file this process
 * made from one another bind made later at the same path. */
static inline unsigned long long mq_file_id(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0) return 0;
    return (unsigned long long)st.st_ino;
}

/* SNDBUF/RCVBUF (-1: the system's). TCP: only on a socket that has not yet
 * connected or listened (accepted ones inherit the listener's): TCP sizes
 * its window (scale, clamp) and the peer its segments from the buffer at
 * the handshake. A buffer shrunk afterwards is smaller than the window
 * already offered and than one segment (64 KiB on loopback): the receiver
 * then advertises a zero window and the sender moves one probe at a time,
 * every 200 ms or more -- a near stall. Unix sockets have no window, and an
 * accepted one does not inherit the listener's buffers: set them on the
 * connection. UDP: mq_udp.h. */
static inline void mq_set_buffers(int fd, int sndbuf, int rcvbuf)
{
    if (sndbuf >= 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (rcvbuf >= 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
}

/* Binds fd to a and listens; closes fd on failure. */
static inline int mq_bind_listen(int fd, const mq_addr_t *a, int backlog)
{
    int family = a->ss.ss_family;
    int one = 1, zero = 0;
    if (family != AF_UNIX) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0 || listen(fd, backlog) < 0) {
        int e = errno; close(fd); errno = e; return -1;
    }
    return 0;
}

static inline int mq_local_addr(int fd, mq_addr_t *out)
{
    out->len = sizeof out->ss;
    return getsockname(fd, (struct sockaddr *)&out->ss, &out->len);
}

/* Writes "tcp://1.2.3.4:5" or "tcp://[::1]:5" (scheme given by the caller). */
static inline int mq_ip_endpoint(const char *scheme, const mq_addr_t *a, char *buf, size_t n)
{
    char host[INET6_ADDRSTRLEN];
    if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
        return snprintf(buf, n, "%s://[%s]:%u", scheme, host, (unsigned)ntohs(s6->sin6_port));
    }
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a->ss;
    inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
    return snprintf(buf, n, "%s://%s:%u", scheme, host, (unsigned)ntohs(s4->sin_port));
}

/* Starts connecting a prepared fd: 0 when connected at once, 1 when in
 * progress, -1 on error (fd closed). */
static inline int mq_connect_fd(int fd, const mq_addr_t *a)
{
    if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0) return 0;
    if (errno == EINPROGRESS || errno == EAGAIN) return 1;
    int e = errno; close(fd); errno = e;
    return -1;
}

/* Returns 0 when connected at once, 1 when in progress, -1 on error. */
static inline int mq_connect_start(const mq_addr_t *a, int *fd_out)
{
    int fd = mq_socket(a->ss.ss_family, SOCK_STREAM);
    if (fd < 0) return -1;
    int rc = mq_connect_fd(fd, a);
    *fd_out = rc < 0 ? -1 : fd;
    return rc;
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

static inline void mq_tune_stream(int fd, int is_tcp)
{
    int one = 1;
    if (is_tcp) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
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

/* IP type of service (TOS) on an IPv4 or IPv6 socket, as libzmq: IP_TOS,
 * and IPV6_TCLASS where the socket speaks IPv6 (an error there on an IPv4
 * socket is expected and ignored). */
static inline void mq_set_tos(int fd, int tos)
{
    setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
#ifdef IPV6_TCLASS
    setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
#endif
}

/* How long sent data may stay unacknowledged before the connection is
 * dropped (TCP_MAXRT; Linux's TCP_USER_TIMEOUT, in ms). */
static inline void mq_tcp_maxrt(int fd, int ms)
{
#ifdef TCP_USER_TIMEOUT
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof ms);
#else
    (void)fd; (void)ms;
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

/* The connection's peer as libzmq's Peer-Address property shows it: the
 * numeric host for IP ("127.0.0.1", "::1"), and for a local socket what
 * getnameinfo says ("localhost") followed by ":uid:gid:pid" from
 * SO_PEERCRED. The length written into buf (NUL-terminated), 0 when the
 * peer cannot be told. */
static inline int mq_peer_address(int fd, char *buf, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[NI_MAXHOST];
    int n;
    if (cap == 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, NULL, 0, NI_NUMERICHOST) != 0)
        return 0;
    n = snprintf(buf, cap, "%s", host);
#ifdef SO_PEERCRED
    if (ss.ss_family == AF_UNIX) {
        struct ucred cred;
        socklen_t clen = sizeof cred;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
            n = snprintf(buf, cap, "%s:%u:%u:%d", host, (unsigned)cred.uid,
                         (unsigned)cred.gid, (int)cred.pid);
    }
#endif
    if (n < 0 || (size_t)n >= cap)
        return 0;
    return n;
}

#endif
