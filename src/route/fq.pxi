# Fair-queueing (PULL, PAIR, and most receivers later): round-robin over the
# pipes that have a message, taking a whole message from one pipe before
# moving on. Multipart messages are published atomically by the writer, so
# once the first frame is here the rest are too. A pipe found empty leaves
# the active prefix; its writer wakes it with ACTIVATE_READ. The delimiter
# at a pipe's end is where the socket lets go of that pipe.

cdef int fq_recv(sock_t *s, msg_t *m) noexcept nogil:
    """0 with a frame in *m; EAGAIN when no pipe has one."""
    cdef parray_t *a = &s.fq
    cdef pipe_end_t *e
    cdef int rc
    while a.active > 0:
        e = a.items[a.cur]
        if s.fq_last != NULL and s.fq_last.more_in:
            # The rest of a message comes from its pipe, wherever others
            # leaving have moved it in the array.
            e = s.fq_last
        rc = pipe_read(e, m)
        if rc == 1:
            if e.meta != s.in_meta:
                # The properties that recv(copy=False) gives this message
                # (socket_base: sock_take_metadata); a reference, since e
                # may go before the caller asks.
                chunk_swap(&s.in_meta, e.meta)
            if not e.more_in:
                a.cur = (a.cur + 1) % a.active
                if e == s.drop_after_msg:
                    # The last frame of a message from a pipe that was
                    # dropped while the message was half read.
                    sock_drop_pipe(s, e, s.o.linger)
                    return 0
            if m.flags & MSG_IDENTITY:
                # In-band routing id from the peer's session (or inproc
                # connector): only the types that route by id care.
                if s.row.xtake_identity != NULL:
                    s.row.xtake_identity(s, e, m)
                msg_close(m)
                continue
            if conflating(&s.o):
                pipe_read_newest(e, m)
            s.fq_last = e
            return 0
        if rc < 0:
            e.more_in = False   # (a message is never cut short: writers publish whole ones)
            sock_drop_pipe(s, e)
        elif e.more_in:
            return EAGAIN       # (likewise never: the rest comes with the first frame)
        else:
            pa_deactivate(a, e)
    return EAGAIN


cdef bint fq_has_in(sock_t *s) noexcept nogil:
    cdef parray_t *a = &s.fq
    cdef pipe_end_t *e
    cdef msg_t *front
    if s.fq_last != NULL and s.fq_last.more_in:
        return True             # the rest of a message is always there
    while a.active > 0:
        e = a.items[a.cur]
        front = ypipe_peek(e.inq)
        if front != NULL and pipe_skip_metadata(e, front):
            continue
        if front == NULL:
            pa_deactivate(a, e)
        elif front.flags & MSG_DELIMITER:
            sock_drop_pipe(s, e)
        elif front.flags & MSG_IDENTITY:
            if fq_take_identity(s, e) != 0:
                sock_drop_pipe(s, e)    # no memory to route to it: let it go
        else:
            return True
    return False


cdef int fq_take_identity(sock_t *s, pipe_end_t *e) noexcept nogil:
    """ENOMEM when there was no memory to keep e's routing id."""
    cdef msg_t m
    cdef int rc = 0
    msg_init(&m)
    if pipe_read(e, &m) == 1:
        if s.row.xtake_identity != NULL:
            rc = s.row.xtake_identity(s, e, &m)
        msg_close(&m)
    return rc
