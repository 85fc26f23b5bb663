/* udp:// for RADIO/DISH (libzmq's udp_address_t and the socket set-up of
 * its udp_engine_t): resolving "[iface;]host:port", and opening the
 * datagram socket that receives (DISH, bind) or sends (RADIO, connect),
 * with multicast membership and options as libzmq sets them. */
#ifndef MQ_UDP_H
#define MQ_UDP_H

#include "mq_net.h"
#include <net/if.h>
#include <ifaddrs.h>

typedef struct {
    mq_addr_t target;       /* where RADIO sends; the multicast group DISH joins */
    mq_addr_t local;        /* what DISH binds; the multicast interface's address */
    int multicast;          /* target is a multicast address */
    int ifindex;            /* the interface named, 0 for any (IPv6 multicast) */
} mq_udp_addr_t;

static inline int mq__is_multicast(const mq_addr_t *a)
{
    if (a->ss.ss_family == AF_INET)
        return IN_MULTICAST(ntohl(((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr));
    if (a->ss.ss_family == AF_INET6)
        return IN6_IS_ADDR_MULTICAST(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
    return 0;
}

static inline void mq__set_port(mq_addr_t *a, unsigned short port)
{
    if (a->ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
}

static inline unsigned short mq__port(const mq_addr_t *a)
{
    if (a->ss.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
}

static inline void mq__any(mq_addr_t *a, int family)
{
    memset(a, 0, sizeof *a);
    a->ss.ss_family = (sa_family_t)family;
    a->len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* An interface given before ';': "*", a literal address, or a NIC name
 * (its first address of the family the IPV6 option says: IPv6 with it,
 * IPv4 without, as libzmq's resolver). No DNS, as libzmq. */
static inline int mq__udp_iface(const char *name, int ipv6, mq_addr_t *out, int *ifindex)
{
    struct ifaddrs *ifa = NULL, *i;
    *ifindex = 0;
    if (strcmp(name, "*") == 0) {
        mq__any(out, ipv6 ? AF_INET6 : AF_INET);
        return 0;
    }
    if (mq_looks_numeric(name) || strchr(name, ':') != NULL) {
        if (mq_ip_resolve(name, "0", ipv6, 1, SOCK_DGRAM, out) < 0) { errno = ENODEV; return -1; }
        return 0;
    }
    *ifindex = (int)if_nametoindex(name);
    if (*ifindex == 0 || getifaddrs(&ifa) < 0) { errno = ENODEV; return -1; }
    for (i = ifa; i != NULL; i = i->ifa_next) {
        if (i->ifa_addr == NULL || strcmp(i->ifa_name, name) != 0)
            continue;
        if (i->ifa_addr->sa_family == (ipv6 ? AF_INET6 : AF_INET)) {
            mq__any(out, i->ifa_addr->sa_family);
            memcpy(&out->ss, i->ifa_addr, out->len);
            freeifaddrs(ifa);
            return 0;
        }
    }
    freeifaddrs(ifa);
    errno = ENODEV;
    return -1;
}

/* "[iface;]host:port" as libzmq's udp_address_t::resolve reads it: with an
 * interface the host must be multicast; without one a multicast host (or
 * any host on connect) is the target and the local address is ANY, and a
 * unicast host on bind is the local address. -1 with errno (EINVAL, ENODEV). */
static inline int mq_udp_resolve(const char *address, int for_bind, int ipv6, mq_udp_addr_t *out)
{
    char iface[256], host[256], port[8];
    const char *semi = strrchr(address, ';');
    const char *target = address;
    int has_iface = 0, p;
    memset(out, 0, sizeof *out);
    if (semi != NULL) {
        size_t n = (size_t)(semi - address);
        if (n == 0 || n >= sizeof iface) { errno = EINVAL; return -1; }
        memcpy(iface, address, n);
        iface[n] = 0;
        if (mq__udp_iface(iface, ipv6, &out->local, &out->ifindex) < 0)
            return -1;
        if (mq__is_multicast(&out->local)) { errno = EINVAL; return -1; }
        has_iface = 1;
        target = semi + 1;
    }
    if (mq_split_host_port(target, host, sizeof host, port, sizeof port) < 0)
        return -1;
    p = mq_parse_port(port, 0);
    if (p <= 0) { errno = EINVAL; return -1; }
    if (mq_ip_resolve(host, port, ipv6, for_bind, SOCK_DGRAM, &out->target) < 0) {
        errno = for_bind && strcmp(host, "*") != 0 && !mq_looks_numeric(host) ? ENODEV : EINVAL;
        return -1;
    }
    if (!ipv6 && (out->target.ss.ss_family == AF_INET6 || out->local.ss.ss_family == AF_INET6)) {
        /* libzmq's udp resolver asks for IPv4 only without the IPV6
         * option: an IPv6 address does not resolve (ENODEV on bind,
         * EINVAL on connect, as it reports). */
        errno = for_bind ? ENODEV : EINVAL;
        return -1;
    }
    out->multicast = mq__is_multicast(&out->target);
    if (has_iface) {
        if (!out->multicast) { errno = EINVAL; return -1; }
        mq__set_port(&out->local, (unsigned short)p);
    } else if (out->multicast || !for_bind) {
        mq__any(&out->local, out->target.ss.ss_family);
        mq__set_port(&out->local, (unsigned short)p);
    } else {
        out->local = out->target;
    }
    if (out->local.ss.ss_family != out->target.ss.ss_family) { errno = EINVAL; return -1; }
    if (ipv6 && out->multicast && out->target.ss.ss_family == AF_INET6 && has_iface && out->ifindex == 0) {
        errno = ENODEV;     /* IPv6 multicast needs an interface by name */
        return -1;
    }
    return 0;
}

/* DISH: a socket bound to the local address (ANY and the port for a
 * multicast group, which it then joins on the interface). Its options
 * follow in mq_udp_tune. */
static inline int mq_udp_open_recv(const mq_udp_addr_t *a)
{
    int on = 1;
    mq_addr_t bind_to = a->local;
    int fd = mq_socket(a->target.ss.ss_family, SOCK_DGRAM);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (a->multicast) {
#ifdef SO_REUSEPORT
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
#endif
        mq__any(&bind_to, a->target.ss.ss_family);
        mq__set_port(&bind_to, mq__port(&a->local));
    }
    if (bind(fd, (const struct sockaddr *)&bind_to.ss, bind_to.len) < 0)
        goto fail;
    if (a->multicast && a->target.ss.ss_family == AF_INET) {
        struct ip_mreq mreq;
        mreq.imr_multiaddr = ((const struct sockaddr_in *)&a->target.ss)->sin_addr;
        mreq.imr_interface = ((const struct sockaddr_in *)&a->local.ss)->sin_addr;
        if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) < 0)
            goto fail;
    } else if (a->multicast) {
        struct ipv6_mreq mreq;
        mreq.ipv6mr_multiaddr = ((const struct sockaddr_in6 *)&a->target.ss)->sin6_addr;
        mreq.ipv6mr_interface = (unsigned)a->ifindex;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof mreq) < 0)
            goto fail;
    }
    return fd;
fail:
    {
        int err = errno;
        close(fd);
        errno = err;
    }
    return -1;
}

/* RADIO: an unbound socket that sends to the target; to a multicast
 * group through the interface named. MULTICAST_LOOP, MULTICAST_HOPS and
 * the buffers follow in mq_udp_tune. */
static inline int mq_udp_open_send(const mq_udp_addr_t *a)
{
    int fd = mq_socket(a->target.ss.ss_family, SOCK_DGRAM);
    int rc = 0;
    if (fd < 0)
        return -1;
    if (a->multicast && a->target.ss.ss_family == AF_INET) {
        rc = setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF,
                        &((const struct sockaddr_in *)&a->local.ss)->sin_addr, sizeof(struct in_addr));
    } else if (a->multicast) {
        unsigned idx = (unsigned)a->ifindex;
        rc = setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof idx);
    }
    if (rc != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

/* Per-session options (SNDBUF, RCVBUF; MULTICAST_LOOP and MULTICAST_HOPS
 * for what it sends to a multicast group). */
static inline void mq_udp_tune(int fd, int sndbuf, int rcvbuf, int loop, int hops)
{
    mq_addr_t a;
    a.len = sizeof a.ss;
    mq_set_buffers(fd, sndbuf, rcvbuf);
    if (getsockname(fd, (struct sockaddr *)&a.ss, &a.len) < 0)
        return;
    if (a.ss.ss_family == AF_INET) {
        unsigned char l = loop ? 1 : 0;
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &l, sizeof l);
        if (hops > 0) {
            unsigned char ttl = (unsigned char)(hops > 255 ? 255 : hops);
            setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
        }
    } else if (a.ss.ss_family == AF_INET6) {
        unsigned l = loop ? 1 : 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &l, sizeof l);
        if (hops > 0)
            setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops);
    }
}

