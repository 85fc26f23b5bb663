# Commands between threads.
#
# A mailbox is a mutex-protected command array plus a wake-up fd. Any thread
# may send (commands are rare next to messages, so a lock is fine here); one
# thread receives: a socket's user thread or an io thread. At most one wake-up
# is outstanding (`signaled`), so a burst of commands costs one write() and
# one read(). A socket's mailbox fd is what it exposes as FD: readable when
# commands wait, which is exactly when EVENTS may have changed.
#
# Lifetime: every holder of a pointer to a mailbox (pipe ends owned by it,
# sessions reporting to a socket) holds a reference. When the owner goes away
# it closes the mailbox: later sends fail and the sender cleans up itself.

cdef enum:
    CMD_ACTIVATE_READ = 1   # end: the peer wrote to a pipe this end had drained
    CMD_ACTIVATE_WRITE = 2  # end: the peer read; a parked writer may go on
    CMD_PIPE_TERM = 3       # end: the peer end closed (arg = its linger, ms)
    CMD_ATTACH = 4          # end: a new pipe for this socket
    CMD_ADD_LISTENER = 5    # obj: listener_t to start watching
    CMD_CLOSE_LISTENER = 6  # obj: listener_t to close
    CMD_ADD_SESSION = 7     # obj: session_t to start
    CMD_TERM_SESSION = 8    # obj: session_t to end (arg = linger, ms)
    CMD_STOP = 9            # socket: context terminated; io thread: finish
    CMD_HICCUP = 10         # end: its connection was lost and re-made

cdef struct pipe_end_t
cdef struct pipe_t

cdef struct command_t:
    int type
    void *obj
    pipe_end_t *end         # the receiving end; the command holds a pipe ref
    long long arg

cdef struct mailbox_t:
    int refcnt              # [any] atomic
    pthread_mutex_t lock
    mq_sig_t sig
    command_t *cmds         # [lock]
    int n                   # [lock]
    int cap                 # [lock]
    int signaled            # [any] atomic mirror: commands are waiting
    int closed              # [lock]
    pthread_cond_t cond     # thread-safe sockets: their threads wait here
    int gen                 # [lock] bumped whenever their state may have changed
    int waiters             # [lock] threads waiting on cond
    int reserved            # [lock] slots set aside by mailbox_reserve


cdef mailbox_t *mailbox_new() noexcept nogil:
    """NULL with errno set (EMFILE, ENFILE, ENOMEM) when out of resources."""
    cdef mailbox_t *mb = <mailbox_t *>mq_calloc(1, sizeof(mailbox_t))
    cdef int err
    if mb == NULL:
        set_errno(ENOMEM)
        return NULL
    if mq_sig_open(&mb.sig) < 0:
        err = errno
        free(mb)
        set_errno(err)
        return NULL
    pthread_mutex_init(&mb.lock, NULL)
    pthread_cond_init(&mb.cond, NULL)
    mb.refcnt = 1
    return mb


cdef inline void mailbox_incref(mailbox_t *mb) noexcept nogil:
    mq_int_add(&mb.refcnt, 1)


cdef void mailbox_decref(mailbox_t *mb) noexcept nogil:
    if mb == NULL or mq_int_add(&mb.refcnt, -1) != 0:
        return
    mq_sig_close(&mb.sig)
    pthread_mutex_destroy(&mb.lock)
    pthread_cond_destroy(&mb.cond)
    free(mb.cmds)
    free(mb)


# Running out of memory must not lose a command: a lost ACTIVATE_READ
# leaves a reader asleep with messages waiting, a lost PIPE_TERM or ATTACH
# leaks a pipe and leaves its peer waiting forever. So the command array is
# grown ahead of need, at calls that can report ENOMEM:
#   - each pipe end, when it joins an owner (pipe_set_owner), reserves
#     MB_SLOTS_PER_END slots in the owner's mailbox (fallible: the caller
#     turns the pipe away and reports ENOMEM);
#   - the commands about one end are of at most MB_SLOTS_PER_END kinds, and
#     repeats of the idempotent ones (ACTIVATE_READ/WRITE, HICCUP) are
#     folded into the copy already queued when the array is full and cannot
#     grow (mailbox_fold_repeats).
# So a send never needs memory that was not reserved while the senders keep
# to their reservations; mailbox_send still tries to grow first, and only
# when that fails as well does it fail with ENOMEM (commands outside pipes,
# e.g. an io thread's, whose owners did not reserve).

