# The CURVE mechanism (RFC 26, CurveZMQ), interoperable with libzmq's
# curve_client/curve_server. Each side holds a long-term key pair (C/c for
# the client, S/s for the server; the client also knows S) and makes a
# short-term pair per connection (C'/c', S'/s'). The handshake:
#
#   client -> HELLO     C', Box[64 zeros](C'->S)           proves C' knows S
#   server -> WELCOME   Box[S' + cookie](S->C')            cookie: Box[C' + s'](K)
#   client -> INITIATE  cookie, Box[C + vouch + metadata](C'->S')
#                       vouch: Box[C' + S](C->S')          binds C to C'
#   server -> READY     Box[metadata](S'->C')
#
# then every frame, both ways, is a MESSAGE command: the flags byte (MORE,
# COMMAND) and the body in Box(C'<->S'), the nonce "CurveZMQMESSAGEC" (from
# the client) or "...S" (from the server) plus an 8-byte counter that never
# repeats and must grow on every frame read (a replayed or reordered frame
# fails). Short nonces count up from 1 per side across the handshake and
# the traffic, as libzmq's do (the peer checks only that they grow).
#
# Any failure to open a box, a malformed command or a nonce that does not
# grow ends the connection as a protocol error (no reconnect), with the
# monitor code libzmq gives. The server authorises the client's long-term
# key in curve_server_authorize, through ZAP when a handler is bound.
#
# The crypto is libsodium's through the SODIUM table (mech/sodium.pxi).

cdef enum:
    CURVE_Z85_KEY = 40
    CURVE_HELLO_SIZE = 200
    CURVE_WELCOME_SIZE = 168
    CURVE_COOKIE_SIZE = 96              # 16 nonce bytes + Box[C' + s'](K)
    CURVE_INITIATE_MIN = 257            # 9 + cookie + 8 + Box[C + vouch]
    CURVE_READY_MIN = 30                # 6 + 8 + MAC
    CURVE_MESSAGE_HEAD = 33             # 8 name + 8 nonce + MAC + flags
    CURVE_ERR_MALFORMED_COMMAND = 0x10000011    # ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED

    # where a connection's handshake stands
    CURVE_SEND_HELLO = 0
    CURVE_EXPECT_WELCOME = 1
    CURVE_SEND_INITIATE = 2
    CURVE_EXPECT_READY = 3
    CURVE_EXPECT_HELLO = 4
    CURVE_SEND_WELCOME = 5
    CURVE_EXPECT_INITIATE = 6
    CURVE_SEND_READY = 7
    CURVE_CONNECTED = 8
    CURVE_WAIT_ZAP = 9
    CURVE_SEND_ERROR = 10

cdef struct curve_t:
    int state
    unsigned char public_key[CURVE_KEY]     # our long-term pair
    unsigned char secret_key[CURVE_KEY]
    unsigned char server_key[CURVE_KEY]     # client: S
    unsigned char cn_public[CURVE_KEY]      # our short-term pair (C' or S')
    unsigned char cn_secret[CURVE_KEY]
    unsigned char cn_peer[CURVE_KEY]        # the peer's short-term key
    unsigned char cn_precom[CURVE_KEY]      # beforenm(cn_peer, cn_secret)
    unsigned char cookie_key[CURVE_KEY]     # server: K, this connection only
    unsigned char cookie[CURVE_COOKIE_SIZE] # client: from WELCOME, back in INITIATE
    unsigned char client_key[CURVE_KEY]     # server: C, once INITIATE proved it
    char status_code[4]                     # server: the ZAP refusal sent in ERROR
    uint64_t nonce                          # our next short nonce
    uint64_t peer_nonce                     # the peer's last short nonce
    const char *send_prefix                 # "CurveZMQMESSAGEC" or "...S"
    const char *recv_prefix


cdef inline curve_t *curve(mechanism_t *m) noexcept nogil:
    return <curve_t *>m.priv


cdef inline void curve_nonce(unsigned char *n, const char *prefix, size_t plen,
                             const unsigned char *rest, size_t rlen) noexcept nogil:
    # A 24-byte nonce: a fixed prefix and the part the command carries.
    memcpy(n, prefix, plen)
    memcpy(n + plen, rest, rlen)


cdef inline void curve_short_nonce(unsigned char *n, const char *prefix, uint64_t v) noexcept nogil:
    memcpy(n, prefix, 16)
    mq_put_u64(n + 16, v)


