# Request-reply (RFC 28): DEALER, ROUTER, REQ, REP.
#
# DEALER is load-balance out, fair-queue in. ROUTER routes by the peer's
# routing id: every incoming message gets the id of its pipe as a first
# frame, and a sent message's first frame names the pipe. REQ is a DEALER
# that adds the empty delimiter (and, with REQ_CORRELATE, a request id) and
# enforces send/recv alternation; REP stores the envelope of each request
# and puts it back in front of the reply.
#
# ROUTER, STREAM, SERVER and PEER route by id and share one private state
# (route_state_t); REQ and REP each have their own.

# ---------------------------------------------------------------- route state

cdef struct route_state_t:
    mq_idmap_t *ids             # routing id -> pipe
    unsigned int next_rid       # counter for made-up ids
    held_msg_t held             # body frame held back while its id frame is returned
    pipe_end_t *route_out       # send: the peer of the message being sent
    bint route_in_msg           # send: inside a message (after the id frame)
    bint route_recv_in_msg      # recv: inside a message (after the id frame)
    msgq_t pending              # messages made up for the user (STREAM notices)


cdef inline route_state_t *route_state(sock_t *s) noexcept nogil:
    return <route_state_t *>sock_priv(s)


cdef int route_init(sock_t *s) noexcept nogil:
    cdef route_state_t *r = route_state(s)
    msg_init(&r.held.msg)
    # A random start (as libzmq), so that no peer can guess the id the next
    # anonymous peer will get.
    r.next_rid = mq_random_u32()
    r.ids = mq_idmap_new()
    return ENOMEM if r.ids == NULL else 0


cdef void route_free(sock_t *s) noexcept nogil:
    cdef route_state_t *r = route_state(s)
    msg_close(&r.held.msg)
    msgq_clear(&r.pending)
    if r.ids != NULL:
        mq_idmap_free(r.ids)
        r.ids = NULL


cdef void route_forget_rid(sock_t *s, pipe_end_t *e) noexcept nogil:
    """Frees e's routing id for others, if the map gives it to e."""
    cdef route_state_t *r = route_state(s)
    if e.rid_len >= 0 and mq_idmap_get(r.ids, e.rid, e.rid_len) == <void *>e:
        mq_idmap_del(r.ids, e.rid, e.rid_len)


cdef void route_forget(sock_t *s, pipe_end_t *e, bint gone) noexcept nogil:
    cdef route_state_t *r = route_state(s)
    route_forget_rid(s, e)
    if r.route_out == e:
        r.route_out = NULL


cdef void route_abort_send(sock_t *s) noexcept nogil:
    cdef route_state_t *r = route_state(s)
    if r.route_in_msg:
        sock_unwrite(r.route_out)
        r.route_in_msg = False
        r.route_out = NULL


cdef void route_family(socktype_t *row) noexcept nogil:
    """The hooks of the types that route by id (their private state)."""
    row.priv_size = sizeof(route_state_t)
    row.xinit = route_init
    row.xfree = route_free
    row.xforget = route_forget
    row.xabort_send = route_abort_send
    row.xtake_identity = router_take_identity

# ---------------------------------------------------------------- routing ids

cdef void router_new_rid(sock_t *s, unsigned char *rid) noexcept nogil:
    """A made-up id, 0x00 + u32 counter (libzmq's form). The counter starts
    at a random value and skips ids that are taken: a peer that announced
    the id the counter would give next gets no hold on the peer that
    connects next."""
    cdef route_state_t *r = route_state(s)
    rid[0] = 0
    while True:
        r.next_rid += 1
        mq_put_u32(rid + 1, r.next_rid)
        if mq_idmap_get(r.ids, rid, 5) == NULL:
            return


