# Sessions: one per connection (or, connecting, per endpoint), living on an
# io thread (libzmq's session_base_t plus its connecter). A session owns the
# pipe end towards its socket, the fd, reconnection and linger; its engine
# (engine.pxi: ZMTP or raw) speaks on the fd. On the connecting side a
# session outlives the fd: it keeps its pipe across reconnects so that
# messages queued while the peer was away are sent when it is back.
#
# Life of a session:
#   connecting side: IDLE -(timer)-> CONNECTING -> HANDSHAKE -> ACTIVE,
#                    and back to IDLE on a connection error;
#   accepted side:   HANDSHAKE -> ACTIVE, destroyed on any error.
# A protocol error (bad greeting, wrong mechanism, incompatible peer type,
# oversized frame) ends a connecting session too: libzmq does not reconnect
# to a peer that speaks nonsense.
#
# One timer (s.timer) serves the state the session is in: the next connect
# (IDLE), CONNECT_TIMEOUT (CONNECTING), HANDSHAKE_IVL (HANDSHAKE); another
# the linger of a terminating session. The engine has its own.

cdef enum:
    S_IDLE = 0
    S_CONNECTING = 1
    S_HANDSHAKE = 2
    S_ACTIVE = 3
    S_DEAD = 4
    MQ_INT_MAX = 2147483647

cdef struct session_list_t:
    session_t *head             # e.g. the sessions a listener accepted

cdef struct session_t:
    handle_t h                  # h.io: the io thread, once started
    int refcnt                  # [any] io thread while alive + socket for connects
    session_list_t *list        # the list this session is on, or NULL
    session_t *list_next
    session_t *list_prev
    const engine_ops_t *engine  # what speaks on the connection
    void *eng                   # its state (engine.state_size bytes)
    options_t o
    mailbox_t *sock_mb          # where ATTACH goes (ref held)
    void *sock                  # sock_t*, only passed back in ATTACH
    evsink_t *ev                # the socket's events and counters (ref held)
    endpoint_t ep               # where it connects (or the listener's); ep.name for events
    int err_code                # protocol error to report, 0: none
    bint connecter
    bint connected_before       # a reconnect tells the socket (HICCUP)
    long long tag               # the socket's id for the endpoint, set on its pipes
    unsigned char connect_rid[256]  # CONNECT_ROUTING_ID for pipes made per connection
    int connect_rid_len         # -1: none
    int state
    pipe_end_t *pipe            # our end; NULL until attached
    bint terminating
    bint no_reconnect
    timer_t timer               # connect / connect timeout / handshake timeout
    timer_t linger              # a terminating session gives up
    int cur_ivl                 # last backoff interval, -1 before the first retry
    bint in_blocked             # the engine stopped reading: the pipe is full
    bint out_idle               # the engine found the pipe empty
    bint pipe_done              # the socket ended the pipe: flush, then finish
    bint skip_in                # dropping the rest of a message cut by a reconnect
    bint skip_out               # likewise, outbound
    pipe_t *fast_pipe           # the pipe whose fast write path the engine opened, or NULL
    pipe_t *read_pipe           # the pipe whose fast read path is open, or NULL (fast_read.pxi)
    bint in_resume              # the socket's thread left input for the engine to decode
    pipe_end_t *zap             # our end of the pipe to the ZAP handler while asking (zap.pxi)
    int groups                  # GROUPS_OUT (RADIO), GROUPS_IN (DISH), 0: no group framing
    msg_t group_half            # [groups] out: the body behind the group frame sent; in: the group frame read
    bint group_holding          # group_half holds a message
    void (*zap_command)(session_t *, command_t *) noexcept nogil   # what reads it


cdef enum:
    GROUPS_OUT = 1
    GROUPS_IN = 2

cdef handle_ops_t SESSION_OPS


