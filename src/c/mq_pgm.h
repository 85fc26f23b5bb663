/* Socket plumbing for PGM (RFC 3208) as OpenPGM puts it on the wire:
 * epgm:// carries each PGM packet as one UDP datagram (both the multicast
 * and the unicast port are the endpoint's port, as libzmq sets
 * PGM_UDP_ENCAP_*_PORT), pgm:// as raw IP protocol 113 (CAP_NET_RAW).
 *
 * An endpoint is "interface;group:port" with IPv4 addresses (OpenPGM takes
 * no interface names here either), or "group:port" for the default one.
 *
 * Which fd hears what, when a libzmq peer shares the host:
 *   receiver: bound to group:port, so it gets the group's packets only and
 *             never the unicast NAKs meant for a source on the same port;
 *   sender:   bound to interface:port, so the NAKs sent to its NLA reach it
 *             (an exact address beats OpenPGM's INADDR_ANY receive socket).
 */
#ifndef MQ_PGM_H
#define MQ_PGM_H

#include "mq_net.h"
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MQ_PGM_IPPROTO 113

typedef struct {
    struct in_addr iface;       /* INADDR_ANY: the default interface */
    struct in_addr group;
    unsigned short port;        /* host order */
} mq_pgm_addr_t;

/* What a pgm/epgm endpoint row keeps in its endpoint's mq_addr_t (only
 * that row reads it): the address and how its session opens the fd. */
typedef struct {
    mq_pgm_addr_t a;
    int raw;                    /* pgm:// */
    int sender;                 /* PUB/XPUB: a source; else a receiver */
} mq_pgm_ep_t;

typedef char mq_pgm_ep_fits[sizeof(mq_pgm_ep_t) <= sizeof(struct sockaddr_storage) ? 1 : -1];

static inline mq_pgm_ep_t *mq_pgm_ep_of(const mq_addr_t *x)
{
    return (mq_pgm_ep_t *)(void *)&((mq_addr_t *)x)->ss;
}

/* "iface;group:port" or "group:port" into *a. 0, or -1 errno EINVAL. */
static inline int mq_pgm_parse(const char *s, mq_pgm_addr_t *a)
{
    char buf[128];
    const char *semi, *colon, *grp;
    char *end;
    long port;
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof buf) { errno = EINVAL; return -1; }
    memcpy(buf, s, n + 1);
    colon = strrchr(buf, ':');
    if (colon == NULL) { errno = EINVAL; return -1; }
    port = strtol(colon + 1, &end, 10);
    if (*end != 0 || colon[1] == 0 || port < 1 || port > 65535) { errno = EINVAL; return -1; }
    buf[colon - buf] = 0;
    semi = strchr(buf, ';');
    a->iface.s_addr = htonl(INADDR_ANY);
    grp = buf;
    if (semi != NULL) {
        buf[semi - buf] = 0;
        if (inet_pton(AF_INET, buf, &a->iface) != 1) { errno = EINVAL; return -1; }
        grp = semi + 1;
    }
    if (inet_pton(AF_INET, grp, &a->group) != 1 || !IN_MULTICAST(ntohl(a->group.s_addr))) {
        errno = EINVAL;
        return -1;
    }
    a->port = (unsigned short)port;
    return 0;
}

static inline int mq_pgm__fail(int fd)
{
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

static inline int mq_pgm__mcast_opts(int fd, const mq_pgm_addr_t *a, int hops, int join)
{
    unsigned char ttl = (unsigned char)(hops > 255 ? 255 : hops < 0 ? 0 : hops);
    unsigned char loop = 0;     /* as libzmq: PGM multicast loopback off */
    struct ip_mreq mr;
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &a->iface, sizeof a->iface) < 0) return -1;
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) < 0) return -1;
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) < 0) return -1;
    if (join) {
        mr.imr_multiaddr = a->group;
        mr.imr_interface = a->iface;
        if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) return -1;
    }
    return 0;
}

/* The one fd of a PGM session: a receiver (joins the group) or a sender
 * (hears NAKs/SPMRs at its NLA). raw: pgm:// (IP protocol 113). */
static inline int mq_pgm_open(const mq_pgm_addr_t *a, int raw, int sender, int hops,
                              int sndbuf, int rcvbuf)
{
    struct sockaddr_in sin;
    int one = 1;
    int fd = raw ? socket(AF_INET, SOCK_RAW, MQ_PGM_IPPROTO) : socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return -1;
    if (mq__prepare_fd(fd) < 0) return -1;
    /* OpenPGM shares its ports with SO_REUSEPORT only: without it here
     * too, one of us could not bind next to the other. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) return mq_pgm__fail(fd);
#ifdef SO_REUSEPORT
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) return mq_pgm__fail(fd);
#endif
    if (sndbuf > 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (!raw) {
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_port = htons(a->port);
        sin.sin_addr = sender ? a->iface : a->group;
        if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0) return mq_pgm__fail(fd);
    }
    if (mq_pgm__mcast_opts(fd, a, hops, !sender || raw) < 0) return mq_pgm__fail(fd);
    return fd;
}

/* One PGM packet to addr (network order) : port. raw: the kernel adds the
 * IP header. 0 sent (or dropped by a full buffer: PGM repairs it), -1. */
static inline int mq_pgm_sendto(int fd, int raw, struct in_addr to, unsigned short port,
                                const void *p, size_t n)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = raw ? 0 : htons(port);
    sin.sin_addr = to;
    if (sendto(fd, p, n, MSG_NOSIGNAL, (struct sockaddr *)&sin, sizeof sin) < 0) {
        if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR) return 0;
        return -1;
    }
    return 0;
}

/* One datagram; raw: the PGM packet after the IP header (*skip set to its
 * length), dropped when not ours. n, 0 none pending (EAGAIN), -1 error. */
static inline ssize_t mq_pgm_recv(int fd, int raw, unsigned char *buf, size_t cap, size_t *skip,
                                  struct in_addr *from)
{
    struct sockaddr_in sin;
    socklen_t sl = sizeof sin;
    ssize_t n = recvfrom(fd, buf, cap, 0, (struct sockaddr *)&sin, &sl);
    size_t ihl;
    *skip = 0;
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
    from->s_addr = sin.sin_addr.s_addr;
    if (raw) {
        if (n < 20) return -2;
        ihl = (size_t)(buf[0] & 0x0f) * 4;
        if (ihl < 20 || (size_t)n < ihl || buf[9] != MQ_PGM_IPPROTO) return -2;
        *skip = ihl;
    }
    return n;
}

#endif
