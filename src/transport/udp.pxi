# udp://[iface;]host:port for RADIO and DISH (libzmq's udp_address_t and
# the socket set-up of its udp_engine_t). No listener and no handshake:
# bind (DISH only) and connect (RADIO only) both make a session whose
# datagram socket receives, or sends, one message per datagram
# (engine/udp_engine.pxi). DISH binds the address given, or for a
# multicast group ANY and the port, joining the group on the interface
# named before ';' (ANY without one); RADIO sends to the address, to a
# multicast group through that interface with MULTICAST_LOOP and
# MULTICAST_HOPS.

cdef extern from "mq_udp.h" nogil:
    ctypedef struct mq_udp_addr_t:
        mq_addr_t target
        mq_addr_t local
        int multicast
        int ifindex
    int mq_udp_resolve(const char *address, int for_bind, int ipv6, mq_udp_addr_t *out)
    int mq_udp_open_recv(const mq_udp_addr_t *a)
    int mq_udp_open_send(const mq_udp_addr_t *a)
    int mq_udp_recv_batch(int fd, unsigned char *bufs, size_t cap, int count, size_t *lens, int *truncated)
    int mq_udp_send_batch(int fd, const unsigned char *area, const size_t *offs, const size_t *lens,
                          int count, const mq_addr_t *to)
    void mq_udp_tune(int fd, int sndbuf, int rcvbuf, int loop, int hops)

cdef extern from "<errno.h>" nogil:
    enum: ENOBUFS

cdef transport_t UDP_TRANSPORT


cdef int udp_resolve(endpoint_t *ep, const char *address, const options_t *o,
                     bint for_bind) noexcept nogil:
    cdef mq_udp_addr_t a
    if mq_udp_resolve(address, for_bind, o.ipv6, &a) < 0:
        return -1
    ep.addr = a.target
    ep.local = a.local
    ep.multicast = a.multicast != 0
    ep.ifindex = a.ifindex
    ep.bound = for_bind
    mq_endpoint_name(ep.name, ENDPOINT_NAME_MAX, UDP_TRANSPORT.scheme, address)
    return 0


cdef int udp_open(const endpoint_t *ep, const options_t *o, int *fd) noexcept nogil:
    """The datagram socket of a session: bound (and in its multicast group)
    for a bind, unbound for a connect; the options follow in udp_tune.
    0, or -1 with errno (the session tries again later, as libzmq's)."""
    cdef mq_udp_addr_t a
    a.target = ep.addr
    a.local = ep.local
    a.multicast = ep.multicast
    a.ifindex = ep.ifindex
    fd[0] = mq_udp_open_recv(&a) if ep.bound else mq_udp_open_send(&a)
    return 0 if fd[0] >= 0 else -1


cdef void udp_tune(int fd, const options_t *o) noexcept nogil:
    mq_udp_tune(fd, o.sndbuf, o.rcvbuf, o.multicast_loop, o.multicast_hops)


cdef int udp_no_accept(int lfd) noexcept nogil:
    set_errno(ENOTSUP)
    return -1


cdef int udp_no_listen(endpoint_t *ep, const options_t *o, int *fd) noexcept nogil:
    set_errno(ENOTSUP)
    return -1


cdef int udp_connected(int fd) noexcept nogil:
    return 0


UDP_TRANSPORT.scheme = b"udp"
UDP_TRANSPORT.engine_kind = ENGINE_DATAGRAM
UDP_TRANSPORT.datagram = True
UDP_TRANSPORT.resolve = udp_resolve
UDP_TRANSPORT.listen = udp_no_listen
UDP_TRANSPORT.accept = udp_no_accept
UDP_TRANSPORT.connect_start = udp_open
UDP_TRANSPORT.connect_finish = udp_connected
UDP_TRANSPORT.tune = udp_tune
UDP_TRANSPORT.unbound = transport_no_cleanup
transport_register(&UDP_TRANSPORT)
