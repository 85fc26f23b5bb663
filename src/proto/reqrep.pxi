# Request-reply (RFC 28): DEALER, ROUTER, REQ, REP.
#
# DEALER is load-balance out, fair-queue in. ROUTER routes by the peer's
# routing id: every incoming message gets the id of its pipe as a first
# frame, and a sent message's first frame names the pipe. REQ is a DEALER
# that adds the empty delimiter (and, with REQ_CORRELATE, a request id) and
# enforces send/recv alternation; REP stores the envelope of each request
# and puts it back in front of the reply.

# ---------------------------------------------------------------- routing ids

cdef void router_new_rid(sock_t *s, unsigned char *rid) noexcept nogil:
    """A made-up id, 0x00 + u32 counter (libzmq's form). The counter starts
    at a random value and skips ids that are taken: a peer that announced
    the id the counter would give next gets no hold on the peer that
    connects next."""
    rid[0] = 0
    while True:
        s.next_rid += 1
        mq_put_u32(rid + 1, s.next_rid)
        if mq_idmap_get(s.ids, rid, 5) == NULL:
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
        sock_forget_rid(s, e)
    old = <pipe_end_t *>mq_idmap_get(s.ids, rid, n)
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
    if mq_idmap_put(s.ids, rid, n, e) < 0:
        return ENOMEM
    e.rid_len = n
    return 0


cdef int route_take_fixed_rid(sock_t *s, pipe_end_t *e) noexcept nogil:
    """A connection the user named (CONNECT_ROUTING_ID) gets that id from
    whoever held it: a peer that announced it first is let go, so that its
    messages cannot pass for this connection's."""
    cdef pipe_end_t *old = <pipe_end_t *>mq_idmap_get(s.ids, e.rid, e.rid_len)
    if old != NULL and old != e:
        sock_drop_pipe(s, old)
    if mq_idmap_put(s.ids, e.rid, e.rid_len, e) < 0:
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
    if not (m.flags & MSG_MORE):
        msg_close(m)
        return 0
    e = <pipe_end_t *>mq_idmap_get(s.ids, msg_data(m), m.size)
    if e == NULL or e.closed or e.peer_gone:
        if mandatory:
            return EHOSTUNREACH
        e = NULL
    elif not pipe_check_write(e):
        if mandatory:
            return EAGAIN
        e = NULL
        s.stats.msgs_dropped += 1
    s.route_out = e
    s.route_in_msg = True
    msg_close(m)
    return 0


cdef int route_id_first(sock_t *s, pipe_end_t *e, msg_t *m) noexcept nogil:
    """Hands out e's routing id in *m and holds the frame that was there
    back for the next recv. ENOMEM (nothing changed) when the id frame
    cannot be made: the caller drops the message."""
    cdef msg_t rid
    if e.rid_len < 0 or msg_init_bytes(&rid, e.rid, e.rid_len) < 0:
        return ENOMEM
    memcpy(&s.prefetched, m, sizeof(msg_t))
    s.has_prefetched = True
    memcpy(m, &rid, sizeof(msg_t))
    m.flags = MSG_MORE
    return 0


cdef int route_recv_drop(sock_t *s, msg_t *m) noexcept nogil:
    """No memory to name the sender of the message *m begins: it is
    dropped whole, and the receive fails with ENOMEM."""
    s.stats.msgs_dropped += 1
    drop_rest_of_message(s, m)
    s.route_recv_in_msg = False
    return ENOMEM


cdef int router_send(sock_t *s, msg_t *m) noexcept nogil:
    cdef pipe_end_t *e
    cdef bint more = (m.flags & MSG_MORE) != 0
    if not s.route_in_msg:
        return route_pick_peer(s, m, s.o.router_mandatory)
    e = s.route_out
    if e != NULL and not e.closed:
        if pipe_write(e, m) != 0:
            # Out of memory: none of the message goes; the next frame is
            # the routing id of a new one.
            if e.more_out:
                pipe_unwrite(e)
            s.route_in_msg = False
            s.route_out = NULL
            return ENOMEM
        if not more:
            sock_flush_pipe(s, e)
    else:
        msg_close(m)
    if not more:
        s.route_in_msg = False
        s.route_out = NULL
    return 0


cdef int router_recv(sock_t *s, msg_t *m) noexcept nogil:
    """Each message comes as [routing id][frames...]."""
    cdef int rc
    cdef pipe_end_t *e
    if sock_take_prefetched(s, m):
        return 0
    rc = fq_recv(s, m)
    if rc != 0:
        return rc
    e = s.fq_last
    if s.route_recv_in_msg:
        s.route_recv_in_msg = (m.flags & MSG_MORE) != 0
        return 0
    # First frame of a message: hand out the id, keep the frame for later.
    if (e.rid_len < 0 and router_set_rid(s, e, NULL, 0) != 0) or route_id_first(s, e, m) != 0:
        return route_recv_drop(s, m)
    s.route_recv_in_msg = (s.prefetched.flags & MSG_MORE) != 0
    return 0


cdef bint router_has_in(sock_t *s) noexcept nogil:
    return s.has_prefetched or fq_has_in(s)


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

cdef int req_send_envelope(sock_t *s) noexcept nogil:
    """Starts a request: [request id] + empty delimiter, through the
    load-balancer, which so picks the pipe the reply must come from."""
    cdef msg_t m
    cdef int rc
    if s.o.req_correlate:
        msg_init_size(&m, 4)
        memcpy(msg_data(&m), &s.request_id, 4)     # host order, as libzmq
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
    s.reply_pipe = s.lb_last
    return 0


