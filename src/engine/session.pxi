# Sessions: one per connection, living on an io thread. A session runs the
# ZMTP engine over its fd (greeting, NULL handshake, then frames between the
# fd and its pipe end) and, on the connecting side, outlives the fd: it keeps
# its pipe across reconnects so that messages queued while the peer was away
# are sent when it is back.
#
# Life of a session:
#   connecting side: IDLE -(timer)-> CONNECTING -> HANDSHAKE -> ACTIVE,
#                    and back to IDLE on a connection error;
#   accepted side:   HANDSHAKE -> ACTIVE, destroyed on any error.
# A protocol error (bad greeting, wrong mechanism, incompatible peer type,
# oversized frame) ends a connecting session too: libzmq does not reconnect
# to a peer that speaks nonsense.
#
# Reading stops while the inbound pipe is at its HWM (backpressure to the
# peer through TCP) and resumes when the socket hands credit back. Writing
# takes messages from the pipe in batches: small frames are copied into one
# buffer, a large body is sent from its own memory with writev, so one
# syscall carries many small messages and large ones are never copied.

cdef enum:
    S_IDLE = 0
    S_CONNECTING = 1
    S_HANDSHAKE = 2
    S_ACTIVE = 3
    S_DEAD = 4
    T_TCP = 1
    T_IPC = 2
    IN_BATCH = 65536
    OUT_BATCH = 65536
    COPY_MAX = 8192          # bodies up to this are copied into the out buffer
    DIRECT_MIN = 16384       # bodies owing this much are read straight into place
    READS_PER_EVENT = 16

cdef struct session_t:
    handle_t h
    int refcnt                  # [any] io thread while alive + socket for connects
    io_thread_t *io
    session_t *next
    session_t *prev
    session_t *retired_next
    listener_t *parent          # accepted sessions: their listener
    options_t o
    mailbox_t *sock_mb          # where ATTACH goes (ref held)
    void *sock                  # sock_t*, only passed back in ATTACH
    evsink_t *ev                # the socket's events and counters (ref held)
    char endpoint[256]          # for events: the connect or bound endpoint
    int err_code                # protocol error to report, 0: none
    bint connecter
    bint raw                    # STREAM: plain bytes, no ZMTP
    bint raw_close              # STREAM: the user asked to close after what is queued
    bint connected_before       # a reconnect tells the socket (HICCUP)
    long long tag               # the socket's id for the endpoint, set on its pipes
    unsigned char connect_rid[256]  # CONNECT_ROUTING_ID for pipes made per connection
    int connect_rid_len         # -1: none
    int transport
    mq_addr_t addr
    int state
    pipe_end_t *pipe            # our end; NULL until attached
    bint terminating
    bint no_reconnect
    long long t_timer           # reconnect or handshake deadline, -1 none
    long long t_linger          # -1 none
    long long t_ping            # next heartbeat PING, -1 none
    long long t_hb_timeout      # no traffic since our PING: give up at, -1 none
    long long t_hb_ttl          # the peer's PING TTL runs out at, -1 none
    int cur_ivl
    unsigned char greet_in[64]
    int greet_got
    int peer_minor
    mechanism_t mech
    decoder_t dec
    bint frame_pending          # dec.msg is a frame waiting for pipe room
    bint in_blocked
    bint skip_in                # dropping the rest of a message cut by a reconnect
    unsigned char *inbuf
    size_t in_pos
    size_t in_len
    unsigned char *outbuf
    size_t out_pos
    size_t out_len
    msg_t big
    size_t big_off
    bint has_big
    bint skip_out               # dropping the rest of a message cut by a reconnect
    bint out_idle
    bint pipe_done              # the socket ended the pipe: flush, then finish


