# The ZMTP engine of a session: bytes in (greeting, frames, commands, the
# raw bytes of STREAM) and bytes out (batched frames, large bodies sent from
# their own memory). It runs on the session's io thread, on the session's
# buffers; session.pxi decides when connections start and end.
#
# Reading stops while the inbound pipe is at its HWM (backpressure to the
# peer through TCP) and resumes when the socket hands credit back. Writing
# takes messages from the pipe in batches: small frames are copied into one
# buffer, a large body goes out with writev from its own memory, so one
# syscall carries many small messages and large ones are never copied.
# Commands the engine makes itself (PING, PONG) go out only between frames,
# never inside a large body that is half written (session_move_commands).

# ---------------------------------------------------------------- input

cdef int session_deliver(session_t *s) noexcept nogil:
    """Hands the frame in s.dec.msg on. 0: taken; 1: the pipe is full, the
    frame stays pending; -1: the session ended (protocol error)."""
    cdef msg_t *m = &s.dec.msg
    cdef int rc
    if s.state == S_HANDSHAKE:
        # Only commands belong to the handshake; a message here, an ERROR or
        # a command the mechanism did not expect ends the connection.
        rc = s.mech.process_handshake_command(&s.mech, m) if m.flags & MSG_COMMAND else -1
        msg_close(m)
        if rc < 0:
            s.err_code = s.mech.error_code if s.mech.error_code >= 0 else PROTO_ERR_UNEXPECTED_COMMAND
            session_on_disconnect(s, True)
            return -1
        if session_queue_handshake_commands(s) < 0:
            session_on_disconnect(s, False)
            return -1
        if s.mech.status == MECH_READY:
            session_handshake_done(s)
        else:
            session_write(s)
        if s.state == S_DEAD:
            return -1
        return 0
    if m.flags & MSG_COMMAND:
        if session_takes_subscription(s) and command_is(m, b"SUBSCRIBE"):
            rc = command_to_subscription(m, 10, 1)
        elif session_takes_subscription(s) and command_is(m, b"CANCEL"):
            rc = command_to_subscription(m, 7, 0)
        else:
            if command_is(m, b"PING"):
                session_queue_pong(s, m)
                session_note_ping_ttl(s, m)
            msg_close(m)        # other commands are dropped, as libzmq does
            return 0
        if rc < 0:
            session_on_disconnect(s, False)     # errno ENOMEM
            return -1
    if s.pipe == NULL or s.pipe.closed:
        msg_close(m)
        return 0
    if s.skip_in:
        s.skip_in = (m.flags & MSG_MORE) != 0
        msg_close(m)
        return 0
    if not s.pipe.more_out and not pipe_check_write(s.pipe):
        if s.pipe.peer_gone:
            msg_close(m)
            return 0
        return 1
    if pipe_write(s.pipe, m) != 0:
        # Out of memory: the connection ends, and with it the message (its
        # frames already queued are taken back, see session_reset_codec).
        session_on_disconnect(s, False)
        return -1
    return 0


cdef inline bint session_takes_subscription(session_t *s) noexcept nogil:
    # Only publishers read subscriptions; anywhere else the 0x01/0x00 form
    # would be a message the peer slipped into the application's data. And
    # only between messages: one between the frames of a message would
    # become one of its frames.
    return SOCKTYPES[s.o.type].reads_subscriptions and not (s.pipe != NULL and s.pipe.more_out)


cdef void session_note_ping_ttl(session_t *s, msg_t *ping) noexcept nogil:
    # The peer's PING says how long it may stay silent before we give up.
    cdef unsigned int ttl
    if ping.size < 7 or s.t_hb_ttl >= 0:
        return
    ttl = (msg_data(ping)[5] << 8) | msg_data(ping)[6]
    if ttl > 0:
        s.t_hb_ttl = mq_now_ms() + <long long>ttl * 100
        io_note_deadline(s.io, s.t_hb_ttl)


cdef void session_send_ping(session_t *s, long long now) noexcept nogil:
    """Heartbeat: PING with our TTL and no context, every HEARTBEAT_IVL
    whatever the other traffic; a missing answer ends the connection."""
    s.t_ping = now + s.o.heartbeat_ivl
    io_note_deadline(s.io, s.t_ping)
    if s.t_hb_timeout < 0:
        s.t_hb_timeout = now + session_hb_timeout(s)
        io_note_deadline(s.io, s.t_hb_timeout)
    s.ping_pending = True
    session_write(s)


cdef inline int session_hb_timeout(session_t *s) noexcept nogil:
    return s.o.heartbeat_timeout if s.o.heartbeat_timeout >= 0 else s.o.heartbeat_ivl