cdef inline int curve_fail(mechanism_t *m, int code) noexcept nogil:
    m.error_code = code
    m.status = MECH_ERROR
    return -1


# ---------------------------------------------------------------- Z85 keys

cdef const char *Z85_DIGITS = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"


cdef int z85_key_decode(unsigned char *out, const unsigned char *text) noexcept nogil:
    """40 Z85 characters into a 32-byte key. -1 when they are not Z85."""
    cdef uint64_t v
    cdef int g, i, d
    cdef const char *at
    for g in range(8):
        v = 0
        for i in range(5):
            at = strchr(Z85_DIGITS, text[g * 5 + i])
            if text[g * 5 + i] == 0 or at == NULL:
                return -1
            d = <int>(at - Z85_DIGITS)
            v = v * 85 + d
        if v > <uint64_t>0xFFFFFFFFu:
            return -1
        mq_put_u32(out + g * 4, <uint32_t>v)
    return 0


cdef int curve_key_option(options_t *o, unsigned char *dest, const unsigned char *p, size_t n) noexcept nogil:
    """CURVE_PUBLICKEY/SECRETKEY/SERVERKEY as libzmq takes them: 32 bytes,
    40 Z85 characters, or those and a NUL. Selects CURVE. 0 or EINVAL."""
    cdef unsigned char key[CURVE_KEY]
    if not SODIUM.ok:
        return EINVAL
    if n == CURVE_KEY:
        memcpy(key, p, CURVE_KEY)
    elif n == CURVE_Z85_KEY or (n == CURVE_Z85_KEY + 1 and p[CURVE_Z85_KEY] == 0):
        if z85_key_decode(key, p) < 0:
            return EINVAL
    else:
        return EINVAL
    memcpy(dest, key, CURVE_KEY)
    o.mechanism = MECH_CURVE
    return 0


# ---------------------------------------------------------------- client

cdef int curve_hello(mechanism_t *m, curve_t *c, msg_t *out) noexcept nogil:
    cdef unsigned char zeros[64]
    cdef unsigned char nonce[CURVE_NONCE]
    cdef unsigned char *p
    if msg_init_size(out, CURVE_HELLO_SIZE) < 0:
        return ENOMEM
    p = msg_data(out)
    memset(zeros, 0, 64)
    memset(p, 0, CURVE_HELLO_SIZE)          # includes the 72 bytes of padding
    command_name_put(p, b"HELLO")
    p[6] = 1                                # CurveZMQ 1.0
    p[7] = 0
    memcpy(p + 80, c.cn_public, CURVE_KEY)
    curve_short_nonce(nonce, b"CurveZMQHELLO---", c.nonce)
    memcpy(p + 112, nonce + 16, 8)
    SODIUM.box(p + 120, zeros, 64, nonce, c.server_key, c.cn_secret)
    out.flags = MSG_COMMAND
    c.nonce += 1
    c.state = CURVE_EXPECT_WELCOME
    return 0


cdef int curve_on_welcome(mechanism_t *m, curve_t *c, msg_t *cmd) noexcept nogil:
    cdef unsigned char nonce[CURVE_NONCE]
    cdef unsigned char plain[128]
    cdef const unsigned char *p = msg_data(cmd)
    if command_is_error(cmd):
        return mech_peer_error(m, cmd)      # a refusal: HANDSHAKE_FAILED_AUTH with its code
    if not command_is(cmd, b"WELCOME"):
        return curve_fail(m, PROTO_ERR_UNEXPECTED_COMMAND)
    if cmd.size != CURVE_WELCOME_SIZE:
        return curve_fail(m, PROTO_ERR_MALFORMED_WELCOME)
    curve_nonce(nonce, b"WELCOME-", 8, p + 8, 16)
    if SODIUM.box_open(plain, p + 24, 144, nonce, c.server_key, c.cn_secret) != 0:
        return curve_fail(m, PROTO_ERR_CRYPTOGRAPHIC)
    memcpy(c.cn_peer, plain, CURVE_KEY)
    memcpy(c.cookie, plain + 32, CURVE_COOKIE_SIZE)
    if SODIUM.box_beforenm(c.cn_precom, c.cn_peer, c.cn_secret) != 0:
        return curve_fail(m, PROTO_ERR_CRYPTOGRAPHIC)
    SODIUM.memzero(plain, sizeof(plain))
    c.state = CURVE_SEND_INITIATE
    return 0


