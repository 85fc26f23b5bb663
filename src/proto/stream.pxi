# STREAM: raw TCP peers, no ZMTP. Like ROUTER, every message is
# [routing id][data]; the id is made up per connection (or set with
# CONNECT_ROUTING_ID). With STREAM_NOTIFY (the default) the user also gets
# [id][""] when a connection is made and when it is lost. Sending [id][""]
# closes that connection.

cdef void stream_notify(sock_t *s, pipe_end_t *e) noexcept nogil:
    cdef msg_t m
    if not s.o.stream_notify or e.rid_len < 0:
        return
    msg_init_bytes(&m, e.rid, e.rid_len)
    m.flags = MSG_MORE
    msgq_push(&s.pending, &m)
    msg_init(&m)
    msgq_push(&s.pending, &m)


cdef void stream_attach(sock_t *s, pipe_end_t *e) noexcept nogil:
    if e.rid_fixed:
        mq_idmap_put(s.ids, e.rid, e.rid_len, e)
    else:
        router_set_rid(s, e, NULL, 0)
        e.rid_fixed = True          # the session's in-band (empty) id changes nothing
    stream_notify(s, e)


cdef void stream_detach(sock_t *s, pipe_end_t *e) noexcept nogil:
    stream_notify(s, e)
    router_detach(s, e)


cdef int stream_recv(sock_t *s, msg_t *m) noexcept nogil:
    cdef int rc
    cdef pipe_end_t *e
    if s.has_prefetched:
        memcpy(m, &s.prefetched, sizeof(msg_t))
        msg_init(&s.prefetched)
        s.has_prefetched = False
        return 0
    if msgq_pop(&s.pending, m):
        return 0
    rc = fq_recv(s, m)
    if rc != 0:
        # Reaching a pipe's end may just have queued its notice.
        if msgq_pop(&s.pending, m):
            return 0
        return rc
    e = s.fq_last
    m.flags = 0                     # one read, one message
    memcpy(&s.prefetched, m, sizeof(msg_t))
    s.has_prefetched = True
    msg_init_bytes(m, e.rid, e.rid_len)
    m.flags = MSG_MORE
    return 0


cdef bint stream_has_in(sock_t *s) noexcept nogil:
    if s.has_prefetched or s.pending.n > 0:
        return True
    return fq_has_in(s) or s.pending.n > 0


cdef int stream_send(sock_t *s, msg_t *m) noexcept nogil:
    cdef pipe_end_t *e
    if not s.route_in_msg:
        if not (m.flags & MSG_MORE):
            msg_close(m)
            return 0
        e = <pipe_end_t *>mq_idmap_get(s.ids, msg_data(m), m.size)
        if e == NULL or e.closed or e.peer_gone:
            return EHOSTUNREACH
        if not pipe_check_write(e):
            return EAGAIN
        s.route_out = e
        s.route_in_msg = True
        msg_close(m)
        return 0
    # The data frame; MORE on it means nothing: each pair is one write.
    e = s.route_out
    m.flags = 0
    if e != NULL and not e.closed:
        pipe_write(e, m)
        sock_flush_pipe(s, e)
    else:
        msg_close(m)
    s.route_in_msg = False
    s.route_out = NULL
    return 0
