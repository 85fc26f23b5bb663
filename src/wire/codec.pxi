# ZMTP 3.x codec, sans I/O: the greeting, frame headers, an incremental frame
# decoder and the NULL-mechanism commands. Only the engine touches an fd; all
# of this works on byte buffers, which is what the unit tests drive through
# the _Decoder / _Encoder handles in api/testing.pyx.

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

cdef void greeting_build(unsigned char *g, const char *mechanism, int routing_id_len) noexcept nogil:
    """Our 64-byte greeting. The padding carries routing-id length + 1 as
    libzmq sends it (old peers read it as a frame header)."""
    memset(g, 0, GREETING_SIZE)
    g[0] = 0xFF
    mq_put_u64(g + 1, <uint64_t>(routing_id_len + 1))
    g[9] = 0x7F
    g[10] = 3
    g[11] = 1
    memcpy(g + 12, mechanism, strlen(mechanism))


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
    if msg_init_size(&d.msg, <size_t>size) < 0:
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

cdef inline bint command_is(msg_t *m, const char *name) noexcept nogil:
    cdef size_t n = strlen(name)
    cdef unsigned char *p = msg_data(m)
    return m.size >= n + 1 and p[0] == n and memcmp(p + 1, name, n) == 0


cdef size_t metadata_put(unsigned char *out, const char *name, const unsigned char *value, size_t vlen) noexcept nogil:
    cdef size_t n = strlen(name)
    out[0] = <unsigned char>n
    memcpy(out + 1, name, n)
    mq_put_u32(out + 1 + n, <uint32_t>vlen)
    if vlen:
        memcpy(out + 5 + n, value, vlen)
    return 5 + n + vlen


cdef size_t ready_build(unsigned char *out, int socket_type, const unsigned char *rid, size_t rid_len) noexcept nogil:
    """A complete READY command frame (header included) into out (>= 600 B).
    Identity is sent by the types that route by it, as libzmq does."""
    cdef unsigned char body[560]
    cdef size_t n = 0
    cdef const char *tname = SOCKTYPES[socket_type].name
    body[0] = 5
    memcpy(body + 1, b"READY", 5)
    n = 6
    n += metadata_put(body + n, b"Socket-Type", <const unsigned char *>tname, strlen(tname))
    if SOCKTYPES[socket_type].sends_identity:
        n += metadata_put(body + n, b"Identity", rid, rid_len)
    cdef int h = frame_header(out, ZMTP_COMMAND, n)
    memcpy(out + h, body, n)
    return h + n


cdef struct peer_meta_t:
    int socket_type             # -1 when the peer sent none
    unsigned char identity[256]
    int identity_len


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


cdef size_t pong_build(unsigned char *out, msg_t *ping) noexcept nogil:
    """The PONG answering `ping`, echoing up to 16 context bytes."""
    cdef size_t ctx_len = 0
    if ping.size > 7:
        ctx_len = ping.size - 7
        if ctx_len > 16:
            ctx_len = 16
    out[0] = ZMTP_COMMAND
    out[1] = <unsigned char>(5 + ctx_len)
    out[2] = 4
    memcpy(out + 3, b"PONG", 4)
    if ctx_len:
        memcpy(out + 7, msg_data(ping) + 7, ctx_len)
    return 7 + ctx_len