cdef enum:
    MB_SLOTS_PER_END = 5    # ACTIVATE_READ, ACTIVATE_WRITE, PIPE_TERM, ATTACH, HICCUP
    MB_HEADROOM = 16        # for commands outside pipes (STOP, ...)
    IO_SLOTS_PER_ENDPOINT = 2   # an io thread's: ADD_ and CLOSE_LISTENER, or ADD_ and TERM_SESSION


cdef int mailbox_grow_locked(mailbox_t *mb, int need) noexcept nogil:
    """[lock] Makes room for `need` commands in all. -1 without memory."""
    cdef command_t *grown
    cdef int cap
    if need <= mb.cap:
        return 0
    cap = mb.cap * 2 + MB_HEADROOM
    if cap < need:
        cap = need
    grown = <command_t *>mq_realloc(mb.cmds, sizeof(command_t) * cap)
    if grown == NULL:
        return -1
    mb.cmds = grown
    mb.cap = cap
    return 0


cdef int mailbox_reserve(mailbox_t *mb, int k) noexcept nogil:
    """Sets aside room for k more commands (k < 0 gives room back). -1 with
    errno ENOMEM when there is no memory for it."""
    cdef int rc = 0
    pthread_mutex_lock(&mb.lock)
    if k > 0 and mailbox_grow_locked(mb, mb.reserved + k + MB_HEADROOM) < 0:
        rc = -1
    else:
        mb.reserved += k
    pthread_mutex_unlock(&mb.lock)
    if rc < 0:
        set_errno(ENOMEM)
    return rc


cdef inline bint cmd_is_repeatable(int type) noexcept nogil:
    return type == CMD_ACTIVATE_READ or type == CMD_ACTIVATE_WRITE or type == CMD_HICCUP


cdef bint mailbox_fold_repeats(mailbox_t *mb, command_t *cmd) noexcept nogil:
    """[lock] The array is full and cannot grow. Drops queued repeats of an
    idempotent command (each holds a pipe reference, and its first copy
    holds another, so dropping never frees a pipe here) to make room.
    True when cmd itself repeats a queued command and need not be queued."""
    cdef int i, j, n = 0
    cdef bint dup = False
    cdef command_t *c
    for i in range(mb.n):
        c = &mb.cmds[i]
        if cmd_is_repeatable(c.type):
            for j in range(n):
                if mb.cmds[j].type == c.type and mb.cmds[j].end == c.end:
                    break
            else:
                j = n
            if j < n:
                mq_int_add(&c.end.pipe.refcnt, -1)
                continue
            if c.type == cmd.type and c.end == cmd.end:
                dup = True
        mb.cmds[n] = c[0]
        n += 1
    mb.n = n
    return dup


cdef int mailbox_send(mailbox_t *mb, command_t *cmd) noexcept nogil:
    """0 when queued; -1 when not (mailbox closed: errno EPIPE; out of
    memory: ENOMEM; a repeat folded into the same command already queued:
    0 errno): the caller undoes what the command held."""
    cdef int wake = 0
    pthread_mutex_lock(&mb.lock)
    if mb.closed:
        pthread_mutex_unlock(&mb.lock)
        set_errno(EPIPE)
        return -1
    if mb.n == mb.cap and mailbox_grow_locked(mb, mb.n + 1) < 0:
        if mailbox_fold_repeats(mb, cmd):
            pthread_mutex_unlock(&mb.lock)
            set_errno(0)
            return -1
        if mb.n == mb.cap:
            pthread_mutex_unlock(&mb.lock)
            set_errno(ENOMEM)
            return -1
    mb.cmds[mb.n] = cmd[0]
    mb.n += 1
    if not mb.signaled:
        mq_int_store(&mb.signaled, 1)
        wake = 1
    if mb.waiters:
        pthread_cond_broadcast(&mb.cond)
    pthread_mutex_unlock(&mb.lock)
    # Signal after unlocking: the woken thread goes straight for the lock,
    # and on a busy CPU it may run before we would have let go of it. (A
    # late signal can leave the fd readable with nothing queued: owners
    # woken by the fd take commands with `force`, which drains it.)
    if wake:
        mq_sig_send(&mb.sig)
    return 0


