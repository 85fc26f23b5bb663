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
# The byte-level work (greeting, frames, batching) is in stream_engine.pxi.

cdef enum:
    S_IDLE = 0
    S_CONNECTING = 1
    S_HANDSHAKE = 2
    S_ACTIVE = 3
    S_DEAD = 4
    IN_BATCH = 65536
    OUT_BATCH = 65536
    OUT_BUF = OUT_BATCH + 1024   # room past a batch for the handshake and the engine's commands
    COPY_MAX = 8192          # bodies up to this are copied into the out buffer
    LEAD_IN = 8192           # a larger body's first write ends on a multiple of this
    DIRECT_MIN = 16384       # bodies owing this much are read straight into place
    READS_PER_EVENT = 16
    MQ_INT_MAX = 2147483647
    CMD_OUT_MAX = 64         # PONGs waiting for a frame boundary

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
    endpoint_t ep               # where it connects (or the listener's); ep.name for events
    int err_code                # protocol error to report, 0: none
    bint connecter
    bint raw                    # STREAM: plain bytes, no ZMTP
    bint raw_close              # STREAM: the user asked to close after what is queued
    bint connected_before       # a reconnect tells the socket (HICCUP)
    long long tag               # the socket's id for the endpoint, set on its pipes
    unsigned char connect_rid[256]  # CONNECT_ROUTING_ID for pipes made per connection
    int connect_rid_len         # -1: none
    int state
    pipe_end_t *pipe            # our end; NULL until attached
    bint terminating
    bint no_reconnect
    long long t_timer           # reconnect or handshake deadline, -1 none
    long long t_linger          # -1 none
    long long t_ping            # next heartbeat PING, -1 none
    long long t_hb_timeout      # no traffic since our PING: give up at, -1 none
    long long t_hb_ttl          # the peer's PING TTL runs out at, -1 none
    int cur_ivl                 # last backoff interval, -1 before the first retry
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
    unsigned char cmd_out[CMD_OUT_MAX]  # PONG frames held until no body is half written
    size_t cmd_len
    bint ping_pending           # our heartbeat PING, likewise held


cdef session_t *session_new(options_t *o, mailbox_t *sock_mb, void *sock, bint connecter,
                            const endpoint_t *ep, evsink_t *ev) noexcept nogil:
    cdef session_t *s = <session_t *>mq_calloc(1, sizeof(session_t))
    if s == NULL:
        return NULL
    s.inbuf = <unsigned char *>mq_malloc(IN_BATCH)
    s.outbuf = <unsigned char *>mq_malloc(OUT_BUF)
    if s.inbuf == NULL or s.outbuf == NULL:
        # Callers refuse the connect, or close the accepted fd.
        free(s.inbuf)
        free(s.outbuf)
        free(s)
        return NULL
    s.h.kind = H_SESSION
    s.h.fd = -1
    s.refcnt = 1
    memcpy(&s.o, o, sizeof(options_t))
    s.sock_mb = sock_mb
    mailbox_incref(sock_mb)
    s.sock = sock
    s.ev = ev
    evsink_incref(ev)
    memcpy(&s.ep, ep, sizeof(endpoint_t))
    s.connecter = connecter
    s.raw = SOCKTYPES[o.type].raw
    s.connect_rid_len = -1
    s.t_timer = -1
    s.t_linger = -1
    s.t_ping = -1
    s.t_hb_timeout = -1
    s.t_hb_ttl = -1
    s.cur_ivl = -1
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
            io_note_deadline(s.io, s.t_linger)
    if s.state != S_ACTIVE and (session_nothing_queued(s) or session_never_connects(s)):
        # Nothing left to deliver, or no connection to deliver it on ever
        # again: no need to wait.
        session_destroy(s)
        return
    session_pump_out(s)


