# The socket core: what every socket type shares. It runs in the thread of
# whoever calls send/recv (never an io thread), holds the socket's pipe ends,
# processes the commands that io threads and inproc peers send it, and
# blocks (without the GIL) on its mailbox when a call has to wait.
#
# A socket type is its row in SOCKTYPES (base/socket_types.pxi, filled by
# proto/types.pxi): which routing helpers it uses and its xsend / xrecv /
# xhas_in / xhas_out hooks (libzmq's x-methods), so this file never names a
# type. What a pattern keeps for itself (REQ's state, ROUTER's id map, the
# subscriptions of pub/sub) lives in a private block of row.priv_size bytes
# right after the sock_t, which the pattern's file reaches with a typed
# inline (sock_priv plus a cast: no lookup on the hot path).

cdef struct sock_stats_t:
    unsigned long long msgs_sent
    unsigned long long bytes_sent
    unsigned long long msgs_received
    unsigned long long bytes_received
    unsigned long long msgs_dropped
    unsigned long long inproc_attached
    unsigned long long inproc_detached
    unsigned long long msgs_direct      # written to the fd by the caller's thread (fast_write)
    unsigned long long msgs_direct_part # ... in part, the io thread wrote the rest
    unsigned long long reads_direct     # reads of the fd by the caller's thread that brought frames (fast_read)

cdef struct held_msg_t:
    # a frame a type held back for the next recv (ROUTER's body behind its
    # id frame, SUB's look-ahead)
    msg_t msg
    bint has

cdef struct sock_t:
    socktype_t *row             # the type: facts and hooks
    mailbox_t *mb               # [any] commands for this socket; its fd is FD
    cmdbuf_t cmdbuf
    options_t o
    parray_t lb
    parray_t fq
    pipe_end_t **pipes          # every attached end
    int npipes
    int cap
    pipe_end_t *out_cur         # pipe of the multipart message being sent
    bint out_dropping           # out_cur left mid-message: the rest of it goes nowhere
    pipe_end_t *lb_last         # pipe the last frame went to
    pipe_end_t *fq_last         # pipe the last frame came from
    chunk_t *in_meta            # its connection's properties (a ref; fq_recv), or NULL
    pipe_end_t *drop_after_msg  # dropped while its message was half read: let go after its last frame
    pipe_end_t *wakes[16]       # readers to wake once the GIL is released
    int nwakes
    bint rcvmore
    bint threadsafe             # draft types: calls from any thread, under tlock
    pthread_mutex_t tlock
    bint ctx_terminated         # CMD_STOP seen: calls fail with ETERM
    bint closed
    sock_stats_t stats
    unsigned long long sent_at_recv     # stats.msgs_sent when the last message was received
    evsink_t *ev                # events for monitors; connection counters
    # CONNECT_ROUTING_ID, used up by the next connect (any type may connect;
    # the option is only accepted where the row lists it)
    unsigned char connect_rid[256]
    int connect_rid_len         # -1: none set for the next connect
    # followed by row.priv_size bytes of the type's private state


cdef inline void *sock_priv(sock_t *s) noexcept nogil:
    """The type's private block, right after the socket (pointer arithmetic:
    what every access to a pattern's state costs)."""
    return <void *>(s + 1)


cdef int no_send(sock_t *s, msg_t *m) noexcept nogil:
    return ENOTSUP


cdef int no_recv(sock_t *s, msg_t *m) noexcept nogil:
    return ENOTSUP


cdef bint never(sock_t *s) noexcept nogil:
    return False


