# ZMTP 3.x codec, sans I/O: the greeting, frame headers, an incremental frame
# decoder, and every command the engine and the mechanisms send or read
# (READY and ERROR with their properties, PING/PONG, SUBSCRIBE/CANCEL). Only
# the engine touches an fd; all of this works on byte buffers and messages,
# which is what the unit tests drive through the handles in api/testing.pxi.

cdef extern from "<strings.h>" nogil:
    int strncasecmp(const char *a, const char *b, size_t n)

cdef enum:
    GREETING_SIZE = 64
    ZMTP_MORE = 1
    ZMTP_LONG = 2
    ZMTP_COMMAND = 4
    DEC_FLAGS = 0
    DEC_SIZE = 1
    DEC_BODY = 2
    DEC_NEED_MORE = 0       # every byte given was consumed
    DEC_FRAME = 1           # dec.msg holds a complete frame
    DEC_ERROR = -1          # dec.error says why (EMSGSIZE, EPROTO, ENOMEM)

# ---------------------------------------------------------------- subscriptions

cdef unsigned char *subscription_init(msg_t *m, bint subscribe, size_t topic_len) noexcept nogil:
    """A (un)subscription in its message form, 0x01 (subscribe) or 0x00
    (cancel) then the topic, which the caller writes at the pointer
    returned. NULL (m left empty) when memory is short. The one place the
    form is built: ZMTP 3.0 peers get it as data, publishers take it from
    every peer, and SUBSCRIBE/CANCEL commands are re-encoded from it."""
    if msg_init_size(m, topic_len + 1) < 0:
        msg_init(m)
        return NULL
    msg_data(m)[0] = 1 if subscribe else 0
    return msg_data(m) + 1


# ---------------------------------------------------------------- greeting

cdef enum:
    GREETING_AS_SERVER = 32     # offset of the as-server byte
    MECHANISM_NAME_MAX = 20


cdef void greeting_build(unsigned char *g, const char *mechanism, bint as_server,
                         int routing_id_len) noexcept nogil:
    """Our 64-byte greeting. The padding carries routing-id length + 1 as
    libzmq sends it (old peers read it as a frame header); as_server is 1
    on the server side of a PLAIN or CURVE handshake."""
    memset(g, 0, GREETING_SIZE)
    g[0] = 0xFF
    mq_put_u64(g + 1, <uint64_t>(routing_id_len + 1))
    g[9] = 0x7F
    g[10] = 3
    g[11] = 1
    memcpy(g + 12, mechanism, strlen(mechanism))
    g[GREETING_AS_SERVER] = 1 if as_server else 0


cdef inline bint greeting_as_server(const unsigned char *g) noexcept nogil:
    """The peer's as-server byte (a whole greeting)."""
    return g[GREETING_AS_SERVER] != 0


cdef int greeting_check(const unsigned char *g, int have, const char *mechanism, int *minor) noexcept nogil:
    """Checks as many greeting bytes as have arrived so that a garbage peer
    is dropped at once. 0: fine so far; -1: not ZMTP 3.x (we do not speak
    1.0/2.0); -2: mechanism mismatch (needs all 64)."""
    if have >= 1 and g[0] != 0xFF:
        return -1
    if have >= 10 and (g[9] & 1) == 0:
        return -1
    if have >= 11 and g[10] < 2:
        return -1
    if have >= 12:
        minor[0] = g[11]
    cdef char padded[20]
    if have >= 32:
        # All 20 bytes must match the NUL-padded name, as libzmq compares.
        memset(padded, 0, 20)
        memcpy(padded, mechanism, strlen(mechanism))
        if memcmp(g + 12, padded, 20) != 0:
            return -2
    return 0


# ---------------------------------------------------------------- frames

cdef inline int frame_header(unsigned char *out, unsigned char flags, uint64_t size) noexcept nogil:
    """Writes a frame header; returns its length (2 or 9)."""
    if size > 255:
        out[0] = flags | ZMTP_LONG
        mq_put_u64(out + 1, size)
        return 9
    out[0] = flags
    out[1] = <unsigned char>size
    return 2


cdef struct decoder_t:
    int state
    unsigned char flags
    unsigned char hdr[8]
    int hdr_got
    int hdr_need
    size_t body_got
    long long maxmsgsize        # -1: no limit
    int error
    bint spare_ok               # bodies may go into spare bytes (no mechanism decode follows)
    msg_t msg                   # the frame being filled or just completed


