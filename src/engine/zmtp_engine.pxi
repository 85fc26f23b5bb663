# The ZMTP engine (libzmq's zmtp_engine_t): greeting, the mechanism's
# handshake, then frames between the fd and the session's pipe, heartbeats
# (PING/PONG) and subscription commands. Its state (zmtp_t) lives with the
# session and is reset for each connection (unplug).
#
# Reading stops while the inbound pipe is at its HWM (backpressure to the
# peer through TCP) and resumes when the socket hands credit back. Writing
# takes messages from the pipe in batches (stream_out.pxi). Commands the
# engine makes itself (PING, PONG) go out only between frames, never inside
# a large body that is half written (zmtp_move_commands).
#
# A mechanism that wraps traffic (encode/decode set) sees every message
# before it is framed and every frame after it is decoded, the engine's own
# commands included; with NULL both are skipped by one predictable branch
# per message and per frame.
#
# Heartbeats use one timer armed for the earliest of three deadlines (next
# PING, no answer to our PING, the peer's TTL). Reads clear the last two and
# writes push the second back only in fields: the timer re-checks them when
# it fires instead of moving in the heap on every read or write.

cdef enum:
    CMD_OUT_MAX = 256        # engine commands waiting for a frame boundary (CURVE: 33 bytes more each)

cdef struct zmtp_t:
    stream_out_t out
    unsigned char *inbuf
    size_t in_pos
    size_t in_len
    unsigned char greet_in[64]
    int greet_got
    int peer_minor
    mechanism_t mech
    bint mech_live              # mech_init ran for this connection
    decoder_t dec
    bint frame_pending          # dec.msg is a frame waiting for pipe room
    bint frame_decoded          # ... already through the mechanism's decode
    bint in_failed              # the socket's thread decoding for us found the stream bad (fast_read.pxi)
    unsigned char cmd_out[CMD_OUT_MAX]  # PONG frames held until no body is half written
    size_t cmd_len
    bint ping_pending           # our heartbeat PING, likewise held
    bint pong_due               # a PONG was queued by this read: written when it ends
    timer_t hb                  # armed for the earliest of the three below (or later: re-checked)
    long long t_ping            # next heartbeat PING, -1 none
    long long t_hb_timeout      # no traffic since our PING: give up at, -1 none
    long long t_hb_ttl          # the peer's PING TTL runs out at, -1 none


cdef inline zmtp_t *zmtp(session_t *s) noexcept nogil:
    return <zmtp_t *>s.eng


# ---------------------------------------------------------------- engine ops

cdef int zmtp_init(session_t *s) noexcept nogil:
    cdef zmtp_t *z = zmtp(s)
    timer_init(&z.hb, s, zmtp_on_heartbeat)
    decoder_init(&z.dec, s.o.maxmsgsize)
    z.t_ping = -1
    z.t_hb_timeout = -1
    z.t_hb_ttl = -1
    z.inbuf = <unsigned char *>mq_malloc(IN_BATCH)
    if stream_out_init(&z.out) < 0 or z.inbuf == NULL:
        return -1
    return 0


cdef void zmtp_fini(session_t *s) noexcept nogil:
    cdef zmtp_t *z = zmtp(s)
    msg_close(&z.dec.msg)
    stream_out_fini(&z.out)
    free(z.inbuf)
    z.inbuf = NULL
    if z.mech_live:
        mech_fini(&z.mech)
        z.mech_live = False


cdef void zmtp_unplug(session_t *s) noexcept nogil:
    cdef zmtp_t *z = zmtp(s)
    session_fast_off(s)
    if s.h.io != NULL:
        timer_cancel(&s.h.io.timers, &z.hb)
    z.greet_got = 0
    z.t_ping = -1
    z.t_hb_timeout = -1
    z.t_hb_ttl = -1
    z.in_pos = 0
    z.in_len = 0
    z.frame_pending = False
    z.frame_decoded = False
    z.in_failed = False
    msg_close(&z.dec.msg)
    decoder_init(&z.dec, s.o.maxmsgsize)
    stream_out_reset(&z.out)
    z.cmd_len = 0
    z.ping_pending = False
    session_zap_close(s)
    if z.mech_live:
        mech_fini(&z.mech)
        z.mech_live = False


