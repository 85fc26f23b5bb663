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
    int rate                    # multicast (pgm): kbit/s
    int recovery_ivl            # ms
    int multicast_hops          # udp, pgm: TTL of what is sent
    int multicast_maxtpdu
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
    int multicast_loop          # udp: multicast sent is heard on this host too
    int stream_notify
    unsigned char routing_id[256]
    int routing_id_len
    unsigned char zap_domain[256]
    int zap_domain_len
    int mechanism               # ZMQ_MECHANISM: the mech/ row sessions use (0 NULL)
    bint as_server              # the server side of a PLAIN/CURVE handshake
    int zap_enforce_domain      # ZAP_ENFORCE_DOMAIN
    unsigned char plain_username[256]
    int plain_username_len
    unsigned char plain_password[256]
    int plain_password_len
    void *zap                   # the context's ZAP handler slot (zap_slot_t), or NULL
    unsigned char curve_public_key[32]  # CURVE long-term keys, binary (mech/curve.pxi)
    unsigned char curve_secret_key[32]
    unsigned char curve_server_key[32]


cdef inline bint conflating(options_t *o) noexcept nogil:
    """CONFLATE acts only on these types (libzmq); it keeps just the newest
    message in each queue, so HWM means nothing for them."""
    return o.conflate and SOCKTYPES[o.type].conflates


cdef inline int out_hwm(options_t *o) noexcept nogil:
    return 0 if conflating(o) else o.sndhwm


cdef inline int in_hwm(options_t *o) noexcept nogil:
    return 0 if conflating(o) else o.rcvhwm


# ---------------------------------------------------------------- the table
#
# mqcore/_options.py is the one option table; at import it becomes OPTDESC,
# one entry per option number, which Socket.set/get (api/options.pxi) read
# generically, and OPTIONS_TEMPLATE, a new socket's options.

cdef enum:
    NOPTIONS = 128              # option numbers are below this
    # how an option is held (optdesc_t.kind)
    OPTK_NONE = 0               # no such option, or not built: EINVAL
    OPTK_INT = 1                # C int field
    OPTK_INT64 = 2              # long long field
    OPTK_UINT64 = 3             # unsigned long long field, set from an int64
    OPTK_BYTES = 4              # byte buffer field + int length field
    OPTK_CONST = 5              # read-only, always its default
    OPTK_SPECIAL = 6            # handled by a case of its own in api/options.pxi
    OPTK_MECH = 7               # held by a mechanism's row (mech/: set_option, get_option)

cdef struct optdesc_t:
    int kind
    bint readable
    bint writable
    bint per_type               # only types whose row lists it
    bint invert                 # value is 1 - field
    long long low               # (bytes: lengths)
    long long high
    long long step              # stored rounded down to a multiple of it
    long long dflt              # OPTK_CONST's value
    char mech[16]               # OPTK_MECH: the owning mechanism's name
    bint binary                 # OPTK_MECH: takes bytes (else an int)
    size_t offset               # of the field in options_t
    size_t len_offset           # bytes: of its length field

cdef optdesc_t OPTDESC[NOPTIONS]
cdef options_t OPTIONS_TEMPLATE


cdef inline const optdesc_t *optdesc(int option) noexcept nogil:
    """The option's entry; NULL for a number that is no option built here."""
    if option < 0 or option >= NOPTIONS or OPTDESC[option].kind == OPTK_NONE:
        return NULL
    return &OPTDESC[option]


cdef options_t _layout      # only its field addresses are used


cdef inline size_t _off(void *field) noexcept:
    return <size_t>(<char *>field - <char *>&_layout)