cdef void decoder_init(decoder_t *d, long long maxmsgsize) noexcept nogil:
    memset(d, 0, sizeof(decoder_t))
    d.state = DEC_FLAGS
    d.maxmsgsize = maxmsgsize
    msg_init(&d.msg)


cdef int decoder_start_body(decoder_t *d, uint64_t size) noexcept nogil:
    # The size limit is checked before any memory is reserved.
    if d.maxmsgsize >= 0 and size > <uint64_t>d.maxmsgsize:
        d.error = EMSGSIZE
        return DEC_ERROR
    if size > (<uint64_t>1 << 62):
        d.error = EPROTO
        return DEC_ERROR
    if (msg_init_body(&d.msg, <size_t>size) if d.spare_ok else msg_init_size(&d.msg, <size_t>size)) < 0:
        d.error = ENOMEM
        return DEC_ERROR
    d.msg.flags = (MSG_MORE if d.flags & ZMTP_MORE else 0) | (MSG_COMMAND if d.flags & ZMTP_COMMAND else 0)
    d.body_got = 0
    d.state = DEC_BODY
    return DEC_NEED_MORE


cdef int decoder_feed(decoder_t *d, const unsigned char *buf, size_t n, size_t *used) noexcept nogil:
    """Consumes bytes until a frame completes (DEC_FRAME, the frame is in
    d.msg and must be taken before the next call), the bytes run out
    (DEC_NEED_MORE) or the stream is bad (DEC_ERROR)."""
    cdef size_t pos = 0
    cdef size_t take
    cdef int rc
    while True:
        if d.state == DEC_BODY:
            take = d.msg.size - d.body_got
            if take > n - pos:
                take = n - pos
            if take:
                memcpy(msg_data(&d.msg) + d.body_got, buf + pos, take)
                d.body_got += take
                pos += take
            if d.body_got == d.msg.size:
                d.state = DEC_FLAGS
                used[0] = pos
                return DEC_FRAME
            used[0] = pos
            return DEC_NEED_MORE
        if pos == n:
            used[0] = pos
            return DEC_NEED_MORE
        if d.state == DEC_FLAGS:
            d.flags = buf[pos]
            pos += 1
            d.hdr_got = 0
            d.hdr_need = 8 if d.flags & ZMTP_LONG else 1
            d.state = DEC_SIZE
            continue
        # DEC_SIZE
        take = d.hdr_need - d.hdr_got
        if take > n - pos:
            take = n - pos
        memcpy(d.hdr + d.hdr_got, buf + pos, take)
        d.hdr_got += take
        pos += take
        if d.hdr_got < d.hdr_need:
            used[0] = pos
            return DEC_NEED_MORE
        rc = decoder_start_body(d, mq_get_u64(d.hdr) if d.hdr_need == 8 else d.hdr[0])
        if rc == DEC_ERROR:
            used[0] = pos
            return DEC_ERROR


cdef inline size_t decoder_body_missing(decoder_t *d) noexcept nogil:
    """Bytes still owed to the current body (0 outside a body): the engine
    reads large bodies straight into the message instead of its buffer."""
    if d.state != DEC_BODY:
        return 0
    return d.msg.size - d.body_got


# ---------------------------------------------------------------- commands
# A command body is the name's length, the name, then the command's data.

cdef enum:
    PING_MAX = 32           # a whole PING or PONG frame fits in this
    PING_CONTEXT_MAX = 16
    READY_MAX = 4096        # bytes of properties we ever put in a READY


cdef inline bint command_is(msg_t *m, const char *name) noexcept nogil:
    cdef size_t n = strlen(name)
    cdef unsigned char *p = msg_data(m)
    return m.size >= n + 1 and p[0] == n and memcmp(p + 1, name, n) == 0


cdef inline size_t command_name_put(unsigned char *out, const char *name) noexcept nogil:
    cdef size_t n = strlen(name)
    out[0] = <unsigned char>n
    memcpy(out + 1, name, n)
    return n + 1


cdef struct property_t:
    const char *name
    const unsigned char *value
    size_t len


cdef size_t metadata_put(unsigned char *out, const char *name, const unsigned char *value, size_t vlen) noexcept nogil:
    cdef size_t n = strlen(name)
    out[0] = <unsigned char>n
    memcpy(out + 1, name, n)
    mq_put_u32(out + 1 + n, <uint32_t>vlen)
    if vlen:
        memcpy(out + 5 + n, value, vlen)
    return 5 + n + vlen