cdef int curve_initiate(mechanism_t *m, curve_t *c, msg_t *out) noexcept nogil:
    cdef property_t props[2]
    cdef int nprops = mech_basic_properties(m, props)
    cdef size_t meta = properties_size(props, nprops)
    cdef size_t mlen = 128 + meta
    cdef unsigned char vouch_plain[64]
    cdef unsigned char nonce[CURVE_NONCE]
    cdef unsigned char *plain
    cdef unsigned char *p
    cdef size_t at
    cdef int i
    plain = <unsigned char *>mq_malloc(mlen)
    if plain == NULL:
        return ENOMEM
    if msg_init_size(out, 113 + CURVE_MAC + mlen) < 0:
        free(plain)
        return ENOMEM
    # The vouch: C' and S in a box from our long-term key to S'.
    memcpy(vouch_plain, c.cn_public, CURVE_KEY)
    memcpy(vouch_plain + 32, c.server_key, CURVE_KEY)
    memcpy(nonce, b"VOUCH---", 8)
    SODIUM.random(nonce + 8, 16)
    memcpy(plain, c.public_key, CURVE_KEY)
    memcpy(plain + 32, nonce + 8, 16)
    SODIUM.box(plain + 48, vouch_plain, 64, nonce, c.cn_peer, c.secret_key)
    at = 128
    for i in range(nprops):
        at += metadata_put(plain + at, props[i].name, props[i].value, props[i].len)
    p = msg_data(out)
    command_name_put(p, b"INITIATE")
    memcpy(p + 9, c.cookie, CURVE_COOKIE_SIZE)
    curve_short_nonce(nonce, b"CurveZMQINITIATE", c.nonce)
    memcpy(p + 105, nonce + 16, 8)
    SODIUM.box_afternm(p + 113, plain, mlen, nonce, c.cn_precom)
    free(plain)
    out.flags = MSG_COMMAND
    c.nonce += 1
    c.state = CURVE_EXPECT_READY
    return 0


cdef int curve_on_ready(mechanism_t *m, curve_t *c, msg_t *cmd) noexcept nogil:
    cdef unsigned char nonce[CURVE_NONCE]
    cdef const unsigned char *p = msg_data(cmd)
    cdef unsigned char *plain
    cdef size_t n
    cdef int rc
    if command_is_error(cmd):
        return mech_peer_error(m, cmd)      # a refusal: HANDSHAKE_FAILED_AUTH with its code
    if not command_is(cmd, b"READY"):
        return curve_fail(m, PROTO_ERR_UNEXPECTED_COMMAND)
    if cmd.size < CURVE_READY_MIN:
        return curve_fail(m, PROTO_ERR_MALFORMED_READY)
    if mq_get_u64(p + 6) <= c.peer_nonce:
        return curve_fail(m, PROTO_ERR_INVALID_SEQUENCE)
    n = cmd.size - CURVE_READY_MIN
    plain = <unsigned char *>mq_malloc(n + 1)
    if plain == NULL:
        m.status = MECH_ERROR
        return ENOMEM
    curve_nonce(nonce, b"CurveZMQREADY---", 16, p + 6, 8)
    if SODIUM.box_open_afternm(plain, p + 14, cmd.size - 14, nonce, c.cn_precom) != 0:
        free(plain)
        return curve_fail(m, PROTO_ERR_CRYPTOGRAPHIC)
    c.peer_nonce = mq_get_u64(p + 6)
    rc = mech_accept_metadata(m, plain, n)
    free(plain)
    if rc != 0:
        m.status = MECH_ERROR
        return rc
    c.state = CURVE_CONNECTED
    m.ready_received = True
    m.status = MECH_READY
    return 0


# ---------------------------------------------------------------- server

cdef int curve_on_hello(mechanism_t *m, curve_t *c, msg_t *cmd) noexcept nogil:
    cdef unsigned char nonce[CURVE_NONCE]
    cdef unsigned char zeros[64]
    cdef const unsigned char *p = msg_data(cmd)
    if not command_is(cmd, b"HELLO"):
        return curve_fail(m, PROTO_ERR_UNEXPECTED_COMMAND)
    if cmd.size != CURVE_HELLO_SIZE or p[6] != 1 or p[7] != 0:
        return curve_fail(m, PROTO_ERR_MALFORMED_HELLO)
    memcpy(c.cn_peer, p + 80, CURVE_KEY)
    curve_nonce(nonce, b"CurveZMQHELLO---", 16, p + 112, 8)
    if SODIUM.box_open(zeros, p + 120, 80, nonce, c.cn_peer, c.secret_key) != 0:
        return curve_fail(m, PROTO_ERR_CRYPTOGRAPHIC)
    c.peer_nonce = mq_get_u64(p + 112)
    c.state = CURVE_SEND_WELCOME
    return 0