cdef int router_set_rid(sock_t *s, pipe_end_t *e, const unsigned char *rid, int n) noexcept nogil:
    """Gives e the id `rid` (none: a made-up one), following libzmq: a
    duplicate id keeps the old connection (the new one is ignored) unless
    ROUTER_HANDOVER is set. Handover never takes a made-up id nor one the
    user gave a connection: only a peer that announced an id can be
    replaced by one announcing it again."""
    cdef pipe_end_t *old
    cdef unsigned char gen[5]
    cdef bint generated = n == 0
    if generated:
        router_new_rid(s, gen)
        rid = gen
        n = 5
    if e.rid_len >= 0:
        if e.rid_len == n and memcmp(e.rid, rid, n) == 0:
            return 0
        route_forget_rid(s, e)
    old = <pipe_end_t *>mq_idmap_get(route_state(s).ids, rid, n)
    if old != NULL and old != e:
        if not s.o.router_handover or old.rid_generated or old.rid_fixed:
            e.ignored = True
            pa_remove(&s.fq, e)
            return 0
        sock_drop_pipe(s, old)      # which frees the id
    free(e.rid)
    e.rid_len = -1
    e.rid = <unsigned char *>mq_malloc(n if n else 1)
    if e.rid == NULL:
        return ENOMEM
    memcpy(e.rid, rid, n)
    e.rid_generated = generated
    if mq_idmap_put(route_state(s).ids, rid, n, e) < 0:
        return ENOMEM
    e.rid_len = n
    return 0


cdef int route_take_fixed_rid(sock_t *s, pipe_end_t *e) noexcept nogil:
    """A connection the user named (CONNECT_ROUTING_ID) gets that id from
    whoever held it: a peer that announced it first is let go, so that its
    messages cannot pass for this connection's."""
    cdef mq_idmap_t *ids = route_state(s).ids
    cdef pipe_end_t *old = <pipe_end_t *>mq_idmap_get(ids, e.rid, e.rid_len)
    if old != NULL and old != e:
        sock_drop_pipe(s, old)
    if mq_idmap_put(ids, e.rid, e.rid_len, e) < 0:
        return ENOMEM
    return 0


cdef int router_take_identity(sock_t *s, pipe_end_t *e, msg_t *m) noexcept nogil:
    if e.rid_fixed:
        return 0
    return router_set_rid(s, e, msg_data(m), <int>m.size)


cdef int router_attach(sock_t *s, pipe_end_t *e) noexcept nogil:
    cdef msg_t *front
    if e.rid_fixed:
        if route_take_fixed_rid(s, e) != 0:
            return ENOMEM
    else:
        # An accepted connection's session put the peer's identity first.
        front = ypipe_peek(e.inq)
        if front != NULL and front.flags & MSG_IDENTITY and fq_take_identity(s, e) != 0:
            return ENOMEM
    if s.o.probe_router:
        send_empty_to(s, e)
    return 0


cdef void router_read_activated(sock_t *s, pipe_end_t *e) noexcept nogil:
    # Learn a connecting pipe's id as soon as it arrives, so that sends to
    # that id work before the user ever receives.
    cdef msg_t *front = ypipe_peek(e.inq)
    if front != NULL and front.flags & MSG_IDENTITY and not e.more_in and fq_take_identity(s, e) != 0:
        sock_drop_pipe(s, e)        # no memory to route to it: let it go
        return
    if not e.ignored:
        pa_activate(&s.fq, e)


cdef void send_empty_to(sock_t *s, pipe_end_t *e) noexcept nogil:
    cdef msg_t m
    msg_init(&m)
    if pipe_check_write(e):
        if pipe_write(e, &m) == 0:
            sock_flush_pipe(s, e)


cdef int route_pick_peer(sock_t *s, msg_t *m, bint mandatory) noexcept nogil:
    """The routing-id frame of a ROUTER or STREAM send: it names the pipe
    the rest of the message goes to (without MORE it is silently ignored).
    An unknown or full peer is EHOSTUNREACH / EAGAIN when `mandatory`;
    otherwise the message is dropped."""
    cdef pipe_end_t *e
    cdef route_state_t *r = route_state(s)
    if not (m.flags & MSG_MORE):
        msg_close(m)
        return 0
    e = <pipe_end_t *>mq_idmap_get(r.ids, msg_data(m), m.size)
    if e == NULL or e.closed or e.peer_gone:
        if mandatory:
            return EHOSTUNREACH
        e = NULL
    elif not pipe_check_write(e):
        if mandatory:
            return EAGAIN
        e = NULL
        s.stats.msgs_dropped += 1
    r.route_out = e
    r.route_in_msg = True
    msg_close(m)
    return 0