cdef size_t properties_size(const property_t *props, int nprops) noexcept nogil:
    cdef size_t total = 0
    cdef int i
    for i in range(nprops):
        total += 5 + strlen(props[i].name) + props[i].len
    return total


cdef int command_with_properties(msg_t *m, const char *name, const property_t *props, int nprops) noexcept nogil:
    """A command body (READY, or a mechanism's INITIATE-like command) made
    of a name and a property list, as a MSG_COMMAND message. -1 (ENOMEM, m
    left empty) when memory is short."""
    cdef size_t n = 1 + strlen(name) + properties_size(props, nprops)
    cdef size_t at
    cdef int i
    if msg_init_size(m, n) < 0:
        msg_init(m)
        return -1
    at = command_name_put(msg_data(m), name)
    for i in range(nprops):
        at += metadata_put(msg_data(m) + at, props[i].name, props[i].value, props[i].len)
    m.flags = MSG_COMMAND
    return 0


cdef inline int ready_init(msg_t *m, const property_t *props, int nprops) noexcept nogil:
    """READY with our properties (RFC 23/37)."""
    return command_with_properties(m, b"READY", props, nprops)


cdef int error_init(msg_t *m, const char *reason) noexcept nogil:
    """ERROR with a reason (at most 255 bytes). -1: ENOMEM."""
    cdef size_t rlen = strlen(reason)
    cdef size_t at
    if rlen > 255:
        rlen = 255
    if msg_init_size(m, 6 + 1 + rlen) < 0:
        msg_init(m)
        return -1
    at = command_name_put(msg_data(m), b"ERROR")
    msg_data(m)[at] = <unsigned char>rlen
    memcpy(msg_data(m) + at + 1, reason, rlen)
    m.flags = MSG_COMMAND
    return 0


cdef int error_reason_at(msg_t *m) noexcept nogil:
    """Where an ERROR command's reason-length byte is; -1 when m is no
    ERROR. Besides RFC 23's form this takes what libzmq 4.3's PLAIN server
    sends: its name is written as "\\x05ERROR" in C, whose hex escape eats
    the E, so the name-size byte is 0x5E followed by "RROR". A real command
    with a 94-byte name would be longer than any such ERROR."""
    cdef const unsigned char *p = msg_data(m)
    if command_is(m, b"ERROR"):
        return 6
    if 6 <= m.size < 95 and p[0] == 0x5E and memcmp(p + 1, b"RROR", 4) == 0:
        return 5
    return -1


cdef inline bint command_is_error(msg_t *m) noexcept nogil:
    return error_reason_at(m) >= 0


cdef int error_reason(msg_t *m, const unsigned char **reason, size_t *rlen) noexcept nogil:
    """The reason of an ERROR command; -1 when it is malformed."""
    cdef int at = error_reason_at(m)
    cdef const unsigned char *p = msg_data(m)
    if at < 0 or m.size < <size_t>at + 1 or <size_t>at + 1 + p[at] > m.size:
        return -1
    reason[0] = p + at + 1
    rlen[0] = p[at]
    return 0


cdef struct peer_meta_t:
    int socket_type             # -1 when the peer sent none
    unsigned char identity[256]
    int identity_len
    unsigned char *props        # every property the peer sent (metadata_keep), or NULL
    size_t props_len


cdef int metadata_parse(const unsigned char *p, size_t n, peer_meta_t *meta) noexcept nogil:
    """Parses READY properties. -1 on a malformed list (EPROTO)."""
    cdef size_t pos = 0
    cdef size_t nlen
    cdef uint32_t vlen
    meta.socket_type = -1
    meta.identity_len = 0
    while pos < n:
        nlen = p[pos]
        pos += 1
        if nlen == 0 or pos + nlen + 4 > n:
            return -1
        vlen = mq_get_u32(p + pos + nlen)
        if vlen > n - (pos + nlen + 4):
            return -1
        if nlen == 11 and memcmp(p + pos, b"Socket-Type", 11) == 0:
            meta.socket_type = socket_type_from_name(p + pos + nlen + 4, vlen)
            if meta.socket_type < 0:
                meta.socket_type = -2       # present but not a known type
        elif nlen == 8 and memcmp(p + pos, b"Identity", 8) == 0 and vlen <= 255:
            memcpy(meta.identity, p + pos + nlen + 4, vlen)
            meta.identity_len = vlen
        pos += nlen + 4 + vlen
    return 0