cdef void zmtp_plug(session_t *s) noexcept nogil:
    cdef zmtp_t *z = zmtp(s)
    cdef int rc = mech_init(&z.mech, &s.o)
    if rc != 0:
        set_errno(rc)
        session_engine_error(s, rc != ENOMEM)   # no such mechanism: do not retry
        return
    z.mech_live = True
    z.dec.spare_ok = z.mech.decode == NULL     # NULL and PLAIN: bodies arrive as they are
    if s.o.zap != NULL:
        z.mech.zap_request = zmtp_zap_request
        z.mech.zap_ctx = s
    greeting_build(z.out.buf, z.mech.name, z.mech.as_server, s.o.routing_id_len)
    z.out.len = GREETING_SIZE
    z.out.pos = 0
    zmtp_write(s)


cdef void zmtp_on_event(session_t *s, int events) noexcept nogil:
    if events & MQ_POLLOUT:
        zmtp_write(s)
        if s.state == S_DEAD:
            return
    if (events & MQ_POLLERR) and s.in_blocked:
        # A hung-up fd keeps reporting even with no interest; park it until
        # the socket makes room, then the read sees the hang-up.
        handle_forget(s.h.io, &s.h)
        return
    if events & (MQ_POLLIN | MQ_POLLERR):
        zmtp_read(s)


cdef void zmtp_restart_output(session_t *s) noexcept nogil:
    zmtp_write(s)


cdef void zmtp_restart_input(session_t *s) noexcept nogil:
    zmtp_read(s)


cdef bint zmtp_has_output(session_t *s) noexcept nogil:
    session_fast_off(s)     # the socket's thread may be filling the buffer
    return stream_out_pending(&zmtp(s).out)


# ---------------------------------------------------------------- handshake

cdef int zmtp_queue_handshake_commands(session_t *s, zmtp_t *z) noexcept nogil:
    """Encodes whatever the mechanism wants to send now. Straight into the
    out buffer: no message body is ever pending during a handshake (only
    zmtp_fill takes messages, once it is over), so this is a frame
    boundary. -1 when the mechanism failed or its command does not fit."""
    cdef msg_t m
    cdef int rc
    msg_init(&m)
    while True:
        rc = z.mech.next_handshake_command(&z.mech, &m)
        if rc == EAGAIN:
            return 0
        if rc != 0:
            set_errno(rc)
            return -1
        if z.out.len + 9 + m.size > OUT_BUF:
            msg_close(&m)
            set_errno(EPROTO)
            return -1
        z.out.len += frame_header(z.out.buf + z.out.len, ZMTP_COMMAND, m.size)
        memcpy(z.out.buf + z.out.len, msg_data(&m), m.size)
        z.out.len += m.size
        msg_close(&m)


cdef void zmtp_handshake_done(session_t *s, zmtp_t *z) noexcept nogil:
    cdef chunk_t *meta
    if connection_metadata(s.h.fd, z.mech.zap_props, z.mech.zap_props_len,
                           z.mech.peer.props, z.mech.peer.props_len, &meta) != 0:
        set_errno(ENOMEM)
        session_engine_error(s, False)      # made again later
        return
    evsink_emit(s.ev, EV_HANDSHAKE_SUCCEEDED, 0, s.ep.name)
    if s.o.heartbeat_ivl > 0:
        z.t_ping = mq_now_ms() + s.o.heartbeat_ivl
        timer_arm_earlier(&s.h.io.timers, &z.hb, z.t_ping)
    session_engine_ready(s, z.mech.peer.identity, z.mech.peer.identity_len, meta)


cdef int zmtp_handshake_step(session_t *s, zmtp_t *z, msg_t *m) noexcept nogil:
    """A frame during the handshake. Only commands belong to it; a message
    here, an ERROR or a command the mechanism did not expect ends the
    connection. 0 on, -1 the session ended or left the handshake."""
    cdef int rc = z.mech.process_handshake_command(&z.mech, m) if m.flags & MSG_COMMAND else -1
    msg_close(m)
    if rc > 0:
        set_errno(rc)                       # out of memory: not the peer's fault
        session_engine_error(s, False)
        return -1
    if rc < 0:
        zmtp_handshake_failed(s, z)
        return -1
    return zmtp_handshake_advance(s, z)