cdef int route_id_first(sock_t *s, pipe_end_t *e, msg_t *m) noexcept nogil:
    """Hands out e's routing id in *m and holds the frame that was there
    back for the next recv. ENOMEM (nothing changed) when the id frame
    cannot be made: the caller drops the message."""
    cdef msg_t rid
    cdef held_msg_t *held = &route_state(s).held
    if e.rid_len < 0 or msg_init_bytes(&rid, e.rid, e.rid_len) < 0:
        return ENOMEM
    memcpy(&held.msg, m, sizeof(msg_t))
    held.has = True
    memcpy(m, &rid, sizeof(msg_t))
    m.flags = MSG_MORE
    return 0


cdef int route_recv_drop(sock_t *s, msg_t *m) noexcept nogil:
    """No memory to name the sender of the message *m begins: it is
    dropped whole, and the receive fails with ENOMEM."""
    s.stats.msgs_dropped += 1
    drop_rest_of_message(s, m)
    route_state(s).route_recv_in_msg = False
    return ENOMEM


cdef int router_send(sock_t *s, msg_t *m) noexcept nogil:
    cdef pipe_end_t *e
    cdef route_state_t *r = route_state(s)
    cdef bint more = (m.flags & MSG_MORE) != 0
    if not r.route_in_msg:
        return route_pick_peer(s, m, s.o.router_mandatory)
    e = r.route_out
    if e != NULL and not e.closed:
        if pipe_write(e, m) != 0:
            # Out of memory: none of the message goes; the next frame is
            # the routing id of a new one.
            if e.more_out:
                pipe_unwrite(e)
            r.route_in_msg = False
            r.route_out = NULL
            return ENOMEM
        if not more:
            sock_flush_pipe(s, e)
    else:
        msg_close(m)
    if not more:
        r.route_in_msg = False
        r.route_out = NULL
    return 0


cdef int router_recv(sock_t *s, msg_t *m) noexcept nogil:
    """Each message comes as [routing id][frames...]."""
    cdef int rc
    cdef pipe_end_t *e
    cdef route_state_t *r = route_state(s)
    if held_take(&r.held, m):
        return 0
    rc = fq_recv(s, m)
    if rc != 0:
        return rc
    e = s.fq_last
    if r.route_recv_in_msg:
        r.route_recv_in_msg = (m.flags & MSG_MORE) != 0
        return 0
    # First frame of a message: hand out the id, keep the frame for later.
    if (e.rid_len < 0 and router_set_rid(s, e, NULL, 0) != 0) or route_id_first(s, e, m) != 0:
        return route_recv_drop(s, m)
    r.route_recv_in_msg = (r.held.msg.flags & MSG_MORE) != 0
    return 0


cdef bint router_has_in(sock_t *s) noexcept nogil:
    return route_state(s).held.has or fq_has_in(s)


cdef bint router_has_out(sock_t *s) noexcept nogil:
    cdef int i
    if not s.o.router_mandatory:
        return True
    for i in range(s.npipes):
        if not s.pipes[i].ignored and pipe_check_write(s.pipes[i]):
            return True
    return False


# ---------------------------------------------------------------- DEALER

cdef int dealer_attach(sock_t *s, pipe_end_t *e) noexcept nogil:
    if s.o.probe_router:
        send_empty_to(s, e)
    return 0


# ---------------------------------------------------------------- REQ

cdef struct req_state_t:
    bint receiving_reply
    bint message_begins
    bint reply_started          # recv: envelope already taken off
    unsigned int request_id
    pipe_end_t *reply_pipe      # where the request went: the reply must come from it


cdef inline req_state_t *req_state(sock_t *s) noexcept nogil:
    return <req_state_t *>sock_priv(s)


cdef int req_init(sock_t *s) noexcept nogil:
    cdef req_state_t *q = req_state(s)
    q.message_begins = True
    q.request_id = mq_random_u32()     # as libzmq: no peer can guess the next one
    return 0


cdef void req_forget(sock_t *s, pipe_end_t *e, bint gone) noexcept nogil:
    cdef req_state_t *q = req_state(s)
    if gone and q.reply_pipe == e:
        q.reply_pipe = NULL


cdef void req_abort_send(sock_t *s) noexcept nogil:
    """The request is taken back whole: the next send starts one afresh."""
    cdef req_state_t *q = req_state(s)
    if not q.receiving_reply:
        q.message_begins = True


cdef void req_hooks(socktype_t *row) noexcept nogil:
    row.priv_size = sizeof(req_state_t)
    row.xinit = req_init
    row.xforget = req_forget
    row.xabort_send = req_abort_send


