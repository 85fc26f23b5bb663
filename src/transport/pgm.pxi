# epgm://iface;group:port (PGM in UDP) and pgm://iface;group:port (PGM over
# raw IP, CAP_NET_RAW), for PUB/XPUB (a source) and SUB/XSUB (a receiver)
# only, as libzmq: any other type is ENOCOMPATPROTO. As in libzmq, bind is
# the same as connect: a session that opens its fd at once (no listener);
# the engine is engine/pgm_engine.pxi. The row keeps its endpoint in
# ep.addr as an mq_pgm_ep_t (c/mq_pgm.h).

cdef extern from "mq_pgm.h" nogil:
    cdef struct in_addr:
        uint32_t s_addr
    ctypedef struct mq_pgm_addr_t:
        in_addr iface
        in_addr group
        unsigned short port
    ctypedef struct mq_pgm_ep_t:
        mq_pgm_addr_t a
        int raw
        int sender
    mq_pgm_ep_t *mq_pgm_ep_of(const mq_addr_t *x)
    int mq_pgm_parse(const char *s, mq_pgm_addr_t *a)
    int mq_pgm_open(const mq_pgm_addr_t *a, int raw, int sender, int hops, int sndbuf, int rcvbuf)
    int mq_pgm_sendto(int fd, int raw, in_addr to, unsigned short port, const void *p, size_t n)
    ssize_t mq_pgm_recv(int fd, int raw, unsigned char *buf, size_t cap, size_t *skip, in_addr *frm)

cdef enum:
    ENGINE_PGM = 16             # engine/pgm_engine.pxi

cdef transport_t PGM_TRANSPORT
cdef transport_t EPGM_TRANSPORT


cdef int pgm_resolve_row(endpoint_t *ep, const char *address, const options_t *o,
                         bint raw) noexcept nogil:
    cdef mq_pgm_ep_t *pe = mq_pgm_ep_of(&ep.addr)
    if o.type != ST_PUB and o.type != ST_XPUB and o.type != ST_SUB and o.type != ST_XSUB:
        set_errno(ENOCOMPATPROTO_)
        return -1
    memset(&ep.addr, 0, sizeof(mq_addr_t))
    if mq_pgm_parse(address, &pe.a) < 0:
        return -1
    pe.raw = raw
    pe.sender = o.type == ST_PUB or o.type == ST_XPUB
    mq_endpoint_name(ep.name, ENDPOINT_NAME_MAX, b"pgm" if raw else b"epgm", address)
    return 0


cdef int pgm_resolve(endpoint_t *ep, const char *address, const options_t *o,
                     bint for_bind) noexcept nogil:
    return pgm_resolve_row(ep, address, o, True)


cdef int epgm_resolve(endpoint_t *ep, const char *address, const options_t *o,
                      bint for_bind) noexcept nogil:
    return pgm_resolve_row(ep, address, o, False)


cdef int pgm_no_listen(endpoint_t *ep, const options_t *o, int *fd) noexcept nogil:
    set_errno(EPROTONOSUPPORT)      # never called: bind_connects
    return -1


cdef int pgm_no_accept(int lfd) noexcept nogil:
    set_errno(EPROTONOSUPPORT)
    return -1


cdef int pgm_connect_start(const endpoint_t *ep, const options_t *o, int *fd) noexcept nogil:
    cdef mq_pgm_ep_t *pe = mq_pgm_ep_of(&ep.addr)
    cdef int s = mq_pgm_open(&pe.a, pe.raw, pe.sender, o.multicast_hops, o.sndbuf, o.rcvbuf)
    fd[0] = s
    return 0 if s >= 0 else -1


cdef void pgm_tune(int fd, const options_t *o) noexcept nogil:
    pass                # mq_pgm_open set what applies


cdef void pgm_fill_row(transport_t *tp, const char *scheme) noexcept:
    tp.scheme = scheme
    tp.engine_kind = ENGINE_PGM
    tp.bind_connects = True
    tp.reported_by_has = False   # libzmq 4.3.4 names only "pgm": set below
    tp.listen = pgm_no_listen
    tp.accept = pgm_no_accept
    tp.connect_start = pgm_connect_start
    tp.connect_finish = stream_connect_finish
    tp.tune = pgm_tune
    tp.unbound = transport_no_cleanup


pgm_fill_row(&PGM_TRANSPORT, b"pgm")
PGM_TRANSPORT.resolve = pgm_resolve
PGM_TRANSPORT.reported_by_has = True
transport_register(&PGM_TRANSPORT)
pgm_fill_row(&EPGM_TRANSPORT, b"epgm")
EPGM_TRANSPORT.resolve = epgm_resolve
transport_register(&EPGM_TRANSPORT)
