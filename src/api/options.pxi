# Socket options: set and get by zmq.h number, with libzmq's types, ranges
# and errors (EINVAL for an unknown option, a bad value, or an option of
# another socket type).

# Options only some socket types take: option -> those types (zmq.h numbers).
_TYPE_OPTIONS = {
    6: (2, 9), 7: (2, 9),                       # SUBSCRIBE, UNSUBSCRIBE (XPUB: manual mode)
    33: (6,), 56: (6,),                         # ROUTER_MANDATORY, ROUTER_HANDOVER
    51: (3, 5, 6),                              # PROBE_ROUTER
    52: (3,), 53: (3,),                         # REQ_CORRELATE, REQ_RELAXED
    40: (9,), 78: (9,), 71: (9,), 72: (9,),     # XPUB_VERBOSE(R), _MANUAL, _WELCOME_MSG
    69: (1, 9),                                 # XPUB_NODROP
    74: (1, 2, 9),                              # INVERT_MATCHING
    108: (9, 10), 115: (10,),                   # ONLY_FIRST_SUBSCRIBE, XSUB_VERBOSE_UNSUBSCRIBE
    73: (11,),                                  # STREAM_NOTIFY
    61: (6, 11),                                # CONNECT_ROUTING_ID
}

# The int options set() takes (zmq.h numbers).
_INT_OPTIONS = frozenset((4, 8, 9, 11, 12, 17, 18, 19, 21, 22, 23, 24, 25, 27, 28, 31, 34, 35, 36,
                          37, 39, 42, 54, 57, 66, 75, 76, 77, 79, 80, 84, 89))



cdef object socket_set_option(Socket self, int option, value):
    """setsockopt: int options take int, binary ones bytes."""
    self._check_open()
    # Converting the value may run Python code (__bytes__, __index__), and
    # so other threads: one may close the socket meanwhile.
    self._enter()
    try:
        return socket_set_option_entered(self, option, value)
    finally:
        self._leave()