# options_t's fields as the table names them: field -> (kind, offset[, length offset]).
_OPTION_FIELDS = {
    "sndhwm": (OPTK_INT, _off(&_layout.sndhwm)),
    "rcvhwm": (OPTK_INT, _off(&_layout.rcvhwm)),
    "linger": (OPTK_INT, _off(&_layout.linger)),
    "rcvtimeo": (OPTK_INT, _off(&_layout.rcvtimeo)),
    "sndtimeo": (OPTK_INT, _off(&_layout.sndtimeo)),
    "reconnect_ivl": (OPTK_INT, _off(&_layout.reconnect_ivl)),
    "reconnect_ivl_max": (OPTK_INT, _off(&_layout.reconnect_ivl_max)),
    "maxmsgsize": (OPTK_INT64, _off(&_layout.maxmsgsize)),
    "backlog": (OPTK_INT, _off(&_layout.backlog)),
    "immediate": (OPTK_INT, _off(&_layout.immediate)),
    "ipv6": (OPTK_INT, _off(&_layout.ipv6)),
    "handshake_ivl": (OPTK_INT, _off(&_layout.handshake_ivl)),
    "sndbuf": (OPTK_INT, _off(&_layout.sndbuf)),
    "rcvbuf": (OPTK_INT, _off(&_layout.rcvbuf)),
    "tcp_keepalive": (OPTK_INT, _off(&_layout.tcp_keepalive)),
    "tcp_keepalive_cnt": (OPTK_INT, _off(&_layout.tcp_keepalive_cnt)),
    "tcp_keepalive_idle": (OPTK_INT, _off(&_layout.tcp_keepalive_idle)),
    "tcp_keepalive_intvl": (OPTK_INT, _off(&_layout.tcp_keepalive_intvl)),
    "tos": (OPTK_INT, _off(&_layout.tos)),
    "affinity": (OPTK_UINT64, _off(&_layout.affinity)),
    "conflate": (OPTK_INT, _off(&_layout.conflate)),
    "heartbeat_ivl": (OPTK_INT, _off(&_layout.heartbeat_ivl)),
    "heartbeat_ttl": (OPTK_INT, _off(&_layout.heartbeat_ttl)),
    "heartbeat_timeout": (OPTK_INT, _off(&_layout.heartbeat_timeout)),
    "connect_timeout": (OPTK_INT, _off(&_layout.connect_timeout)),
    "tcp_maxrt": (OPTK_INT, _off(&_layout.tcp_maxrt)),
    "rate": (OPTK_INT, _off(&_layout.rate)),
    "recovery_ivl": (OPTK_INT, _off(&_layout.recovery_ivl)),
    "multicast_hops": (OPTK_INT, _off(&_layout.multicast_hops)),
    "multicast_maxtpdu": (OPTK_INT, _off(&_layout.multicast_maxtpdu)),
    "probe_router": (OPTK_INT, _off(&_layout.probe_router)),
    "router_mandatory": (OPTK_INT, _off(&_layout.router_mandatory)),
    "router_handover": (OPTK_INT, _off(&_layout.router_handover)),
    "invert_matching": (OPTK_INT, _off(&_layout.invert_matching)),
    "req_relaxed": (OPTK_INT, _off(&_layout.req_relaxed)),
    "req_correlate": (OPTK_INT, _off(&_layout.req_correlate)),
    "xpub_verbose": (OPTK_INT, _off(&_layout.xpub_verbose)),
    "xpub_verboser": (OPTK_INT, _off(&_layout.xpub_verboser)),
    "xpub_manual": (OPTK_INT, _off(&_layout.xpub_manual)),
    "xpub_nodrop": (OPTK_INT, _off(&_layout.xpub_nodrop)),
    "only_first_subscribe": (OPTK_INT, _off(&_layout.only_first_subscribe)),
    "xsub_verbose_unsubscribe": (OPTK_INT, _off(&_layout.xsub_verbose_unsubscribe)),
    "stream_notify": (OPTK_INT, _off(&_layout.stream_notify)),
    "multicast_loop": (OPTK_INT, _off(&_layout.multicast_loop)),
    "routing_id": (OPTK_BYTES, _off(&_layout.routing_id), _off(&_layout.routing_id_len), sizeof(_layout.routing_id)),
    "zap_enforce_domain": (OPTK_INT, _off(&_layout.zap_enforce_domain)),
    "mechanism": (OPTK_INT, _off(&_layout.mechanism)),
    "zap_domain": (OPTK_BYTES, _off(&_layout.zap_domain), _off(&_layout.zap_domain_len), sizeof(_layout.zap_domain)),
}

# The value types each way of holding an option can carry.
_KIND_TYPES = {OPTK_INT: "int", OPTK_INT64: "int64", OPTK_UINT64: "int64", OPTK_BYTES: "bytes"}


