# zmq_proxy and zmq_proxy_steerable: the whole loop runs without the GIL,
# moving msg_t frames between the two sockets directly (no Python object
# per message). Like libzmq it forwards whole messages, with blocking sends,
# and copies every frame to the capture socket if there is one. A control
# socket may send PAUSE, RESUME, TERMINATE and STATISTICS.

cdef enum:
    PROXY_BATCH = 256           # messages one way before looking the other way

cdef struct proxy_side_t:
    unsigned long long msgs_in
    unsigned long long bytes_in
    unsigned long long msgs_out
    unsigned long long bytes_out

cdef struct proxy_t:
    sock_t *front
    sock_t *back
    sock_t *capture
    sock_t *control
    bint paused
    proxy_side_t stats[2]


cdef int proxy_forward(proxy_t *p, sock_t *src, sock_t *dst, proxy_side_t *sin, proxy_side_t *sout) noexcept nogil:
    """Moves up to PROXY_BATCH whole messages; 0, or an error number."""
    cdef msg_t m
    cdef msg_t copy
    cdef int rc, n
    cdef bint more
    cdef size_t size
    for n in range(PROXY_BATCH):
        if not (sock_events(src, False) & 1):
            return 0
        while True:
            msg_init(&m)
            rc = sock_try(src, &m, False)
            if rc != 0:
                return rc
            more = (m.flags & MSG_MORE) != 0
            size = m.size
            sin.msgs_in += 1            # libzmq counts frames, not messages
            sin.bytes_in += size
            if p.capture != NULL:
                msg_copy(&copy, &m)
                if sock_io_blocking(p.capture, &copy, True, -1) != 0:
                    msg_close(&copy)
            rc = sock_io_blocking(dst, &m, True, -1)
            if rc != 0:
                msg_close(&m)
                return rc
            sout.msgs_out += 1
            sout.bytes_out += size
            if not more:
                break
    return 0


cdef int proxy_reply_stats(proxy_t *p) noexcept nogil:
    cdef msg_t m
    cdef int i, side, rc
    cdef unsigned long long v
    for i in range(8):
        side = i // 4
        if i % 4 == 0:
            v = p.stats[side].msgs_in
        elif i % 4 == 1:
            v = p.stats[side].bytes_in
        elif i % 4 == 2:
            v = p.stats[side].msgs_out
        else:
            v = p.stats[side].bytes_out
        msg_init_size(&m, 8)
        memcpy(msg_data(&m), &v, 8)     # host order, as libzmq
        m.flags = MSG_MORE if i < 7 else 0
        rc = sock_io_blocking(p.control, &m, True, -1)
        if rc != 0:
            msg_close(&m)
            return rc
    return 0


cdef int proxy_ack(proxy_t *p) noexcept nogil:
    """A REP control socket owes a reply to every command: libzmq answers
    PAUSE, RESUME and TERMINATE with an empty frame."""
    cdef msg_t m
    if p.control.o.type != 4:
        return 0
    msg_init(&m)
    return sock_io_blocking(p.control, &m, True, -1)


cdef int proxy_control(proxy_t *p) noexcept nogil:
    """Runs the control commands waiting. 1: TERMINATE; 0: go on; else error."""
    cdef msg_t m
    cdef int rc, cmd
    cdef bint more
    while sock_events(p.control, False) & 1:
        msg_init(&m)
        rc = sock_try(p.control, &m, False)
        if rc != 0:
            return rc
        more = (m.flags & MSG_MORE) != 0
        cmd = proxy_command(&m)
        msg_close(&m)
        while more:             # commands are one frame; drop the rest
            msg_init(&m)
            if sock_try(p.control, &m, False) != 0:
                break
            more = (m.flags & MSG_MORE) != 0
            msg_close(&m)
        if cmd == 4:
            rc = proxy_reply_stats(p)
        else:
            if cmd == 1:
                p.paused = True
            elif cmd == 2:
                p.paused = False
            rc = proxy_ack(p)
        if rc != 0:
            return rc
        if cmd == 3:
            return 1
    return 0


