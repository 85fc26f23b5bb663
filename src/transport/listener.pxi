# Listeners: a bound tcp or ipc socket on an io thread. Each accepted
# connection becomes a session of this listener; closing the listener
# (unbind, socket close) ends the connections it accepted, as in libzmq.
#
# When accept() fails for want of a resource (EMFILE, ENFILE, ENOBUFS,
# ENOMEM) the pending connection stays in the backlog and the level-triggered
# poller would report the listener again at once: libzmq 4.3 spins at 100%
# CPU there. We stop watching the fd instead and retry after a pause, so the
# io thread keeps serving the other connections, and waiting peers are
# accepted once descriptors are free again.

cdef extern from "<errno.h>" nogil:
    enum:
        ENFILE
        ENOBUFS
        ECONNABORTED
        ECONNRESET
        EPERM
        ETIMEDOUT
        ENETDOWN
        ENETUNREACH
        EHOSTDOWN

cdef enum:
    ACCEPT_RETRY_MS = 100

cdef struct listener_t:
    handle_t h
    io_thread_t *io
    listener_t *next
    options_t o
    mailbox_t *sock_mb          # ref held
    void *sock
    evsink_t *ev                # ref held
    endpoint_t ep               # the bound address (ep.name: as resolved)
    bint closed
    bint paused                 # accept() is out of resources: fd not watched
    long long t_retry           # when a paused listener tries again
    listener_t *paused_next     # io.paused list


cdef listener_t *listener_new(int fd, options_t *o, mailbox_t *sock_mb, void *sock,
                              const endpoint_t *ep, evsink_t *ev) noexcept nogil:
    cdef listener_t *l = <listener_t *>mq_calloc(1, sizeof(listener_t))
    if l == NULL:
        return NULL
    l.h.kind = H_LISTENER
    l.h.fd = fd
    memcpy(&l.o, o, sizeof(options_t))
    l.sock_mb = sock_mb
    mailbox_incref(sock_mb)
    l.sock = sock
    l.ev = ev
    evsink_incref(ev)
    memcpy(&l.ep, ep, sizeof(endpoint_t))
    return l


cdef void listener_start(io_thread_t *io, listener_t *l) noexcept nogil:
    l.io = io
    io.nobjects += 1
    handle_want(io, &l.h, MQ_POLLIN)
    if not l.h.registered:
        listener_pause(l)       # the poller is out of memory: try again later


cdef bint accept_error_is_per_connection(int err) noexcept nogil:
    """Errors that concern one pending connection only (it was reset or
    refused by a filter before we took it): the next one may be fine."""
    return (err == ECONNABORTED or err == ECONNRESET or err == EPROTO or err == EPERM
            or err == ETIMEDOUT or err == EHOSTUNREACH or err == ENETUNREACH
            or err == ENETDOWN or err == EHOSTDOWN)


cdef void listener_on_event(listener_t *l) noexcept nogil:
    cdef int fd
    cdef int err
    cdef session_t *s
    cdef int i
    if l.closed:
        return
    for i in range(64):
        fd = l.ep.tp.accept(l.h.fd)
        if fd < 0:
            err = errno
            if err == EAGAIN:
                return
            evsink_emit(l.ev, EV_ACCEPT_FAILED, err, l.ep.name)
            if accept_error_is_per_connection(err):
                continue
            listener_pause(l)
            return
        evsink_emit(l.ev, EV_ACCEPTED, fd, l.ep.name)
        s = session_new(&l.o, l.sock_mb, l.sock, False, &l.ep, l.ev)
        if s == NULL:
            close(fd)
            continue
        s.h.fd = fd
        s.parent = l
        session_start(l.io, s)


cdef void listener_pause(listener_t *l) noexcept nogil:
    cdef io_thread_t *io = l.io
    handle_forget(io, &l.h)
    l.t_retry = mq_now_ms() + ACCEPT_RETRY_MS
    if not l.paused:
        l.paused = True
        l.paused_next = io.paused
        io.paused = l


cdef void listener_unpause(listener_t *l) noexcept nogil:
    cdef listener_t **link = &l.io.paused
    while link[0] != NULL:
        if link[0] == l:
            link[0] = l.paused_next
            break
        link = &link[0].paused_next
    l.paused = False
    l.paused_next = NULL


cdef int listeners_clamp_timeout(io_thread_t *io, int timeout) noexcept nogil:
    """The poller timeout, shortened to wake for the next paused listener."""
    cdef listener_t *l = io.paused
    cdef long long now
    cdef long long wait
    if l == NULL:
        return timeout
    now = mq_now_ms()
    while l != NULL:
        wait = l.t_retry - now
        if wait < 0:
            wait = 0
        if timeout < 0 or wait < timeout:
            timeout = <int>wait
        l = l.paused_next
    return timeout


cdef void listeners_retry_paused(io_thread_t *io) noexcept nogil:
    cdef listener_t *l = io.paused
    cdef listener_t *nx
    cdef long long now
    if l == NULL:
        return
    now = mq_now_ms()
    while l != NULL:
        nx = l.paused_next
        if l.t_retry <= now:
            listener_unpause(l)
            handle_want(io, &l.h, MQ_POLLIN)
            if not l.h.registered:
                listener_pause(l)
            else:
                listener_on_event(l)
        l = nx


cdef void listener_close(listener_t *l, long long linger) noexcept nogil:
    """Stops accepting and ends the sessions it accepted."""
    cdef session_t *s
    cdef session_t *nx
    cdef io_thread_t *io = l.io
    if l.closed:
        return
    l.closed = True
    if l.paused:
        listener_unpause(l)
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
    evsink_emit(l.ev, EV_CLOSED, l.h.fd, l.ep.name)
    close(l.h.fd)
    io.nobjects -= 1
    mailbox_decref(l.sock_mb)
    evsink_decref(l.ev)
    # Freed after the current batch of events, which may still name it.
    l.next = io.listeners
    io.listeners = l