cdef sock_t *sock_new(socktype_t *row, options_t *o) noexcept nogil:
    """NULL with errno set (EMFILE, ENFILE, ENOMEM) when out of resources."""
    cdef sock_t *s = <sock_t *>mq_calloc(1, sizeof(sock_t) + row.priv_size)
    if s == NULL:
        set_errno(ENOMEM)
        return NULL
    s.row = row
    s.mb = mailbox_new()
    if s.mb == NULL:
        return sock_new_failed(s)
    # Room for CMD_STOP, so that the context's end always reaches it.
    if mailbox_reserve(s.mb, 1) < 0:
        return sock_new_failed(s)
    s.ev = evsink_new()
    if s.ev == NULL:
        return sock_new_failed(s)
    memcpy(&s.o, o, sizeof(options_t))
    if row.xinit != NULL and row.xinit(s) != 0:
        set_errno(ENOMEM)
        return sock_new_failed(s)
    s.lb.which = PA_LB
    s.fq.which = PA_FQ
    s.connect_rid_len = -1
    s.threadsafe = row.thread_safe
    pthread_mutex_init(&s.tlock, NULL)
    return s


cdef sock_t *sock_new_failed(sock_t *s) noexcept nogil:
    """Undoes a partly made socket, keeping errno for the caller."""
    cdef int err = errno
    if s.row.xfree != NULL:
        s.row.xfree(s)
    if s.ev != NULL:
        evsink_decref(s.ev)
    mailbox_decref(s.mb)
    free(s)
    set_errno(err)
    return NULL


# ---------------------------------------------------------------- pipes

cdef int sock_attach(sock_t *s, pipe_end_t *e) noexcept nogil:
    """Takes e in. 0; or ENOMEM: e was turned away (closed, so that its
    peer learns it), as a connection refused for want of memory."""
    cdef pipe_end_t **grown
    if s.closed or (s.row.max_pipes and sock_live_pipes(s) >= s.row.max_pipes):
        # PAIR takes one peer; later ones are turned away at once.
        pipe_close(e, 0)
        return 0
    if s.npipes == s.cap:
        grown = <pipe_end_t **>mq_realloc(s.pipes, sizeof(pipe_end_t *) * (s.cap * 2 + 8))
        if grown == NULL:
            pipe_close(e, 0)
            return ENOMEM
        s.pipes = grown
        s.cap = s.cap * 2 + 8
    if (s.row.uses_lb and pa_reserve(&s.lb) != 0) or (s.row.uses_fq and pa_reserve(&s.fq) != 0):
        pipe_close(e, 0)
        return ENOMEM
    s.pipes[s.npipes] = e
    s.npipes += 1
    # Look at the pipe once now: empty, its reader is marked asleep, so the
    # first message flushed into it sends ACTIVATE_READ and makes FD
    # readable. A pipe a connect() made has no command behind it that would
    # wake a program waiting on FD otherwise (libzmq's pending commands do).
    ypipe_check_read(e.inq)
    if s.row.uses_lb:
        pa_add_active(&s.lb, e)
    if s.row.uses_fq:
        pa_add_active(&s.fq, e)
    if e.inproc:
        s.stats.inproc_attached += 1
    if s.row.xattach != NULL and s.row.xattach(s, e) != 0:
        sock_drop_pipe(s, e)
        return ENOMEM
    return 0


cdef int sock_live_pipes(sock_t *s) noexcept nogil:
    """Pipes whose peer is still there (one that left may stay until what it
    sent has been read, but no longer counts as a peer)."""
    cdef int i, n = 0
    for i in range(s.npipes):
        if not s.pipes[i].peer_gone:
            n += 1
    return n


cdef void sock_drop_pipe(sock_t *s, pipe_end_t *e, long long linger=0) noexcept nogil:
    """Forgets e and closes it (the peer is told unless it left first).
    Every way a pipe leaves the socket comes through here, so that nothing
    the socket keeps can reach e once it is closed (and maybe freed)."""
    cdef int i
    if sock_in_message_from(s, e):
        sock_drop_after_message(s, e)
        return
    if s.row.xdetach != NULL and s.drop_after_msg != e:   # (else detached already)
        s.row.xdetach(s, e)
    sock_forget_pipe_refs(s, e)
    for i in range(s.npipes):
        if s.pipes[i] == e:
            s.pipes[i] = s.pipes[s.npipes - 1]
            s.npipes -= 1
            break
    pipe_close(e, linger)