cdef void session_note_write_progress(session_t *s) noexcept nogil:
    # Our PING waits behind a large body, so the peer cannot have answered
    # it yet; the body moving on shows that the peer still reads. A peer
    # that is gone stops taking the body, and the deadline then runs out.
    cdef long long deadline
    if s.t_hb_timeout >= 0:
        deadline = mq_now_ms() + session_hb_timeout(s)
        if deadline > s.t_hb_timeout:
            s.t_hb_timeout = deadline


cdef void session_put_ping(session_t *s) noexcept nogil:
    cdef unsigned int ttl = s.o.heartbeat_ttl // 100
    cdef unsigned char *p = s.outbuf + s.out_len
    p[0] = ZMTP_COMMAND
    p[1] = 7
    p[2] = 4
    memcpy(p + 3, b"PING", 4)
    p[7] = <unsigned char>(ttl >> 8)
    p[8] = <unsigned char>ttl
    s.out_len += 9
    s.ping_pending = False


cdef bint session_queue_command(session_t *s, const unsigned char *frame, size_t n) noexcept nogil:
    """Holds a whole command frame the engine itself emits (a PONG; our
    PING is a flag) until session_fill reaches a frame boundary: written at
    once it could land inside a large body that is half written. False when
    the queue is full; the command is then dropped (the peer's next PING
    makes up for it)."""
    if s.cmd_len + n > CMD_OUT_MAX:
        return False
    memcpy(s.cmd_out + s.cmd_len, frame, n)
    s.cmd_len += n
    return True


cdef inline void session_move_commands(session_t *s) noexcept nogil:
    # Only between frames: with a large body pending, the out buffer ends
    # with the first bytes of that body (see session_fill). And only when
    # they fit: a peer that stops reading leaves the buffer full, and every
    # heartbeat would otherwise append to it again; they wait (the PONG
    # queue is bounded) until the writes catch up.
    if s.has_big or s.out_len + CMD_OUT_MAX + 9 > OUT_BUF:
        return
    if s.cmd_len:
        memcpy(s.outbuf + s.out_len, s.cmd_out, s.cmd_len)
        s.out_len += s.cmd_len
        s.cmd_len = 0
    if s.ping_pending:
        session_put_ping(s)


cdef int command_to_subscription(msg_t *m, size_t name_len, unsigned char kind) noexcept nogil:
    """SUBSCRIBE/CANCEL (ZMTP 3.1) become the 0x01/0x00 + topic messages
    that publishers take from every peer, whatever its version. -1 (errno
    ENOMEM, *m closed) when there is no memory for the copy."""
    global errno
    cdef msg_t sub
    cdef size_t n = m.size - name_len
    cdef unsigned char *at = subscription_init(&sub, kind, n)
    if at == NULL:
        msg_close(m)
        errno = ENOMEM
        return -1
    if n:
        memcpy(at, msg_data(m) + name_len, n)
    msg_close(m)
    memcpy(m, &sub, sizeof(msg_t))
    return 0


cdef void session_queue_pong(session_t *s, msg_t *ping) noexcept nogil:
    cdef unsigned char pong[32]
    if not s.has_big and s.cmd_len == 0 and s.out_len + 32 <= OUT_BUF:
        # Between frames with nothing held back: straight out, so that a
        # burst of PINGs is answered PING for PING while there is room.
        s.out_len += pong_build(s.outbuf + s.out_len, ping)
    elif not session_queue_command(s, pong, pong_build(pong, ping)):
        return
    handle_want(s.io, &s.h, s.h.events | MQ_POLLOUT)


cdef int session_greet(session_t *s) noexcept nogil:
    """Takes greeting bytes from the in buffer. -1 when the peer is not a
    ZMTP 3 NULL peer (the session is then over)."""
    cdef size_t take = GREETING_SIZE - s.greet_got
    if take > s.in_len - s.in_pos:
        take = s.in_len - s.in_pos
    memcpy(s.greet_in + s.greet_got, s.inbuf + s.in_pos, take)
    s.greet_got += take
    s.in_pos += take
    cdef int rc = greeting_check(s.greet_in, s.greet_got, s.mech.name, &s.peer_minor)
    if rc != 0:
        s.err_code = PROTO_ERR_MECHANISM_MISMATCH if rc == -2 else PROTO_ERR_UNSPECIFIED
        session_on_disconnect(s, True)
        return -1
    return 0


