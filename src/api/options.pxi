# Socket options: set and get by zmq.h number, read generically from the
# option table (mqcore/_options.py, loaded into OPTDESC by base/options.pxi)
# with libzmq's errors: EINVAL for an unknown option or one not built, a bad
# value, an option of another socket type (the type's row lists the
# type-specific ones it takes), or the wrong direction (read-only,
# write-only). Only options that act on the socket instead of holding a
# setting have cases of their own.

cdef int OPT_SUBSCRIBE = option_number("SUBSCRIBE")
cdef int OPT_UNSUBSCRIBE = option_number("UNSUBSCRIBE")
cdef int OPT_XPUB_WELCOME_MSG = option_number("XPUB_WELCOME_MSG")
cdef int OPT_CONNECT_ROUTING_ID = option_number("CONNECT_ROUTING_ID")
cdef int OPT_RCVMORE = option_number("RCVMORE")
cdef int OPT_FD = option_number("FD")
cdef int OPT_EVENTS = option_number("EVENTS")
cdef int OPT_TYPE = option_number("TYPE")
cdef int OPT_LAST_ENDPOINT = option_number("LAST_ENDPOINT")
cdef int OPT_THREAD_SAFE = option_number("THREAD_SAFE")
cdef int OPT_TOPICS_COUNT = option_number("TOPICS_COUNT")
cdef int OPT_PLAIN_SERVER = option_number("PLAIN_SERVER")
cdef int OPT_PLAIN_USERNAME = option_number("PLAIN_USERNAME")
cdef int OPT_PLAIN_PASSWORD = option_number("PLAIN_PASSWORD")
cdef int OPT_CURVE_SERVER = option_number("CURVE_SERVER")
cdef int OPT_CURVE_PUBLICKEY = option_number("CURVE_PUBLICKEY")
cdef int OPT_CURVE_SECRETKEY = option_number("CURVE_SECRETKEY")
cdef int OPT_CURVE_SERVERKEY = option_number("CURVE_SERVERKEY")


cdef const optdesc_t *option_for(sock_t *s, int option, bint writing) except NULL:
    """The option's entry, if this socket takes it that way; else EINVAL."""
    cdef const optdesc_t *d = optdesc(option)
    if d == NULL or not (d.writable if writing else d.readable):
        raise_errno(EINVAL)
    if d.per_type and not socktype_takes_option(s.row, option):
        raise_errno(EINVAL)
    return d


# Options libzmq takes on every socket that mean nothing here (Windows'
# loopback fast path, multicast loopback without a multicast transport):
# accepted and reported with libzmq's defaults, as pyzmq programs set them.
cdef dict INERT_OPTIONS = {94: 0, 96: 1}   # LOOPBACK_FASTPATH, MULTICAST_LOOP


cdef object socket_set_option(Socket self, int option, value):
    """setsockopt: int options take int, binary ones bytes."""
    self._check_open()
    if option in INERT_OPTIONS:
        _int_value(value)
        return None

    # Converting the value may run Python code (__bytes__, __index__), and
    # so other threads: one may close the socket meanwhile.
    self._enter()
    try:
        return socket_set_option_entered(self, option, value)
    finally:
        self._leave()


cdef object socket_set_option_entered(Socket self, int option, value):
    cdef const optdesc_t *d = option_for(self.s, option, True)
    cdef long long iv
    cdef int rc
    cdef bytes v
    if d.kind == OPTK_SPECIAL and option == OPT_PLAIN_SERVER:
        return socket_set_plain_server(&self.s.o, _int_value(value))
    if option == OPT_CURVE_SERVER:
        rc = curve_server_option(&self.s.o, _int_value(value))
        if rc != 0:
            raise_errno(rc)
        return
    if d.kind == OPTK_SPECIAL:
        return socket_set_special(self, option, _bytes_value(value))
    if d.kind == OPTK_BYTES:
        v = _bytes_value(value)
        if len(v) < d.low or len(v) > d.high:
            raise_errno(EINVAL)
        option_store_bytes(&self.s.o, d, <char *>v, len(v))
        return
    iv = _int_value(value)
    if iv < d.low or iv > d.high:
        raise_errno(EINVAL)
    option_store(&self.s.o, d, iv)


cdef object socket_set_special(Socket self, int option, bytes v):
    """The options that act on the socket (all bytes-valued)."""
    cdef const unsigned char *p = <const unsigned char *><char *>v
    cdef int rc
    if (option == OPT_SUBSCRIBE or option == OPT_UNSUBSCRIBE) and self.s.row.xsubscribe != NULL:
        rc = self.s.row.xsubscribe(self.s, p, len(v), option == OPT_SUBSCRIBE)
        if self.s.nwakes:
            self._send_wakes()
    elif option == OPT_XPUB_WELCOME_MSG:
        rc = xpub_set_welcome(self.s, p, len(v))
    elif option == OPT_PLAIN_USERNAME or option == OPT_PLAIN_PASSWORD:
        if len(v) > 255:
            raise_errno(EINVAL)
        set_plain_credential(&self.s.o, option == OPT_PLAIN_USERNAME, p, len(v))
        rc = 0
    elif option == OPT_CONNECT_ROUTING_ID:
        # Kept for the next connect only (api/socket.pxi uses it up).
        if len(v) == 0 or len(v) > 255:
            raise_errno(EINVAL)
        memcpy(self.s.connect_rid, p, len(v))
        self.s.connect_rid_len = len(v)
        rc = 0
    elif option == OPT_CURVE_PUBLICKEY:
        rc = curve_key_option(&self.s.o, self.s.o.curve_public_key, p, len(v))
    elif option == OPT_CURVE_SECRETKEY:
        rc = curve_key_option(&self.s.o, self.s.o.curve_secret_key, p, len(v))
    elif option == OPT_CURVE_SERVERKEY:
        rc = curve_key_option(&self.s.o, self.s.o.curve_server_key, p, len(v))
        if rc == 0:
            self.s.o.as_server = False      # the server's key makes a client
    else:
        rc = EINVAL
    if rc != 0:
        raise_errno(rc)


