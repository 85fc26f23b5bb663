# zmq_proxy and zmq_proxy_steerable: the whole loop runs without the GIL,
# moving msg_t frames between the two sockets directly (no Python object
# per message). Like libzmq it forwards whole messages, with blocking sends,
# and copies every frame to the capture socket if there is one. A control
# socket may send PAUSE, RESUME, TERMINATE and STATISTICS.
#
# Interruptions. A blocking send wakes up without having sent: every 100 ms
# for the thread-safe types, and on a signal for the others, so that Python
# can run its handlers. The proxy runs them right there (taking the GIL for
# a moment) and, if they return, retries with the frame still in hand. If
# one raises (Ctrl-C), the proxy returns with that exception, and the
# message in hand is finished first so that no socket is left with part of
# one: its remaining frames go (without blocking) to each socket that got
# its first frames, and are read and dropped for the others. Later frames
# of a message never block: they follow the first without a limit check.

cdef extern from "Python.h":
    int proxy_py_check_signals "PyErr_CheckSignals" ()

cdef enum:
    PROXY_BATCH = 256           # messages one way before looking the other way
    PROXY_RAISED = -100         # a signal handler raised; its exception is set

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


cdef int proxy_send(sock_t *s, msg_t *m) noexcept nogil:
    """Blocking send of *m that rides out interruptions (see the top).
    0: sent; else an error number or PROXY_RAISED, and *m is still ours."""
    cdef int rc, raised
    while True:
        rc = sock_io_blocking(s, m, True, -1)
        if rc != WAIT_INTR:
            return rc
        with gil:
            raised = proxy_py_check_signals()
        if raised < 0:
            return PROXY_RAISED


cdef void proxy_put(sock_t *s, msg_t *m, bint *started, int *err) noexcept nogil:
    """Sends one frame of a message to s, taking *m. While *err is 0 the
    send blocks and a failure lands in *err; after a failure the rest of
    the message goes on, without blocking, only to a socket that has its
    first frames (*started), and is dropped for the others."""
    cdef int rc
    if err[0] == 0:
        rc = proxy_send(s, m)
    elif started[0]:
        rc = sock_try_locked(s, m, True)
    else:
        msg_close(m)
        return
    if rc == 0:
        started[0] = True
        return
    msg_close(m)
    if err[0] == 0:
        err[0] = rc


cdef int proxy_forward(proxy_t *p, sock_t *src, sock_t *dst, proxy_side_t *sin, proxy_side_t *sout) noexcept nogil:
    """Moves up to PROXY_BATCH whole messages; 0, or an error number (the
    message it happened in is finished first, see the top)."""
    cdef msg_t m
    cdef msg_t copy
    cdef int rc, n
    cdef int err, cap_err
    cdef bint more, dst_started, cap_started
    cdef size_t size
    for n in range(PROXY_BATCH):
        if not (sock_events_locked(src, False) & 1):
            return 0
        err = 0
        cap_err = 0                 # capture failures don't stop the proxy
        dst_started = False
        cap_started = False
        while True:
            msg_init(&m)
            rc = sock_try_locked(src, &m, False)
            if rc != 0:
                return err if err != 0 else rc
            more = (m.flags & MSG_MORE) != 0
            size = m.size
            sin.msgs_in += 1            # libzmq counts frames, not messages
            sin.bytes_in += size
            if p.capture != NULL:
                if err != 0 and cap_err == 0:
                    cap_err = err
                msg_copy(&copy, &m)
                proxy_put(p.capture, &copy, &cap_started, &cap_err)
                if cap_err == PROXY_RAISED and err == 0:
                    err = PROXY_RAISED
            proxy_put(dst, &m, &dst_started, &err)
            if err == 0:
                sout.msgs_out += 1
                sout.bytes_out += size
            if not more:
                break
        if err != 0:
            sock_send_wakes(dst)
            if p.capture != NULL:
                sock_send_wakes(p.capture)
            return err
    return 0


cdef int proxy_reply_stats(proxy_t *p) noexcept nogil:
    cdef msg_t m
    cdef int i, side
    cdef int err = 0
    cdef bint started = False
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
        proxy_put(p.control, &m, &started, &err)
    if err != 0:
        sock_send_wakes(p.control)
    return err


cdef int proxy_ack(proxy_t *p) noexcept nogil:
    """A control socket that owes a reply to every message (REP) gets one:
    libzmq answers PAUSE, RESUME and TERMINATE with an empty frame."""
    cdef msg_t m
    if not p.control.row.owes_reply:
        return 0
    cdef int rc
    msg_init(&m)
    rc = proxy_send(p.control, &m)
    if rc != 0:
        msg_close(&m)
    return rc


cdef int proxy_control(proxy_t *p) noexcept nogil:
    """Runs the control commands waiting. 1: TERMINATE; 0: go on; else error."""
    cdef msg_t m
    cdef int rc, cmd
    cdef bint more
    while sock_events_locked(p.control, False) & 1:
        msg_init(&m)
        rc = sock_try_locked(p.control, &m, False)
        if rc != 0:
            return rc
        more = (m.flags & MSG_MORE) != 0
        cmd = proxy_command(&m)
        msg_close(&m)
        while more:             # commands are one frame; drop the rest
            msg_init(&m)
            if sock_try_locked(p.control, &m, False) != 0:
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
    cdef int ms = -1
    for i in range(n):
        fds[i].events = POLLIN
        fds[i].revents = 0
    if p.front.threadsafe or p.back.threadsafe or (p.control != NULL and p.control.threadsafe):
        # Other threads in a thread-safe socket may drain its fd before we
        # see it (they wait on its condition, not on the fd): look again
        # every 100 ms rather than sleep through a wake-up.
        ms = 100
    if poll(fds, n, ms) < 0:
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
        if (not p.paused and ((sock_events_locked(p.front, False) & 1) or (sock_events_locked(p.back, False) & 1))) or \
                (p.control != NULL and sock_events_locked(p.control, False) & 1):
            continue
        if p.front.ctx_terminated or p.back.ctx_terminated:
            return ETERM_       # seen while looking at events just now
        rc = proxy_wait(p)
        if rc != 0:
            return rc
        # Woken by a mailbox fd: drain them all.
        sock_poll_commands_locked(p.front, True)
        sock_poll_commands_locked(p.back, True)
        if p.control != NULL:
            sock_poll_commands_locked(p.control, True)
