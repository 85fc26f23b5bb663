# STREAM: raw TCP peers, no ZMTP. Like ROUTER, every message is
# [routing id][data]; the id is made up per connection (or set with
# CONNECT_ROUTING_ID). With STREAM_NOTIFY (the default) the user also gets
# [id][""] when a connection is made and when it is lost. Sending [id][""]
# closes that connection.

cdef int stream_notify(sock_t *s, pipe_end_t *e) noexcept nogil:
    """Queues [id][""] whole, or (ENOMEM) nothing."""
    cdef msg_t m
    cdef msgq_t *pending = &route_state(s).pending
    if not s.o.stream_notify or e.rid_len < 0:
        return 0
    if msgq_reserve(pending, 2) != 0 or msg_init_bytes(&m, e.rid, e.rid_len) < 0:
        return ENOMEM
    m.flags = MSG_MORE
    msgq_push(pending, &m)
    msg_init(&m)
    msgq_push(pending, &m)
    return 0


cdef int stream_attach(sock_t *s, pipe_end_t *e) noexcept nogil:
    cdef int rc
    if e.rid_fixed:
        rc = route_take_fixed_rid(s, e)
    else:
        rc = router_set_rid(s, e, NULL, 0)
        e.rid_fixed = True          # the session's in-band (empty) id changes nothing
    if rc != 0:
        e.rid_len = -1              # never announced: no notice when it goes
        return rc
    if stream_notify(s, e) != 0:
        # Turned away: it leaves without a notice, as it came without one.
        route_forget_rid(s, e)
        e.rid_len = -1
        return ENOMEM
    return 0


cdef void stream_detach(sock_t *s, pipe_end_t *e) noexcept nogil:
    stream_notify(s, e)             # short of memory: the user misses it


cdef int stream_recv(sock_t *s, msg_t *m) noexcept nogil:
    cdef int rc
    cdef route_state_t *r = route_state(s)
    if held_take(&r.held, m):
        return 0
    if msgq_pop(&r.pending, m):
        return 0
    rc = fq_recv(s, m)
    if rc != 0:
        # Reaching a pipe's end may just have queued its notice.
        if msgq_pop(&r.pending, m):
            return 0
        return rc
    m.flags = 0                     # one read, one message
    if route_id_first(s, s.fq_last, m) != 0:
        s.stats.msgs_dropped += 1
        msg_close(m)
        return ENOMEM
    return 0


cdef bint stream_has_in(sock_t *s) noexcept nogil:
    cdef route_state_t *r = route_state(s)
    if r.held.has or r.pending.n > 0:
        return True
    return fq_has_in(s) or r.pending.n > 0


cdef int stream_send(sock_t *s, msg_t *m) noexcept nogil:
    cdef pipe_end_t *e
    cdef route_state_t *r = route_state(s)
    if not r.route_in_msg:
        return route_pick_peer(s, m, True)     # STREAM never drops silently
    # The data frame; MORE on it means nothing: each pair is one write.
    e = r.route_out
    m.flags = 0
    r.route_in_msg = False
    r.route_out = NULL
    if e != NULL and not e.closed:
        if pipe_write(e, m) != 0:
            return ENOMEM
        sock_flush_pipe(s, e)
    else:
        msg_close(m)
    return 0
