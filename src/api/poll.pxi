# zmq_poll: level-triggered readiness over sockets and plain file
# descriptors. A socket's readiness comes from EVENTS; when nothing is
# ready, one poll() waits on every socket's mailbox fd (readable when its
# commands, and so maybe its readiness, changed) and the plain fds together.

cdef inline short zmq_to_sys_events(int ev) noexcept nogil:
    return <short>(((ev & 1) and POLLIN) | ((ev & 2) and POLLOUT) | ((ev & 4) and POLLERR) | ((ev & 8) and POLLPRI))


cdef inline int sys_to_zmq_events(short ev) noexcept nogil:
    cdef int out = 0
    if ev & (POLLIN | POLLHUP):
        out |= 1
    if ev & POLLOUT:
        out |= 2
    if ev & (POLLERR | POLLNVAL):
        out |= 4
    if ev & POLLPRI:
        out |= 8
    return out


def zmq_poll(sockets, long timeout=-1):
    """Polls a list of (socket or fd or object with fileno(), events) pairs
    for up to `timeout` ms (-1: forever); returns [(item, revents), ...]."""
    cdef int n = len(sockets)
    cdef pollfd *pfds = <pollfd *>mq_malloc(sizeof(pollfd) * (n if n else 1))
    cdef long long deadline = -1
    cdef int i, rc, wait_ms
    cdef int ev
    cdef Socket sock
    cdef bint entered = False
    if pfds == NULL:
        raise_errno(ENOMEM)
    if timeout > 0:
        deadline = mq_now_ms() + timeout
    try:
        items = []
        for obj, events in sockets:
            if isinstance(obj, Socket):
                (<Socket>obj)._check_open()
                items.append((obj, int(events), -1))
            else:
                fd = obj if isinstance(obj, int) else obj.fileno()
                items.append((obj, int(events), int(fd)))
        wait_ms = 0         # first look at the plain fds without waiting
        for obj, _, fd in items:
            if fd < 0:
                (<Socket>obj)._enter()
        entered = True
        while True:
            ready = []
            for i in range(n):
                obj, events, fd = items[i]
                if fd < 0:
                    sock = <Socket>obj
                    if sock._closed:
                        # Closed by another thread (its core lives on until
                        # we leave) or before we entered (it is gone).
                        raise_errno(ENOTSOCK)
                    pfds[i].fd = sock.s.mb.sig.rfd
                    pfds[i].events = POLLIN
                else:
                    pfds[i].fd = fd
                    pfds[i].events = zmq_to_sys_events(events)
                pfds[i].revents = 0
            with nogil:
                rc = poll(pfds, n, wait_ms)
            if rc < 0 and errno == EINTR:
                PyErr_CheckSignals()
            elif rc < 0:
                raise_errno(errno)
            for i in range(n):
                obj, events, fd = items[i]
                if fd < 0:
                    sock = <Socket>obj
                    if sock._closed:
                        raise_errno(ENOTSOCK)
                    ev = sock_events_locked(sock.s) & events
                    if sock.s.ctx_terminated:
                        raise_errno(ETERM_)
                else:
                    ev = sys_to_zmq_events(pfds[i].revents) & (events | 4)
                if ev:
                    ready.append((obj, ev))
            if ready or timeout == 0:
                return ready
            if deadline >= 0:
                wait_ms = <int>(deadline - mq_now_ms())
                if wait_ms <= 0:
                    return ready
            else:
                wait_ms = -1
    finally:
        free(pfds)
        if entered:
            for obj, _, fd in items:
                if fd < 0:
                    (<Socket>obj)._leave()
