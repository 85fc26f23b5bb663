# The ZAP client (RFC 27, libzmq's zap_client_t). The context keeps one
# handler slot (zap_slot_t): the socket bound at inproc://zeromq.zap.01, set
# and cleared by the context's inproc registry; every socket's options point
# to it (options.zap) and so do its sessions'. A mechanism that wants the
# handler's verdict calls m.zap_request: the engine makes a pipe to the
# handler socket the way an inproc connect does (ATTACH to its mailbox; our
# end owned by the session, on the io thread), writes the request (an empty
# delimiter first, so that a REP handler works), and waits. The handler's
# reply wakes the session (ACTIVATE_READ on s.zap); the engine reads and
# checks it, gives the status to the mechanism (zap_done) and carries the
# handshake on. The pipe is closed after the reply, and when the connection
# ends.

cdef extern from *:
    """
    #include <sys/socket.h>
    #include <netinet/in.h>
    #include <arpa/inet.h>
    /* The peer's IP address as text (no port), as libzmq gives ZAP;
       empty for what is not IP (ipc). */
    static size_t mq_peer_ip(int fd, char *buf, size_t n)
    {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        buf[0] = 0;
        if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
            return 0;
        if (ss.ss_family == AF_INET) {
            if (!inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, n)) buf[0] = 0;
        } else if (ss.ss_family == AF_INET6) {
            if (!inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf, n)) buf[0] = 0;
        }
        return strlen(buf);
    }
    """
    size_t mq_peer_ip(int fd, char *buf, size_t n) nogil

cdef int zap_write_frame(pipe_end_t *e, const void *data, size_t n, bint more) noexcept nogil:
    cdef msg_t m
    if msg_init_bytes(&m, <const unsigned char *>data, n) < 0:
        return -1
    if more:
        m.flags = MSG_MORE
    if pipe_write(e, &m) != 0:
        msg_close(&m)
        return -1
    return 0


cdef int zap_write_request(session_t *s, pipe_end_t *e, const char *mech,
                           const unsigned char **cred, const size_t *cred_len, int ncred) noexcept nogil:
    """libzmq's frames: delimiter, version, request id, domain, address,
    identity, mechanism, credentials. -1 without memory."""
    cdef char addr[64]
    cdef size_t alen = mq_peer_ip(s.h.fd, addr, sizeof(addr))
    cdef int i
    if (pipe_write_identity(e, NULL, 0) != 0
            or zap_write_frame(e, NULL, 0, True) < 0
            or zap_write_frame(e, b"1.0", 3, True) < 0
            or zap_write_frame(e, b"1", 1, True) < 0
            or zap_write_frame(e, s.o.zap_domain, s.o.zap_domain_len, True) < 0
            or zap_write_frame(e, addr, alen, True) < 0
            or zap_write_frame(e, s.o.routing_id, s.o.routing_id_len, True) < 0
            or zap_write_frame(e, mech, strlen(mech), ncred > 0) < 0):
        return -1
    for i in range(ncred):
        if zap_write_frame(e, cred[i], cred_len[i], i + 1 < ncred) < 0:
            return -1
    return 0


cdef int zmtp_zap_request(mechanism_t *m, const char *mech, const unsigned char **cred,
                          const size_t *cred_len, int ncred) noexcept nogil:
    """The mechanism's m.zap_request: 0 sent; ENOENT no handler bound;
    ENOMEM."""
    cdef session_t *s = <session_t *>m.zap_ctx
    cdef zap_slot_t *slot = <zap_slot_t *>s.o.zap
    cdef mailbox_t *mb
    cdef void *sock
    cdef pipe_t *p
    cdef command_t cmd
    if slot == NULL or s.zap != NULL:
        return ENOENT
    pthread_mutex_lock(&slot.lock)
    sock = slot.sock
    mb = slot.mb
    if mb != NULL:
        mailbox_incref(mb)
    pthread_mutex_unlock(&slot.lock)
    if mb == NULL:
        return ENOENT
    p = pipe_new(0, 0)
    if p == NULL:
        mailbox_decref(mb)
        return ENOMEM
    p.ends[0].inproc = True
    p.ends[1].inproc = True
    if ((pipe_set_owner(&p.ends[1], s.h.io.mb, s) | pipe_set_owner(&p.ends[0], mb, sock)) != 0
            or zap_write_request(s, &p.ends[1], mech, cred, cred_len, ncred) < 0):
        pipe_decref(p)
        pipe_decref(p)
        mailbox_decref(mb)
        return ENOMEM
    ypipe_flush(p.ends[1].outq)
    ypipe_check_read(p.ends[1].inq)     # asleep: the reply wakes us
    cmd.type = CMD_ATTACH
    cmd.obj = sock
    cmd.end = &p.ends[0]
    cmd.arg = 0
    mq_int_add(&p.refcnt, 1)            # the command's reference
    if mailbox_send(mb, &cmd) < 0:
        # The handler is closing: as if none were bound.
        pipe_decref(p)
        pipe_decref(p)
        pipe_decref(p)
        mailbox_decref(mb)
        return ENOENT
    mailbox_decref(mb)
    s.zap = &p.ends[1]
    s.zap_command = zap_on_pipe_command
    return 0


