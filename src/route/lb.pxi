# Load-balancing (PUSH, DEALER, REQ, PAIR's single pipe): round-robin over
# the pipes that have room. All frames of a message go to one pipe; the
# cursor moves on after the last one. A full pipe leaves the active prefix
# until its reader hands credit back (ACTIVATE_WRITE).

cdef int lb_send(sock_t *s, msg_t *m) noexcept nogil:
    """0 when queued; EAGAIN when no pipe has room."""
    cdef parray_t *a = &s.lb
    cdef pipe_end_t *e = s.out_cur
    if e != NULL:
        # Rest of a multipart message: its pipe is fixed. If that peer went
        # away meanwhile, the rest of the message goes nowhere.
        if e.closed or e.peer_gone:
            if not (m.flags & MSG_MORE):
                s.out_cur = NULL
            msg_close(m)
            return 0
    elif s.out_dropping:
        # Rest of a message whose peer left before its last frame: it must
        # not reach another peer as a message of its own.
        if not (m.flags & MSG_MORE):
            s.out_dropping = False
        msg_close(m)
        return 0
    else:
        while True:
            if a.active == 0:
                return EAGAIN
            e = a.items[a.cur]
            if pipe_check_write(e):
                break
            pa_deactivate(a, e)
    s.lb_last = e
    if pipe_write(e, m) != 0:
        # Out of memory: the message is not sent at all. Its frames
        # already written are taken back; the next frame starts a new one.
        if e.more_out:
            pipe_unwrite(e)
        s.out_cur = NULL
        return ENOMEM
    if e.more_out:
        s.out_cur = e
    else:
        s.out_cur = NULL
        sock_flush_pipe(s, e)
        if a.active:
            a.cur = (a.cur + 1) % a.active
    return 0


cdef bint lb_has_out(sock_t *s) noexcept nogil:
    cdef parray_t *a = &s.lb
    if s.out_cur != NULL or s.out_dropping:
        return True
    while a.active > 0:
        if pipe_check_write(a.items[a.cur]):
            return True
        pa_deactivate(a, a.items[a.cur])
    return False