cdef void sock_forget_pipe_refs(sock_t *s, pipe_end_t *e) noexcept nogil:
    """Takes e off every list of the socket core and clears every field
    that points at it; the type's xforget does the same for its state."""
    pa_remove(&s.lb, e)
    pa_remove(&s.fq, e)
    sock_forget_out(s, e)
    sock_unwake(s, e)
    if s.row.xforget != NULL:
        s.row.xforget(s, e, True)
    if s.lb_last == e:
        s.lb_last = NULL
    if s.fq_last == e:
        s.fq_last = NULL
    if s.drop_after_msg == e:
        s.drop_after_msg = NULL


cdef inline void sock_forget_out(sock_t *s, pipe_end_t *e) noexcept nogil:
    """e will take no more frames: if a message to it was half sent, its
    other frames are dropped rather than sent to another peer as a
    message of their own."""
    if s.out_cur == e:
        s.out_cur = NULL
        s.out_dropping = True


cdef void sock_unwake(sock_t *s, pipe_end_t *e) noexcept nogil:
    """Takes e off the wake list: its peer learns of the end from PIPE_TERM
    (or has left already), and the next sock_send_wakes must not reach an
    end that may be freed by then."""
    cdef int i = 0
    while i < s.nwakes:
        if s.wakes[i] == e:
            s.nwakes -= 1
            s.wakes[i] = s.wakes[s.nwakes]
        else:
            i += 1


cdef inline bint sock_in_message_from(sock_t *s, pipe_end_t *e) noexcept nogil:
    """The user holds the first frames of a message from e (the rest of
    it can only come from e)."""
    return e.more_in and not e.closed and s.fq_last == e and pa_contains(&s.fq, e)


cdef void sock_drop_after_message(sock_t *s, pipe_end_t *e) noexcept nogil:
    """Drops e as far as it can be while its message is half read: no more
    sends or routing to it; the fair-queue lets go of it after the last
    frame of that message (libzmq's terminate_current_in)."""
    if s.drop_after_msg == e:
        return
    if s.row.xdetach != NULL:
        s.row.xdetach(s, e)
    pa_remove(&s.lb, e)
    sock_forget_out(s, e)
    if s.row.xforget != NULL:
        s.row.xforget(s, e, False)     # no routing to it; what it sent may still be read
    e.tag = NULL                # no endpoint's any more: disconnect must not find it again
    s.drop_after_msg = e


cdef void sock_peer_terminated(sock_t *s, pipe_end_t *e) noexcept nogil:
    e.peer_gone = True
    if e.inproc:
        s.stats.inproc_detached += 1
    pa_remove(&s.lb, e)
    sock_forget_out(s, e)
    if pa_contains(&s.fq, e) and not e.ignored:
        # Still deliver what arrived before the end: the fair-queue lets go
        # of the pipe when it reads the delimiter.
        pa_activate(&s.fq, e)
    else:
        sock_drop_pipe(s, e)


cdef bint sock_owns(sock_t *s, pipe_end_t *e) noexcept nogil:
    cdef int i
    for i in range(s.npipes):
        if s.pipes[i] == e:
            return True
    return False


cdef inline bint held_take(held_msg_t *h, msg_t *m) noexcept nogil:
    """Moves the frame a type held back into *m, if there is one."""
    if not h.has:
        return False
    memcpy(m, &h.msg, sizeof(msg_t))
    msg_init(&h.msg)
    h.has = False
    return True


# ---------------------------------------------------------------- wake-ups