cdef inline bint zap_frame_is(msg_t *f, const char *text) noexcept nogil:
    cdef size_t n = strlen(text)
    return f.size == n and (n == 0 or memcmp(msg_data(f), text, n) == 0)


cdef int zap_check_reply(mechanism_t *m, msg_t *f, int nf) noexcept nogil:
    """Delimiter, version, request id, status code, status text, user id,
    metadata. The status into m.zap_status; 0, or a ZAP protocol error
    code (libzmq's)."""
    cdef const unsigned char *c
    cdef peer_meta_t meta
    cdef int rc
    if nf != 7 or f[0].size != 0:
        return PROTO_ERR_ZAP_MALFORMED_REPLY
    if not zap_frame_is(&f[1], b"1.0"):
        return PROTO_ERR_ZAP_BAD_VERSION
    if not zap_frame_is(&f[2], b"1"):
        return PROTO_ERR_ZAP_BAD_REQUEST_ID
    c = msg_data(&f[3])
    if f[3].size != 3 or c[0] < 50 or c[0] > 53 or c[1] != 48 or c[2] != 48:
        return PROTO_ERR_ZAP_INVALID_STATUS_CODE
    memset(&meta, 0, sizeof(meta))
    rc = metadata_parse(msg_data(&f[6]), f[6].size, &meta)
    metadata_free(&meta)
    if rc < 0:
        return PROTO_ERR_ZAP_INVALID_METADATA
    m.zap_status = (c[0] - 48) * 100
    if zap_keep_properties(m, &f[5], &f[6]) < 0:
        return ENOMEM
    return 0


cdef int zap_keep_properties(mechanism_t *m, msg_t *user_id, msg_t *metadata) noexcept nogil:
    """The reply's user id (as the property User-Id, first, so that it
    wins over one in the metadata, as in libzmq) and its metadata, for the
    connection's messages. -1 when memory is short."""
    cdef size_t n = 5 + 7 + user_id.size + metadata.size
    cdef unsigned char *p = <unsigned char *>mq_malloc(n)
    cdef size_t at
    if p == NULL:
        return -1
    at = metadata_put(p, b"User-Id", msg_data(user_id), user_id.size)
    if metadata.size:
        memcpy(p + at, msg_data(metadata), metadata.size)
    free(m.zap_props)
    m.zap_props = p
    m.zap_props_len = n
    return 0


cdef void zap_on_pipe_command(session_t *s, command_t *c) noexcept nogil:
    """A command about the ZAP pipe: the reply came (or the handler went
    away, which refuses the peer as a 500 would)."""
    cdef zmtp_t *z = zmtp(s)
    cdef msg_t f[8]
    cdef msg_t extra
    cdef int nf = 0
    cdef int rc = 0
    cdef int i
    cdef bint gone = False
    cdef bint more = True
    if s.state != S_HANDSHAKE or not z.mech_live:
        session_zap_close(s)
        return
    if c.type == CMD_PIPE_TERM:
        c.end.peer_gone = True
        gone = True
    elif c.type != CMD_ACTIVATE_READ:
        return
    while not gone and more:
        msg_init(&extra)
        rc = pipe_read(s.zap, &extra)
        if rc == 0:
            msg_close(&extra)
            if nf == 0:
                return          # woken early: nothing yet
            break               # a partial reply (cannot be: written whole)
        if rc < 0:
            msg_close(&extra)
            gone = True
            break
        if extra.flags & MSG_IDENTITY:
            msg_close(&extra)
            continue
        more = (extra.flags & MSG_MORE) != 0
        if nf < 8:
            f[nf] = extra
            nf += 1
        else:
            msg_close(&extra)
            nf = 9
    rc = 0
    if not gone:
        rc = zap_check_reply(&z.mech, f, nf)
    for i in range(nf if nf <= 8 else 8):
        msg_close(&f[i])
    session_zap_close(s)
    if gone:
        z.mech.zap_status = 500
    elif rc == ENOMEM:
        set_errno(ENOMEM)
        session_engine_error(s, False)      # made again later
        return
    elif rc != 0:
        # A malformed reply: protocol error, the connection ends (libzmq).
        z.mech.status = MECH_ERROR
        z.mech.error_event = EV_HANDSHAKE_FAILED_PROTOCOL
        z.mech.error_code = rc
        zmtp_handshake_failed(s, z)
        return
    if z.mech.zap_done != NULL:
        z.mech.zap_done(&z.mech)
    zmtp_handshake_advance(s, z)