cdef bint session_nothing_queued(session_t *s) noexcept nogil:
    cdef msg_t *front = ypipe_peek(s.pipe.inq)
    return s.out_len == s.out_pos and not s.has_big and front != NULL and (front.flags & MSG_DELIMITER) != 0


cdef inline bint session_never_connects(session_t *s) noexcept nogil:
    # A connect that failed with reconnection off (RECONNECT_IVL <= 0).
    return s.state == S_IDLE and s.t_timer < 0


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
    s.cmd_len = 0
    s.ping_pending = False
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
                evsink_emit(s.ev, EV_HANDSHAKE_FAILED_PROTOCOL, s.err_code, s.ep.name)
        else:
            evsink_emit(s.ev, EV_HANDSHAKE_FAILED_NO_DETAIL, errno, s.ep.name)
    elif s.state == S_ACTIVE:
        evsink_count(s.ev, 0, 1)
    if fd >= 0 and (s.state == S_HANDSHAKE or s.state == S_ACTIVE):
        evsink_emit(s.ev, EV_DISCONNECTED, fd, s.ep.name)
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
    """After a failed connect: try again after reconnect_ivl_next. Any
    RECONNECT_IVL <= 0 means never, as in libzmq 4.3.5 (0 used to retry in
    a loop): the session stays idle, its pipe kept, until the socket closes
    or disconnects."""
    s.state = S_IDLE
    s.t_timer = -1
    if s.o.reconnect_ivl <= 0:
        return
    cdef int ivl = reconnect_ivl_next(s)
    s.t_timer = mq_now_ms() + ivl
    io_note_deadline(s.io, s.t_timer)
    evsink_emit(s.ev, EV_CONNECT_RETRIED, ivl, s.ep.name)


cdef int reconnect_ivl_next(session_t *s) noexcept nogil:
    """This retry's interval, as libzmq 4.3.5 picks it. With
    RECONNECT_IVL_MAX: RECONNECT_IVL, then doubling, never above the
    maximum (even when that is below RECONNECT_IVL). Without: RECONNECT_IVL
    plus a jitter below it. Saturates at INT_MAX instead of wrapping to a
    negative interval (which would retry at once, in a loop)."""
    cdef int base = s.o.reconnect_ivl
    cdef int top = s.o.reconnect_ivl_max
    cdef int ivl
    cdef int jitter
    if top > 0:
        if s.cur_ivl < 0:
            ivl = base
        elif s.cur_ivl > MQ_INT_MAX // 2:
            ivl = MQ_INT_MAX
        else:
            ivl = s.cur_ivl * 2
        s.cur_ivl = top if ivl > top else ivl
        return s.cur_ivl
    jitter = <int>(rand() % base)
    return base + jitter if base < MQ_INT_MAX - jitter else MQ_INT_MAX


cdef void session_connect(session_t *s) noexcept nogil:
    cdef int fd = -1
    cdef int rc = s.ep.tp.connect_start(&s.ep, &fd)
    s.t_timer = -1
    if rc < 0:
        session_schedule_reconnect(s)
        return
    s.h.fd = fd
    if rc == 0:
        evsink_emit(s.ev, EV_CONNECTED, fd, s.ep.name)
        session_begin_handshake(s)
        return
    evsink_emit(s.ev, EV_CONNECT_DELAYED, EINPROGRESS, s.ep.name)
    s.state = S_CONNECTING
    handle_want(s.io, &s.h, MQ_POLLOUT)
    if not s.h.registered:
        # The poller is out of memory: nothing would ever tell us.
        session_close_fd(s)
        session_schedule_reconnect(s)