cdef inline void sock_flush_pipe(sock_t *s, pipe_end_t *e) noexcept nogil:
    """Publishes what was written to e. Waking a sleeping reader is left
    for sock_send_wakes, which the Python layer calls without the GIL: the
    woken thread (often a Python thread of this process) may then run at
    once instead of blocking on the GIL we would still hold. An idle
    connection takes the message straight from this thread (fast_write)
    when it is the first send on e since the socket received a message: a
    request/reply rhythm, where the hop costs the round trip its latency.
    A stream of sends goes through the io thread, which packs many into
    one write (written one by one from here, a 64 B stream was 30-90%
    slower)."""
    cdef int fast = 0
    if e.fast_mark != s.stats.msgs_received:
        e.fast_mark = s.stats.msgs_received
        fast = fastw_send(e)
    if fast == 1:
        s.stats.msgs_direct += 1
        return
    if fast == 2:
        s.stats.msgs_direct_part += 1
        return
    if ypipe_flush(e.outq):
        return
    if s.nwakes == 16:
        sock_send_wakes(s)
    s.wakes[s.nwakes] = e
    s.nwakes += 1


cdef void sock_send_wakes(sock_t *s) noexcept nogil:
    cdef int i
    for i in range(s.nwakes):
        pipe_send_command(s.wakes[i].peer, CMD_ACTIVATE_READ, 0)
    s.nwakes = 0


# ---------------------------------------------------------------- commands

cdef void sock_process_commands(sock_t *s, bint force=False) noexcept nogil:
    cdef int n = mailbox_take(s.mb, &s.cmdbuf, force)
    cdef int i
    cdef command_t *c
    for i in range(n):
        c = &s.cmdbuf.cmds[i]
        if c.type == CMD_STOP:
            s.ctx_terminated = True
            continue
        sock_apply_pipe_command(s, c)
        pipe_decref(c.end.pipe)


cdef inline void sock_activate_read(sock_t *s, pipe_end_t *e) noexcept nogil:
    """e has messages again (its ACTIVATE_READ, or the socket's own read of
    the connection: fast_read.pxi)."""
    if s.row.xread_activated != NULL:
        s.row.xread_activated(s, e)
    elif not e.ignored:
        pa_activate(&s.fq, e)


cdef void sock_apply_pipe_command(sock_t *s, command_t *c) noexcept nogil:
    cdef pipe_end_t *e = c.end
    if c.type == CMD_ATTACH:
        e.tag = <void *>c.arg       # the endpoint it belongs to, for disconnect
        sock_attach(s, e)
        return
    if e.closed or not sock_owns(s, e):
        return
    if c.type == CMD_ACTIVATE_READ:
        sock_activate_read(s, e)
    elif c.type == CMD_ACTIVATE_WRITE:
        pa_activate(&s.lb, e)
    elif c.type == CMD_PIPE_TERM:
        sock_peer_terminated(s, e)
    elif c.type == CMD_HICCUP:
        if s.row.xhiccup != NULL:
            s.row.xhiccup(s, e)


cdef inline void sock_poll_commands(sock_t *s, bint force=False) noexcept nogil:
    if force or mq_int_load(&s.mb.signaled):
        sock_process_commands(s, force)
        # Attaching a pipe may have written to it (subscriptions, probes).
        sock_send_wakes(s)


cdef void sock_close(sock_t *s) noexcept nogil:
    """Closes every pipe end with the socket's linger and refuses further
    commands; the caller stops the socket's listeners and sessions."""
    cdef cmdbuf_t rest
    cdef int i, n
    cdef command_t *c
    s.closed = True
    sock_send_wakes(s)
    for i in range(s.npipes):
        pipe_close(s.pipes[i], s.o.linger)
    s.npipes = 0
    rest.cmds = NULL
    rest.cap = 0
    n = mailbox_close(s.mb, &rest)
    for i in range(n):
        c = &rest.cmds[i]
        if c.type == CMD_ATTACH:
            pipe_close(c.end, s.o.linger)
        if c.end != NULL:
            pipe_decref(c.end.pipe)
    free(rest.cmds)


cdef void sock_free(sock_t *s) noexcept nogil:
    if s.row.xfree != NULL:
        s.row.xfree(s)
    evsink_decref(s.ev)
    chunk_swap(&s.in_meta, NULL)
    pthread_mutex_destroy(&s.tlock)
    free(s.lb.items)
    free(s.fq.items)
    free(s.pipes)
    free(s.cmdbuf.cmds)
    mailbox_decref(s.mb)
    free(s)