/* Up to count datagrams in one call (recvmmsg), datagram i into
 * bufs + i * cap; its length in lens[i], truncated[i] when it was longer
 * than cap. How many; -1 with errno (EAGAIN: none waiting). */
static inline int mq_udp_recv_batch(int fd, unsigned char *bufs, size_t cap, int count,
                                    size_t *lens, int *truncated)
{
    struct mmsghdr mm[count];
    struct iovec iov[count];
    int i, n;
    memset(mm, 0, sizeof mm);
    for (i = 0; i < count; i++) {
        iov[i].iov_base = bufs + (size_t)i * cap;
        iov[i].iov_len = cap;
        mm[i].msg_hdr.msg_iov = &iov[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    do {
        n = recvmmsg(fd, mm, (unsigned)count, 0, NULL);
    } while (n < 0 && errno == EINTR);
    for (i = 0; i < n; i++) {
        lens[i] = mm[i].msg_len;
        truncated[i] = (mm[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
    }
    return n;
}

/* Datagrams area + offs[i] (lens[i] bytes), i < count, to `to` in one call
 * (sendmmsg), in order. How many went; -1 with errno when the first did not
 * (EAGAIN/ENOBUFS: no room now). */
static inline int mq_udp_send_batch(int fd, const unsigned char *area, const size_t *offs,
                                    const size_t *lens, int count, const mq_addr_t *to)
{
    struct mmsghdr mm[count];
    struct iovec iov[count];
    int i, n;
    memset(mm, 0, sizeof mm);
    for (i = 0; i < count; i++) {
        iov[i].iov_base = (void *)(area + offs[i]);
        iov[i].iov_len = lens[i];
        mm[i].msg_hdr.msg_iov = &iov[i];
        mm[i].msg_hdr.msg_iovlen = 1;
        mm[i].msg_hdr.msg_name = (void *)&to->ss;
        mm[i].msg_hdr.msg_namelen = to->len;
    }
    do {
        n = sendmmsg(fd, mm, (unsigned)count, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
}

#endif