cdef int zmtp_handshake_advance(session_t *s, zmtp_t *z) noexcept nogil:
    """Sends what the mechanism has to say now; done when it is ready, over
    when it failed (after its ERROR went out). 0 on, -1 over."""
    if zmtp_queue_handshake_commands(s, z) < 0:
        session_engine_error(s, False)
        return -1
    if z.mech.status == MECH_READY:
        zmtp_handshake_done(s, z)
    else:
        zmtp_write(s)
        if s.state != S_DEAD and z.mech.status == MECH_ERROR:
            zmtp_handshake_failed(s, z)
    return -1 if s.state == S_DEAD else 0


cdef void zmtp_handshake_failed(session_t *s, zmtp_t *z) noexcept nogil:
    """The mechanism refused: its monitor event, and the connection ends
    (the peer's fault: no reconnect)."""
    if z.mech.error_event != 0:
        evsink_emit(s.ev, z.mech.error_event, z.mech.error_code, s.ep.name)
        s.err_code = 0
    else:
        s.err_code = z.mech.error_code if z.mech.error_code >= 0 else PROTO_ERR_UNEXPECTED_COMMAND
    session_engine_error(s, True)


cdef int zmtp_greet(session_t *s, zmtp_t *z) noexcept nogil:
    """Takes greeting bytes from the in buffer. -1 when the peer does not
    speak ZMTP 3 with our mechanism (the session is then over)."""
    cdef size_t take = GREETING_SIZE - z.greet_got
    if take > z.in_len - z.in_pos:
        take = z.in_len - z.in_pos
    memcpy(z.greet_in + z.greet_got, z.inbuf + z.in_pos, take)
    z.greet_got += take
    z.in_pos += take
    cdef int rc = greeting_check(z.greet_in, z.greet_got, z.mech.name, &z.peer_minor)
    if rc != 0:
        s.err_code = PROTO_ERR_MECHANISM_MISMATCH if rc == -2 else PROTO_ERR_UNSPECIFIED
        session_engine_error(s, True)
        return -1
    if z.greet_got == GREETING_SIZE:
        z.mech.peer_as_server = greeting_as_server(z.greet_in)
    return 0


# ---------------------------------------------------------------- input

cdef int zmtp_deliver(session_t *s, zmtp_t *z) noexcept nogil:
    """Hands the frame in z.dec.msg on. 0: taken; 1: the pipe is full, the
    frame stays pending; -1: the session ended."""
    cdef msg_t *m = &z.dec.msg
    cdef int rc
    if s.state == S_HANDSHAKE:
        return zmtp_handshake_step(s, z, m)
    if z.mech.decode != NULL and not z.frame_decoded:
        # Once: a frame the full pipe sends back here is already decoded.
        if z.mech.decode(&z.mech, m) < 0:
            rc = errno
            msg_close(m)
            if rc == ENOMEM:
                session_engine_error(s, False)
                return -1
            # The peer's fault (a bad box, a replayed nonce...): libzmq's
            # monitor event for it even after the handshake, then the
            # connection ends with no reconnect.
            if z.mech.error_code != 0:
                evsink_emit(s.ev, EV_HANDSHAKE_FAILED_PROTOCOL, z.mech.error_code, s.ep.name)
            set_errno(EPROTO)
            session_engine_error(s, True)
            return -1
        z.frame_decoded = True
    if m.flags & MSG_COMMAND:
        if s.groups == GROUPS_OUT:
            rc = join_from_command(m)       # RADIO: JOIN/LEAVE
        else:
            rc = subscription_from_command(m) if zmtp_takes_subscription(s) else 0
        if rc < 0:
            session_engine_error(s, errno == EPROTO)    # errno ENOMEM, or a group too long
            return -1
        if rc == 0:
            if command_is(m, b"PING"):
                zmtp_queue_pong(s, z, m)
                zmtp_note_ping_ttl(s, z, m)
            msg_close(m)        # other commands are dropped, as libzmq does
            return 0
    return session_push_msg(s, m)


