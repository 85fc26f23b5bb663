# Socket options as the core keeps them: one plain struct per socket, copied
# into each listener and session when it is made (libzmq semantics: options
# apply to connections made after they are set).

cdef struct options_t:
    int type
    int sndhwm
    int rcvhwm
    int linger
    int rcvtimeo
    int sndtimeo
    int reconnect_ivl
    int reconnect_ivl_max
    long long maxmsgsize
    int backlog
    int immediate
    int ipv6
    int handshake_ivl
    int sndbuf
    int rcvbuf
    int tcp_keepalive
    int tcp_keepalive_cnt
    int tcp_keepalive_idle
    int tcp_keepalive_intvl
    int tos
    unsigned long long affinity
    int conflate
    int heartbeat_ivl
    int heartbeat_ttl
    int heartbeat_timeout
    int connect_timeout
    int tcp_maxrt
    int multicast_hops
    int rate
    int recovery_ivl
    int multicast_maxtpdu
    int use_fd
    int probe_router
    int router_mandatory
    int router_handover
    int invert_matching
    int req_relaxed
    int req_correlate
    int xpub_verbose
    int xpub_verboser
    int xpub_manual
    int xpub_nodrop
    int only_first_subscribe
    int xsub_verbose_unsubscribe
    int stream_notify
    unsigned char routing_id[256]
    int routing_id_len
    unsigned char zap_domain[256]
    int zap_domain_len
    int mechanism               # ZMQ_MECHANISM: the mech/ row sessions use (0 NULL)
    bint as_server              # the server side of a PLAIN/CURVE handshake


cdef inline bint conflating(options_t *o) noexcept nogil:
    """CONFLATE acts only on these types (libzmq); it keeps just the newest
    message in each queue, so HWM means nothing for them."""
    return o.conflate and SOCKTYPES[o.type].conflates


cdef inline int out_hwm(options_t *o) noexcept nogil:
    return 0 if conflating(o) else o.sndhwm


cdef inline int in_hwm(options_t *o) noexcept nogil:
    return 0 if conflating(o) else o.rcvhwm


cdef void options_defaults(options_t *o, int socket_type) noexcept nogil:
    memset(o, 0, sizeof(options_t))
    o.type = socket_type
    o.sndhwm = 1000
    o.rcvhwm = 1000
    o.linger = SOCKTYPES[socket_type].default_linger
    o.rcvtimeo = -1
    o.sndtimeo = -1
    o.reconnect_ivl = 100
    o.reconnect_ivl_max = 0
    o.maxmsgsize = -1
    o.backlog = 100
    o.handshake_ivl = 30000
    o.sndbuf = -1
    o.rcvbuf = -1
    o.tcp_keepalive = -1
    o.tcp_keepalive_cnt = -1
    o.tcp_keepalive_idle = -1
    o.tcp_keepalive_intvl = -1
    o.heartbeat_timeout = -1
    o.multicast_hops = 1
    o.rate = 100
    o.recovery_ivl = 10000
    o.multicast_maxtpdu = 1500
    o.use_fd = -1
    o.stream_notify = 1