cdef session_t *session_new(options_t *o, mailbox_t *sock_mb, void *sock, bint connecter, int transport,
                            evsink_t *ev, const char *endpoint) noexcept nogil:
    cdef session_t *s = <session_t *>calloc(1, sizeof(session_t))
    if s == NULL:
        return NULL
    s.inbuf = <unsigned char *>malloc(IN_BATCH)
    s.outbuf = <unsigned char *>malloc(OUT_BATCH + 1024)
    if s.inbuf == NULL or s.outbuf == NULL:
        abort()
    s.h.kind = H_SESSION
    s.h.fd = -1
    s.refcnt = 1
    memcpy(&s.o, o, sizeof(options_t))
    s.sock_mb = sock_mb
    mailbox_incref(sock_mb)
    s.sock = sock
    s.ev = ev
    evsink_incref(ev)
    strncpy(s.endpoint, endpoint, 255)
    s.connecter = connecter
    s.raw = o.type == 11
    s.transport = transport
    s.connect_rid_len = -1
    s.t_timer = -1
    s.t_linger = -1
    s.t_ping = -1
    s.t_hb_timeout = -1
    s.t_hb_ttl = -1
    s.cur_ivl = o.reconnect_ivl
    msg_init(&s.big)
    decoder_init(&s.dec, o.maxmsgsize)
    return s


cdef void session_decref(session_t *s) noexcept nogil:
    if mq_int_add(&s.refcnt, -1) != 0:
        return
    msg_close(&s.dec.msg)
    msg_close(&s.big)
    mailbox_decref(s.sock_mb)
    evsink_decref(s.ev)
    free(s.inbuf)
    free(s.outbuf)
    free(s)


# ---------------------------------------------------------------- lifecycle

cdef void session_start(io_thread_t *io, session_t *s) noexcept nogil:
    s.io = io
    s.next = io.sessions
    s.prev = NULL
    if io.sessions != NULL:
        io.sessions.prev = s
    io.sessions = s
    io.nobjects += 1
    if s.connecter:
        session_connect(s)
    else:
        session_begin_handshake(s)


cdef void session_destroy(session_t *s) noexcept nogil:
    """Ends the session for good: fd closed, pipe end closed."""
    cdef io_thread_t *io = s.io
    if s.state == S_DEAD:
        return
    session_close_fd(s)
    if s.pipe != NULL:
        pipe_close(s.pipe, 0)
        s.pipe = NULL
    s.state = S_DEAD
    if s.prev != NULL:
        s.prev.next = s.next
    else:
        io.sessions = s.next
    if s.next != NULL:
        s.next.prev = s.prev
    io.nobjects -= 1
    s.retired_next = io.retired
    io.retired = s


cdef void session_term(session_t *s, long long linger) noexcept nogil:
    """The socket closed or disconnected: send what is queued for up to
    `linger` ms (-1: as long as it takes), then finish."""
    if s.state == S_DEAD:
        return
    if linger == 0 or s.pipe == NULL:
        session_destroy(s)
        return
    if not s.terminating:
        s.terminating = True
        if linger > 0:
            s.t_linger = mq_now_ms() + linger
    if s.state != S_ACTIVE and session_nothing_queued(s):
        # Nothing left to deliver: no need to wait for a connection.
        session_destroy(s)
        return
    session_pump_out(s)


cdef bint session_nothing_queued(session_t *s) noexcept nogil:
    cdef msg_t *front = ypipe_peek(s.pipe.inq)
    return s.out_len == s.out_pos and not s.has_big and front != NULL and (front.flags & MSG_DELIMITER) != 0


cdef void session_close_fd(session_t *s) noexcept nogil:
    if s.h.fd >= 0:
        handle_forget(s.io, &s.h)
        close(s.h.fd)
        s.h.fd = -1


cdef void session_reset_codec(session_t *s) noexcept nogil:
    """Forgets all per-connection state. A message cut in half by the
    disconnect is dropped in both directions: its frames already queued
    inbound are taken back, and the rest of one being sent is skipped."""
    s.greet_got = 0
    s.t_ping = -1
    s.t_hb_timeout = -1
    s.t_hb_ttl = -1
    s.in_pos = 0
    s.in_len = 0
    s.in_blocked = False
    s.frame_pending = False
    msg_close(&s.dec.msg)
    decoder_init(&s.dec, s.o.maxmsgsize)
    s.out_pos = 0
    s.out_len = 0
    if s.has_big:
        msg_close(&s.big)
        s.has_big = False
    if s.pipe != NULL:
        if s.pipe.more_out:
            ypipe_rollback(s.pipe.outq)
            s.pipe.more_out = False
        s.skip_out = s.pipe.more_in
    s.out_idle = False