cdef inline bint zmtp_takes_subscription(session_t *s) noexcept nogil:
    # Only publishers read subscriptions; anywhere else the 0x01/0x00 form
    # would be a message the peer slipped into the application's data. And
    # only between messages: one between the frames of a message would
    # become one of its frames.
    return SOCKTYPES[s.o.type].reads_subscriptions and not (s.pipe != NULL and s.pipe.more_out)


cdef int zmtp_decode(session_t *s, zmtp_t *z) noexcept nogil:
    """Decodes what is buffered. 0: all consumed; 1: blocked on HWM; -1: over."""
    cdef size_t used
    cdef int rc
    if z.in_failed:
        session_engine_error(s, True)
        return -1
    while True:
        if z.frame_pending:
            rc = zmtp_deliver(s, z)
            if rc != 0:
                return rc
            z.frame_pending = False
            z.frame_decoded = False
        if z.greet_got < GREETING_SIZE:
            if z.in_pos == z.in_len:
                return 0
            if zmtp_greet(s, z) < 0:
                return -1
            if z.greet_got == GREETING_SIZE:
                # The peer speaks our mechanism: only now start its
                # handshake (as libzmq, nothing of ours goes to a peer that
                # does not).
                if zmtp_handshake_advance(s, z) < 0:
                    return -1
            continue
        if z.in_pos == z.in_len:
            return 0
        rc = decoder_feed(&z.dec, z.inbuf + z.in_pos, z.in_len - z.in_pos, &used)
        z.in_pos += used
        if rc == DEC_ERROR:
            session_engine_error(s, True)
            return -1
        if rc == DEC_FRAME:
            z.frame_pending = True


cdef inline void zmtp_peer_alive(zmtp_t *z) noexcept nogil:
    """Bytes came: no heartbeat deadline stands (the timer re-checks the
    fields when it fires)."""
    z.t_hb_timeout = -1
    z.t_hb_ttl = -1


cdef void zmtp_read(session_t *s) noexcept nogil:
    cdef zmtp_t *z = zmtp(s)
    cdef int rounds = 0
    cdef int rc
    cdef ssize_t n
    cdef size_t want
    cdef bint drained = False
    while s.state == S_HANDSHAKE or s.state == S_ACTIVE:
        rc = zmtp_decode(s, z)
        if rc < 0:
            return
        if rc == 1:
            session_block_input(s)
            break
        # A short read emptied the socket: another read would only say
        # EAGAIN; the poller says when more comes.
        if drained or rounds == READS_PER_EVENT:
            break
        rounds += 1
        want = decoder_body_missing(&z.dec)
        if want >= DIRECT_MIN and z.greet_got == GREETING_SIZE:
            n = mq_read(s.h.fd, msg_data(&z.dec.msg) + z.dec.body_got, want)
            if n > 0:
                z.dec.body_got += n
                if z.dec.body_got == z.dec.msg.size:
                    z.dec.state = DEC_FLAGS
                    z.frame_pending = True
        else:
            want = IN_BATCH
            n = mq_read(s.h.fd, z.inbuf, IN_BATCH)
            if n > 0:
                z.in_pos = 0
                z.in_len = n
        if n > 0:
            drained = <size_t>n < want
            zmtp_peer_alive(z)
            continue
        if n == 0 or (errno != EAGAIN and errno != EINTR):
            session_flush_in(s)
            session_engine_error(s, False)
            return
        break       # EAGAIN
    if s.state != S_DEAD:
        if not s.in_blocked and s.h.fd >= 0:
            handle_want(s.h.io, &s.h, s.h.events | MQ_POLLIN)
        session_flush_in(s)
    if z.pong_due:
        zmtp_write_pongs(s, z)


cdef inline void zmtp_write_pongs(session_t *s, zmtp_t *z) noexcept nogil:
    # Answers go out at once, as libzmq's do: an idle connection's socket
    # has room, so asking the poller for POLLOUT first would cost two
    # epoll_ctl calls and a wake-up per PING (with 10,000 heartbeating
    # peers, most of the idle CPU). Once per read, after the whole batch,
    # so a burst of PINGs is one write. When the socket is already full
    # (POLLOUT wanted) the PONG leaves with the rest when it drains.
    z.pong_due = False
    if s.state == S_DEAD or s.h.fd < 0:
        return
    if s.h.events & MQ_POLLOUT:
        return
    zmtp_write(s)


