# The draft, thread-safe socket types (RFC 41, 49, 51, 52): CLIENT/SERVER,
# SCATTER/GATHER, PEER and CHANNEL. Messages are single-part: SNDMORE is
# EINVAL and a multipart message from the wire is dropped whole. SERVER and
# PEER address peers by a u32 routing id that travels on the message
# (Frame.routing_id), made up per connection and never 0.

cdef int ts_recv(sock_t *s, msg_t *m) noexcept nogil:
    """fq_recv keeping only one-frame messages."""
    cdef int rc
    while True:
        rc = fq_recv(s, m)
        if rc != 0:
            return rc
        if not (m.flags & MSG_MORE):
            return 0
        drop_rest_of_message(s, m)


cdef int ts_send(sock_t *s, msg_t *m) noexcept nogil:
    if m.flags & MSG_MORE:
        return EINVAL
    return lb_send(s, m)


cdef int server_attach(sock_t *s, pipe_end_t *e) noexcept nogil:
    cdef unsigned int rid
    cdef route_state_t *r = route_state(s)
    # A counter from a random start, never 0, skipping ids in use.
    while True:
        r.next_rid += 1
        rid = r.next_rid
        if rid != 0 and mq_idmap_get(r.ids, <unsigned char *>&rid, 4) == NULL:
            break
    e.rid = <unsigned char *>mq_malloc(4)
    if e.rid == NULL:
        return ENOMEM
    memcpy(e.rid, &rid, 4)
    e.rid_fixed = True              # the peer cannot choose its id
    e.rid_generated = True
    if mq_idmap_put(r.ids, e.rid, 4, e) < 0:
        return ENOMEM               # (rid_len -1: nothing to forget)
    e.rid_len = 4
    return 0


cdef inline unsigned int pipe_u32_id(pipe_end_t *e) noexcept nogil:
    cdef unsigned int rid = 0
    if e != NULL and e.rid_len == 4:
        memcpy(&rid, e.rid, 4)
    return rid


cdef int server_recv(sock_t *s, msg_t *m) noexcept nogil:
    cdef int rc = ts_recv(s, m)
    if rc == 0:
        m.routing_id = pipe_u32_id(s.fq_last)
    return rc


cdef int server_send(sock_t *s, msg_t *m) noexcept nogil:
    cdef unsigned int rid = m.routing_id
    cdef pipe_end_t *e
    if m.flags & MSG_MORE:
        return EINVAL
    e = <pipe_end_t *>mq_idmap_get(route_state(s).ids, <unsigned char *>&rid, 4)
    if e == NULL or e.closed:
        return EHOSTUNREACH
    if e.peer_gone:
        # As libzmq: a peer that left keeps its id until what it sent
        # before leaving has been read (its pipe is let go at the end
        # mark); until then it is only a peer that takes nothing now.
        return EAGAIN
    if not pipe_check_write(e):
        return EAGAIN
    m.routing_id = 0
    if pipe_write(e, m) != 0:
        m.routing_id = rid
        return ENOMEM
    sock_flush_pipe(s, e)
    return 0
