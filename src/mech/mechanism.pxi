# Security mechanisms, sans I/O (libzmq's mechanism_t). The session runs the
# greeting, then feeds every handshake command to process_handshake_command
# and sends whatever next_handshake_command produces, until status() says
# READY or ERROR. NULL is the only mechanism built so far; PLAIN and CURVE
# plug in here as further rows with the same hooks (CURVE also wraps each
# traffic frame through encode/decode).

cdef enum:
    MECH_HANDSHAKING = 0
    MECH_READY = 1
    MECH_ERROR = 2

cdef struct mechanism_t:
    const char *name                # as sent in the greeting, e.g. "NULL"
    int status
    options_t *o                    # the session's options
    peer_meta_t peer                # the peer's metadata, once received
    bint ready_sent
    bint ready_received
    int error_code              # monitor value of a failed handshake (0: no event, -1: unexpected command)
    # 0 with a command in *out; EAGAIN when there is nothing to send now;
    # another errno (ENOMEM) when the handshake cannot go on
    int (*next_handshake_command)(mechanism_t *, msg_t *out) noexcept nogil
    # 0 when the command was acceptable; -1 (status ERROR) when not
    int (*process_handshake_command)(mechanism_t *, msg_t *cmd) noexcept nogil
    # traffic-phase wrapping; NULL for mechanisms that send frames as they are
    int (*encode)(mechanism_t *, msg_t *) noexcept nogil
    int (*decode)(mechanism_t *, msg_t *) noexcept nogil


cdef int mech_accept_metadata(mechanism_t *m, const unsigned char *props, size_t n) noexcept nogil:
    """Shared by every mechanism: the READY/INITIATE properties must parse
    and name a socket type ours may talk to (a missing Socket-Type is
    accepted, as libzmq does)."""
    if metadata_parse(props, n, &m.peer) < 0:
        m.error_code = PROTO_ERR_INVALID_METADATA
        return -1
    if m.peer.socket_type == -2 or (m.peer.socket_type >= 0 and
                                     not socket_types_compatible(m.o.type, m.peer.socket_type)):
        m.error_code = 0        # libzmq reports no protocol event for this
        return -1
    return 0


cdef void mech_init(mechanism_t *m, options_t *o) noexcept nogil:
    """Picks the mechanism the options ask for (only NULL so far)."""
    memset(m, 0, sizeof(mechanism_t))
    m.o = o
    m.peer.socket_type = -1
    m.error_code = -1
    null_mech_init(m)