cdef void session_on_disconnect(session_t *s, bint protocol_error) noexcept nogil:
    cdef int fd = s.h.fd
    if s.state == S_DEAD:
        return
    if s.state == S_HANDSHAKE:
        if protocol_error:
            if s.err_code:
                evsink_emit(s.ev, EV_HANDSHAKE_FAILED_PROTOCOL, s.err_code, s.endpoint)
        else:
            evsink_emit(s.ev, EV_HANDSHAKE_FAILED_NO_DETAIL, errno, s.endpoint)
    elif s.state == S_ACTIVE:
        evsink_count(s.ev, 0, 1)
    if fd >= 0 and (s.state == S_HANDSHAKE or s.state == S_ACTIVE):
        evsink_emit(s.ev, EV_DISCONNECTED, fd, s.endpoint)
    s.err_code = 0
    session_close_fd(s)
    session_reset_codec(s)
    if protocol_error:
        s.no_reconnect = True
    if not s.connecter or s.no_reconnect or s.pipe_done or s.o.reconnect_ivl <= 0:
        session_destroy(s)
        return
    if (s.o.immediate or s.raw) and s.pipe != NULL:
        # With IMMEDIATE (and for STREAM, whose user sees each connection
        # come and go) the pipe exists only while connected.
        pipe_close(s.pipe, 0)
        s.pipe = NULL
    session_schedule_reconnect(s)


cdef void session_schedule_reconnect(session_t *s) noexcept nogil:
    cdef int ivl = s.cur_ivl
    s.state = S_IDLE
    if s.o.reconnect_ivl_max > 0:
        # Exponential backoff, as libzmq: double up to the maximum.
        s.cur_ivl = s.cur_ivl * 2
        if s.cur_ivl > s.o.reconnect_ivl_max:
            s.cur_ivl = s.o.reconnect_ivl_max
    else:
        ivl = ivl + <int>(rand() % (ivl if ivl > 0 else 1))
    s.t_timer = mq_now_ms() + ivl
    evsink_emit(s.ev, EV_CONNECT_RETRIED, ivl, s.endpoint)


cdef void session_connect(session_t *s) noexcept nogil:
    cdef int fd = -1
    cdef int rc = mq_connect_start(&s.addr, &fd)
    s.t_timer = -1
    if rc < 0:
        session_schedule_reconnect(s)
        return
    s.h.fd = fd
    if rc == 0:
        evsink_emit(s.ev, EV_CONNECTED, fd, s.endpoint)
        session_begin_handshake(s)
        return
    evsink_emit(s.ev, EV_CONNECT_DELAYED, EINPROGRESS, s.endpoint)
    s.state = S_CONNECTING
    handle_want(s.io, &s.h, MQ_POLLOUT)


cdef void session_begin_handshake(session_t *s) noexcept nogil:
    mq_tune_stream(s.h.fd, s.transport == T_TCP, s.o.sndbuf, s.o.rcvbuf)
    if s.transport == T_TCP:
        mq_tcp_keepalive(s.h.fd, s.o.tcp_keepalive, s.o.tcp_keepalive_cnt,
                         s.o.tcp_keepalive_idle, s.o.tcp_keepalive_intvl)
    s.state = S_HANDSHAKE
    mech_init(&s.mech, &s.o)
    if s.raw:
        # STREAM speaks to any TCP peer: no greeting, no handshake.
        s.greet_got = GREETING_SIZE
        handle_want(s.io, &s.h, MQ_POLLIN)
        session_handshake_done(s)
        return
    greeting_build(s.outbuf, s.mech.name, s.o.routing_id_len)
    s.out_len = GREETING_SIZE
    s.out_pos = 0
    if s.o.handshake_ivl > 0:
        s.t_timer = mq_now_ms() + s.o.handshake_ivl
    handle_want(s.io, &s.h, MQ_POLLIN)
    session_write(s)


cdef void session_queue_handshake_commands(session_t *s) noexcept nogil:
    """Encodes whatever the mechanism wants to send now."""
    cdef msg_t m
    msg_init(&m)
    while s.mech.next_handshake_command(&s.mech, &m) == 0:
        s.out_len += frame_header(s.outbuf + s.out_len, ZMTP_COMMAND, m.size)
        memcpy(s.outbuf + s.out_len, msg_data(&m), m.size)
        s.out_len += m.size
        msg_close(&m)


