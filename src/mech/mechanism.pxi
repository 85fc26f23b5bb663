# Security mechanisms, sans I/O (libzmq's mechanism_t). The ZMTP engine runs
# the greeting, then feeds every handshake command to
# process_handshake_command and sends whatever next_handshake_command
# produces, until status says READY or ERROR. In the traffic phase every
# message goes through encode before it is framed and every frame through
# decode after it is read; a mechanism that sends frames as they are (NULL)
# leaves both NULL and costs the engine one predictable branch.
#
# Mechanisms are rows of a table (MECHS, mech_register): name (as the
# greeting carries it), ZMQ_MECHANISM number, the size of the private state
# the row needs per connection (zeroed, in m.priv), init (sets the hooks,
# per connection) and fini (frees what init or the handshake took; the
# private block itself is freed here). Adding one (PLAIN, CURVE) is one file
# that fills a row and registers it.
#
# The role: options.as_server, sent in the greeting's as-server byte; the
# peer's byte is in m.peer_as_server once the greeting is in. Whatever the
# peer's READY (or INITIATE) carries is kept whole in m.peer (codec's
# metadata_keep), readable with metadata_lookup (User-Id, X-*...).

cdef enum:
    MECH_HANDSHAKING = 0
    MECH_READY = 1
    MECH_ERROR = 2
    MECH_NULL = 0               # ZMQ_MECHANISM numbers
    MECH_PLAIN = 1
    MECH_CURVE = 2
    NMECHS_MAX = 8

cdef struct mechanism_t
cdef struct mech_row_t:
    const char *name            # as sent in the greeting, e.g. "NULL"
    int number                  # ZMQ_MECHANISM (options.mechanism picks the row)
    size_t priv_size            # private state per connection, in m.priv
    # sets the hooks; 0, or an errno (ENOMEM) when the connection cannot go on
    int (*init)(mechanism_t *m) noexcept nogil
    # frees what init and the handshake took (not m.priv itself); may be NULL
    void (*fini)(mechanism_t *m) noexcept nogil
    # The socket options the row owns (mqcore/_options.py names the owner):
    # sets one from iv (int options) or p[n] (binary ones, length already in
    # the table's range), choosing the mechanism and role as libzmq does;
    # 0 or an errno (EINVAL). get_option reads one back (binary ones as a
    # view of o's bytes). May be NULL when the row owns none.
    int (*set_option)(options_t *o, int option, long long iv,
                      const unsigned char *p, size_t n) noexcept nogil
    int (*get_option)(const options_t *o, int option, long long *iv,
                      const unsigned char **p, size_t *n) noexcept nogil

cdef struct mechanism_t:
    const mech_row_t *row
    const char *name                # row.name
    void *priv                      # row.priv_size zeroed bytes, or NULL
    int status
    options_t *o                    # the session's options
    bint as_server                  # our role (options.as_server)
    bint peer_as_server             # the peer's greeting said it is the server
    peer_meta_t peer                # the peer's metadata, once received (all of it)
    bint ready_sent
    bint ready_received
    int error_code              # monitor value of a failed handshake (0: no event, -1: unexpected command)
    int error_event             # its monitor event; 0: HANDSHAKE_FAILED_PROTOCOL
    # ZAP (RFC 27), filled by the engine: zap_request sends a request with
    # the mechanism's credentials (0 sent; ENOMEM; another errno: no
    # handler bound); when the reply is in, zap_status holds its status
    # code and the engine calls the mechanism's zap_done.
    int (*zap_request)(mechanism_t *, const char *mech, const unsigned char **cred,
                       const size_t *cred_len, int ncred) noexcept nogil
    void *zap_ctx               # the engine's, for zap_request
    int zap_status
    unsigned char *zap_props    # User-Id and the reply's metadata, as a property list (or NULL)
    size_t zap_props_len
    void (*zap_done)(mechanism_t *) noexcept nogil
    # 0 with a command in *out; EAGAIN when there is nothing to send now;
    # another errno (ENOMEM) when the handshake cannot go on
    int (*next_handshake_command)(mechanism_t *, msg_t *out) noexcept nogil
    # 0 when the command was acceptable; -1 (status ERROR) when not (the
    # peer's fault: no reconnect); a positive errno (ENOMEM) when we cannot
    # go on (the connection ends and is made again)
    int (*process_handshake_command)(mechanism_t *, msg_t *cmd) noexcept nogil
    # traffic phase, in place; NULL for mechanisms that send frames as they
    # are. 0, or -1 (errno: EPROTO a frame that does not decode, ENOMEM) to
    # end the connection.
    int (*encode)(mechanism_t *, msg_t *) noexcept nogil
    int (*decode)(mechanism_t *, msg_t *) noexcept nogil

cdef const mech_row_t *MECHS[NMECHS_MAX]
cdef int NMECHS = 0


