# The NULL mechanism (RFC 37): no security. Each side sends READY with its
# metadata at once, without waiting for the peer's (as libzmq does), and is
# ready when it has both sent and received READY. An ERROR, or any other
# command, ends the handshake.

cdef int null_next_command(mechanism_t *m, msg_t *out) noexcept nogil:
    cdef unsigned char buf[600]
    cdef size_t n
    if m.ready_sent or m.status == MECH_ERROR:
        return EAGAIN       # nothing (more) to send
    # ready_build writes a whole frame; the mechanism hands back its body.
    n = ready_build(buf, m.o.type, m.o.routing_id, m.o.routing_id_len)
    cdef size_t hdr = 9 if buf[0] & ZMTP_LONG else 2
    if msg_init_size(out, n - hdr) < 0:
        m.status = MECH_ERROR
        return ENOMEM
    memcpy(msg_data(out), buf + hdr, n - hdr)
    out.flags = MSG_COMMAND
    m.ready_sent = True
    null_update_status(m)
    return 0


cdef int null_process_command(mechanism_t *m, msg_t *cmd) noexcept nogil:
    if m.ready_received or not command_is(cmd, b"READY") or \
            mech_accept_metadata(m, msg_data(cmd) + 6, cmd.size - 6) < 0:
        m.status = MECH_ERROR
        return -1
    m.ready_received = True
    null_update_status(m)
    return 0


cdef inline void null_update_status(mechanism_t *m) noexcept nogil:
    if m.ready_sent and m.ready_received:
        m.status = MECH_READY


cdef void null_mech_init(mechanism_t *m) noexcept nogil:
    m.name = b"NULL"
    m.next_handshake_command = null_next_command
    m.process_handshake_command = null_process_command
    m.encode = NULL
    m.decode = NULL