cdef session_t *session_new(options_t *o, mailbox_t *sock_mb, void *sock, bint connecter,
                            const endpoint_t *ep, evsink_t *ev) noexcept nogil:
    """A session for the endpoint, with the engine its transport and socket
    type call for. NULL when memory is short (or no engine speaks it)."""
    cdef const engine_ops_t *engine = engine_ops_for(ep.tp.engine_kind, o.type)
    cdef session_t *s
    if engine == NULL:
        return NULL
    s = <session_t *>mq_calloc(1, sizeof(session_t))
    if s == NULL:
        return NULL
    s.engine = engine
    s.eng = mq_calloc(1, engine.state_size)
    if s.eng == NULL:
        free(s)
        return NULL
    s.h.ops = &SESSION_OPS
    s.h.fd = -1
    s.refcnt = 1
    memcpy(&s.o, o, sizeof(options_t))
    memcpy(&s.ep, ep, sizeof(endpoint_t))
    s.connecter = connecter
    s.connect_rid_len = -1
    s.cur_ivl = -1
    s.groups = GROUPS_OUT if SOCKTYPES[o.type].groups_out else GROUPS_IN if SOCKTYPES[o.type].groups_in else 0
    msg_init(&s.group_half)
    timer_init(&s.timer, s, session_on_timer)
    timer_init(&s.linger, s, session_on_linger)
    if engine.init(s) < 0:
        # Callers refuse the connect, or close the accepted fd.
        engine.fini(s)
        free(s.eng)
        free(s)
        return NULL
    s.sock_mb = sock_mb
    mailbox_incref(sock_mb)
    s.sock = sock
    s.ev = ev
    evsink_incref(ev)
    zap_slot_incref(s.o.zap)
    return s


cdef void session_decref(session_t *s) noexcept nogil:
    if mq_int_add(&s.refcnt, -1) != 0:
        return
    s.engine.fini(s)
    free(s.eng)
    mailbox_decref(s.sock_mb)
    evsink_decref(s.ev)
    zap_slot_decref(s.o.zap)
    free(s)


cdef inline timers_t *session_timers(session_t *s) noexcept nogil:
    return &s.h.io.timers


cdef inline void session_arm(session_t *s, timer_t *t, long long ms) noexcept nogil:
    timer_arm(&s.h.io.timers, t, mq_now_ms() + ms)


# ---------------------------------------------------------------- lists

cdef void session_list_add(session_list_t *l, session_t *s) noexcept nogil:
    s.list = l
    s.list_prev = NULL
    s.list_next = l.head
    if l.head != NULL:
        l.head.list_prev = s
    l.head = s


cdef void session_list_remove(session_t *s) noexcept nogil:
    if s.list == NULL:
        return
    if s.list_prev != NULL:
        s.list_prev.list_next = s.list_next
    else:
        s.list.head = s.list_next
    if s.list_next != NULL:
        s.list_next.list_prev = s.list_prev
    s.list = NULL
    s.list_next = NULL
    s.list_prev = NULL


# ---------------------------------------------------------------- lifecycle

cdef void session_start(io_thread_t *io, session_t *s) noexcept nogil:
    s.h.io = io
    io.nobjects += 1
    if s.connecter:
        session_connect(s)
    else:
        session_begin_handshake(s)


cdef void session_destroy(session_t *s) noexcept nogil:
    """Ends the session for good: fd closed, pipe end closed."""
    cdef io_thread_t *io = s.h.io
    if s.state == S_DEAD:
        return
    s.engine.unplug(s)
    session_close_fd(s)
    session_drop_group_half(s)
    timer_cancel(&io.timers, &s.timer)
    timer_cancel(&io.timers, &s.linger)
    if s.pipe != NULL:
        pipe_close(s.pipe, 0)
        s.pipe = NULL
    s.state = S_DEAD
    session_list_remove(s)
    io.nobjects -= 1
    io_retire(io, &s.h)


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
            session_arm(s, &s.linger, linger)
    if s.state != S_ACTIVE and (session_nothing_queued(s) or session_never_connects(s)):
        # Nothing left to deliver, or no connection to deliver it on ever
        # again: no need to wait.
        session_destroy(s)
        return
    session_pump_out(s)


cdef bint session_nothing_queued(session_t *s) noexcept nogil:
    cdef msg_t *front = ypipe_peek(s.pipe.inq)
    return not s.engine.has_output(s) and front != NULL and (front.flags & MSG_DELIMITER) != 0


cdef inline bint session_never_connects(session_t *s) noexcept nogil:
    # A connect that failed with reconnection off (RECONNECT_IVL <= 0).
    return s.state == S_IDLE and not timer_armed(&s.timer)