cdef object socket_get_option(Socket self, int option):
    """getsockopt: int options give int, binary ones bytes."""
    cdef const optdesc_t *d
    cdef options_t *o
    self._check_open()
    if option in INERT_OPTIONS:
        return INERT_OPTIONS[option]
    d = option_for(self.s, option, False)
    o = &self.s.o
    if d.kind == OPTK_SPECIAL:
        return socket_get_special(self, option)
    if d.kind == OPTK_CONST:
        return d.dflt
    if d.kind == OPTK_BYTES:
        return PyBytes_FromStringAndSize(<char *>o + d.offset, (<int *>(<char *>o + d.len_offset))[0])
    if d.kind == OPTK_UINT64:
        return (<unsigned long long *>(<char *>o + d.offset))[0]
    return option_load(o, d)


cdef object socket_get_special(Socket self, int option):
    """The read-only options: facts about the socket, not settings."""
    if option == OPT_RCVMORE:
        return int(self.s.rcvmore)
    if option == OPT_FD:
        if self.s.threadsafe:
            raise_errno(EINVAL)     # thread-safe sockets have no FD
        return self.s.mb.sig.rfd
    if option == OPT_THREAD_SAFE:
        return int(self.s.threadsafe)
    if option == OPT_EVENTS:
        return sock_events_locked(self.s)
    if option == OPT_TYPE:
        return self.s.o.type
    if option == OPT_LAST_ENDPOINT:
        return self._last_endpoint
    if option == OPT_PLAIN_SERVER:
        return int(self.s.o.as_server and self.s.o.mechanism == MECH_PLAIN)
    if option == OPT_PLAIN_USERNAME:
        return PyBytes_FromStringAndSize(<char *>self.s.o.plain_username, self.s.o.plain_username_len)
    if option == OPT_PLAIN_PASSWORD:
        return PyBytes_FromStringAndSize(<char *>self.s.o.plain_password, self.s.o.plain_password_len)
    if option == OPT_CURVE_SERVER:
        return int(self.s.o.as_server and self.s.o.mechanism == MECH_CURVE)
    if option == OPT_TOPICS_COUNT and self.s.row.counts_topics:
        return pubsub_topics_count(self.s)
    raise_errno(EINVAL)


cdef object socket_set_plain_server(options_t *o, long long v):
    """PLAIN_SERVER: 1 makes the socket a PLAIN server, 0 a NULL one (libzmq)."""
    if v != 0 and v != 1:
        raise_errno(EINVAL)
    o.as_server = v
    o.mechanism = MECH_PLAIN if v else MECH_NULL


cdef void set_plain_credential(options_t *o, bint username, const unsigned char *p, int n) noexcept:
    """PLAIN_USERNAME/PASSWORD: a value makes the socket a PLAIN client; an
    empty one goes back to NULL (libzmq)."""
    if username:
        memcpy(o.plain_username, p, n)
        o.plain_username_len = n
    else:
        memcpy(o.plain_password, p, n)
        o.plain_password_len = n
    o.as_server = False
    o.mechanism = MECH_PLAIN if n else MECH_NULL


cdef object _bytes_value(value):
    if isinstance(value, str):
        raise TypeError("unicode not allowed, use setsockopt_string")
    return bytes(value)


cdef long long _int_value(value) except? -1:
    if not isinstance(value, int):
        raise TypeError(f"option value must be int, not {type(value).__name__}")
    return value


# ---------------------------------------------------------------- introspection

_OPTK_NAMES = {OPTK_INT: "int", OPTK_INT64: "int64", OPTK_UINT64: "uint64", OPTK_BYTES: "bytes",
               OPTK_CONST: "const", OPTK_SPECIAL: "special"}


def _option_table():
    """The options the core takes, as it holds them: number -> dict (kind,
    readable, writable, per_type, low, high). For tests that check the core
    against mqcore/_options.py."""
    cdef int k
    cdef const optdesc_t *d
    table = {}
    for k in range(NOPTIONS):
        d = optdesc(k)
        if d != NULL:
            table[k] = dict(kind=_OPTK_NAMES[d.kind], readable=d.readable, writable=d.writable,
                            per_type=d.per_type, low=d.low, high=d.high)
    return table


def _type_options(int socket_type):
    """The type-specific options socket_type's row takes (numbers)."""
    cdef socktype_t *r = socktype(socket_type)
    if r == NULL:
        raise ValueError(socket_type)
    return sorted(k for k in range(NOPTIONS) if socktype_takes_option(r, k))