cdef void session_handshake_done(session_t *s) noexcept nogil:
    cdef pipe_t *p
    cdef command_t cmd
    s.state = S_ACTIVE
    s.t_timer = -1
    s.cur_ivl = s.o.reconnect_ivl
    if not s.raw:
        evsink_emit(s.ev, EV_HANDSHAKE_SUCCEEDED, 0, s.endpoint)
    evsink_count(s.ev, 1, 0)
    if s.o.heartbeat_ivl > 0:
        s.t_ping = mq_now_ms() + s.o.heartbeat_ivl
    if s.pipe != NULL:
        session_send_identity(s)
        if s.connected_before:
            # The same pipe over a new connection: SUB/XSUB re-send their
            # subscriptions on it.
            pipe_send_command(s.pipe.peer, CMD_HICCUP, 0)
    else:
        # Accepted connections, and IMMEDIATE connections, get their pipe
        # only now. End 0 belongs to the socket (outbound limit SNDHWM),
        # end 1 to this session (inbound limit RCVHWM).
        p = pipe_new(out_hwm(&s.o), in_hwm(&s.o))
        pipe_set_owner(&p.ends[1], s.io.mb, s, OWNER_SESSION)
        pipe_set_owner(&p.ends[0], s.sock_mb, s.sock, OWNER_SOCKET)
        if s.connect_rid_len >= 0:
            p.ends[0].rid = <unsigned char *>malloc(s.connect_rid_len + 1)
            memcpy(p.ends[0].rid, s.connect_rid, s.connect_rid_len)
            p.ends[0].rid_len = s.connect_rid_len
            p.ends[0].rid_fixed = True
        s.pipe = &p.ends[1]
        session_send_identity(s)
        cmd.type = CMD_ATTACH
        cmd.obj = s.sock
        cmd.end = &p.ends[0]
        cmd.arg = s.tag
        mq_int_add(&p.refcnt, 1)        # the command's reference
        if mailbox_send(s.sock_mb, &cmd) < 0:
            # The socket is gone; its end will never be closed by it.
            p.ends[0].closed = True
            p.ends[1].peer_gone = True
            pipe_decref(p)
            pipe_decref(p)
            session_destroy(s)
            return
    s.connected_before = True
    session_pump_out(s)


cdef void session_send_identity(session_t *s) noexcept nogil:
    """ROUTER-like sockets learn the peer's routing id in band, as the first
    message of each connection."""
    if not routes_by_id(s.o.type):
        return
    pipe_write_identity(s.pipe, s.mech.peer.identity, s.mech.peer.identity_len)
    pipe_flush(s.pipe)


# ---------------------------------------------------------------- events

cdef void session_on_event(session_t *s, int events) noexcept nogil:
    if s.state == S_DEAD:
        return
    if s.state == S_CONNECTING:
        if mq_connect_finish(s.h.fd) < 0:
            session_close_fd(s)
            session_schedule_reconnect(s)
            return
        evsink_emit(s.ev, EV_CONNECTED, s.h.fd, s.endpoint)
        session_begin_handshake(s)
        return
    if events & MQ_POLLOUT:
        session_write(s)
        if s.state == S_DEAD:
            return
    if (events & MQ_POLLERR) and s.in_blocked:
        # A hung-up fd keeps reporting even with no interest; park it until
        # the socket makes room, then the read sees the hang-up.
        handle_forget(s.io, &s.h)
        return
    if events & (MQ_POLLIN | MQ_POLLERR):
        session_read(s)