cdef int session_take_raw(session_t *s) noexcept nogil:
    """STREAM: whatever one read() brought is one message."""
    cdef msg_t m
    if s.in_pos == s.in_len or s.pipe == NULL:
        return 0
    if not pipe_check_write(s.pipe):
        return 0 if s.pipe.peer_gone else 1
    if msg_init_bytes(&m, s.inbuf + s.in_pos, s.in_len - s.in_pos) < 0:
        # Not delivered as an empty message: that would read as a hang-up.
        session_on_disconnect(s, False)     # errno ENOMEM
        return -1
    s.in_pos = s.in_len
    if pipe_write(s.pipe, &m) != 0:
        msg_close(&m)
        session_on_disconnect(s, False)     # errno ENOMEM
        return -1
    return 0


cdef int session_decode(session_t *s) noexcept nogil:
    """Decodes what is buffered. 0: all consumed; 1: blocked on HWM; -1: over."""
    cdef size_t used
    cdef int rc
    if s.raw:
        return session_take_raw(s)
    while True:
        if s.frame_pending:
            rc = session_deliver(s)
            if rc != 0:
                return rc
            s.frame_pending = False
        if s.greet_got < GREETING_SIZE:
            if s.in_pos == s.in_len:
                return 0
            if session_greet(s) < 0:
                return -1
            if s.greet_got == GREETING_SIZE:
                # The peer speaks our mechanism: only now start its
                # handshake (as libzmq, nothing of ours goes to a peer that
                # does not).
                if session_queue_handshake_commands(s) < 0:
                    session_on_disconnect(s, False)
                    return -1
                session_write(s)
                if s.state == S_DEAD:
                    return -1
            continue
        if s.in_pos == s.in_len:
            return 0
        rc = decoder_feed(&s.dec, s.inbuf + s.in_pos, s.in_len - s.in_pos, &used)
        s.in_pos += used
        if rc == DEC_ERROR:
            session_on_disconnect(s, True)
            return -1
        if rc == DEC_FRAME:
            s.frame_pending = True


cdef void session_read(session_t *s) noexcept nogil:
    cdef int rounds = 0
    cdef int rc
    cdef ssize_t n
    cdef size_t want
    cdef bint drained = False
    while s.state == S_HANDSHAKE or s.state == S_ACTIVE:
        rc = session_decode(s)
        if rc < 0:
            return
        if rc == 1:
            s.in_blocked = True
            # Stop reading so that TCP pushes back on the peer.
            handle_want(s.io, &s.h, s.h.events & ~MQ_POLLIN)
            break
        # A short read emptied the socket: another read would only say
        # EAGAIN; the poller says when more comes.
        if drained or rounds == READS_PER_EVENT:
            break
        rounds += 1
        want = decoder_body_missing(&s.dec)
        if want >= DIRECT_MIN and s.greet_got == GREETING_SIZE:
            n = mq_read(s.h.fd, msg_data(&s.dec.msg) + s.dec.body_got, want)
            if n > 0:
                s.dec.body_got += n
                if s.dec.body_got == s.dec.msg.size:
                    s.dec.state = DEC_FLAGS
                    s.frame_pending = True
        else:
            want = IN_BATCH
            n = mq_read(s.h.fd, s.inbuf, IN_BATCH)
            if n > 0:
                s.in_pos = 0
                s.in_len = n
        if n > 0:
            drained = <size_t>n < want
            s.t_hb_timeout = -1     # the peer is alive
            s.t_hb_ttl = -1
            continue
        if n == 0 or (errno != EAGAIN and errno != EINTR):
            session_flush_in(s)
            session_on_disconnect(s, False)
            return
        break       # EAGAIN
    if s.state != S_DEAD:
        if not s.in_blocked and s.h.fd >= 0:
            handle_want(s.io, &s.h, s.h.events | MQ_POLLIN)
        session_flush_in(s)


cdef inline void session_flush_in(session_t *s) noexcept nogil:
    if s.pipe != NULL and not s.pipe.closed:
        pipe_flush(s.pipe)


# ---------------------------------------------------------------- output