cdef inline void session_pump_out(session_t *s) noexcept nogil:
    if s.state == S_ACTIVE or s.state == S_HANDSHAKE:
        s.engine.restart_output(s)


cdef inline void session_drop_group_half(session_t *s) noexcept nogil:
    # A group message cut in two by the end of its connection (RADIO: its
    # body goes with it, as libzmq; DISH: a group frame without its body).
    if s.group_holding:
        msg_close(&s.group_half)
        s.group_holding = False


cdef void session_fast_on(session_t *s, stream_out_t *out) noexcept nogil:
    """The engine is idle with nothing buffered: the socket's thread may
    write to the fd itself (fast_write.pxi)."""
    if s.pipe == NULL or s.h.fd < 0 or s.groups:
        return      # RADIO/DISH sessions turn group messages into frames
    if s.fast_pipe != NULL and s.fast_pipe != s.pipe.pipe:
        session_fast_off(s)
    s.fast_pipe = s.pipe.pipe
    fastw_open(&s.fast_pipe.fw, s.h.fd, out)


cdef inline void session_fast_off(session_t *s) noexcept nogil:
    """Before the io thread touches the engine's out buffer or the fd."""
    if s.fast_pipe != NULL:
        fastw_close(&s.fast_pipe.fw)
        s.fast_pipe = NULL


cdef void session_read_on(session_t *s) noexcept nogil:
    """[leaving the session] When the engine's input is idle, the socket's
    thread may read the connection itself (fast_read.pxi)."""
    if (s.engine.input_idle == NULL or s.state != S_ACTIVE or s.pipe == NULL
            or s.pipe.closed or s.h.fd < 0 or s.in_blocked or s.in_resume
            or s.groups or s.skip_in or s.terminating or conflating(&s.o)
            or SOCKTYPES[s.o.type].reads_subscriptions
            or not s.engine.input_idle(s)):
        return
    s.read_pipe = s.pipe.pipe
    fastr_open(&s.read_pipe.fr, s.h.fd, s, s.engine.take_input)


cdef inline void session_read_off(session_t *s) noexcept nogil:
    """[entering the session] From here the io thread owns the engine's
    input and the pipe's writing side."""
    if s.read_pipe != NULL:
        fastr_close(&s.read_pipe.fr)
        s.read_pipe = NULL


cdef inline void session_wake_reader(session_t *s) noexcept nogil:
    """[path closed] poll() holds the files it sleeps on: closing the fd a
    socket's thread sleeps on (fast_read.pxi) would neither wake it nor end
    the connection until something else did. So wake it first."""
    if s.pipe != NULL and mq_int_load(&s.pipe.pipe.fr.lent):
        pipe_send_command(s.pipe.peer, CMD_ACTIVATE_READ, 0)


cdef void session_close_fd(session_t *s) noexcept nogil:
    session_fast_off(s)
    if s.h.fd >= 0:
        session_wake_reader(s)
        handle_forget(s.h.io, &s.h)
        close(s.h.fd)
        s.h.fd = -1


cdef void session_forget_connection(session_t *s) noexcept nogil:
    """The engine forgets the connection. A message cut in half by the
    disconnect is dropped in both directions: its frames already queued
    inbound are taken back, and the rest of one being sent is skipped."""
    s.engine.unplug(s)
    session_drop_group_half(s)
    s.in_blocked = False
    s.in_resume = False
    s.out_idle = False
    if s.pipe != NULL:
        if s.pipe.more_out:
            ypipe_rollback(s.pipe.outq)
            s.pipe.more_out = False
        s.skip_out = s.pipe.more_in


cdef void session_on_disconnect(session_t *s, bint protocol_error) noexcept nogil:
    cdef int fd = s.h.fd
    if s.state == S_DEAD:
        return
    # The socket's thread must stop writing to this fd before anyone hears
    # of the disconnect: a message sent after DISCONNECTED queues for the
    # next connection, it does not go into the dying one (fast_write.pxi).
    session_fast_off(s)
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
    session_forget_connection(s)
    timer_cancel(session_timers(s), &s.timer)
    if protocol_error:
        s.no_reconnect = True
    if not s.connecter or s.no_reconnect or s.pipe_done or s.o.reconnect_ivl <= 0:
        session_destroy(s)
        return
    if (s.o.immediate or SOCKTYPES[s.o.type].pipe_per_connection) and s.pipe != NULL:
        # With IMMEDIATE (and for STREAM, whose user sees each connection
        # come and go) the pipe exists only while connected.
        pipe_close(s.pipe, 0)
        s.pipe = NULL
    session_schedule_reconnect(s)


