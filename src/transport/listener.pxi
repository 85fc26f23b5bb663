# Listeners: a bound tcp or ipc socket on an io thread. Each accepted
# connection becomes a session of this listener; closing the listener
# (unbind, socket close) ends the connections it accepted, as in libzmq.

cdef struct listener_t:
    handle_t h
    io_thread_t *io
    listener_t *next
    options_t o
    mailbox_t *sock_mb          # ref held
    void *sock
    evsink_t *ev                # ref held
    char endpoint[256]
    int transport
    bint closed


cdef listener_t *listener_new(int fd, options_t *o, mailbox_t *sock_mb, void *sock, int transport,
                              evsink_t *ev, const char *endpoint) noexcept nogil:
    cdef listener_t *l = <listener_t *>calloc(1, sizeof(listener_t))
    if l == NULL:
        return NULL
    l.h.kind = H_LISTENER
    l.h.fd = fd
    memcpy(&l.o, o, sizeof(options_t))
    l.sock_mb = sock_mb
    mailbox_incref(sock_mb)
    l.sock = sock
    l.transport = transport
    l.ev = ev
    evsink_incref(ev)
    strncpy(l.endpoint, endpoint, 255)
    return l


cdef void listener_start(io_thread_t *io, listener_t *l) noexcept nogil:
    l.io = io
    io.nobjects += 1
    handle_want(io, &l.h, MQ_POLLIN)


cdef void listener_on_event(listener_t *l) noexcept nogil:
    cdef int fd
    cdef session_t *s
    cdef int i
    if l.closed:
        return
    for i in range(64):
        fd = mq_accept(l.h.fd)
        if fd < 0:
            # EAGAIN, or a transient error (EMFILE...) retried on the next wake
            if errno != EAGAIN:
                evsink_emit(l.ev, EV_ACCEPT_FAILED, errno, l.endpoint)
            return
        evsink_emit(l.ev, EV_ACCEPTED, fd, l.endpoint)
        s = session_new(&l.o, l.sock_mb, l.sock, False, l.transport, l.ev, l.endpoint)
        if s == NULL:
            close(fd)
            continue
        s.h.fd = fd
        s.parent = l
        session_start(l.io, s)


cdef void listener_close(listener_t *l, long long linger) noexcept nogil:
    """Stops accepting and ends the sessions it accepted."""
    cdef session_t *s
    cdef session_t *nx
    cdef io_thread_t *io = l.io
    if l.closed:
        return
    l.closed = True
    s = io.sessions
    while s != NULL:
        nx = s.next
        if s.parent == l:
            s.parent = NULL
            # A session already lingering on the socket's request finishes
            # by itself; the others end now (closing the pipe tells the
            # socket that peer is gone).
            if not s.terminating:
                session_destroy(s)
        s = nx
    handle_forget(io, &l.h)
    evsink_emit(l.ev, EV_CLOSED, l.h.fd, l.endpoint)
    close(l.h.fd)
    io.nobjects -= 1
    mailbox_decref(l.sock_mb)
    evsink_decref(l.ev)
    # Freed after the current batch of events, which may still name it.
    l.next = io.listeners
    io.listeners = l