cdef void option_store(options_t *o, const optdesc_t *d, long long v) noexcept nogil:
    """Writes a checked int value where d says (inverted, rounded)."""
    cdef char *at = <char *>o + d.offset
    v = v - v % d.step
    if d.invert:
        v = 1 - v
    if d.kind == OPTK_INT:
        (<int *>at)[0] = <int>v
    elif d.kind == OPTK_INT64:
        (<long long *>at)[0] = v
    elif d.kind == OPTK_UINT64:
        (<unsigned long long *>at)[0] = <unsigned long long>v


cdef long long option_load(const options_t *o, const optdesc_t *d) noexcept nogil:
    cdef const char *at = <const char *>o + d.offset
    cdef long long v = 0
    if d.kind == OPTK_INT:
        v = (<const int *>at)[0]
    elif d.kind == OPTK_INT64:
        v = (<const long long *>at)[0]
    return 1 - v if d.invert else v


cdef void option_store_bytes(options_t *o, const optdesc_t *d, const char *p, int n) noexcept nogil:
    memcpy(<char *>o + d.offset, p, n)
    (<int *>(<char *>o + d.len_offset))[0] = n


cdef int load_option_table() except -1:
    """Builds OPTDESC and OPTIONS_TEMPLATE from mqcore/_options.py; a table
    that does not fit options_t (unknown field, wrong value type, a range
    the field cannot hold) fails the import."""
    from mqcore._options import OPTIONS
    cdef optdesc_t *d
    memset(OPTDESC, 0, sizeof(OPTDESC))
    memset(&OPTIONS_TEMPLATE, 0, sizeof(options_t))
    for opt in OPTIONS:
        if not opt.implemented:
            continue
        d = &OPTDESC[opt.number]
        d.readable = "r" in opt.access
        d.writable = "w" in opt.access
        d.per_type = opt.per_type
        d.invert = opt.invert
        d.low = opt.low
        d.high = opt.high
        d.step = opt.step
        if opt.special:
            d.kind = OPTK_SPECIAL
        elif opt.mechanism is not None:
            d.kind = OPTK_MECH
            name = opt.mechanism.encode()
            if len(name) >= sizeof(d.mech):
                raise ImportError(f"option {opt.name}: mechanism name {opt.mechanism} too long")
            memcpy(d.mech, <char *>name, len(name))
            d.binary = opt.type == "bytes"
        elif opt.field is None:
            d.kind = OPTK_CONST
            d.dflt = opt.default
        else:
            layout = _OPTION_FIELDS[opt.field]
            d.kind = layout[0]
            d.offset = layout[1]
            if _KIND_TYPES[d.kind] != opt.type:
                raise ImportError(f"option {opt.name}: {opt.type} value in field {opt.field}")
            if d.kind == OPTK_BYTES:
                d.len_offset = layout[2]
                if opt.high > layout[3]:
                    raise ImportError(f"option {opt.name}: field {opt.field} holds {layout[3]} bytes")
                option_store_bytes(&OPTIONS_TEMPLATE, d, opt.default, len(opt.default))
            else:
                if d.kind == OPTK_INT and (opt.low < -2147483648 or opt.high > 2147483647):
                    raise ImportError(f"option {opt.name}: range wider than a C int")
                option_store(&OPTIONS_TEMPLATE, d, opt.default)
    return 0


load_option_table()


cdef int option_number(str name) except -1:
    from mqcore._options import BY_NAME
    return BY_NAME[name].number


cdef int bind_type_options(socktype_t *rows, int n) except -1:
    """Turns each row's option names into numbers (socktype_takes_option);
    a name the table lacks, or one not marked per_type, fails the import."""
    cdef int t, k
    for t in range(n):
        rows[t].option_bits[0] = rows[t].option_bits[1] = 0
        if rows[t].options == NULL:
            continue
        for name in (<bytes>rows[t].options).decode().split():
            k = option_number(name)
            if not OPTDESC[k].per_type:
                raise ImportError(f"{(<bytes>rows[t].name).decode()} lists {name}, which every type takes")
            rows[t].option_bits[k >> 6] |= 1ull << (k & 63)
    for k in range(NOPTIONS):
        if OPTDESC[k].per_type and not any(socktype_takes_option(&rows[t], k) for t in range(n)):
            raise ImportError(f"option {k} is per type, but no type takes it")
    return 0


cdef void options_defaults(options_t *o, int socket_type) noexcept nogil:
    memcpy(o, &OPTIONS_TEMPLATE, sizeof(options_t))
    o.type = socket_type
    o.linger = SOCKTYPES[socket_type].default_linger
