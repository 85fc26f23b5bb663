# tcp://host:port over IPv4 and IPv6.

cdef void tcp_tune(int fd, const options_t *o) noexcept nogil:
    mq_tune_stream(fd, True, o.sndbuf, o.rcvbuf)
    mq_tcp_keepalive(fd, o.tcp_keepalive, o.tcp_keepalive_cnt, o.tcp_keepalive_idle, o.tcp_keepalive_intvl)


cdef transport_t TCP_TRANSPORT
TCP_TRANSPORT.scheme = b"tcp"
TCP_TRANSPORT.engine_kind = ENGINE_STREAM
TCP_TRANSPORT.accept = stream_accept
TCP_TRANSPORT.connect_start = stream_connect_start
TCP_TRANSPORT.connect_finish = stream_connect_finish
TCP_TRANSPORT.tune = tcp_tune
transport_register(&TCP_TRANSPORT)