# ---------------------------------------------------------------- send/recv

cdef enum:
    WAIT_INTR = -2          # a signal arrived: run Python's handlers, retry


cdef inline int wait_left_ms(long long deadline) noexcept nogil:
    """How long to sleep until the deadline: -1 none, 0 passed."""
    cdef long long left
    if deadline < 0:
        return -1
    left = deadline - mq_now_ms()
    return <int>left if left > 0 else 0


cdef inline int sock_woke(int rc, long long deadline) noexcept nogil:
    """What a wait returning rc (>0 woken, 0 timed out, <0 a signal) means
    for the caller: 0, EAGAIN or WAIT_INTR."""
    if rc < 0:
        return WAIT_INTR
    if rc == 0 and deadline >= 0 and mq_now_ms() >= deadline:
        return EAGAIN
    return 0


cdef int sock_wait(sock_t *s, long long deadline) noexcept nogil:
    """Sleeps until a command arrives or the deadline (-1: none) passes.
    0: woken; EAGAIN: timed out; WAIT_INTR: interrupted by a signal."""
    cdef int left = wait_left_ms(deadline)
    if left == 0:
        return EAGAIN
    return sock_woke(mq_sig_wait(&s.mb.sig, left), deadline)


cdef inline bint sock_reads_directly(sock_t *s) noexcept nogil:
    """A receive is to wait on the connection's fd too (fast_read.pxi):
    the socket sent since it last received (a request/reply rhythm: the
    reply's latency is the round trip's), on its one connection, whose
    engine lent its input. A stream is left to the io thread, which
    decodes while the socket's thread consumes."""
    return (s.npipes == 1 and s.stats.msgs_sent != s.sent_at_recv
            and mq_int_load_relaxed(&s.pipes[0].pipe.fr.fd) >= 0)


cdef int sock_wait_reading(sock_t *s, long long deadline) noexcept nogil:
    """sock_wait on the mailbox and the one connection's fd, taking what
    comes on the fd (fast_read.pxi); commands drained when signalled."""
    cdef pipe_end_t *e = s.pipes[0]
    cdef int left, rc
    left = wait_left_ms(deadline)
    if left == 0:
        return EAGAIN
    rc = fastr_wait(&e.pipe.fr, &s.mb.sig, left)
    if rc > 0:
        if rc & FASTR_TOOK:
            s.stats.reads_direct += 1
        if rc & FASTR_ACTIVATE and not e.closed:
            sock_activate_read(s, e)
        if rc & FASTR_SIGNALLED:
            sock_poll_commands(s, True)
    return sock_woke(rc, deadline)


cdef inline int sock_try(sock_t *s, msg_t *m, bint sending) noexcept nogil:
    cdef size_t size
    cdef bint more
    cdef int rc
    sock_poll_commands(s)
    if s.ctx_terminated:
        return ETERM_
    if sending:
        size = m.size
        more = (m.flags & MSG_MORE) != 0
        rc = s.row.xsend(s, m)
        if rc == 0:
            s.stats.bytes_sent += size
            if not more:
                s.stats.msgs_sent += 1
        return rc
    rc = s.row.xrecv(s, m)
    if rc == 0:
        s.stats.bytes_received += m.size
        if not (m.flags & MSG_MORE):
            s.stats.msgs_received += 1
            s.sent_at_recv = s.stats.msgs_sent
    return rc


cdef inline void sock_take_metadata(sock_t *s, int rc, chunk_t **meta) noexcept nogil:
    """A frame was just received (rc 0) and the caller wants its
    connection's properties: a reference to them in *meta (NULL: none)."""
    if meta != NULL and rc == 0:
        meta[0] = s.in_meta
        if s.in_meta != NULL:
            mq_int_add(&s.in_meta.refcnt, 1)


