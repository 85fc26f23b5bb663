# io threads: one C thread each, never holding the GIL, running a poller
# over its mailbox, its listeners and its sessions, plus their timers.
#
# Objects registered with the poller start with a handle_t so one pointer
# tells the loop what it woke for. An object destroyed while its events are
# still in the current batch is only marked dead and put on `retired`; the
# loop drops its reference after the batch, so no event ever lands on freed
# memory.

cdef enum:
    H_MAILBOX = 1
    H_LISTENER = 2
    H_SESSION = 3

cdef struct handle_t:
    int kind
    int fd
    int events              # interest now registered (MQ_POLLIN | MQ_POLLOUT)
    bint registered

cdef struct session_t
cdef struct listener_t

cdef struct io_thread_t:
    handle_t h
    mailbox_t *mb
    mq_poller_t *poller
    pthread_t thread
    cmdbuf_t cmdbuf
    int nobjects            # live sessions and listeners
    bint stopping
    session_t *sessions     # every live session (timers are scanned here)
    session_t *retired      # dead sessions to release after the batch
    listener_t *listeners
    listener_t *paused      # listeners backing off an accept error (transport/listener.pxi)
    long long t_next        # no session deadline comes before this (-1: none known)


cdef inline void handle_want(io_thread_t *io, handle_t *h, int events) noexcept nogil:
    """Sets the poller interest of h, touching the kernel only on change."""
    if h.fd < 0:
        return
    if not h.registered:
        if mq_poller_add(io.poller, h.fd, h, events) == 0:
            h.registered = True
            h.events = events
        return
    if h.events != events:
        mq_poller_mod(io.poller, h.fd, h, events)
        h.events = events


cdef inline void io_note_deadline(io_thread_t *io, long long t) noexcept nogil:
    """A session deadline was set to t: the timers must run by then. Only
    an earlier one lowers t_next; one that moves later or goes away leaves
    it early, which costs one scan that finds nothing due."""
    if t >= 0 and (io.t_next < 0 or t < io.t_next):
        io.t_next = t


cdef inline void handle_forget(io_thread_t *io, handle_t *h) noexcept nogil:
    if h.registered:
        mq_poller_del(io.poller, h.fd)
        h.registered = False
    h.events = 0


cdef void *io_thread_main(void *arg) noexcept nogil:
    cdef io_thread_t *io = <io_thread_t *>arg
    cdef mq_pevent_t events[256]
    cdef int n, i, timeout
    cdef handle_t *h
    mq_name_this_thread(b"mqcore/io")
    while True:
        timeout = listeners_clamp_timeout(io, io_next_timeout(io))
        n = mq_poller_wait(io.poller, events, 256, timeout)
        for i in range(n):
            h = <handle_t *>events[i].ptr
            if h.kind == H_MAILBOX:
                io_process_commands(io)
            elif h.kind == H_LISTENER:
                listener_on_event(<listener_t *>h)
            elif h.kind == H_SESSION:
                session_on_event(<session_t *>h, events[i].events)
        io_run_timers(io)
        listeners_retry_paused(io)
        io_release_retired(io)
        if io.stopping and io.nobjects == 0:
            break
    return NULL


cdef void io_process_commands(io_thread_t *io) noexcept nogil:
    cdef int n = mailbox_take(io.mb, &io.cmdbuf, True)
    cdef int i
    cdef command_t *c
    for i in range(n):
        c = &io.cmdbuf.cmds[i]
        if c.type == CMD_STOP:
            io.stopping = True
        elif c.type == CMD_ADD_LISTENER:
            listener_start(io, <listener_t *>c.obj)
        elif c.type == CMD_CLOSE_LISTENER:
            listener_close(<listener_t *>c.obj, c.arg)
        elif c.type == CMD_ADD_SESSION:
            session_start(io, <session_t *>c.obj)
        elif c.type == CMD_TERM_SESSION:
            session_term(<session_t *>c.obj, c.arg)
            session_decref(<session_t *>c.obj)
        else:
            session_on_pipe_command(c)
            pipe_decref(c.end.pipe)


cdef io_thread_t *io_thread_new() noexcept nogil:
    """A running io thread; NULL with errno set (EMFILE, ENOMEM, EAGAIN for
    no more threads) when out of resources."""
    cdef io_thread_t *io = <io_thread_t *>mq_calloc(1, sizeof(io_thread_t))
    cdef char *force
    cdef int err
    if io == NULL:
        set_errno(ENOMEM)
        return NULL
    force = getenv(b"MQCORE_POLLER")
    io.poller = mq_poller_new(force != NULL and strcmp(force, b"poll") == 0)
    if io.poller == NULL:
        return io_thread_new_failed(io, errno)
    io.mb = mailbox_new()
    if io.mb == NULL:
        return io_thread_new_failed(io, errno)
    if mailbox_reserve(io.mb, 1) < 0:
        # The slot of the STOP that ends the thread: stopping cannot fail.
        return io_thread_new_failed(io, ENOMEM)
    io.h.kind = H_MAILBOX
    io.h.fd = io.mb.sig.rfd
    handle_want(io, &io.h, MQ_POLLIN)
    if not io.h.registered:
        return io_thread_new_failed(io, errno if errno else ENOMEM)
    err = pthread_create(&io.thread, NULL, io_thread_main, io)
    if err != 0:
        return io_thread_new_failed(io, err)
    return io


cdef io_thread_t *io_thread_new_failed(io_thread_t *io, int err) noexcept nogil:
    handle_forget(io, &io.h)
    mq_poller_free(io.poller)
    mailbox_decref(io.mb)
    free(io)
    set_errno(err)
    return NULL


cdef int io_send(io_thread_t *io, int type, void *obj, long long arg) noexcept nogil:
    cdef command_t cmd
    cmd.type = type
    cmd.obj = obj
    cmd.end = NULL
    cmd.arg = arg
    return mailbox_send(io.mb, &cmd)


cdef void io_thread_stop_and_free(io_thread_t *io) noexcept nogil:
    """Asks the thread to finish once its objects are gone, then joins it."""
    io_send(io, CMD_STOP, NULL, 0)
    pthread_join(io.thread, NULL)
    io_thread_free_joined(io)


cdef void io_thread_free_joined(io_thread_t *io) noexcept nogil:
    """Frees what the thread used, once it was stopped and joined."""
    handle_forget(io, &io.h)
    mq_poller_free(io.poller)
    cdef cmdbuf_t rest
    rest.cmds = NULL
    rest.cap = 0
    mailbox_close(io.mb, &rest)
    free(rest.cmds)
    mailbox_decref(io.mb)
    free(io.cmdbuf.cmds)
    free(io)