cdef inline void session_engine_error(session_t *s, bint protocol_error) noexcept nogil:
    """The engine says the connection is over (a protocol error: the peer's
    fault, no reconnect; else errno says why)."""
    session_on_disconnect(s, protocol_error)


cdef void session_schedule_reconnect(session_t *s) noexcept nogil:
    """After a failed connect: try again after reconnect_ivl_next. Any
    RECONNECT_IVL <= 0 means never, as in libzmq 4.3.5 (0 used to retry in
    a loop): the session stays idle, its pipe kept, until the socket closes
    or disconnects."""
    s.state = S_IDLE
    timer_cancel(session_timers(s), &s.timer)
    if s.o.reconnect_ivl <= 0:
        return
    cdef int ivl = reconnect_ivl_next(s)
    session_arm(s, &s.timer, ivl)
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
    cdef int rc = s.ep.tp.connect_start(&s.ep, &s.o, &fd)
    timer_cancel(session_timers(s), &s.timer)
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
    handle_want(s.h.io, &s.h, MQ_POLLOUT)
    if not s.h.registered:
        # The poller is out of memory: nothing would ever tell us.
        session_close_fd(s)
        session_schedule_reconnect(s)
        return
    if s.o.connect_timeout > 0:
        session_arm(s, &s.timer, s.o.connect_timeout)


cdef void session_connect_timed_out(session_t *s) noexcept nogil:
    """CONNECT_TIMEOUT: a connect still in progress is abandoned (its fd
    closed, as libzmq's tcp_connecter reports it) and tried again."""
    evsink_emit(s.ev, EV_CLOSED, s.h.fd, s.ep.name)
    session_close_fd(s)
    session_schedule_reconnect(s)


cdef void session_begin_handshake(session_t *s) noexcept nogil:
    s.ep.tp.tune(s.h.fd, &s.o)
    s.state = S_HANDSHAKE
    handle_want(s.h.io, &s.h, MQ_POLLIN)
    if not s.h.registered:
        session_on_disconnect(s, False)     # poller out of memory
        return
    if s.o.handshake_ivl > 0:
        session_arm(s, &s.timer, s.o.handshake_ivl)
    s.engine.plug(s)


cdef void session_engine_ready(session_t *s, const unsigned char *peer_id, int peer_id_len,
                               chunk_t *meta) noexcept nogil:
    """The engine finished its handshake: messages may flow. peer_id is the
    routing id the peer asked for (ROUTER-like sockets learn it); meta the
    properties of the connection's messages (engine.pxi's
    connection_metadata; this takes the reference), or NULL."""
    cdef pipe_t *p
    cdef command_t cmd
    s.state = S_ACTIVE
    timer_cancel(session_timers(s), &s.timer)
    s.cur_ivl = -1
    evsink_count(s.ev, 1, 0)
    if s.pipe != NULL:
        if session_send_identity(s, peer_id, peer_id_len, meta) < 0:
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
            if meta != NULL:
                chunk_decref(meta)
            session_on_disconnect(s, False)     # errno ENOMEM
            return
        p = s.pipe.pipe
        if session_send_identity(s, peer_id, peer_id_len, meta) < 0:
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
    if (pipe_set_owner(&p.ends[1], s.h.io.mb, s) | pipe_set_owner(&p.ends[0], s.sock_mb, s.sock)) != 0:
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


cdef int session_send_identity(session_t *s, const unsigned char *peer_id, int peer_id_len,
                               chunk_t *meta) noexcept nogil:
    """What the socket learns in band at the start of each connection,
    before its messages: the peer's routing id (ROUTER-like sockets), then
    the connection's properties (meta; this takes the reference). -1
    (errno ENOMEM) when memory is short (a routing id already written then
    stays: the socket takes a newer one in its place)."""
    global errno
    if SOCKTYPES[s.o.type].routes_by_id and pipe_write_identity(s.pipe, peer_id, peer_id_len) != 0:
        if meta != NULL:
            chunk_decref(meta)
        errno = ENOMEM
        return -1
    if meta != NULL and pipe_write_metadata(s.pipe, meta) != 0:
        chunk_decref(meta)
        errno = ENOMEM
        return -1
    pipe_flush(s.pipe)
    return 0