cdef int curve_welcome(mechanism_t *m, curve_t *c, msg_t *out) noexcept nogil:
    cdef unsigned char nonce[CURVE_NONCE]
    cdef unsigned char pair[64]
    cdef unsigned char plain[128]
    cdef unsigned char *p
    if msg_init_size(out, CURVE_WELCOME_SIZE) < 0:
        return ENOMEM
    # The cookie: C' and s' under a key only this connection knows, so that
    # the server may forget them until INITIATE brings them back.
    SODIUM.random(c.cookie_key, CURVE_KEY)
    memcpy(pair, c.cn_peer, CURVE_KEY)
    memcpy(pair + 32, c.cn_secret, CURVE_KEY)
    memcpy(nonce, b"COOKIE--", 8)
    SODIUM.random(nonce + 8, 16)
    memcpy(plain, c.cn_public, CURVE_KEY)
    memcpy(plain + 32, nonce + 8, 16)
    SODIUM.secretbox(plain + 48, pair, 64, nonce, c.cookie_key)
    SODIUM.memzero(pair, sizeof(pair))
    p = msg_data(out)
    command_name_put(p, b"WELCOME")
    memcpy(nonce, b"WELCOME-", 8)
    SODIUM.random(nonce + 8, 16)
    memcpy(p + 8, nonce + 8, 16)
    SODIUM.box(p + 24, plain, 128, nonce, c.cn_peer, c.secret_key)
    out.flags = MSG_COMMAND
    c.state = CURVE_EXPECT_INITIATE
    return 0


cdef int curve_server_authorize(mechanism_t *m, curve_t *c) noexcept nogil:
    """Whether the client whose long-term key INITIATE proved (c.client_key)
    may go on, as libzmq's curve_server decides: a bound ZAP handler is
    asked (mechanism CURVE, that key as the credential; the answer comes
    through curve_zap_done); with none, every key is accepted unless
    ZAP_ENFORCE_DOMAIN is set. 0: yes now; 1: asked; -1: refused; ENOMEM."""
    cdef const unsigned char *cred[1]
    cdef size_t clen[1]
    cred[0] = c.client_key
    clen[0] = CURVE_KEY
    cdef int rc = mech_zap_request(m, cred, clen, 1)
    if rc == 0:
        c.state = CURVE_WAIT_ZAP
        return 1
    if rc == ENOMEM:
        return ENOMEM
    if m.o.zap_enforce_domain:
        m.error_event = EV_HANDSHAKE_FAILED_NO_DETAIL
        m.error_code = EFAULT
        return -1
    return 0


