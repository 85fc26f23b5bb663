# The NULL mechanism (RFC 37): no security. Each side sends READY with its
# metadata at once, without waiting for the peer's (as libzmq does), and is
# ready when it has both sent and received READY. An ERROR, or any other
# command, ends the handshake. Frames go out as they are (no encode/decode).
#
# With a ZAP_DOMAIN set, the handler (when one is bound) is asked first
# (mechanism "NULL", no credentials), as libzmq 4.3 does: READY goes out on
# 200, ERROR with the status code otherwise. No handler: on without asking,
# unless ZAP_ENFORCE_DOMAIN, which refuses.

cdef enum:
    NULL_ZAP_NONE = 0
    NULL_ZAP_WAITING = 1
    NULL_ZAP_DONE = 2

cdef struct null_t:
    int zap                     # NULL_ZAP_*
    char status_code[4]


cdef int null_next_command(mechanism_t *m, msg_t *out) noexcept nogil:
    cdef property_t props[2]
    cdef null_t *n = <null_t *>m.priv
    cdef int rc
    if m.ready_sent or m.status == MECH_ERROR:
        return EAGAIN       # nothing (more) to send
    if n.zap == NULL_ZAP_NONE and m.o.zap_domain_len > 0:
        rc = mech_zap_request(m, NULL, NULL, 0)
        if rc == ENOMEM:
            m.status = MECH_ERROR
            return ENOMEM
        if rc == 0:
            n.zap = NULL_ZAP_WAITING
        elif m.o.zap_enforce_domain:
            m.status = MECH_ERROR
            m.error_event = EV_HANDSHAKE_FAILED_NO_DETAIL
            m.error_code = EFAULT
            return EAGAIN
        else:
            n.zap = NULL_ZAP_DONE
            m.zap_status = 200
    if n.zap == NULL_ZAP_WAITING:
        return EAGAIN
    if n.zap == NULL_ZAP_DONE and m.zap_status != 200:
        m.status = MECH_ERROR
        if error_init(out, n.status_code) < 0:
            return ENOMEM
        return 0
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


cdef void null_zap_done(mechanism_t *m) noexcept nogil:
    cdef null_t *n = <null_t *>m.priv
    cdef int code
    if n.zap != NULL_ZAP_WAITING:
        return
    n.zap = NULL_ZAP_DONE
    if m.zap_status == 200:
        return
    code = m.zap_status if m.zap_status == 300 or m.zap_status == 400 else 500
    n.status_code[0] = <char>(48 + code // 100)
    n.status_code[1] = b'0'
    n.status_code[2] = b'0'
    n.status_code[3] = 0
    m.error_event = EV_HANDSHAKE_FAILED_AUTH
    m.error_code = code


cdef int null_mech_init(mechanism_t *m) noexcept nogil:
    m.zap_done = null_zap_done
    m.next_handshake_command = null_next_command
    m.process_handshake_command = null_process_command
    m.encode = NULL
    m.decode = NULL
    return 0


cdef mech_row_t NULL_MECHANISM
NULL_MECHANISM.name = b"NULL"
NULL_MECHANISM.number = MECH_NULL
NULL_MECHANISM.priv_size = sizeof(null_t)
NULL_MECHANISM.init = null_mech_init
NULL_MECHANISM.fini = NULL
mech_register(&NULL_MECHANISM)