cdef int req_send_envelope(sock_t *s) noexcept nogil:
    """Starts a request: [request id] + empty delimiter, through the
    load-balancer, which so picks the pipe the reply must come from."""
    cdef msg_t m
    cdef int rc
    cdef req_state_t *q = req_state(s)
    if s.o.req_correlate:
        msg_init_size(&m, 4)
        memcpy(msg_data(&m), &q.request_id, 4)     # host order, as libzmq
        m.flags = MSG_MORE
        rc = lb_send(s, &m)
        if rc != 0:
            msg_close(&m)
            return rc
    msg_init(&m)
    m.flags = MSG_MORE
    rc = lb_send(s, &m)
    if rc != 0:
        msg_close(&m)
        return rc
    q.reply_pipe = s.lb_last
    return 0


cdef void req_drop_queued(sock_t *s) noexcept nogil:
    """A new request makes every reply already queued stale."""
    cdef msg_t m
    msg_init(&m)
    while fq_recv(s, &m) == 0:
        msg_close(&m)


cdef int req_send(sock_t *s, msg_t *m) noexcept nogil:
    cdef int rc
    cdef req_state_t *q = req_state(s)
    if q.receiving_reply:
        if not s.o.req_relaxed:
            return EFSM_
        # Relaxed: give up on the outstanding reply and start anew.
        q.receiving_reply = False
        q.reply_started = False
        q.message_begins = True
    if q.message_begins:
        req_drop_queued(s)
        q.request_id += 1
        rc = req_send_envelope(s)
        if rc != 0:
            q.request_id -= 1
            return rc
        q.message_begins = False
    rc = lb_send(s, m)
    if rc == 0 and not (m.flags & MSG_MORE) and s.out_cur == NULL:
        q.receiving_reply = True
        q.message_begins = True
    elif rc == ENOMEM:
        q.message_begins = True     # the request was taken back whole, envelope too
    return rc


cdef void drop_rest_of_message(sock_t *s, msg_t *m) noexcept nogil:
    """m was a frame with MORE that is not wanted: read and drop the rest."""
    cdef bint more = (m.flags & MSG_MORE) != 0
    msg_close(m)
    while more:
        if fq_recv(s, m) != 0:
            return
        more = (m.flags & MSG_MORE) != 0
        msg_close(m)


cdef int req_recv(sock_t *s, msg_t *m) noexcept nogil:
    cdef int rc
    cdef pipe_end_t *e
    cdef req_state_t *q = req_state(s)
    if not q.receiving_reply:
        return EFSM_
    while not q.reply_started:
        rc = fq_recv(s, m)
        if rc != 0:
            return rc
        e = s.fq_last
        if q.reply_pipe != NULL and e != q.reply_pipe:
            drop_rest_of_message(s, m)      # a late reply from another peer
            continue
        if s.o.req_correlate:
            if m.size != 4 or not (m.flags & MSG_MORE) or memcmp(msg_data(m), &q.request_id, 4) != 0:
                drop_rest_of_message(s, m)
                continue
            msg_close(m)
            if fq_recv(s, m) != 0:
                return EAGAIN
        if m.size != 0 or not (m.flags & MSG_MORE):
            drop_rest_of_message(s, m)      # not a reply envelope
            continue
        msg_close(m)
        q.reply_started = True
    rc = fq_recv(s, m)
    if rc != 0:
        return rc
    if not (m.flags & MSG_MORE):
        q.receiving_reply = False
        q.reply_started = False
    return 0


cdef bint req_has_in(sock_t *s) noexcept nogil:
    return req_state(s).receiving_reply and fq_has_in(s)


cdef bint req_has_out(sock_t *s) noexcept nogil:
    if req_state(s).receiving_reply and not s.o.req_relaxed:
        return False
    return lb_has_out(s)


# ---------------------------------------------------------------- REP

cdef struct rep_state_t:
    msgq_t envelope             # frames to put back in front of the reply
    bint sending_reply
    bint reply_started
    bint reply_dropping
    pipe_end_t *reply_pipe      # the requester


cdef inline rep_state_t *rep_state(sock_t *s) noexcept nogil:
    return <rep_state_t *>sock_priv(s)


cdef void rep_free(sock_t *s) noexcept nogil:
    msgq_clear(&rep_state(s).envelope)