cdef void req_drop_queued(sock_t *s) noexcept nogil:
    """A new request makes every reply already queued stale."""
    cdef msg_t m
    msg_init(&m)
    while fq_recv(s, &m) == 0:
        msg_close(&m)


cdef int req_send(sock_t *s, msg_t *m) noexcept nogil:
    cdef int rc
    if s.req_receiving_reply:
        if not s.o.req_relaxed:
            return EFSM_
        # Relaxed: give up on the outstanding reply and start anew.
        s.req_receiving_reply = False
        s.req_reply_started = False
        s.req_message_begins = True
    if s.req_message_begins:
        req_drop_queued(s)
        s.request_id += 1
        rc = req_send_envelope(s)
        if rc != 0:
            s.request_id -= 1
            return rc
        s.req_message_begins = False
    rc = lb_send(s, m)
    if rc == 0 and not (m.flags & MSG_MORE) and s.out_cur == NULL:
        s.req_receiving_reply = True
        s.req_message_begins = True
    elif rc == ENOMEM:
        s.req_message_begins = True     # the request was taken back whole, envelope too
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
    if not s.req_receiving_reply:
        return EFSM_
    while not s.req_reply_started:
        rc = fq_recv(s, m)
        if rc != 0:
            return rc
        e = s.fq_last
        if s.reply_pipe != NULL and e != s.reply_pipe:
            drop_rest_of_message(s, m)      # a late reply from another peer
            continue
        if s.o.req_correlate:
            if m.size != 4 or not (m.flags & MSG_MORE) or memcmp(msg_data(m), &s.request_id, 4) != 0:
                drop_rest_of_message(s, m)
                continue
            msg_close(m)
            if fq_recv(s, m) != 0:
                return EAGAIN
        if m.size != 0 or not (m.flags & MSG_MORE):
            drop_rest_of_message(s, m)      # not a reply envelope
            continue
        msg_close(m)
        s.req_reply_started = True
    rc = fq_recv(s, m)
    if rc != 0:
        return rc
    if not (m.flags & MSG_MORE):
        s.req_receiving_reply = False
        s.req_reply_started = False
    return 0


cdef bint req_has_in(sock_t *s) noexcept nogil:
    return s.req_receiving_reply and fq_has_in(s)


cdef bint req_has_out(sock_t *s) noexcept nogil:
    if s.req_receiving_reply and not s.o.req_relaxed:
        return False
    return lb_has_out(s)


# ---------------------------------------------------------------- REP

cdef int rep_recv(sock_t *s, msg_t *m) noexcept nogil:
    cdef int rc
    cdef bint more
    if s.rep_sending_reply:
        return EFSM_
    while not s.rep_reply_started:
        rc = fq_recv(s, m)
        if rc != 0:
            return rc
        more = (m.flags & MSG_MORE) != 0
        if not more:
            # The message ended before any delimiter: not a request.
            msgq_clear(&s.envelope)
            msg_close(m)
            continue
        if m.size == 0:
            msg_close(m)
            s.reply_pipe = s.fq_last
            s.rep_reply_started = True
            break
        if msgq_push(&s.envelope, m) != 0:
            # No memory to keep the envelope: the request cannot be
            # answered, so it is dropped as one that is not a request.
            msgq_clear(&s.envelope)
            s.stats.msgs_dropped += 1
            drop_rest_of_message(s, m)
    rc = fq_recv(s, m)
    if rc != 0:
        return rc
    if not (m.flags & MSG_MORE):
        s.rep_reply_started = False
        s.rep_sending_reply = True
    return 0


cdef int rep_write_envelope(sock_t *s, pipe_end_t *e) noexcept nogil:
    cdef msg_t env
    while msgq_pop(&s.envelope, &env):
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
    if e.more_out:
        pipe_unwrite(e)
    msgq_clear(&s.envelope)
    s.rep_reply_dropping = True
    s.stats.msgs_dropped += 1


cdef int rep_send(sock_t *s, msg_t *m) noexcept nogil:
    cdef pipe_end_t *e = s.reply_pipe
    cdef msg_t env
    cdef bint more = (m.flags & MSG_MORE) != 0
    if not s.rep_sending_reply:
        return EFSM_
    if s.rep_reply_started and e == NULL and not s.rep_reply_dropping:
        s.rep_reply_dropping = True         # the requester left in mid-reply
    if not s.rep_reply_started:
        s.rep_reply_started = True
        if e == NULL or e.closed or e.peer_gone or not pipe_check_write(e):
            # The requester is gone or full: the reply is dropped.
            s.rep_reply_dropping = True
            s.stats.msgs_dropped += 1
            msgq_clear(&s.envelope)
        elif rep_write_envelope(s, e) != 0:
            rep_drop_reply(s, e)
    if s.rep_reply_dropping:
        msg_close(m)
    elif pipe_write(e, m) != 0:
        rep_drop_reply(s, e)
        msg_close(m)
    if not more:
        if not s.rep_reply_dropping:
            sock_flush_pipe(s, e)
        s.rep_sending_reply = False
        s.rep_reply_started = False
        s.rep_reply_dropping = False
    return 0


cdef bint rep_has_in(sock_t *s) noexcept nogil:
    return not s.rep_sending_reply and fq_has_in(s)


cdef bint rep_has_out(sock_t *s) noexcept nogil:
    return s.rep_sending_reply