cdef object socket_set_option_entered(Socket self, int option, value):
    cdef options_t *o = &self.s.o
    if option == 5:                                   # ROUTING_ID
        v = _bytes_value(value)
        if len(v) < 1 or len(v) > 255:
            raise_errno(EINVAL)
        memcpy(o.routing_id, <char *>v, len(v))
        o.routing_id_len = len(v)
        return
    if option == 55:
        # ZAP_DOMAIN: kept and read back. With no ZAP handler libzmq's NULL
        # mechanism goes on without ZAP, and mqcore has none yet.
        v = _bytes_value(value)
        if len(v) > 255:
            raise_errno(EINVAL)
        memcpy(o.zap_domain, <char *>v, len(v))
        o.zap_domain_len = len(v)
        return
    if option in _TYPE_OPTIONS:
        socket_set_type_option(self, option, value)
        return
    if option not in _INT_OPTIONS:
        # Options of other socket types or of features not built
        # (security mechanisms) are refused rather than ignored.
        raise_errno(EINVAL)
    iv = _int_value(value)
    if option == 23 or option == 24:
        if iv < 0:
            raise_errno(EINVAL)
        if option == 23:
            o.sndhwm = iv
        else:
            o.rcvhwm = iv
    elif option == 17:
        o.linger = _at_least(iv, -1)
    elif option == 27:
        o.rcvtimeo = _at_least(iv, -1)
    elif option == 28:
        o.sndtimeo = _at_least(iv, -1)
    elif option == 18:
        o.reconnect_ivl = _at_least(iv, -1)
    elif option == 21:
        o.reconnect_ivl_max = _at_least(iv, 0)
    elif option == 22:
        if iv < -1:
            raise_errno(EINVAL)
        o.maxmsgsize = iv
    elif option == 19:
        o.backlog = _at_least(iv, 0)
    elif option == 39:
        o.immediate = _flag(iv)
    elif option == 42:
        o.ipv6 = _flag(iv)
    elif option == 31:                                # IPV4ONLY
        o.ipv6 = 1 - _flag(iv)
    elif option == 66:
        o.handshake_ivl = _at_least(iv, 0)
    elif option == 11:
        o.sndbuf = _at_least(iv, -1)
    elif option == 12:
        o.rcvbuf = _at_least(iv, -1)
    elif option == 34:
        if iv < -1 or iv > 1:
            raise_errno(EINVAL)
        o.tcp_keepalive = iv
    elif option == 35:
        o.tcp_keepalive_cnt = _at_least(iv, -1)
    elif option == 36:
        o.tcp_keepalive_idle = _at_least(iv, -1)
    elif option == 37:
        o.tcp_keepalive_intvl = _at_least(iv, -1)
    elif option == 57:
        o.tos = _at_least(iv, 0)
    elif option == 4:
        o.affinity = iv
    elif option == 54:
        o.conflate = _flag(iv)
    elif option == 75:
        o.heartbeat_ivl = _at_least(iv, 0)
    elif option == 76:
        if iv < 0 or iv > 6553599:
            raise_errno(EINVAL)
        o.heartbeat_ttl = (iv // 100) * 100
    elif option == 77:
        o.heartbeat_timeout = _at_least(iv, -1)
    elif option == 79:
        o.connect_timeout = _at_least(iv, 0)
    elif option == 80:
        o.tcp_maxrt = _at_least(iv, 0)
    elif option == 25:
        o.multicast_hops = _at_least(iv, 1)
    elif option == 8:
        o.rate = _at_least(iv, 1)
    elif option == 9:
        o.recovery_ivl = _at_least(iv, 0)
    elif option == 84:
        o.multicast_maxtpdu = _at_least(iv, 1)
    elif option == 89:
        o.use_fd = _at_least(iv, -1)

cdef object socket_set_type_option(Socket self, int option, value):
    """Options that only some socket types take (EINVAL for the others)."""
    cdef options_t *o = &self.s.o
    cdef bytes v
    cdef int t = o.type
    cdef int rc
    cdef unsigned char *welcome
    if t not in _TYPE_OPTIONS[option]:
        raise_errno(EINVAL)
    if option in (6, 7, 72, 61):
        v = _bytes_value(value)
        if option == 72:
            rc = xpub_set_welcome(self.s, <const unsigned char *><char *>v, len(v))
            if rc != 0:
                raise_errno(rc)
        elif option == 61:
            if len(v) == 0 or len(v) > 255:
                raise_errno(EINVAL)
            memcpy(self.s.connect_rid, <char *>v, len(v))
            self.s.connect_rid_len = len(v)
        elif t == 2:
            rc = sub_subscribe(self.s, <const unsigned char *><char *>v, len(v), option == 6)
            if self.s.nwakes:
                self._send_wakes()
            if rc != 0:
                raise_errno(rc)
        elif o.xpub_manual:
            rc = xpub_manual_subscribe(self.s, <const unsigned char *><char *>v, len(v), option == 6)
            if rc != 0:
                raise_errno(rc)
        else:
            raise_errno(EINVAL)
        return
    flag = _flag(_int_value(value))
    if option == 33:
        o.router_mandatory = flag
    elif option == 56:
        o.router_handover = flag
    elif option == 51:
        o.probe_router = flag
    elif option == 52:
        o.req_correlate = flag
    elif option == 53:
        o.req_relaxed = flag
    elif option == 40:
        o.xpub_verbose = flag
    elif option == 78:
        o.xpub_verboser = flag
    elif option == 71:
        o.xpub_manual = flag
    elif option == 69:
        o.xpub_nodrop = flag
    elif option == 74:
        o.invert_matching = flag
    elif option == 108:
        o.only_first_subscribe = flag
    elif option == 115:
        o.xsub_verbose_unsubscribe = flag
    elif option == 73:
        o.stream_notify = flag

cdef object socket_get_option(Socket self, int option):
    """getsockopt: int options give int, binary ones bytes."""
    cdef options_t *o
    cdef options_t copied
    self._check_open()
    o = &self.s.o
    if option == 13:
        return int(self.s.rcvmore)
    if option == 14:
        if self.s.threadsafe:
            raise_errno(EINVAL)     # thread-safe sockets have no FD
        return self.s.mb.sig.rfd
    if option == 81:
        return int(self.s.threadsafe)
    if option == 15:
        return sock_events_locked(self.s)
    if option == 16:
        return o.type
    if option == 32:
        return self._last_endpoint
    if option == 5:
        return PyBytes_FromStringAndSize(<char *>o.routing_id, o.routing_id_len)
    if option in (43, 44, 47, 65, 62):                # MECHANISM, *_SERVER
        return 0
    if option == 55:
        return PyBytes_FromStringAndSize(<char *>o.zap_domain, o.zap_domain_len)
    if option == 74 and o.type in (1, 2, 9):
        return o.invert_matching
    if option == 116 and o.type in (1, 2, 9, 10):    # TOPICS_COUNT
        return pubsub_topics_count(self.s)
    # Building the dict may run the garbage collector, and so other threads:
    # read from a copy that a close() meanwhile cannot free.
    copied = o[0]
    o = &copied
    values = {
        23: o.sndhwm, 24: o.rcvhwm, 17: o.linger, 27: o.rcvtimeo, 28: o.sndtimeo,
        18: o.reconnect_ivl, 21: o.reconnect_ivl_max, 22: o.maxmsgsize, 19: o.backlog,
        39: o.immediate, 42: o.ipv6, 31: 1 - o.ipv6, 66: o.handshake_ivl, 11: o.sndbuf,
        12: o.rcvbuf, 34: o.tcp_keepalive, 35: o.tcp_keepalive_cnt,
        36: o.tcp_keepalive_idle, 37: o.tcp_keepalive_intvl, 57: o.tos, 4: o.affinity,
        54: o.conflate, 75: o.heartbeat_ivl, 76: o.heartbeat_ttl,
        77: o.heartbeat_timeout, 79: o.connect_timeout, 80: o.tcp_maxrt,
        25: o.multicast_hops, 8: o.rate, 9: o.recovery_ivl, 84: o.multicast_maxtpdu,
        89: o.use_fd,
    }
    if option in values:
        return values[option]
    raise_errno(EINVAL)


cdef object _bytes_value(value):
    if isinstance(value, str):
        raise TypeError("unicode not allowed, use setsockopt_string")
    return bytes(value)


cdef long long _int_value(value) except? -1:
    if not isinstance(value, int):
        raise TypeError(f"option value must be int, not {type(value).__name__}")
    return value


cdef int _at_least(long long v, long long low) except? -1:
    """An int option's value, refused (EINVAL) below `low` or past C int."""
    if v < low or v > 2147483647:
        raise_errno(EINVAL)
    return <int>v


cdef int _flag(long long v) except? -1:
    if v != 0 and v != 1:
        raise_errno(EINVAL)
    return <int>v