cdef int proxy_command(msg_t *m) noexcept nogil:
    """1 PAUSE, 2 RESUME, 3 TERMINATE, 4 STATISTICS, 0 anything else."""
    if m.size == 5 and memcmp(msg_data(m), b"PAUSE", 5) == 0:
        return 1
    if m.size == 6 and memcmp(msg_data(m), b"RESUME", 6) == 0:
        return 2
    if m.size == 9 and memcmp(msg_data(m), b"TERMINATE", 9) == 0:
        return 3
    if m.size == 10 and memcmp(msg_data(m), b"STATISTICS", 10) == 0:
        return 4
    return 0


cdef int proxy_wait(proxy_t *p) noexcept nogil:
    """Sleeps until one of the sockets' mailboxes is signalled."""
    cdef pollfd fds[3]
    cdef int n = 2
    fds[0].fd = p.front.mb.sig.rfd
    fds[1].fd = p.back.mb.sig.rfd
    if p.control != NULL:
        fds[2].fd = p.control.mb.sig.rfd
        n = 3
    for i in range(n):
        fds[i].events = POLLIN
        fds[i].revents = 0
    if poll(fds, n, -1) < 0:
        return WAIT_INTR if errno == EINTR else errno
    return 0


cdef int proxy_run(proxy_t *p) noexcept nogil:
    """0 when TERMINATE arrived; WAIT_INTR on a signal; else an error."""
    cdef int rc
    while True:
        if p.front.ctx_terminated or p.back.ctx_terminated:
            return ETERM_
        if p.control != NULL:
            rc = proxy_control(p)
            if rc == 1:
                return 0
            if rc != 0:
                return rc
        if not p.paused:
            rc = proxy_forward(p, p.front, p.back, &p.stats[0], &p.stats[1])
            if rc != 0:
                return rc
            if p.back != p.front:
                rc = proxy_forward(p, p.back, p.front, &p.stats[1], &p.stats[0])
                if rc != 0:
                    return rc
        if (not p.paused and ((sock_events(p.front, False) & 1) or (sock_events(p.back, False) & 1))) or \
                (p.control != NULL and sock_events(p.control, False) & 1):
            continue
        if p.front.ctx_terminated or p.back.ctx_terminated:
            return ETERM_       # seen while looking at events just now
        rc = proxy_wait(p)
        if rc != 0:
            return rc
        # Woken by a mailbox fd: drain them all.
        sock_poll_commands(p.front, True)
        sock_poll_commands(p.back, True)
        if p.control != NULL:
            sock_poll_commands(p.control, True)


cdef object run_proxy(Socket frontend, Socket backend, Socket capture, Socket control):
    cdef proxy_t p
    cdef int rc
    memset(&p, 0, sizeof(proxy_t))
    for s in (frontend, backend, capture, control):
        if s is not None:
            (<Socket>s)._check_open()
    p.front = frontend.s
    p.back = backend.s
    p.capture = capture.s if capture is not None else NULL
    p.control = control.s if control is not None else NULL
    users = [s for s in (frontend, backend, capture, control) if s is not None]
    for s in users:
        (<Socket>s)._enter()
    try:
        while True:
            with nogil:
                rc = proxy_run(&p)
            if rc == WAIT_INTR:
                PyErr_CheckSignals()
                continue
            if rc == 0:
                return None
            if any((<Socket>s)._close_pending for s in users):
                rc = ETERM_
            raise_errno(rc)
    finally:
        for s in users:
            (<Socket>s)._leave()


def proxy(Socket frontend, Socket backend, Socket capture=None):
    """Forwards messages between frontend and backend (both ways) until the
    context is terminated; copies them to capture if given."""
    return run_proxy(frontend, backend, capture, None)


def proxy_steerable(Socket frontend, Socket backend, Socket capture=None, Socket control=None):
    """proxy() that a control socket can PAUSE, RESUME, TERMINATE or ask for
    STATISTICS (8 u64 frames: messages and bytes in and out, frontend then
    backend)."""
    return run_proxy(frontend, backend, capture, control)