cdef void session_begin_handshake(session_t *s) noexcept nogil:
    s.ep.tp.tune(s.h.fd, &s.o)
    s.state = S_HANDSHAKE
    mech_init(&s.mech, &s.o)
    if s.raw:
        # STREAM speaks to any TCP peer: no greeting, no handshake.
        s.greet_got = GREETING_SIZE
        handle_want(s.io, &s.h, MQ_POLLIN)
        if not s.h.registered:
            session_on_disconnect(s, False)     # poller out of memory
            return
        session_handshake_done(s)
        return
    greeting_build(s.outbuf, s.mech.name, s.o.routing_id_len)
    s.out_len = GREETING_SIZE
    s.out_pos = 0
    if s.o.handshake_ivl > 0:
        s.t_timer = mq_now_ms() + s.o.handshake_ivl
        io_note_deadline(s.io, s.t_timer)
    handle_want(s.io, &s.h, MQ_POLLIN)
    if not s.h.registered:
        session_on_disconnect(s, False)     # poller out of memory
        return
    session_write(s)


cdef int session_queue_handshake_commands(session_t *s) noexcept nogil:
    """Encodes whatever the mechanism wants to send now. Straight into the
    out buffer: no message body is ever pending during a handshake (only
    session_fill takes messages, once it is over), so this is a frame
    boundary. -1 when the mechanism failed or its command does not fit."""
    global errno
    cdef msg_t m
    cdef int rc
    msg_init(&m)
    while True:
        rc = s.mech.next_handshake_command(&s.mech, &m)
        if rc == EAGAIN:
            return 0
        if rc != 0:
            errno = rc
            return -1
        if s.out_len + 9 + m.size > OUT_BUF:
            msg_close(&m)
            errno = EPROTO
            return -1
        s.out_len += frame_header(s.outbuf + s.out_len, ZMTP_COMMAND, m.size)
        memcpy(s.outbuf + s.out_len, msg_data(&m), m.size)
        s.out_len += m.size
        msg_close(&m)


cdef void session_handshake_done(session_t *s) noexcept nogil:
    cdef pipe_t *p
    cdef command_t cmd
    s.state = S_ACTIVE
    s.t_timer = -1
    s.cur_ivl = -1
    if not s.raw:
        evsink_emit(s.ev, EV_HANDSHAKE_SUCCEEDED, 0, s.ep.name)
    evsink_count(s.ev, 1, 0)
    if s.o.heartbeat_ivl > 0 and not s.raw:
        # STREAM peers speak plain bytes: a PING would be data to them.
        s.t_ping = mq_now_ms() + s.o.heartbeat_ivl
        io_note_deadline(s.io, s.t_ping)
    if s.pipe != NULL:
        if session_send_identity(s) < 0:
            session_on_disconnect(s, False)     # errno ENOMEM: try again later
            return
        if s.connected_before:
            # The same pipe over a new connection: SUB/XSUB re-send their
            # subscriptions on it.
            pipe_send_command(s.pipe.peer, CMD_HICCUP, 0)
    else:
        # Accepted connections, and IMMEDIATE connections, get their pipe
        # only now.
        if session_make_pipe(s) < 0:
            session_on_disconnect(s, False)     # errno ENOMEM
            return
        p = s.pipe.pipe
        if session_send_identity(s) < 0:
            # Nothing was told about the pipe yet: it just goes.
            s.pipe = NULL
            pipe_decref(p)
            pipe_decref(p)
            session_on_disconnect(s, False)     # errno ENOMEM
            return
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


cdef int session_make_pipe(session_t *s) noexcept nogil:
    """The pipe of an accepted or IMMEDIATE connection. End 0 belongs to
    the socket (outbound limit SNDHWM), end 1 to this session (inbound
    limit RCVHWM). -1 (errno ENOMEM) when memory is short."""
    global errno
    cdef unsigned char *rid = NULL
    cdef pipe_t *p
    if s.connect_rid_len >= 0:
        rid = <unsigned char *>mq_malloc(s.connect_rid_len + 1)
        if rid == NULL:
            errno = ENOMEM
            return -1
        memcpy(rid, s.connect_rid, s.connect_rid_len)
    p = pipe_new(out_hwm(&s.o), in_hwm(&s.o))
    if p == NULL:
        free(rid)
        errno = ENOMEM
        return -1
    if (pipe_set_owner(&p.ends[1], s.io.mb, s) | pipe_set_owner(&p.ends[0], s.sock_mb, s.sock)) != 0:
        # Both ends are given either way, so that one decref each frees all.
        free(rid)
        pipe_decref(p)
        pipe_decref(p)
        errno = ENOMEM
        return -1
    if rid != NULL:
        p.ends[0].rid = rid
        p.ends[0].rid_len = s.connect_rid_len
        p.ends[0].rid_fixed = True
    s.pipe = &p.ends[1]
    return 0