cdef int metadata_keep(peer_meta_t *meta, const unsigned char *p, size_t n) noexcept nogil:
    """Keeps a copy of a parsed property list, for metadata_lookup (User-Id,
    X-* and whatever a mechanism adds). -1: ENOMEM."""
    cdef unsigned char *copy = <unsigned char *>mq_malloc(n if n else 1)
    if copy == NULL:
        return -1
    memcpy(copy, p, n)
    free(meta.props)
    meta.props = copy
    meta.props_len = n
    return 0


cdef void metadata_free(peer_meta_t *meta) noexcept nogil:
    free(meta.props)
    meta.props = NULL
    meta.props_len = 0


cdef bint metadata_lookup(const peer_meta_t *meta, const char *name,
                          const unsigned char **value, size_t *vlen) noexcept nogil:
    """The value of the peer's property `name` (names compare without
    case, as RFC 23 says); False when it sent none."""
    return properties_find(meta.props, meta.props_len, <const unsigned char *>name,
                           strlen(name), False, value, vlen)


cdef bint properties_find(const unsigned char *p, size_t n, const unsigned char *name,
                          size_t want, bint exact_case, const unsigned char **value,
                          size_t *vlen) noexcept nogil:
    """The first property called `name` in a well-formed property list
    (one metadata_parse accepted, or one we built); False when none is."""
    cdef size_t pos = 0
    cdef size_t nlen
    cdef uint32_t len32
    cdef bint same
    if p == NULL:
        return False
    while pos < n:
        nlen = p[pos]
        pos += 1
        len32 = mq_get_u32(p + pos + nlen)
        if nlen == want:
            if exact_case:
                same = memcmp(p + pos, name, nlen) == 0
            else:
                same = strncasecmp(<const char *>(p + pos), <const char *>name, nlen) == 0
            if same:
                value[0] = p + pos + nlen + 4
                vlen[0] = len32
                return True
        pos += nlen + 4 + len32
    return False


cdef size_t ping_build(unsigned char *out, unsigned int ttl_ms, const unsigned char *ctx, size_t ctx_len) noexcept nogil:
    """A whole PING frame (<= PING_MAX bytes): TTL in tenths of a second,
    then up to 16 context bytes."""
    cdef unsigned int ttl = ttl_ms // 100
    if ctx_len > PING_CONTEXT_MAX:
        ctx_len = PING_CONTEXT_MAX
    if ttl > 0xFFFF:
        ttl = 0xFFFF
    out[0] = ZMTP_COMMAND
    out[1] = <unsigned char>(7 + ctx_len)
    command_name_put(out + 2, b"PING")
    out[7] = <unsigned char>(ttl >> 8)
    out[8] = <unsigned char>ttl
    if ctx_len:
        memcpy(out + 9, ctx, ctx_len)
    return 9 + ctx_len


cdef long long ping_ttl_ms(msg_t *ping) noexcept nogil:
    """The TTL a PING body carries, in ms (0: none)."""
    if ping.size < 7:
        return 0
    return (<long long>((msg_data(ping)[5] << 8) | msg_data(ping)[6])) * 100


cdef size_t pong_build(unsigned char *out, msg_t *ping) noexcept nogil:
    """The whole PONG frame (<= PING_MAX bytes) answering `ping`, echoing
    up to 16 context bytes."""
    cdef size_t ctx_len = 0
    if ping.size > 7:
        ctx_len = ping.size - 7
        if ctx_len > PING_CONTEXT_MAX:
            ctx_len = PING_CONTEXT_MAX
    out[0] = ZMTP_COMMAND
    out[1] = <unsigned char>(5 + ctx_len)
    command_name_put(out + 2, b"PONG")
    if ctx_len:
        memcpy(out + 7, msg_data(ping) + 7, ctx_len)
    return 7 + ctx_len