cdef int mech_register(const mech_row_t *row) noexcept:
    """Adds a row (or replaces the row with the same number). -1 when full."""
    global NMECHS
    cdef int i
    for i in range(NMECHS):
        if MECHS[i].number == row.number:
            MECHS[i] = row
            return 0
    if NMECHS == NMECHS_MAX:
        return -1
    MECHS[NMECHS] = row
    NMECHS += 1
    return 0


cdef const mech_row_t *mech_row(int number) noexcept nogil:
    """The row for a ZMQ_MECHANISM number; NULL when none is built."""
    cdef int i
    for i in range(NMECHS):
        if MECHS[i].number == number:
            return MECHS[i]
    return NULL


cdef const mech_row_t *mech_row_named(const char *name) noexcept nogil:
    """The row called name (as the greeting says it); NULL when none is built."""
    cdef int i
    for i in range(NMECHS):
        if strcmp(MECHS[i].name, name) == 0:
            return MECHS[i]
    return NULL


cdef int mech_accept_metadata(mechanism_t *m, const unsigned char *props, size_t n) noexcept nogil:
    """Shared by every mechanism: the READY/INITIATE properties must parse
    and name a socket type ours may talk to (a missing Socket-Type is
    accepted, as libzmq does); all of them are kept for metadata_lookup.
    0; -1 refused; ENOMEM."""
    if metadata_parse(props, n, &m.peer) < 0:
        m.error_code = PROTO_ERR_INVALID_METADATA
        return -1
    if m.peer.socket_type == -2 or (m.peer.socket_type >= 0 and
                                     not socket_types_compatible(m.o.type, m.peer.socket_type)):
        m.error_code = 0        # libzmq reports no protocol event for this
        return -1
    if metadata_keep(&m.peer, props, n) < 0:
        return ENOMEM
    return 0


cdef int mech_zap_request(mechanism_t *m, const unsigned char **cred, const size_t *cred_len,
                          int ncred) noexcept nogil:
    """Asks the ZAP handler about the peer's credentials. 0: asked (the
    reply comes through zap_done); ENOMEM; ENOENT: no handler."""
    if m.zap_request == NULL:
        return ENOENT
    return m.zap_request(m, m.name, cred, cred_len, ncred)


cdef int mech_peer_error(mechanism_t *m, msg_t *cmd) noexcept nogil:
    """The peer sent ERROR: the handshake is over. A three-digit reason is
    a ZAP status code, reported as HANDSHAKE_FAILED_AUTH with it (libzmq);
    a malformed ERROR is a protocol error. -1."""
    cdef const unsigned char *r
    cdef size_t n
    m.status = MECH_ERROR
    if error_reason(cmd, &r, &n) < 0:
        m.error_code = PROTO_ERR_MALFORMED_ERROR
        return -1
    if n == 3 and r[0] >= 51 and r[0] <= 53 and r[1] == 48 and r[2] == 48:
        m.error_event = EV_HANDSHAKE_FAILED_AUTH
        m.error_code = (r[0] - 48) * 100
    else:
        m.error_code = 0
    return -1


cdef int mech_basic_properties(mechanism_t *m, property_t *props) noexcept nogil:
    """Our Socket-Type, and the Identity of the types that send it (as
    libzmq does), into props[0..1]; returns how many."""
    cdef const char *tname = SOCKTYPES[m.o.type].name
    props[0].name = b"Socket-Type"
    props[0].value = <const unsigned char *>tname
    props[0].len = strlen(tname)
    if not SOCKTYPES[m.o.type].sends_identity:
        return 1
    props[1].name = b"Identity"
    props[1].value = m.o.routing_id
    props[1].len = m.o.routing_id_len
    return 2


cdef int mech_init(mechanism_t *m, options_t *o) noexcept nogil:
    """Sets m up for one connection with the mechanism the options name.
    0, or an errno: ENOMEM, EINVAL (no such mechanism built)."""
    cdef const mech_row_t *row = mech_row(o.mechanism)
    cdef int rc
    memset(m, 0, sizeof(mechanism_t))
    m.o = o
    m.as_server = o.as_server
    m.peer.socket_type = -1
    m.error_code = -1
    if row == NULL:
        return EINVAL
    m.row = row
    m.name = row.name
    if row.priv_size:
        m.priv = mq_calloc(1, row.priv_size)
        if m.priv == NULL:
            return ENOMEM
    rc = row.init(m)
    if rc != 0:
        mech_fini(m)
    return rc


cdef void mech_fini(mechanism_t *m) noexcept nogil:
    """Frees what the connection's mechanism holds (idempotent)."""
    if m.row != NULL and m.row.fini != NULL:
        m.row.fini(m)
    free(m.priv)
    m.priv = NULL
    free(m.zap_props)
    m.zap_props = NULL
    metadata_free(&m.peer)