cdef int session_send_identity(session_t *s) noexcept nogil:
    """ROUTER-like sockets learn the peer's routing id in band, as the first
    message of each connection. -1 (errno ENOMEM, nothing written) when
    memory is short."""
    global errno
    if not SOCKTYPES[s.o.type].routes_by_id:
        return 0
    if pipe_write_identity(s.pipe, s.mech.peer.identity, s.mech.peer.identity_len) != 0:
        errno = ENOMEM
        return -1
    pipe_flush(s.pipe)
    return 0


# ---------------------------------------------------------------- events

cdef void session_on_event(session_t *s, int events) noexcept nogil:
    if s.state == S_DEAD:
        return
    if s.state == S_CONNECTING:
        if s.ep.tp.connect_finish(s.h.fd) < 0:
            session_close_fd(s)
            session_schedule_reconnect(s)
            return
        evsink_emit(s.ev, EV_CONNECTED, s.h.fd, s.ep.name)
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
    # From the cached earliest deadline: scanning every session on each
    # wake let a crowd of idle connections (half-open ones from any peer)
    # slow every other connection's traffic down.
    cdef long long now = -1
    cdef long long best = io.t_next
    if best < 0:
        return -1
    now = mq_now_ms()
    if best <= now:
        return 0
    if best - now > MQ_INT_MAX:
        return MQ_INT_MAX      # a far deadline must not wrap to "wait forever" or "now"
    return <int>(best - now)


cdef void io_run_timers(io_thread_t *io) noexcept nogil:
    """Runs what is due, and finds the next deadline on the way. Nothing
    is due before io.t_next: no scan until then."""
    cdef long long now = mq_now_ms()
    cdef session_t *s = io.sessions
    cdef session_t *nx
    if io.t_next < 0 or io.t_next > now:
        return
    io.t_next = -1
    while s != NULL:
        nx = s.next
        if s.t_linger >= 0 and s.t_linger <= now:
            session_destroy(s)
        elif session_heartbeat_expired(s, now) and session_heartbeat_lost(s, now):
            session_on_disconnect(s, False)
        elif s.t_ping >= 0 and s.t_ping <= now:
            session_send_ping(s, now)
        elif s.t_timer >= 0 and s.t_timer <= now:
            s.t_timer = -1
            if s.state == S_IDLE:
                session_connect(s)
            elif s.state == S_HANDSHAKE or s.state == S_CONNECTING:
                session_on_disconnect(s, False)     # handshake timed out
        if s.state != S_DEAD:
            io_note_deadline(io, session_next_deadline(s))
        s = nx


cdef inline bint session_heartbeat_expired(session_t *s, long long now) noexcept nogil:
    return (s.t_hb_timeout >= 0 and s.t_hb_timeout <= now) or (s.t_hb_ttl >= 0 and s.t_hb_ttl <= now)


cdef bint session_heartbeat_lost(session_t *s, long long now) noexcept nogil:
    """A deadline passed; but the peer's answer may be waiting unread in
    the socket, having come while this thread was busy writing (the poll
    that would report it has not run yet). Read first: any byte resets the
    deadlines."""
    if s.state == S_ACTIVE and not s.in_blocked:
        session_read(s)
    return s.state == S_ACTIVE and session_heartbeat_expired(s, now)


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
