# The NULL mechanism (RFC 37): no security. Each side sends READY with its
# metadata at once, without waiting for the peer's (as libzmq does), and is
# ready when it has both sent and received READY. An ERROR, or any other
# command, ends the handshake. Frames go out as they are (no encode/decode).

cdef int null_next_command(mechanism_t *m, msg_t *out) noexcept nogil:
    cdef property_t props[2]
    if m.ready_sent or m.status == MECH_ERROR:
        return EAGAIN       # nothing (more) to send
    if ready_init(out, props, mech_basic_properties(m, props)) < 0:
        m.status = MECH_ERROR
        return ENOMEM
    m.ready_sent = True
    null_update_status(m)
    return 0


cdef int null_process_command(mechanism_t *m, msg_t *cmd) noexcept nogil:
    cdef int rc
    if m.ready_received or not command_is(cmd, b"READY"):
        m.status = MECH_ERROR
        return -1
    rc = mech_accept_metadata(m, msg_data(cmd) + 6, cmd.size - 6)
    if rc != 0:
        m.status = MECH_ERROR
        return rc
    m.ready_received = True
    null_update_status(m)
    return 0


cdef inline void null_update_status(mechanism_t *m) noexcept nogil:
    if m.ready_sent and m.ready_received:
        m.status = MECH_READY


cdef int null_mech_init(mechanism_t *m) noexcept nogil:
    m.next_handshake_command = null_next_command
    m.process_handshake_command = null_process_command
    m.encode = NULL
    m.decode = NULL
    return 0


cdef mech_row_t NULL_MECHANISM
NULL_MECHANISM.name = b"NULL"
NULL_MECHANISM.number = MECH_NULL
NULL_MECHANISM.priv_size = 0
NULL_MECHANISM.init = null_mech_init
NULL_MECHANISM.fini = NULL
mech_register(&NULL_MECHANISM)