# ---------------------------------------------------------------- heartbeats

cdef void zmtp_note_ping_ttl(session_t *s, zmtp_t *z, msg_t *ping) noexcept nogil:
    # The peer's PING says how long it may stay silent before we give up.
    cdef long long ttl = ping_ttl_ms(ping)
    if ttl <= 0 or z.t_hb_ttl >= 0:
        return
    z.t_hb_ttl = mq_now_ms() + ttl
    timer_arm_earlier(&s.h.io.timers, &z.hb, z.t_hb_ttl)


cdef inline int zmtp_hb_timeout(session_t *s) noexcept nogil:
    return s.o.heartbeat_timeout if s.o.heartbeat_timeout >= 0 else s.o.heartbeat_ivl


cdef void zmtp_send_ping(session_t *s, zmtp_t *z, long long now) noexcept nogil:
    """Heartbeat: PING with our TTL and no context, every HEARTBEAT_IVL
    whatever the other traffic; a missing answer ends the connection."""
    z.t_ping = now + s.o.heartbeat_ivl
    if z.t_hb_timeout < 0:
        z.t_hb_timeout = now + zmtp_hb_timeout(s)
    z.ping_pending = True
    zmtp_write(s)


cdef void zmtp_note_write_progress(session_t *s, zmtp_t *z) noexcept nogil:
    # Our PING waits behind a large body, so the peer cannot have answered
    # it yet; the body moving on shows that the peer still reads. A peer
    # that is gone stops taking the body, and the deadline then runs out.
    # Only the field moves: the timer re-checks it when it fires.
    cdef long long deadline
    if z.t_hb_timeout >= 0:
        deadline = mq_now_ms() + zmtp_hb_timeout(s)
        if deadline > z.t_hb_timeout:
            z.t_hb_timeout = deadline


cdef inline bint zmtp_heartbeat_expired(zmtp_t *z, long long now) noexcept nogil:
    return (z.t_hb_timeout >= 0 and z.t_hb_timeout <= now) or (z.t_hb_ttl >= 0 and z.t_hb_ttl <= now)


cdef bint zmtp_heartbeat_lost(session_t *s, zmtp_t *z, long long now) noexcept nogil:
    """A deadline passed; but the peer's answer may be waiting unread in
    the socket, having come while this thread was busy writing (the poll
    that would report it has not run yet). Read first: any byte resets the
    deadlines."""
    if s.state == S_ACTIVE and not s.in_blocked:
        zmtp_read(s)
    return s.state == S_ACTIVE and zmtp_heartbeat_expired(z, now)


cdef inline long long earliest(long long a, long long b) noexcept nogil:
    if a < 0:
        return b
    if b < 0 or a < b:
        return a
    return b


cdef void zmtp_on_heartbeat(timer_t *t, long long now) noexcept nogil:
    cdef session_t *s = <session_t *>t.owner
    session_read_off(s)     # reads since the last tick are in t_hb_*
    zmtp_heartbeat_tick(s, zmtp(s), now)
    session_read_on(s)


cdef void zmtp_heartbeat_tick(session_t *s, zmtp_t *z, long long now) noexcept nogil:
    cdef long long next
    if s.state != S_ACTIVE:
        return
    if zmtp_heartbeat_expired(z, now) and zmtp_heartbeat_lost(s, z, now):
        session_engine_error(s, False)
        return
    if s.state != S_ACTIVE:
        return
    if z.t_ping >= 0 and z.t_ping <= now:
        zmtp_send_ping(s, z, now)
        if s.state != S_ACTIVE:
            return
    next = earliest(z.t_ping, earliest(z.t_hb_timeout, z.t_hb_ttl))
    if next >= 0:
        timer_arm_earlier(&s.h.io.timers, &z.hb, next)