cdef bint session_fill(session_t *s) noexcept nogil:
    """Moves messages from the pipe into the out buffer until it is full, a
    large body is pending, or the pipe is empty. True if anything is queued."""
    cdef msg_t m
    cdef int rc
    cdef unsigned char flags
    session_move_commands(s)
    if s.state != S_ACTIVE or s.pipe == NULL:
        return s.out_len > s.out_pos or s.has_big
    while not s.has_big and not s.pipe_done and not s.raw_close and s.out_len + 9 + COPY_MAX <= OUT_BATCH:
        msg_init(&m)
        rc = pipe_read(s.pipe, &m)
        if rc == 0:
            s.out_idle = True
            break
        if rc < 0:
            s.pipe_done = True
            break
        if s.skip_out:
            s.skip_out = (m.flags & MSG_MORE) != 0
            msg_close(&m)
            continue
        if s.raw:
            if not session_queue_raw(s, &m):
                break
            continue
        if conflating(&s.o):
            pipe_read_newest(s.pipe, &m)
        if m.flags & MSG_SUBSCRIBE and s.peer_minor >= 1 and m.size > 0:
            session_encode_subscription(s, &m)
            continue
        flags = ZMTP_MORE if m.flags & MSG_MORE else 0
        s.out_len += frame_header(s.outbuf + s.out_len, flags, m.size)
        if m.size <= COPY_MAX:
            if m.size:
                memcpy(s.outbuf + s.out_len, msg_data(&m), m.size)
                s.out_len += m.size
            msg_close(&m)
        else:
            # A large body: its first bytes top the out buffer up to a whole
            # LEAD_IN and go out in a write of their own, the rest from the
            # body's own memory. Sending the small part first, as libzmq does,
            # lets the peer's reader wake and start on the body while it
            # streams: one whole 1 MiB write was 40% slower here.
            memcpy(&s.big, &m, sizeof(msg_t))
            s.has_big = True
            s.big_off = LEAD_IN - s.out_len % LEAD_IN
            memcpy(s.outbuf + s.out_len, msg_data(&s.big), s.big_off)
            s.out_len += s.big_off
    return s.out_len > s.out_pos or s.has_big


cdef bint session_queue_raw(session_t *s, msg_t *m) noexcept nogil:
    """STREAM: bytes go out as they are; an empty message closes the
    connection once what came before it is written."""
    if m.size == 0:
        s.raw_close = True
        msg_close(m)
        return False
    if m.size <= COPY_MAX:
        memcpy(s.outbuf + s.out_len, msg_data(m), m.size)
        s.out_len += m.size
        msg_close(m)
        return True
    memcpy(&s.big, m, sizeof(msg_t))
    s.big_off = 0
    s.has_big = True
    return True


cdef void session_encode_subscription(session_t *s, msg_t *m) noexcept nogil:
    """The socket's own (un)subscriptions go to ZMTP 3.1 peers as SUBSCRIBE
    or CANCEL commands (older peers get the 0x01/0x00 data form)."""
    cdef const char *name = b"SUBSCRIBE" if msg_data(m)[0] == 1 else b"CANCEL"
    cdef size_t nlen = strlen(name)
    cdef size_t body = 1 + nlen + m.size - 1
    s.out_len += frame_header(s.outbuf + s.out_len, ZMTP_COMMAND, body)
    s.outbuf[s.out_len] = <unsigned char>nlen
    memcpy(s.outbuf + s.out_len + 1, name, nlen)
    if body > COPY_MAX:
        # A long topic follows from the message's own memory, as a large
        # body does (past its leading 0x01/0x00).
        s.out_len += 1 + nlen
        memcpy(&s.big, m, sizeof(msg_t))
        s.big_off = 1
        s.has_big = True
        return
    memcpy(s.outbuf + s.out_len + 1 + nlen, msg_data(m) + 1, m.size - 1)
    s.out_len += body
    msg_close(m)


cdef void session_write(session_t *s) noexcept nogil:
    """Writes what is buffered, then the pending large body, in that order
    and in separate writes (see session_fill), until the socket is full."""
    cdef iovec iov
    cdef ssize_t n
    cdef size_t head
    while True:
        if not session_fill(s):
            break
        head = s.out_len - s.out_pos
        if head:
            iov.iov_base = s.outbuf + s.out_pos
            iov.iov_len = head
        else:
            iov.iov_base = msg_data(&s.big) + s.big_off
            iov.iov_len = s.big.size - s.big_off
        n = mq_writev(s.h.fd, &iov, 1)
        if n < 0:
            if errno == EAGAIN:
                handle_want(s.io, &s.h, s.h.events | MQ_POLLOUT)
                return
            session_on_disconnect(s, False)
            return
        if s.ping_pending:
            session_note_write_progress(s)
        if head:
            s.out_pos += n
            if s.out_pos == s.out_len:
                s.out_pos = 0
                s.out_len = 0
        else:
            s.big_off += n
            if s.big_off == s.big.size:
                msg_close(&s.big)
                s.has_big = False
        if <size_t>n < iov.iov_len:
            # The socket is full: wait until it can take more.
            handle_want(s.io, &s.h, s.h.events | MQ_POLLOUT)
            return
    # Everything queued went out.
    if s.h.fd >= 0:
        handle_want(s.io, &s.h, s.h.events & ~MQ_POLLOUT)
    if (s.pipe_done or s.raw_close) and s.state == S_ACTIVE:
        session_destroy(s)


cdef inline void session_pump_out(session_t *s) noexcept nogil:
    if s.state == S_ACTIVE or s.state == S_HANDSHAKE:
        session_write(s)