# ---------------------------------------------------------------- the pipe, for engines

cdef inline int session_pull_plain(session_t *s, msg_t *m) noexcept nogil:
    """session_pull_msg without group framing."""
    cdef int rc
    while True:
        rc = pipe_read(s.pipe, m)
        if rc == 0:
            s.out_idle = True
            return 0
        if rc < 0:
            s.pipe_done = True
            return -1
        if not s.skip_out:
            return 1
        s.skip_out = (m.flags & MSG_MORE) != 0
        msg_close(m)


cdef inline int session_pull_msg(session_t *s, msg_t *m) noexcept nogil:
    """The next message for the engine to send: 1 one in *m; 0 the pipe is
    empty (the engine is told again, restart_output, when it is not); -1
    the socket ended the pipe. Drops the rest of a message cut by a
    reconnect. RADIO/DISH messages come framed for the wire (group_out)."""
    if s.groups:
        return session_group_out(s, m)
    return session_pull_plain(s, m)


cdef int session_group_out(session_t *s, msg_t *m) noexcept nogil:
    """As libzmq's radio_session/dish_session: RADIO's group message goes
    out as a group frame (MORE) then its body; DISH's JOIN/LEAVE as their
    commands. A message there is no memory to frame is dropped."""
    cdef msg_t g
    cdef size_t n
    cdef const unsigned char *p
    cdef int rc
    if s.group_holding:
        memcpy(m, &s.group_half, sizeof(msg_t))
        msg_init(&s.group_half)
        s.group_holding = False
        return 1
    while True:
        rc = session_pull_plain(s, m)
        if rc <= 0:
            return rc
        if s.groups == GROUPS_IN:
            if not (m.flags & (MSG_JOIN | MSG_LEAVE)):
                return 1        # (DISH sends nothing else)
            if join_to_command(m) == 0:
                return 1
            msg_close(m)
            continue
        p = msg_group(m, &n)
        if msg_init_bytes(&g, p, n) != 0:
            msg_close(m)
            continue
        g.flags = MSG_MORE
        m.flags &= ~MSG_MORE
        memcpy(&s.group_half, m, sizeof(msg_t))
        s.group_holding = True
        memcpy(m, &g, sizeof(msg_t))
        return 1


cdef inline int session_push_msg(session_t *s, msg_t *m) noexcept nogil:
    """Hands a frame the engine read to the socket. 0: taken (or dropped:
    no pipe, the rest of a cut message); 1: the pipe is full, the frame
    stays with the engine; -1: the session ended (out of memory, or a
    DISH's peer broke group framing)."""
    if s.groups == GROUPS_IN:
        return session_group_in(s, m)
    return session_push_plain(s, m)


cdef int session_group_in(session_t *s, msg_t *m) noexcept nogil:
    """DISH, as libzmq's dish_session: a group frame (MORE, at most
    GROUP_MAX bytes) then a one-frame body become one message with that
    group. Anything else is a protocol error: the connection ends."""
    cdef int rc
    if not s.group_holding:
        if not (m.flags & MSG_MORE) or m.size > GROUP_MAX:
            msg_close(m)
            session_engine_error(s, True)
            return -1
        memcpy(&s.group_half, m, sizeof(msg_t))
        msg_init(m)
        s.group_holding = True
        return 0
    if m.flags & MSG_MORE:
        msg_close(m)
        session_engine_error(s, True)
        return -1
    if m.group == NULL and s.group_half.size:
        # (a frame the full pipe gave back has its group already)
        if msg_set_group(m, msg_data(&s.group_half), s.group_half.size) != 0:
            msg_close(m)
            session_on_disconnect(s, False)
            return -1
    rc = session_push_plain(s, m)
    if rc == 0:
        session_drop_group_half(s)
    return rc


cdef inline int session_push_plain(session_t *s, msg_t *m) noexcept nogil:
    """session_push_msg without group framing."""
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
        # frames already queued are taken back, see session_forget_connection).
        session_on_disconnect(s, False)
        return -1
    return 0