cdef size_t zmtp_encode_command(zmtp_t *z, const unsigned char *frame, size_t n,
                                unsigned char *out, size_t cap) noexcept nogil:
    """A short command frame the engine built (PING, PONG), passed through
    the mechanism's encode into out; 0 when it cannot be (out of memory,
    or it does not fit: dropped, the next heartbeat makes up for it)."""
    cdef msg_t m
    cdef size_t h
    if msg_init_size(&m, n - 2) < 0:
        return 0
    memcpy(msg_data(&m), frame + 2, n - 2)
    m.flags = MSG_COMMAND
    if z.mech.encode(&z.mech, &m) < 0 or m.size + 9 > cap:
        msg_close(&m)
        return 0
    h = frame_header(out, zmtp_frame_flags(&m), m.size)
    memcpy(out + h, msg_data(&m), m.size)
    h += m.size             # before msg_close, which zeroes m.size
    msg_close(&m)
    return h


cdef inline unsigned char zmtp_frame_flags(msg_t *m) noexcept nogil:
    return (ZMTP_MORE if m.flags & MSG_MORE else 0) | (ZMTP_COMMAND if m.flags & MSG_COMMAND else 0)


cdef bint zmtp_queue_command(zmtp_t *z, const unsigned char *frame, size_t n) noexcept nogil:
    """Holds a whole command frame the engine itself emits (a PONG; our
    PING is a flag) until zmtp_fill reaches a frame boundary: written at
    once it could land inside a large body that is half written. False when
    the queue is full; the command is then dropped (the peer's next PING
    makes up for it)."""
    if z.mech.encode != NULL:
        n = zmtp_encode_command(z, frame, n, z.cmd_out + z.cmd_len, CMD_OUT_MAX - z.cmd_len)
        z.cmd_len += n
        return n > 0
    if z.cmd_len + n > CMD_OUT_MAX:
        return False
    memcpy(z.cmd_out + z.cmd_len, frame, n)
    z.cmd_len += n
    return True


cdef void zmtp_put_ping(session_t *s, zmtp_t *z) noexcept nogil:
    cdef unsigned char ping[PING_MAX]
    cdef size_t n = ping_build(ping, s.o.heartbeat_ttl, NULL, 0)
    if z.mech.encode != NULL:
        z.out.len += zmtp_encode_command(z, ping, n, z.out.buf + z.out.len, CMD_OUT_MAX + 9)
    else:
        memcpy(z.out.buf + z.out.len, ping, n)
        z.out.len += n
    z.ping_pending = False


cdef inline void zmtp_move_commands(session_t *s, zmtp_t *z) noexcept nogil:
    # Only between frames: with a large body pending, the out buffer ends
    # with the first bytes of that body (see zmtp_fill). And only when
    # they fit: a peer that stops reading leaves the buffer full, and every
    # heartbeat would otherwise append to it again; they wait (the PONG
    # queue is bounded) until the writes catch up.
    if z.out.has_big or z.out.len + CMD_OUT_MAX + 9 > OUT_BUF:
        return
    if z.cmd_len:
        memcpy(z.out.buf + z.out.len, z.cmd_out, z.cmd_len)
        z.out.len += z.cmd_len
        z.cmd_len = 0
    if z.ping_pending:
        zmtp_put_ping(s, z)


cdef void zmtp_queue_pong(session_t *s, zmtp_t *z, msg_t *ping) noexcept nogil:
    cdef unsigned char pong[PING_MAX]
    cdef size_t n = pong_build(pong, ping)
    session_fast_off(s)     # the buffer is the io thread's again
    if z.mech.encode == NULL and not z.out.has_big and z.cmd_len == 0 and z.out.len + PING_MAX <= OUT_BUF:
        # Between frames with nothing held back: straight out, so that a
        # burst of PINGs is answered PING for PING while there is room.
        memcpy(z.out.buf + z.out.len, pong, n)
        z.out.len += n
    elif not zmtp_queue_command(z, pong, n):
        return
    z.pong_due = True


# ---------------------------------------------------------------- output

cdef void zmtp_put_frame(zmtp_t *z, msg_t *m, unsigned char flags) noexcept nogil:
    """Frames m into the out buffer (taking it), or starts it as the large
    body."""
    z.out.len += frame_header(z.out.buf + z.out.len, flags, m.size)
    if m.size <= COPY_MAX:
        if m.size:
            memcpy(z.out.buf + z.out.len, msg_data(m), m.size)
            z.out.len += m.size
        msg_close(m)
        return
    # A large body: its first bytes top the out buffer up to a whole
    # LEAD_IN and go out in a write of their own, the rest from the body's
    # own memory. Sending the small part first, as libzmq does, lets the
    # peer's reader wake and start on the body while it streams: one whole
    # 1 MiB write was 40% slower here.
    stream_out_take_big(&z.out, m, LEAD_IN - z.out.len % LEAD_IN)
    memcpy(z.out.buf + z.out.len, msg_data(&z.out.big), z.out.big_off)
    z.out.len += z.out.big_off