cdef void session_on_pipe_command(command_t *c) noexcept nogil:
    cdef pipe_end_t *e = c.end
    cdef session_t *s
    if e.closed:
        return
    s = <session_t *>e.owner
    if s == NULL or s.state == S_DEAD or s.pipe != e:
        return
    if c.type == CMD_ACTIVATE_READ:
        if s.out_idle:
            s.out_idle = False
            session_pump_out(s)
    elif c.type == CMD_ACTIVATE_WRITE:
        if s.in_blocked:
            s.in_blocked = False
            session_read(s)
    elif c.type == CMD_PIPE_TERM:
        e.peer_gone = True
        session_term(s, c.arg)


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
        session_queue_handshake_commands(s)
        if s.mech.status == MECH_READY:
            session_handshake_done(s)
        else:
            session_write(s)
        if s.state == S_DEAD:
            return -1
        return 0
    if m.flags & MSG_COMMAND:
        if command_is(m, b"SUBSCRIBE"):
            command_to_subscription(m, 10, 1)
        elif command_is(m, b"CANCEL"):
            command_to_subscription(m, 7, 0)
        else:
            if command_is(m, b"PING"):
                session_queue_pong(s, m)
                session_note_ping_ttl(s, m)
            msg_close(m)        # other commands are dropped, as libzmq does
            return 0
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
    pipe_write(s.pipe, m)
    return 0


cdef void session_note_ping_ttl(session_t *s, msg_t *ping) noexcept nogil:
    # The peer's PING says how long it may stay silent before we give up.
    cdef unsigned int ttl
    if ping.size < 7 or s.t_hb_ttl >= 0:
        return
    ttl = (msg_data(ping)[5] << 8) | msg_data(ping)[6]
    if ttl > 0:
        s.t_hb_ttl = mq_now_ms() + <long long>ttl * 100


cdef void session_send_ping(session_t *s, long long now) noexcept nogil:
    """Heartbeat: PING with our TTL and no context, every HEARTBEAT_IVL
    whatever the other traffic; a missing answer ends the connection."""
    cdef unsigned int ttl = s.o.heartbeat_ttl // 100
    cdef unsigned char *p
    s.t_ping = now + s.o.heartbeat_ivl
    if s.t_hb_timeout < 0:
        s.t_hb_timeout = now + (s.o.heartbeat_timeout if s.o.heartbeat_timeout >= 0 else s.o.heartbeat_ivl)
    if s.out_len + 16 > OUT_BATCH + 1024:
        return
    p = s.outbuf + s.out_len
    p[0] = ZMTP_COMMAND
    p[1] = 7
    p[2] = 4
    memcpy(p + 3, b"PING", 4)
    p[7] = <unsigned char>(ttl >> 8)
    p[8] = <unsigned char>ttl
    s.out_len += 9
    session_write(s)


cdef void command_to_subscription(msg_t *m, size_t name_len, unsigned char kind) noexcept nogil:
    """SUBSCRIBE/CANCEL (ZMTP 3.1) become the 0x01/0x00 + topic messages
    that publishers take from every peer, whatever its version."""
    cdef msg_t sub
    cdef size_t n = m.size - name_len
    msg_init_size(&sub, n + 1)
    msg_data(&sub)[0] = kind
    if n:
        memcpy(msg_data(&sub) + 1, msg_data(m) + name_len, n)
    msg_close(m)
    memcpy(m, &sub, sizeof(msg_t))


cdef void session_queue_pong(session_t *s, msg_t *ping) noexcept nogil:
    if s.out_len + 32 > OUT_BATCH + 1024:
        return      # the out buffer is full: the peer will ping again
    s.out_len += pong_build(s.outbuf + s.out_len, ping)
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
    msg_init_bytes(&m, s.inbuf + s.in_pos, s.in_len - s.in_pos)
    s.in_pos = s.in_len
    pipe_write(s.pipe, &m)
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
                session_queue_handshake_commands(s)
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
    cdef size_t missing
    while s.state == S_HANDSHAKE or s.state == S_ACTIVE:
        rc = session_decode(s)
        if rc < 0:
            return
        if rc == 1:
            s.in_blocked = True
            # Stop reading so that TCP pushes back on the peer.
            handle_want(s.io, &s.h, s.h.events & ~MQ_POLLIN)
            break
        if rounds == READS_PER_EVENT:
            break
        rounds += 1
        missing = decoder_body_missing(&s.dec)
        if missing >= DIRECT_MIN and s.greet_got == GREETING_SIZE:
            n = mq_read(s.h.fd, msg_data(&s.dec.msg) + s.dec.body_got, missing)
            if n > 0:
                s.dec.body_got += n
                if s.dec.body_got == s.dec.msg.size:
                    s.dec.state = DEC_FLAGS
                    s.frame_pending = True
                continue
        else:
            n = mq_read(s.h.fd, s.inbuf, IN_BATCH)
            if n > 0:
                s.in_pos = 0
                s.in_len = n
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
    if s.state != S_ACTIVE or s.pipe == NULL:
        return s.out_len > s.out_pos
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
            memcpy(&s.big, &m, sizeof(msg_t))
            s.big_off = 0
            s.has_big = True
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
    if body > COPY_MAX:
        msg_close(m)        # an absurd topic: dropped rather than sent half
        return
    s.out_len += frame_header(s.outbuf + s.out_len, ZMTP_COMMAND, body)
    s.outbuf[s.out_len] = <unsigned char>nlen
    memcpy(s.outbuf + s.out_len + 1, name, nlen)
    memcpy(s.outbuf + s.out_len + 1 + nlen, msg_data(m) + 1, m.size - 1)
    s.out_len += body
    msg_close(m)