cdef inline size_t subscription_command_header(unsigned char *out, msg_t *sub) noexcept nogil:
    """The frame header and name of the SUBSCRIBE or CANCEL command (ZMTP
    3.1) carrying the subscription message `sub` (0x01/0x00 + topic); the
    topic, msg_data(sub) + 1, follows. <= 9 + 10 bytes."""
    cdef const char *name = b"SUBSCRIBE" if msg_data(sub)[0] == 1 else b"CANCEL"
    cdef size_t nlen = strlen(name)
    cdef int h = frame_header(out, ZMTP_COMMAND, 1 + nlen + sub.size - 1)
    return h + command_name_put(out + h, name)


cdef int subscription_from_command(msg_t *m) noexcept nogil:
    """SUBSCRIBE/CANCEL (ZMTP 3.1) become the 0x01/0x00 + topic messages
    that publishers take from every peer, whatever its version. 1: *m was
    one and is now its message form; 0: not a subscription command; -1
    (errno ENOMEM, *m closed) when there is no memory for the copy."""
    global errno
    cdef msg_t sub
    cdef size_t name_len
    cdef bint subscribe
    cdef unsigned char *at
    if command_is(m, b"SUBSCRIBE"):
        name_len = 10
        subscribe = True
    elif command_is(m, b"CANCEL"):
        name_len = 7
        subscribe = False
    else:
        return 0
    at = subscription_init(&sub, subscribe, m.size - name_len)
    if at == NULL:
        msg_close(m)
        errno = ENOMEM
        return -1
    if m.size > name_len:
        memcpy(at, msg_data(m) + name_len, m.size - name_len)
    msg_close(m)
    memcpy(m, &sub, sizeof(msg_t))
    return 1


cdef int join_from_command(msg_t *m) noexcept nogil:
    """RFC 48's JOIN/LEAVE commands become the group messages RADIO reads
    (MSG_JOIN/MSG_LEAVE, the group on the message). 1: *m was one and is
    now its message form; 0: not one; -1 (errno ENOMEM or, for a group
    over GROUP_MAX bytes, EPROTO; *m closed)."""
    global errno
    cdef msg_t g
    cdef size_t name_len
    cdef unsigned int flags
    cdef int rc
    if command_is(m, b"JOIN"):
        name_len, flags = 5, MSG_JOIN
    elif command_is(m, b"LEAVE"):
        name_len, flags = 6, MSG_LEAVE
    else:
        return 0
    msg_init(&g)
    g.flags = flags
    rc = msg_set_group(&g, msg_data(m) + name_len, m.size - name_len)
    msg_close(m)
    if rc != 0:
        errno = EPROTO if rc == EINVAL else rc
        return -1
    memcpy(m, &g, sizeof(msg_t))
    return 1


cdef int join_to_command(msg_t *m) noexcept nogil:
    """DISH's group message *m (MSG_JOIN/MSG_LEAVE) as its JOIN or LEAVE
    command (MSG_COMMAND), in place. -1 (errno ENOMEM, *m unchanged)."""
    global errno
    cdef const char *name = b"JOIN" if m.flags & MSG_JOIN else b"LEAVE"
    cdef size_t n
    cdef const unsigned char *g = msg_group(m, &n)
    cdef size_t nlen = strlen(name)
    cdef msg_t cmd
    if msg_init_size(&cmd, 1 + nlen + n) < 0:
        errno = ENOMEM
        return -1
    command_name_put(msg_data(&cmd), name)
    if n:
        memcpy(msg_data(&cmd) + 1 + nlen, g, n)
    cmd.flags = MSG_COMMAND
    msg_close(m)
    memcpy(m, &cmd, sizeof(msg_t))
    return 0


cdef int subscription_to_command(msg_t *m) noexcept nogil:
    """The subscription message *m (0x01/0x00 + topic) as the body of its
    SUBSCRIBE or CANCEL command, in a new message (MSG_COMMAND), for a
    mechanism to encode. -1 (errno ENOMEM, *m unchanged) when memory is
    short."""
    global errno
    cdef const char *name = b"SUBSCRIBE" if msg_data(m)[0] == 1 else b"CANCEL"
    cdef size_t nlen = strlen(name)
    cdef msg_t cmd
    if msg_init_size(&cmd, 1 + nlen + m.size - 1) < 0:
        errno = ENOMEM
        return -1
    command_name_put(msg_data(&cmd), name)
    memcpy(msg_data(&cmd) + 1 + nlen, msg_data(m) + 1, m.size - 1)
    cmd.flags = MSG_COMMAND
    msg_close(m)
    memcpy(m, &cmd, sizeof(msg_t))
    return 0