cdef void zmtp_put_subscription(zmtp_t *z, msg_t *m) noexcept nogil:
    """The socket's own (un)subscriptions go to ZMTP 3.1 peers as SUBSCRIBE
    or CANCEL commands (older peers get the 0x01/0x00 data form)."""
    cdef size_t h = subscription_command_header(z.out.buf + z.out.len, m)
    z.out.len += h
    if m.size - 1 > COPY_MAX:
        # A long topic follows from the message's own memory, as a large
        # body does (past its leading 0x01/0x00).
        stream_out_take_big(&z.out, m, 1)
        return
    memcpy(z.out.buf + z.out.len, msg_data(m) + 1, m.size - 1)
    z.out.len += m.size - 1
    msg_close(m)


cdef int zmtp_put_encoded(session_t *s, zmtp_t *z, msg_t *m) noexcept nogil:
    """A message through the mechanism's encode, then framed. -1: the
    session ended."""
    if m.flags & MSG_SUBSCRIBE and z.peer_minor >= 1 and m.size > 0:
        if subscription_to_command(m) < 0:
            msg_close(m)
            session_engine_error(s, False)
            return -1
    if z.mech.encode(&z.mech, m) < 0:
        msg_close(m)
        session_engine_error(s, errno != ENOMEM)
        return -1
    zmtp_put_frame(z, m, zmtp_frame_flags(m))
    return 0


cdef int zmtp_fill(session_t *s, zmtp_t *z) noexcept nogil:
    """Moves messages from the pipe into the out buffer until it is full, a
    large body is pending, or the pipe is empty. 1 if anything is queued, 0
    if not, -1 when the session ended."""
    cdef msg_t m
    zmtp_move_commands(s, z)
    if s.state != S_ACTIVE or s.pipe == NULL:
        return stream_out_pending(&z.out)
    while not z.out.has_big and not s.pipe_done and z.out.len + 9 + COPY_MAX <= OUT_BATCH:
        msg_init(&m)
        if session_pull_msg(s, &m) <= 0:
            break
        if conflating(&s.o):
            pipe_read_newest(s.pipe, &m)
        if z.mech.encode != NULL:
            if zmtp_put_encoded(s, z, &m) < 0:
                return -1
            continue
        if m.flags & MSG_SUBSCRIBE and z.peer_minor >= 1 and m.size > 0:
            zmtp_put_subscription(z, &m)
            continue
        zmtp_put_frame(z, &m, zmtp_frame_flags(&m))
    return stream_out_pending(&z.out)


cdef void zmtp_write(session_t *s) noexcept nogil:
    """Writes what is buffered, then the pending large body, in that order
    and in separate writes, until the socket is full."""
    cdef zmtp_t *z = zmtp(s)
    cdef ssize_t n
    cdef bint full
    cdef int rc
    session_fast_off(s)     # the buffer may hold the rest of a short fast write
    while True:
        rc = zmtp_fill(s, z)
        if rc < 0:
            return
        if rc == 0:
            break
        n = stream_out_write(s.h.fd, &z.out, &full)
        if n < 0:
            if errno == EAGAIN:
                handle_want(s.h.io, &s.h, s.h.events | MQ_POLLOUT)
                return
            session_engine_error(s, False)
            return
        if z.ping_pending:
            zmtp_note_write_progress(s, z)
        if full:
            # The socket is full: wait until it can take more.
            handle_want(s.h.io, &s.h, s.h.events | MQ_POLLOUT)
            return
    # Everything queued went out.
    if s.h.fd >= 0:
        handle_want(s.h.io, &s.h, s.h.events & ~MQ_POLLOUT)
    if s.pipe_done and s.state == S_ACTIVE:
        session_destroy(s)
    elif zmtp_can_write_fast(s, z):
        session_fast_on(s, &z.out)