cdef void session_write(session_t *s) noexcept nogil:
    cdef iovec iov[2]
    cdef int niov
    cdef ssize_t n
    cdef size_t head
    while True:
        if not session_fill(s):
            break
        niov = 0
        head = s.out_len - s.out_pos
        if head:
            iov[0].iov_base = s.outbuf + s.out_pos
            iov[0].iov_len = head
            niov = 1
        if s.has_big:
            iov[niov].iov_base = msg_data(&s.big) + s.big_off
            iov[niov].iov_len = s.big.size - s.big_off
            niov += 1
        n = mq_writev(s.h.fd, iov, niov)
        if n < 0:
            if errno == EAGAIN:
                handle_want(s.io, &s.h, s.h.events | MQ_POLLOUT)
                return
            session_on_disconnect(s, False)
            return
        if <size_t>n >= head:
            s.out_pos = 0
            s.out_len = 0
            n -= head
            if s.has_big:
                s.big_off += n
                if s.big_off == s.big.size:
                    msg_close(&s.big)
                    s.has_big = False
                else:
                    handle_want(s.io, &s.h, s.h.events | MQ_POLLOUT)
                    return
        else:
            s.out_pos += n
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


# ---------------------------------------------------------------- timers

cdef inline long long earliest(long long a, long long b) noexcept nogil:
    if a < 0:
        return b
    if b < 0 or a < b:
        return a
    return b


cdef inline long long session_next_deadline(session_t *s) noexcept nogil:
    return earliest(earliest(s.t_timer, s.t_linger),
                    earliest(s.t_ping, earliest(s.t_hb_timeout, s.t_hb_ttl)))


cdef int io_next_timeout(io_thread_t *io) noexcept nogil:
    cdef long long now = -1
    cdef long long best = -1
    cdef session_t *s = io.sessions
    while s != NULL:
        best = earliest(best, session_next_deadline(s))
        s = s.next
    if best < 0:
        return -1
    now = mq_now_ms()
    if best <= now:
        return 0
    return <int>(best - now)


cdef void io_run_timers(io_thread_t *io) noexcept nogil:
    cdef long long now = mq_now_ms()
    cdef session_t *s = io.sessions
    cdef session_t *nx
    while s != NULL:
        nx = s.next
        if s.t_linger >= 0 and s.t_linger <= now:
            session_destroy(s)
        elif (s.t_hb_timeout >= 0 and s.t_hb_timeout <= now) or (s.t_hb_ttl >= 0 and s.t_hb_ttl <= now):
            session_on_disconnect(s, False)         # heartbeat lost
        elif s.t_ping >= 0 and s.t_ping <= now:
            session_send_ping(s, now)
        elif s.t_timer >= 0 and s.t_timer <= now:
            s.t_timer = -1
            if s.state == S_IDLE:
                session_connect(s)
            elif s.state == S_HANDSHAKE or s.state == S_CONNECTING:
                session_on_disconnect(s, False)     # handshake timed out
        s = nx


cdef void io_release_retired(io_thread_t *io) noexcept nogil:
    cdef session_t *s = io.retired
    cdef session_t *nx
    cdef listener_t *l = io.listeners
    cdef listener_t *lnx
    io.listeners = NULL
    while l != NULL:
        lnx = l.next
        free(l)
        l = lnx
    io.retired = NULL
    while s != NULL:
        nx = s.retired_next
        session_decref(s)
        s = nx