cdef int sock_try_locked(sock_t *s, msg_t *m, bint sending, chunk_t **meta=NULL) noexcept nogil:
    """sock_try, under the socket's lock for the thread-safe types. meta:
    see sock_take_metadata (taken under the same lock, so that another
    thread's receive cannot change it in between)."""
    cdef int rc
    if not s.threadsafe:
        rc = sock_try(s, m, sending)
        sock_take_metadata(s, rc, meta)
        return rc
    pthread_mutex_lock(&s.tlock)
    rc = sock_try(s, m, sending)
    sock_take_metadata(s, rc, meta)
    sock_send_wakes(s)
    pthread_mutex_unlock(&s.tlock)
    if rc != EAGAIN:
        mailbox_changed(s.mb)       # another thread may be able to go on now
    return rc


cdef int sock_io_blocking_ts(sock_t *s, msg_t *m, bint sending, long long deadline,
                             chunk_t **meta) noexcept nogil:
    """The blocking loop of the thread-safe types: sleeps on the mailbox's
    condition in slices, returning WAIT_INTR after each so that Python can
    run signal handlers."""
    cdef int rc, gen
    cdef long long left
    while True:
        gen = mq_int_load(&s.mb.gen)
        rc = sock_try_locked(s, m, sending, meta)
        if rc != EAGAIN:
            return rc
        left = 100
        if deadline >= 0:
            left = deadline - mq_now_ms()
            if left <= 0:
                return EAGAIN
            if left > 100:
                left = 100
        mailbox_wait_change(s.mb, gen, <int>left)
        if deadline < 0 or left == 100:
            return WAIT_INTR


cdef int sock_io_blocking(sock_t *s, msg_t *m, bint sending, long long deadline,
                          chunk_t **meta=NULL) noexcept nogil:
    """Retries xsend/xrecv until it succeeds, fails, or the deadline passes."""
    cdef int rc
    if s.threadsafe:
        return sock_io_blocking_ts(s, m, sending, deadline, meta)
    while True:
        rc = sock_try(s, m, sending)
        if rc != EAGAIN:
            sock_take_metadata(s, rc, meta)
            sock_send_wakes(s)
            return rc
        if not sending and sock_reads_directly(s):
            rc = sock_wait_reading(s, deadline)
        else:
            rc = sock_wait(s, deadline)
            if rc == 0:
                sock_poll_commands(s, True)     # woken by the fd: drain it
        if rc != 0:
            return rc


cdef inline void sock_unwrite(pipe_end_t *e) noexcept nogil:
    if e != NULL and not e.closed and e.more_out:
        pipe_unwrite(e)


cdef void sock_abort_send(sock_t *s) noexcept nogil:
    """The message being sent can never be finished (no memory for its next
    frame): takes back the frames of it already written, wherever the
    socket's type sent them (its xabort_send), so that readers never see
    part of it and the next send starts a new message."""
    sock_unwrite(s.out_cur)
    s.out_cur = NULL
    s.out_dropping = False
    if s.row.xabort_send != NULL:
        s.row.xabort_send(s)


cdef int sock_events_locked(sock_t *s, bint force=True) noexcept nogil:
    """sock_events, under the socket's lock for the thread-safe types
    (other threads may be in the same socket)."""
    cdef int ev
    if not s.threadsafe:
        return sock_events(s, force)
    pthread_mutex_lock(&s.tlock)
    ev = sock_events(s, force)
    sock_send_wakes(s)
    pthread_mutex_unlock(&s.tlock)
    return ev


cdef void sock_poll_commands_locked(sock_t *s, bint force=False) noexcept nogil:
    if not s.threadsafe:
        sock_poll_commands(s, force)
        return
    pthread_mutex_lock(&s.tlock)
    sock_poll_commands(s, force)
    pthread_mutex_unlock(&s.tlock)


cdef int sock_events(sock_t *s, bint force=True) noexcept nogil:
    """EVENTS. Also what FD users read after the fd fired, so by default it
    drains the fd whatever the signalled flag says (loops that are not
    woken by the fd pass force=False)."""
    cdef int ev = 0
    sock_poll_commands(s, force)
    if s.row.xhas_in(s):
        ev |= 1
    if s.row.xhas_out(s):
        ev |= 2
    return ev