cdef void curve_zap_done(mechanism_t *m) noexcept nogil:
    """The ZAP reply is in (m.zap_status): READY, or ERROR with the status
    code (the monitor says HANDSHAKE_FAILED_AUTH)."""
    cdef curve_t *c = curve(m)
    cdef int code
    if c.state != CURVE_WAIT_ZAP:
        return
    if m.zap_status == 200:
        c.state = CURVE_SEND_READY
        return
    code = m.zap_status if m.zap_status == 300 or m.zap_status == 400 else 500
    c.state = CURVE_SEND_ERROR
    m.error_event = EV_HANDSHAKE_FAILED_AUTH
    m.error_code = code
    c.status_code[0] = <char>(48 + code // 100)
    c.status_code[1] = b'0'
    c.status_code[2] = b'0'
    c.status_code[3] = 0


cdef int curve_open_initiate(mechanism_t *m, curve_t *c, msg_t *cmd, unsigned char *plain) noexcept nogil:
    """Checks the cookie and opens INITIATE's box into plain (size - 129
    bytes) and its vouch. 0, or -1 (failed, code set)."""
    cdef unsigned char nonce[CURVE_NONCE]
    cdef unsigned char pair[64]
    cdef const unsigned char *p = msg_data(cmd)
    curve_nonce(nonce, b"COOKIE--", 8, p + 9, 16)
    if SODIUM.secretbox_open(pair, p + 25, 80, nonce, c.cookie_key) != 0:
        return curve_fail(m, PROTO_ERR_CRYPTOGRAPHIC)
    if memcmp(pair, c.cn_peer, CURVE_KEY) != 0 or memcmp(pair + 32, c.cn_secret, CURVE_KEY) != 0:
        return curve_fail(m, PROTO_ERR_CRYPTOGRAPHIC)
    if mq_get_u64(p + 105) <= c.peer_nonce:
        return curve_fail(m, PROTO_ERR_INVALID_SEQUENCE)
    if SODIUM.box_beforenm(c.cn_precom, c.cn_peer, c.cn_secret) != 0:
        return curve_fail(m, PROTO_ERR_CRYPTOGRAPHIC)
    curve_nonce(nonce, b"CurveZMQINITIATE", 16, p + 105, 8)
    if SODIUM.box_open_afternm(plain, p + 113, cmd.size - 113, nonce, c.cn_precom) != 0:
        return curve_fail(m, PROTO_ERR_CRYPTOGRAPHIC)
    c.peer_nonce = mq_get_u64(p + 105)
    # The vouch: the client's long-term key C vouches for C' (and for us).
    curve_nonce(nonce, b"VOUCH---", 8, plain + 32, 16)
    if SODIUM.box_open(pair, plain + 48, 80, nonce, plain, c.cn_secret) != 0:
        return curve_fail(m, PROTO_ERR_CRYPTOGRAPHIC)
    if memcmp(pair, c.cn_peer, CURVE_KEY) != 0 or memcmp(pair + 32, c.public_key, CURVE_KEY) != 0:
        return curve_fail(m, PROTO_ERR_KEY_EXCHANGE)
    memcpy(c.client_key, plain, CURVE_KEY)
    return 0


cdef int curve_on_initiate(mechanism_t *m, curve_t *c, msg_t *cmd) noexcept nogil:
    cdef unsigned char *plain
    cdef int rc
    if not command_is(cmd, b"INITIATE"):
        return curve_fail(m, PROTO_ERR_UNEXPECTED_COMMAND)
    if cmd.size < CURVE_INITIATE_MIN:
        return curve_fail(m, PROTO_ERR_MALFORMED_INITIATE)
    plain = <unsigned char *>mq_malloc(cmd.size - 113 - CURVE_MAC)
    if plain == NULL:
        m.status = MECH_ERROR
        return ENOMEM
    rc = curve_open_initiate(m, c, cmd, plain)
    if rc == 0:
        rc = mech_accept_metadata(m, plain + 128, cmd.size - CURVE_INITIATE_MIN)
        if rc != 0:
            m.status = MECH_ERROR
    free(plain)
    if rc != 0:
        return rc
    m.ready_received = True
    c.state = CURVE_SEND_READY
    rc = curve_server_authorize(m, c)
    if rc == 1:
        return 0                # READY (or ERROR) once ZAP answers
    if rc != 0:
        m.status = MECH_ERROR
    return rc


cdef int curve_ready(mechanism_t *m, curve_t *c, msg_t *out) noexcept nogil:
    cdef property_t props[2]
    cdef int nprops = mech_basic_properties(m, props)
    cdef size_t mlen = properties_size(props, nprops)
    cdef unsigned char nonce[CURVE_NONCE]
    cdef unsigned char *plain
    cdef unsigned char *p
    cdef size_t at = 0
    cdef int i
    plain = <unsigned char *>mq_malloc(mlen + 1)
    if plain == NULL:
        return ENOMEM
    if msg_init_size(out, 14 + CURVE_MAC + mlen) < 0:
        free(plain)
        return ENOMEM
    for i in range(nprops):
        at += metadata_put(plain + at, props[i].name, props[i].value, props[i].len)
    p = msg_data(out)
    command_name_put(p, b"READY")
    curve_short_nonce(nonce, b"CurveZMQREADY---", c.nonce)
    memcpy(p + 6, nonce + 16, 8)
    SODIUM.box_afternm(p + 14, plain, mlen, nonce, c.cn_precom)
    free(plain)
    out.flags = MSG_COMMAND
    c.nonce += 1
    c.state = CURVE_CONNECTED
    m.ready_sent = True
    m.status = MECH_READY
    return 0


# ---------------------------------------------------------------- the row

cdef int curve_next_command(mechanism_t *m, msg_t *out) noexcept nogil:
    cdef curve_t *c = curve(m)
    cdef int rc
    if m.status == MECH_ERROR:
        return EAGAIN
    if c.state == CURVE_SEND_HELLO:
        rc = curve_hello(m, c, out)
    elif c.state == CURVE_SEND_INITIATE:
        rc = curve_initiate(m, c, out)
    elif c.state == CURVE_SEND_WELCOME:
        rc = curve_welcome(m, c, out)
    elif c.state == CURVE_SEND_READY:
        rc = curve_ready(m, c, out)
    elif c.state == CURVE_SEND_ERROR:
        # ERROR travels in the clear (RFC 26), and ends the handshake.
        rc = ENOMEM if error_init(out, c.status_code) < 0 else 0
        c.state = CURVE_CONNECTED
        m.status = MECH_ERROR
        return rc
    else:
        return EAGAIN
    if rc != 0:
        msg_init(out)
        m.status = MECH_ERROR
    return rc


cdef int curve_process_command(mechanism_t *m, msg_t *cmd) noexcept nogil:
    cdef curve_t *c = curve(m)
    if c.state == CURVE_EXPECT_WELCOME:
        return curve_on_welcome(m, c, cmd)
    if c.state == CURVE_EXPECT_READY:
        return curve_on_ready(m, c, cmd)
    if c.state == CURVE_EXPECT_HELLO:
        return curve_on_hello(m, c, cmd)
    if c.state == CURVE_EXPECT_INITIATE:
        return curve_on_initiate(m, c, cmd)
    return curve_fail(m, PROTO_ERR_UNEXPECTED_COMMAND)


cdef int curve_encode(mechanism_t *m, msg_t *msg) noexcept nogil:
    """msg becomes the MESSAGE command carrying it (sent as a plain frame,
    as libzmq does: the flags travel inside the box)."""
    global errno
    cdef curve_t *c = curve(m)
    cdef unsigned char nonce[CURVE_NONCE]
    cdef msg_t box
    cdef unsigned char *p
    if msg_init_size(&box, CURVE_MESSAGE_HEAD + msg.size) < 0:
        errno = ENOMEM
        return -1
    p = msg_data(&box)
    memcpy(p, b"\x07MESSAGE", 8)
    curve_short_nonce(nonce, c.send_prefix, c.nonce)
    memcpy(p + 8, nonce + 16, 8)
    p[32] = msg.flags & (MSG_MORE | MSG_COMMAND)
    if msg.size:
        memcpy(p + 33, msg_data(msg), msg.size)
    # In place: the MAC lands just before the ciphertext (libsodium allows
    # output and input at the same address).
    SODIUM.box_afternm(p + 16, p + 32, msg.size + 1, nonce, c.cn_precom)
    c.nonce += 1
    msg_close(msg)
    memcpy(msg, &box, sizeof(msg_t))
    return 0


cdef int curve_decode(mechanism_t *m, msg_t *msg) noexcept nogil:
    """A MESSAGE command back into the frame it carries. -1 (EPROTO) when
    it is not one, its nonce does not grow, or its box does not open."""
    global errno
    cdef curve_t *c = curve(m)
    cdef unsigned char nonce[CURVE_NONCE]
    cdef unsigned char *p = msg_data(msg)
    cdef unsigned int flags
    cdef size_t n
    cdef msg_t small
    errno = EPROTO
    # The checks and their monitor codes are libzmq's (curve_mechanism_base
    # decode): a frame too short to be a command, one that is not MESSAGE,
    # a MESSAGE too short for its box, a nonce that does not grow, a box
    # that does not open. The engine reports them as HANDSHAKE_FAILED_PROTOCOL.
    if msg.size <= 1 or msg.size <= p[0]:
        m.error_code = CURVE_ERR_MALFORMED_COMMAND
        return -1
    if msg.size < 8 or memcmp(p, b"\x07MESSAGE", 8) != 0:
        m.error_code = PROTO_ERR_UNEXPECTED_COMMAND
        return -1
    if msg.size < CURVE_MESSAGE_HEAD:
        m.error_code = PROTO_ERR_MALFORMED_MESSAGE
        return -1
    if mq_get_u64(p + 8) <= c.peer_nonce:
        m.error_code = PROTO_ERR_INVALID_SEQUENCE
        return -1
    curve_nonce(nonce, c.recv_prefix, 16, p + 8, 8)
    if SODIUM.box_open_afternm(p + 32, p + 16, msg.size - 16, nonce, c.cn_precom) != 0:
        m.error_code = PROTO_ERR_CRYPTOGRAPHIC
        return -1
    c.peer_nonce = mq_get_u64(p + 8)
    flags = p[32]
    n = msg.size - CURVE_MESSAGE_HEAD
    if n <= VSM_MAX:
        # Small: inline, as every small message is.
        msg_init_size(&small, n)
        memcpy(small.vsm, p + 33, n)
        msg_close(msg)
        memcpy(msg, &small, sizeof(msg_t))
    else:
        # Large: the body stays where it was opened; the chunk (ours alone,
        # fresh from the decoder) just starts later.
        msg.chunk.data += CURVE_MESSAGE_HEAD
        msg.chunk.size = n
        msg.size = n
    msg.flags = (MSG_MORE if flags & 1 else 0) | (MSG_COMMAND if flags & 2 else 0)
    return 0


cdef int curve_mech_init(mechanism_t *m) noexcept nogil:
    cdef curve_t *c = curve(m)
    if not SODIUM.ok:
        return EINVAL
    memcpy(c.public_key, m.o.curve_public_key, CURVE_KEY)
    memcpy(c.secret_key, m.o.curve_secret_key, CURVE_KEY)
    memcpy(c.server_key, m.o.curve_server_key, CURVE_KEY)
    if SODIUM.box_keypair(c.cn_public, c.cn_secret) != 0:
        return ENOMEM
    c.nonce = 1
    if m.as_server:
        # A server is given only its secret key (libzmq's rule; the public
        # one is for clients): the vouch names S, so derive it.
        if SODIUM.scalarmult_base(c.public_key, c.secret_key) != 0:
            return EINVAL
        c.state = CURVE_EXPECT_HELLO
        c.send_prefix = b"CurveZMQMESSAGES"
        c.recv_prefix = b"CurveZMQMESSAGEC"
    else:
        c.state = CURVE_SEND_HELLO
        c.send_prefix = b"CurveZMQMESSAGEC"
        c.recv_prefix = b"CurveZMQMESSAGES"
    m.next_handshake_command = curve_next_command
    m.process_handshake_command = curve_process_command
    m.encode = curve_encode
    m.decode = curve_decode
    m.zap_done = curve_zap_done
    return 0


cdef void curve_mech_fini(mechanism_t *m) noexcept nogil:
    # Keys do not outlive the connection in freed memory.
    if m.priv != NULL and SODIUM.ok:
        SODIUM.memzero(m.priv, sizeof(curve_t))


cdef int OPT_CURVE_SERVER = option_number("CURVE_SERVER")
cdef int OPT_CURVE_PUBLICKEY = option_number("CURVE_PUBLICKEY")
cdef int OPT_CURVE_SECRETKEY = option_number("CURVE_SECRETKEY")


cdef int curve_set_option(options_t *o, int option, long long iv,
                          const unsigned char *p, size_t n) noexcept nogil:
    """CURVE_SERVER 1 makes a CURVE server, 0 goes back to NULL; the server's
    key makes a client (libzmq)."""
    cdef int rc
    if option == OPT_CURVE_SERVER:
        o.as_server = iv != 0
        o.mechanism = MECH_CURVE if iv else MECH_NULL
        return 0
    if option == OPT_CURVE_PUBLICKEY:
        return curve_key_option(o, o.curve_public_key, p, n)
    if option == OPT_CURVE_SECRETKEY:
        return curve_key_option(o, o.curve_secret_key, p, n)
    rc = curve_key_option(o, o.curve_server_key, p, n)
    if rc == 0:
        o.as_server = False
    return rc


cdef int curve_get_option(const options_t *o, int option, long long *iv,
                          const unsigned char **p, size_t *n) noexcept nogil:
    # Only CURVE_SERVER is readable (the keys are write-only in the table).
    iv[0] = o.as_server and o.mechanism == MECH_CURVE
    return 0


cdef mech_row_t CURVE_MECHANISM
CURVE_MECHANISM.name = b"CURVE"
CURVE_MECHANISM.number = MECH_CURVE
CURVE_MECHANISM.priv_size = sizeof(curve_t)
CURVE_MECHANISM.init = curve_mech_init
CURVE_MECHANISM.fini = curve_mech_fini
CURVE_MECHANISM.set_option = curve_set_option
CURVE_MECHANISM.get_option = curve_get_option
if SODIUM.ok:
    mech_register(&CURVE_MECHANISM)
