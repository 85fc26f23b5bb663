# The engine interface: what speaks on a connection, below a session.
#
# A session (session.pxi) owns the pipe to its socket, the fd, reconnects,
# linger and the socket's side (ATTACH, events). An engine owns the bytes:
# the ZMTP engine (zmtp_engine.pxi: greeting, mechanism handshake, frames,
# heartbeats) or the raw engine of STREAM sockets (raw_engine.pxi). The
# session calls its engine only through the ops below; the engine calls down
# into the session (session_engine_ready, session_engine_error, the pipe
# helpers), as libzmq's i_engine / session_base_t pair does.
#
# Engines are rows of a table, registered by their files: a session's row is
# the one for its transport's engine kind (transport_t.engine_kind) and
# whether its socket type is raw (SOCKTYPES[t].raw). A datagram engine for
# udp is one more file and row (and ENGINE_DGRAM on the udp transport row).
#
# All ops run on the session's io thread.

cdef struct session_t

cdef struct engine_ops_t:
    const char *name
    int kind                    # the transports' engine_kind it serves (ENGINE_*)
    bint raw                    # serves socket types whose row says raw
    size_t state_size           # per-session state in s.eng, zeroed before init
    # Once per session, from session_new (any thread): buffers. -1: ENOMEM.
    int (*init)(session_t *s) noexcept nogil
    # Once, when the session is freed: what init took (and what a connection
    # left, if unplug did not run).
    void (*fini)(session_t *s) noexcept nogil
    # A connection is up on s.h.fd (tuned, state S_HANDSHAKE): start talking.
    # The engine calls session_engine_ready when the session may pass
    # messages, session_engine_error when the connection must end.
    void (*plug)(session_t *s) noexcept nogil
    # The connection is over: forget per-connection state, cancel timers.
    # Idempotent; also called on a session that was never plugged.
    void (*unplug)(session_t *s) noexcept nogil
    # The fd is ready (MQ_POLLIN/POLLOUT/POLLERR) while plugged.
    void (*on_event)(session_t *s, int events) noexcept nogil
    # The pipe has messages to send (again), or the session wants what is
    # queued written now (term, a flush).
    void (*restart_output)(session_t *s) noexcept nogil
    # The pipe has room again after the engine stopped reading on HWM.
    void (*restart_input)(session_t *s) noexcept nogil
    # Bytes are buffered that were not written yet.
    bint (*has_output)(session_t *s) noexcept nogil
    # Optional (fast_read.pxi): everything read was decoded and handed on,
    # at a frame boundary; and the function a socket's thread then runs to
    # read and decode the next frames itself.
    bint (*input_idle)(session_t *s) noexcept nogil
    int (*take_input)(fastr_t *fr) noexcept nogil

cdef enum:
    NENGINES_MAX = 8

cdef const engine_ops_t *ENGINES[NENGINES_MAX]
cdef int NENGINES = 0


cdef void engine_register(const engine_ops_t *ops) noexcept:
    global NENGINES
    ENGINES[NENGINES] = ops
    NENGINES += 1


cdef const engine_ops_t *engine_ops_for(int kind, int socket_type) noexcept nogil:
    """The engine for a connection of this transport kind and socket type;
    NULL when none speaks it."""
    cdef int i
    cdef bint raw = SOCKTYPES[socket_type].raw
    for i in range(NENGINES):
        if ENGINES[i].kind == kind and ENGINES[i].raw == raw:
            return ENGINES[i]
    return NULL


cdef enum:
    PEER_ADDRESS_MAX = 1100     # NI_MAXHOST and a local peer's ":uid:gid:pid"


cdef int connection_metadata(int fd, const unsigned char *zap, size_t zap_len,
                             const unsigned char *peer, size_t peer_len,
                             chunk_t **out) noexcept nogil:
    """The properties every message of the connection on fd carries
    (Frame.get): Peer-Address, then what the ZAP handler said (User-Id and
    its metadata), then what the peer sent in its handshake, as one ZMTP
    property list; a name found twice means its first value, as libzmq's
    map keeps the first. *out is NULL when there is none. 0, or ENOMEM."""
    cdef char addr[PEER_ADDRESS_MAX]
    cdef int alen = mq_peer_address(fd, addr, PEER_ADDRESS_MAX) if fd >= 0 else 0
    cdef size_t n = zap_len + peer_len
    cdef size_t at = 0
    cdef chunk_t *c
    out[0] = NULL
    if alen > 0:
        n += 5 + 12 + alen
    if n == 0:
        return 0
    c = chunk_new(n)
    if c == NULL:
        return ENOMEM
    if alen > 0:
        at = metadata_put(c.data, b"Peer-Address", <const unsigned char *>addr, alen)
    if zap_len:
        memcpy(c.data + at, zap, zap_len)
        at += zap_len
    if peer_len:
        memcpy(c.data + at, peer, peer_len)
    out[0] = c
    return 0
