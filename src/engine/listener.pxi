# Listeners: a bound tcp or ipc socket on an io thread. Each accepted
# connection becomes a session of this listener; closing the listener
# (unbind, socket close) ends the connections it accepted, as in libzmq.
#
# When accept() fails for want of a resource (EMFILE, ENFILE, ENOBUFS,
# ENOMEM) the pending connection stays in the backlog and the level-triggered
# poller would report the listener again at once: libzmq 4.3 spins at 100%
# CPU there. We stop watching the fd instead and retry after a pause (a timer
# of the listener's own), so the io thread keeps serving the other
# connections, and waiting peers are accepted once descriptors are free
# again.

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
    options_t o
    mailbox_t *sock_mb          # ref held
    void *sock
    evsink_t *ev                # ref held
    endpoint_t ep               # the bound address (ep.name: as resolved)
    session_list_t accepted     # its live sessions, ended when it closes
    bint closed
    timer_t retry               # a paused listener (fd not watched) tries again


cdef handle_ops_t LISTENER_OPS


cdef listener_t *listener_new(int fd, options_t *o, mailbox_t *sock_mb, void *sock,
                              const endpoint_t *ep, evsink_t *ev) noexcept nogil:
    cdef listener_t *l = <listener_t *>mq_calloc(1, sizeof(listener_t))
    if l == NULL:
        return NULL
    l.h.ops = &LISTENER_OPS
    l.h.fd = fd
    memcpy(&l.o, o, sizeof(options_t))
    l.sock_mb = sock_mb
    mailbox_incref(sock_mb)
    l.sock = sock
    l.ev = ev
    evsink_incref(ev)
    memcpy(&l.ep, ep, sizeof(endpoint_t))
    timer_init(&l.retry, l, listener_on_retry)
    return l


cdef void listener_start(io_thread_t *io, listener_t *l) noexcept nogil:
    l.h.io = io
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
        session_list_add(&l.accepted, s)
        session_start(l.h.io, s)


cdef void listener_pause(listener_t *l) noexcept nogil:
    handle_forget(l.h.io, &l.h)
    timer_arm(&l.h.io.timers, &l.retry, mq_now_ms() + ACCEPT_RETRY_MS)


cdef void listener_on_retry(timer_t *t, long long now) noexcept nogil:
    cdef listener_t *l = <listener_t *>t.owner
    handle_want(l.h.io, &l.h, MQ_POLLIN)
    if not l.h.registered:
        listener_pause(l)
    else:
        listener_on_event(l)


cdef void listener_close(listener_t *l, long long linger) noexcept nogil:
    """Stops accepting and ends the sessions it accepted."""
    cdef session_t *s
    cdef io_thread_t *io = l.h.io
    if l.closed:
        return
    l.closed = True
    timer_cancel(&io.timers, &l.retry)
    while l.accepted.head != NULL:
        s = l.accepted.head
        session_list_remove(s)
        # A session already lingering on the socket's request finishes by
        # itself; the others end now (closing the pipe tells the socket
        # that peer is gone).
        if not s.terminating:
            session_destroy(s)
    handle_forget(io, &l.h)
    evsink_emit(l.ev, EV_CLOSED, l.h.fd, l.ep.name)
    close(l.h.fd)
    io.nobjects -= 1
    mailbox_decref(l.sock_mb)
    evsink_decref(l.ev)
    # Freed after the current batch of events, which may still name it.
    io_retire(io, &l.h)


# ---------------------------------------------------------------- as an io thread handle

cdef void listener_h_on_event(handle_t *h, int events) noexcept nogil:
    listener_on_event(<listener_t *>h)


cdef void listener_h_on_command(handle_t *h, command_t *c) noexcept nogil:
    if c.type == CMD_ADD_LISTENER:
        listener_start(h.io, <listener_t *>h)
    elif c.type == CMD_CLOSE_LISTENER:
        listener_close(<listener_t *>h, c.arg)


cdef void listener_h_release(handle_t *h) noexcept nogil:
    free(h)


LISTENER_OPS.on_event = listener_h_on_event
LISTENER_OPS.on_command = listener_h_on_command
LISTENER_OPS.release = listener_h_release
