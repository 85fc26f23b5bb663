# tcp://host:port over IPv4 and IPv6 (libzmq's tcp_address_t, tcp_listener,
# tcp_connecter). host: "*" (any, bind only), an IPv4 address, [an IPv6
# one], or a name (resolved once, at bind/connect). port: 1..65535, or "*"/0
# on bind for one the system picks.

cdef enum:
    TCP_HOST_MAX = 256
    TCP_PORT_MAX = 8

cdef transport_t TCP_TRANSPORT


cdef int tcp_resolve(endpoint_t *ep, const char *address, const options_t *o,
                     bint for_bind) noexcept nogil:
    cdef char host[TCP_HOST_MAX]
    cdef char port[TCP_PORT_MAX]
    cdef int n
    if mq_split_host_port(address, host, TCP_HOST_MAX, port, TCP_PORT_MAX) < 0:
        return -1
    n = mq_parse_port(port, for_bind)
    if n < 0 or (n == 0 and not for_bind):
        set_errno(EINVAL)
        return -1
    if n == 0:
        port[0] = c'0'      # "*"
        port[1] = 0
    if mq_ip_resolve(host, port, o.ipv6, for_bind, SOCK_STREAM, &ep.addr) < 0:
        # On bind a host that is neither an address nor a name we can
        # resolve is taken as an interface we do not have, as libzmq.
        if for_bind and strcmp(host, b"*") != 0 and not mq_looks_numeric(host):
            set_errno(ENODEV)
        else:
            set_errno(EINVAL)
        return -1
    ep.tos = o.tos
    mq_endpoint_name(ep.name, ENDPOINT_NAME_MAX, TCP_TRANSPORT.scheme, address)
    return 0


cdef int tcp_listen(endpoint_t *ep, const options_t *o, int *fd) noexcept nogil:
    cdef mq_addr_t bound
    cdef int s = mq_socket(mq_addr_family(&ep.addr), SOCK_STREAM)
    if s < 0:
        return -1
    if o.tos:
        mq_set_tos(s, o.tos)        # accepted connections start with it too
    mq_set_buffers(s, o.sndbuf, o.rcvbuf)   # and with these (see mq_set_buffers)
    if mq_bind_listen(s, &ep.addr, o.backlog) < 0:
        return -1
    # The name says the port the system picked for "*" / 0.
    mq_local_addr(s, &bound)
    mq_ip_endpoint(TCP_TRANSPORT.scheme, &bound, ep.name, ENDPOINT_NAME_MAX)
    fd[0] = s
    return 0


cdef int tcp_connect_start(const endpoint_t *ep, const options_t *o, int *fd) noexcept nogil:
    cdef int s = mq_socket(mq_addr_family(&ep.addr), SOCK_STREAM)
    cdef int rc
    if s < 0:
        return -1
    mq_set_buffers(s, o.sndbuf, o.rcvbuf)   # before the SYN (see mq_set_buffers)
    if ep.tos:
        mq_set_tos(s, ep.tos)       # before connect: the SYN carries it
    rc = mq_connect_fd(s, &ep.addr)
    fd[0] = s if rc >= 0 else -1
    return rc


cdef void tcp_tune(int fd, const options_t *o) noexcept nogil:
    mq_tune_stream(fd, True)
    mq_tcp_keepalive(fd, o.tcp_keepalive, o.tcp_keepalive_cnt, o.tcp_keepalive_idle, o.tcp_keepalive_intvl)
    if o.tos:
        mq_set_tos(fd, o.tos)
    if o.tcp_maxrt > 0:
        mq_tcp_maxrt(fd, o.tcp_maxrt)


TCP_TRANSPORT.scheme = b"tcp"
TCP_TRANSPORT.engine_kind = ENGINE_STREAM
TCP_TRANSPORT.resolve = tcp_resolve
TCP_TRANSPORT.listen = tcp_listen
TCP_TRANSPORT.accept = stream_accept
TCP_TRANSPORT.connect_start = tcp_connect_start
TCP_TRANSPORT.connect_finish = stream_connect_finish
TCP_TRANSPORT.tune = tcp_tune
TCP_TRANSPORT.unbound = transport_no_cleanup
transport_register(&TCP_TRANSPORT)
