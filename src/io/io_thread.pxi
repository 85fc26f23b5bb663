# io threads: one C thread each, never holding the GIL, running a poller
# over its mailbox and the objects it serves (listeners, sessions), plus
# their timers (io/timers.pxi).
#
# The loop never names what it serves (libzmq's i_poll_events): every object
# registered with the poller, or addressed by a command, starts with a
# handle_t whose ops say what to do with a poller event (on_event), with a
# command addressed to it (on_command: add, close or term it, or a pipe
# command for a pipe end it owns) and how to free it (release).
#
# An object destroyed while its events are still in the current batch is
# only marked dead and put on `retired` (io_retire); the loop releases it
# after the batch, so no event ever lands on freed memory.

cdef struct handle_t
cdef struct io_thread_t

cdef struct handle_ops_t:
    # The fd is ready: MQ_POLLIN / MQ_POLLOUT / MQ_POLLERR bits.
    void (*on_event)(handle_t *h, int events) noexcept nogil
    # A command for this object (c.obj is it, or c.end is a pipe end it owns
    # and that is still open). The caller drops the command's pipe reference.
    void (*on_command)(handle_t *h, command_t *c) noexcept nogil
    # Retired (io_retire) and no longer named by any pending event: free it.
    void (*release)(handle_t *h) noexcept nogil

cdef struct handle_t:
    const handle_ops_t *ops
    io_thread_t *io             # set when the object's first command arrives
    int fd
    int events                  # interest now registered (MQ_POLLIN | MQ_POLLOUT)
    bint registered
    handle_t *retired_next

cdef struct io_thread_t:
    handle_t h                  # the mailbox
    mailbox_t *mb
    mq_poller_t *poller
    pthread_t thread
    cmdbuf_t cmdbuf
    timers_t timers
    int nobjects                # live sessions and listeners
    bint stopping
    handle_t *retired           # dead objects to release after the batch


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


cdef inline void handle_forget(io_thread_t *io, handle_t *h) noexcept nogil:
    if h.registered:
        mq_poller_del(io.poller, h.fd)
        h.registered = False
    h.events = 0


cdef inline void io_retire(io_thread_t *io, handle_t *h) noexcept nogil:
    """h is dead: released after the current batch of events."""
    h.retired_next = io.retired
    io.retired = h


cdef void io_release_retired(io_thread_t *io) noexcept nogil:
    cdef handle_t *h = io.retired
    cdef handle_t *nx
    io.retired = NULL
    while h != NULL:
        nx = h.retired_next
        h.ops.release(h)
        h = nx


cdef void io_dispatch_events(mq_pevent_t *events, int n) noexcept nogil:
    cdef int i
    cdef handle_t *h
    for i in range(n):
        h = <handle_t *>events[i].ptr
        h.ops.on_event(h, events[i].events)


cdef void *io_thread_main(void *arg) noexcept nogil:
    cdef io_thread_t *io = <io_thread_t *>arg
    cdef mq_pevent_t events[256]
    cdef int n
    mq_name_this_thread(b"mqcore/io")
    while True:
        n = mq_poller_wait(io.poller, events, 256, timers_timeout(&io.timers))
        io_dispatch_events(events, n)
        io_run_timers(io)
        io_release_retired(io)
        if io.stopping and io.nobjects == 0:
            break
    return NULL


cdef inline void io_run_timers(io_thread_t *io) noexcept nogil:
    if io.timers.n or io.timers.overflow != NULL:
        timers_run(&io.timers, mq_now_ms())


cdef void io_process_commands(io_thread_t *io) noexcept nogil:
    cdef int n = mailbox_take(io.mb, &io.cmdbuf, True)
    cdef int i
    cdef command_t *c
    cdef handle_t *h
    for i in range(n):
        c = &io.cmdbuf.cmds[i]
        if c.type == CMD_STOP:
            io.stopping = True
        elif c.end == NULL:
            # Commands naming an object: it lives on this thread from now on.
            h = <handle_t *>c.obj
            h.io = io
            h.ops.on_command(h, c)
        else:
            # A pipe command for the end's owner. A closed end's owner may be
            # gone already: its commands are dropped.
            if not c.end.closed and c.end.owner != NULL:
                h = <handle_t *>c.end.owner
                h.ops.on_command(h, c)
            pipe_decref(c.end.pipe)


cdef void io_mailbox_on_event(handle_t *h, int events) noexcept nogil:
    io_process_commands(h.io)


cdef void io_mailbox_on_command(handle_t *h, command_t *c) noexcept nogil:
    pass


cdef void io_mailbox_release(handle_t *h) noexcept nogil:
    pass


cdef handle_ops_t IO_MAILBOX_OPS
IO_MAILBOX_OPS.on_event = io_mailbox_on_event
IO_MAILBOX_OPS.on_command = io_mailbox_on_command
IO_MAILBOX_OPS.release = io_mailbox_release


cdef int io_thread_init(io_thread_t *io, bint portable_poller) noexcept nogil:
    """Sets up the poller and mailbox of a zeroed io_thread_t (no thread
    yet). -1 with errno set (EMFILE, ENOMEM); what was made is then freed by
    io_thread_fini."""
    io.h.ops = &IO_MAILBOX_OPS
    io.h.io = io
    io.h.fd = -1
    io.poller = mq_poller_new(portable_poller)
    if io.poller == NULL:
        return -1
    io.mb = mailbox_new()
    if io.mb == NULL:
        return -1
    if mailbox_reserve(io.mb, 1) < 0:
        # The slot of the STOP that ends the thread: stopping cannot fail.
        set_errno(ENOMEM)
        return -1
    io.h.fd = io.mb.sig.rfd
    return 0


cdef void io_thread_fini(io_thread_t *io) noexcept nogil:
    """Frees what io_thread_init made (the thread, if any, is joined)."""
    cdef cmdbuf_t rest
    if io.poller != NULL:
        handle_forget(io, &io.h)
        mq_poller_free(io.poller)
        io.poller = NULL
    if io.mb != NULL:
        rest.cmds = NULL
        rest.cap = 0
        mailbox_close(io.mb, &rest)
        free(rest.cmds)
        mailbox_decref(io.mb)
        io.mb = NULL
    free(io.cmdbuf.cmds)
    io.cmdbuf.cmds = NULL
    timers_free(&io.timers)


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
    if io_thread_init(io, force != NULL and strcmp(force, b"poll") == 0) < 0:
        return io_thread_new_failed(io, errno if errno else ENOMEM)
    handle_want(io, &io.h, MQ_POLLIN)
    if not io.h.registered:
        return io_thread_new_failed(io, errno if errno else ENOMEM)
    err = pthread_create(&io.thread, NULL, io_thread_main, io)
    if err != 0:
        return io_thread_new_failed(io, err)
    return io


cdef io_thread_t *io_thread_new_failed(io_thread_t *io, int err) noexcept nogil:
    io_thread_fini(io)
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
    io_thread_fini(io)
    free(io)