cdef inline void session_flush_in(session_t *s) noexcept nogil:
    if s.pipe != NULL and not s.pipe.closed:
        pipe_flush(s.pipe)


cdef void session_subscribe_all(session_t *s) noexcept nogil:
    """For a transport that carries no subscriptions or joins (pgm, udp):
    puts the pipe on every topic or group of the sending socket (XPUB/PUB,
    RADIO), silently, as libzmq attaches such a pipe. Short of memory it
    stays on none."""
    cdef msg_t every
    if s.pipe == NULL:
        return
    msg_init(&every)
    every.flags = MSG_SUBSCRIBE_ALL
    if session_push_plain(s, &every) != 0:
        msg_close(&every)
    session_flush_in(s)


cdef inline void session_block_input(session_t *s) noexcept nogil:
    """The pipe is full: stop reading so that TCP pushes back on the peer."""
    s.in_blocked = True
    handle_want(s.h.io, &s.h, s.h.events & ~MQ_POLLIN)


# ---------------------------------------------------------------- events

cdef void session_on_event(session_t *s, int events) noexcept nogil:
    if s.state == S_DEAD:
        return
    if s.state == S_CONNECTING:
        timer_cancel(session_timers(s), &s.timer)
        if s.ep.tp.connect_finish(s.h.fd) < 0:
            session_close_fd(s)
            session_schedule_reconnect(s)
            return
        evsink_emit(s.ev, EV_CONNECTED, s.h.fd, s.ep.name)
        session_begin_handshake(s)
        return
    s.engine.on_event(s, events)


cdef void session_on_pipe_command(session_t *s, command_t *c) noexcept nogil:
    if s.zap != NULL and s.zap == c.end and s.state != S_DEAD:
        s.zap_command(s, c)
        return
    if s.state == S_DEAD or s.pipe != c.end:
        return
    if c.type == CMD_ACTIVATE_READ:
        if s.out_idle:
            s.out_idle = False
            session_pump_out(s)
    elif c.type == CMD_ACTIVATE_WRITE:
        if s.in_blocked or s.in_resume:
            s.in_blocked = False
            s.in_resume = False
            s.engine.restart_input(s)
    elif c.type == CMD_PIPE_TERM:
        c.end.peer_gone = True
        session_term(s, c.arg)


cdef void session_zap_close(session_t *s) noexcept nogil:
    """Closes the pipe to the ZAP handler (after its reply, or when the
    connection ends before it)."""
    if s.zap != NULL:
        pipe_close(s.zap, 0)
        s.zap = NULL


cdef void session_on_timer(timer_t *t, long long now) noexcept nogil:
    cdef session_t *s = <session_t *>t.owner
    session_read_off(s)
    if s.state == S_IDLE:
        session_connect(s)
    elif s.state == S_CONNECTING:
        session_connect_timed_out(s)
    elif s.state == S_HANDSHAKE:
        session_on_disconnect(s, False)     # handshake timed out


cdef void session_on_linger(timer_t *t, long long now) noexcept nogil:
    session_read_off(<session_t *>t.owner)
    session_destroy(<session_t *>t.owner)


# ---------------------------------------------------------------- as an io thread handle

cdef void session_h_on_event(handle_t *h, int events) noexcept nogil:
    cdef session_t *s = <session_t *>h
    if s.read_pipe != NULL:
        if events == MQ_POLLIN and fastr_yield(&s.read_pipe.fr):
            return      # the socket's thread read it (fast_read.pxi)
        session_read_off(s)
    session_on_event(s, events)
    session_read_on(s)


cdef void session_h_on_command(handle_t *h, command_t *c) noexcept nogil:
    cdef session_t *s = <session_t *>h
    session_read_off(s)
    if c.type == CMD_ADD_SESSION:
        session_start(h.io, s)
    elif c.type == CMD_TERM_SESSION:
        session_term(s, c.arg)
        session_decref(s)       # the socket's reference, which the command carried
        return
    else:
        session_on_pipe_command(s, c)
    session_read_on(s)


cdef void session_h_release(handle_t *h) noexcept nogil:
    session_decref(<session_t *>h)


SESSION_OPS.on_event = session_h_on_event
SESSION_OPS.on_command = session_h_on_command
SESSION_OPS.release = session_h_release
