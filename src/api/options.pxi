# Socket options: set and get by zmq.h number, read generically from the
# option table (mqcore/_options.py, loaded into OPTDESC by base/options.pxi)
# with libzmq's errors: EINVAL for an unknown option or one not built, a bad
# value, an option of another socket type (the type's row lists the
# type-specific ones it takes), or the wrong direction (read-only,
# write-only). A security mechanism's options go to its row (src/mech/),
# which sets the mechanism and role with them. Only options that act on the
# socket instead of holding a setting have cases of their own.

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


cdef const optdesc_t *option_for(sock_t *s, int option, bint writing) except NULL:
    """The option's entry, if this socket takes it that way; else EINVAL."""
    cdef const optdesc_t *d = optdesc(option)
    if d == NULL or not (d.writable if writing else d.readable):
        raise_errno(EINVAL)
    if d.per_type and not socktype_takes_option(s.row, option):
        raise_errno(EINVAL)
    return d


# Options libzmq takes on every socket that mean nothing here (Windows'
# loopback fast path): accepted and reported with libzmq's defaults, as
# pyzmq programs set them.
cdef dict INERT_OPTIONS = {94: 0}   # LOOPBACK_FASTPATH


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
    if d.kind == OPTK_MECH:
        return socket_set_mech_option(self, d, option, value)
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
    elif option == OPT_CONNECT_ROUTING_ID:
        # Kept for the next connect only (api/socket.pxi uses it up).
        if len(v) == 0 or len(v) > 255:
            raise_errno(EINVAL)
        memcpy(self.s.connect_rid, p, len(v))
        self.s.connect_rid_len = len(v)
        rc = 0
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
    if d.kind == OPTK_MECH:
        return socket_get_mech_option(self, d, option)
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
    if option == OPT_TOPICS_COUNT and self.s.row.counts_topics:
        return pubsub_topics_count(self.s)
    raise_errno(EINVAL)


cdef const mech_row_t *option_mechanism(const optdesc_t *d) except NULL:
    """The row that owns a mechanism's option; EINVAL when it is not built
    (CURVE without libsodium), as libzmq built without it says."""
    cdef const mech_row_t *row = mech_row_named(d.mech)
    if row == NULL or row.set_option == NULL:
        raise_errno(EINVAL)
    return row


cdef object socket_set_mech_option(Socket self, const optdesc_t *d, int option, value):
    cdef const mech_row_t *row = option_mechanism(d)
    cdef bytes v = b""
    cdef long long iv = 0
    cdef int rc
    if d.binary:
        v = _bytes_value(value)
        if len(v) < d.low or len(v) > d.high:
            raise_errno(EINVAL)
    else:
        iv = _int_value(value)
        if iv < d.low or iv > d.high:
            raise_errno(EINVAL)
    rc = row.set_option(&self.s.o, option, iv, <const unsigned char *><char *>v, len(v))
    if rc != 0:
        raise_errno(rc)


cdef object socket_get_mech_option(Socket self, const optdesc_t *d, int option):
    cdef const mech_row_t *row = option_mechanism(d)
    cdef long long iv = 0
    cdef const unsigned char *p = NULL
    cdef size_t n = 0
    cdef int rc = row.get_option(&self.s.o, option, &iv, &p, &n)
    if rc != 0:
        raise_errno(rc)
    if d.binary:
        return PyBytes_FromStringAndSize(<const char *>p, n)
    return iv


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
               OPTK_CONST: "const", OPTK_SPECIAL: "special", OPTK_MECH: "mechanism"}


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