cdef void rep_forget(sock_t *s, pipe_end_t *e, bint gone) noexcept nogil:
    cdef rep_state_t *p = rep_state(s)
    if gone and p.reply_pipe == e:
        p.reply_pipe = NULL


cdef void rep_abort_send(sock_t *s) noexcept nogil:
    """REP's reply is dropped (as for a requester at its HWM)."""
    cdef rep_state_t *p = rep_state(s)
    if p.sending_reply and p.reply_started:
        sock_unwrite(p.reply_pipe)
        msgq_clear(&p.envelope)
        p.sending_reply = False
        p.reply_started = False
        p.reply_dropping = False
        s.stats.msgs_dropped += 1


cdef void rep_hooks(socktype_t *row) noexcept nogil:
    row.priv_size = sizeof(rep_state_t)
    row.xfree = rep_free
    row.xforget = rep_forget
    row.xabort_send = rep_abort_send


cdef int rep_recv(sock_t *s, msg_t *m) noexcept nogil:
    cdef int rc
    cdef bint more
    cdef rep_state_t *p = rep_state(s)
    if p.sending_reply:
        return EFSM_
    while not p.reply_started:
        rc = fq_recv(s, m)
        if rc != 0:
            return rc
        more = (m.flags & MSG_MORE) != 0
        if not more:
            # The message ended before any delimiter: not a request.
            msgq_clear(&p.envelope)
            msg_close(m)
            continue
        if m.size == 0:
            msg_close(m)
            p.reply_pipe = s.fq_last
            p.reply_started = True
            break
        if msgq_push(&p.envelope, m) != 0:
            # No memory to keep the envelope: the request cannot be
            # answered, so it is dropped as one that is not a request.
            msgq_clear(&p.envelope)
            s.stats.msgs_dropped += 1
            drop_rest_of_message(s, m)
    rc = fq_recv(s, m)
    if rc != 0:
        return rc
    if not (m.flags & MSG_MORE):
        p.reply_started = False
        p.sending_reply = True
    return 0


cdef int rep_write_envelope(sock_t *s, pipe_end_t *e) noexcept nogil:
    cdef msg_t env
    cdef rep_state_t *p = rep_state(s)
    while msgq_pop(&p.envelope, &env):
        env.flags = MSG_MORE
        if pipe_write(e, &env) != 0:
            msg_close(&env)
            return ENOMEM
    msg_init(&env)
    env.flags = MSG_MORE
    return pipe_write(e, &env)


cdef void rep_drop_reply(sock_t *s, pipe_end_t *e) noexcept nogil:
    """No memory for the reply: it is dropped whole, as for a requester
    at its HWM (REQ_RELAXED / a timeout let the requester go on)."""
    cdef rep_state_t *p = rep_state(s)
    if e.more_out:
        pipe_unwrite(e)
    msgq_clear(&p.envelope)
    p.reply_dropping = True
    s.stats.msgs_dropped += 1


cdef int rep_send(sock_t *s, msg_t *m) noexcept nogil:
    cdef rep_state_t *p = rep_state(s)
    cdef pipe_end_t *e = p.reply_pipe
    cdef msg_t env
    cdef bint more = (m.flags & MSG_MORE) != 0
    if not p.sending_reply:
        return EFSM_
    if p.reply_started and e == NULL and not p.reply_dropping:
        p.reply_dropping = True         # the requester left in mid-reply
    if not p.reply_started:
        p.reply_started = True
        if e == NULL or e.closed or e.peer_gone or not pipe_check_write(e):
            # The requester is gone or full: the reply is dropped.
            p.reply_dropping = True
            s.stats.msgs_dropped += 1
            msgq_clear(&p.envelope)
        elif rep_write_envelope(s, e) != 0:
            rep_drop_reply(s, e)
    if p.reply_dropping:
        msg_close(m)
    elif pipe_write(e, m) != 0:
        rep_drop_reply(s, e)
        msg_close(m)
    if not more:
        if not p.reply_dropping:
            sock_flush_pipe(s, e)
        p.sending_reply = False
        p.reply_started = False
        p.reply_dropping = False
    return 0


cdef bint rep_has_in(sock_t *s) noexcept nogil:
    return not rep_state(s).sending_reply and fq_has_in(s)


cdef bint rep_has_out(sock_t *s) noexcept nogil:
    return rep_state(s).sending_reply