cdef struct cmdbuf_t:
    command_t *cmds
    int cap


cdef int cmdbuf_grow(cmdbuf_t *out, int n) noexcept nogil:
    cdef command_t *grown = <command_t *>mq_malloc(sizeof(command_t) * n)
    if grown == NULL:
        return -1
    free(out.cmds)
    out.cmds = grown
    out.cap = n
    return 0


cdef int mailbox_take(mailbox_t *mb, cmdbuf_t *out, bint force=False) noexcept nogil:
    """[owner] Moves every waiting command into out; returns how many.
    Without `force` it costs one load when nothing was signalled; callers
    woken by the fd pass force so that a stray signal is drained too."""
    cdef int n
    if not force and not mq_int_load(&mb.signaled):
        return 0
    pthread_mutex_lock(&mb.lock)
    n = mb.n
    if n > out.cap and cmdbuf_grow(out, n) < 0:
        # No memory for a bigger buffer: hand over what fits now and leave
        # the rest queued and signalled, so the owner comes back for it.
        n = out.cap
    if n:
        memcpy(out.cmds, mb.cmds, sizeof(command_t) * n)
    if n < mb.n:
        memmove(mb.cmds, mb.cmds + n, sizeof(command_t) * (mb.n - n))
        mb.n -= n
    else:
        mb.n = 0
        mq_sig_drain(&mb.sig)
        mq_int_store(&mb.signaled, 0)
    mailbox_changed_locked(mb)
    pthread_mutex_unlock(&mb.lock)
    return n


# Thread-safe sockets (the draft types) may have several threads blocked in
# one socket. They do not sleep on the signal fd, where a thread draining it
# could leave another asleep with work to do, but on `cond`: each wakes when
# a command arrives or when another thread changed the socket's state
# (`gen`), then tries again.

cdef inline void mailbox_changed_locked(mailbox_t *mb) noexcept nogil:
    mq_int_store(&mb.gen, mb.gen + 1)     # read without the lock by waiters-to-be
    if mb.waiters:
        pthread_cond_broadcast(&mb.cond)


cdef void mailbox_changed(mailbox_t *mb) noexcept nogil:
    pthread_mutex_lock(&mb.lock)
    mailbox_changed_locked(mb)
    pthread_mutex_unlock(&mb.lock)


cdef void mailbox_wait_change(mailbox_t *mb, int seen_gen, int ms) noexcept nogil:
    """Sleeps up to ms until a command is waiting or gen moved past seen_gen."""
    pthread_mutex_lock(&mb.lock)
    mb.waiters += 1
    if mb.n == 0 and mb.gen == seen_gen:
        mq_cond_wait_ms(&mb.cond, &mb.lock, ms)
    mb.waiters -= 1
    pthread_mutex_unlock(&mb.lock)


cdef int mailbox_close(mailbox_t *mb, cmdbuf_t *out) noexcept nogil:
    """[owner] Refuses later sends and hands back everything still waiting
    (it needs no memory: out takes the mailbox's own array, which a closed
    mailbox no longer needs, so no ATTACH or PIPE_TERM is ever left
    behind)."""
    cdef int n
    pthread_mutex_lock(&mb.lock)
    mb.closed = 1
    free(out.cmds)
    out.cmds = mb.cmds
    out.cap = mb.cap
    n = mb.n
    mb.cmds = NULL
    mb.cap = 0
    mb.n = 0
    mq_sig_drain(&mb.sig)
    mq_int_store(&mb.signaled, 0)
    mailbox_changed_locked(mb)
    pthread_mutex_unlock(&mb.lock)
    return n