cdef inline bint zmtp_can_write_fast(session_t *s, zmtp_t *z) noexcept nogil:
    """Idle, and what the socket would hand us is plain framing: the socket
    may write its next message itself (fast_write.pxi). out_idle says the
    last look at the pipe found it empty."""
    return (s.out_idle and s.state == S_ACTIVE and s.pipe != NULL and not s.pipe_done
            and not s.skip_out and not s.terminating and s.h.fd >= 0
            and z.mech.encode == NULL and z.cmd_len == 0 and not z.ping_pending
            and not stream_out_pending(&z.out) and not conflating(&s.o))


# ---------------------------------------------------------------- fast read

cdef bint zmtp_input_idle(session_t *s) noexcept nogil:
    """Everything read was decoded and handed on, at a frame boundary, with
    a mechanism that does not wrap frames: the socket's thread may read the
    next frames itself (fast_read.pxi)."""
    cdef zmtp_t *z = zmtp(s)
    return (z.mech.decode == NULL and not z.frame_pending and not z.in_failed
            and z.in_pos == z.in_len and z.dec.state == DEC_FLAGS)


cdef inline bint zmtp_push_lent(session_t *s, msg_t *m) noexcept nogil:
    """session_push_plain for the socket's thread: True when m went into
    the pipe; False leaves it to the engine (no room, a message being
    skipped, memory short: the engine knows what to do)."""
    if s.pipe.closed or s.pipe.peer_gone or s.skip_in:
        return False
    if not s.pipe.more_out and pipe_is_full(s.pipe):
        return False
    return pipe_write(s.pipe, m) == 0


cdef int zmtp_take_input(fastr_t *fr) noexcept nogil:
    """[a socket's thread, holding fr's flag with the path open] One read
    of the connection, its data frames decoded into the pipe. Leaves the
    rest to the engine and closes the path when it meets anything else.
    FASTR_ACTIVATE when the pipe's reader must be woken."""
    cdef session_t *s = <session_t *>fr.sess
    cdef zmtp_t *z = zmtp(s)
    cdef ssize_t n = mq_read(fr.fd, z.inbuf, IN_BATCH)
    cdef size_t used
    cdef int rc
    cdef bint wrote = False
    if n <= 0:
        if n == 0 or (errno != EAGAIN and errno != EINTR):
            fr.fd = -1      # the end: the io thread's own read meets it
        return 0
    z.in_pos = 0
    z.in_len = n
    zmtp_peer_alive(z)
    while z.in_pos < z.in_len:
        rc = decoder_feed(&z.dec, z.inbuf + z.in_pos, z.in_len - z.in_pos, &used)
        z.in_pos += used
        if rc == DEC_ERROR:
            z.in_failed = True
            break
        if rc != DEC_FRAME:
            break
        if (z.dec.msg.flags & MSG_COMMAND) or not zmtp_push_lent(s, &z.dec.msg):
            z.frame_pending = True
            break
        wrote = True
    rc = 0
    if wrote:
        rc = FASTR_TOOK
        if not ypipe_flush(s.pipe.outq):
            rc |= FASTR_ACTIVATE
    if not zmtp_input_idle(s):
        fr.fd = -1
        s.in_resume = True
        pipe_send_command(s.pipe, CMD_ACTIVATE_WRITE, 0)
    return rc


cdef engine_ops_t ZMTP_ENGINE
ZMTP_ENGINE.name = b"zmtp"
ZMTP_ENGINE.kind = ENGINE_STREAM
ZMTP_ENGINE.raw = False
ZMTP_ENGINE.state_size = sizeof(zmtp_t)
ZMTP_ENGINE.init = zmtp_init
ZMTP_ENGINE.fini = zmtp_fini
ZMTP_ENGINE.plug = zmtp_plug
ZMTP_ENGINE.unplug = zmtp_unplug
ZMTP_ENGINE.on_event = zmtp_on_event
ZMTP_ENGINE.restart_output = zmtp_restart_output
ZMTP_ENGINE.restart_input = zmtp_restart_input
ZMTP_ENGINE.has_output = zmtp_has_output
ZMTP_ENGINE.input_idle = zmtp_input_idle
ZMTP_ENGINE.take_input = zmtp_take_input
engine_register(&ZMTP_ENGINE)
