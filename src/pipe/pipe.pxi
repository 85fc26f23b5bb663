# Pipes: two ypipes between a socket and its peer (a session on an io thread,
# or another socket for inproc), with high-water-mark credit.
#
# Each end writes to one ypipe and reads the other. HWM counts complete
# messages: the writer stops when msgs_written - peer.msgs_read >= hwm. A
# writer that finds the pipe full sets `writer_parked` and looks again; the
# reader, every lwm messages, hands credit back by sending ACTIVATE_WRITE if
# the writer parked. So a full pipe costs one command per lwm messages, not
# one per message, and lwm <= hwm means a parked writer always has a credit
# point ahead of it.
#
# The park and the credit are a Dekker pair: the writer stores writer_parked
# then loads msgs_read; the reader stores msgs_read then loads
# writer_parked. Each side needs a full barrier between its store and its
# load (the writer: seq_cst store and load; the reader: a plain release
# store per message and mq_fence_sc() at its credit points only), so that at
# least one of them sees the other: the writer sees the room, or the reader
# sees the park and wakes it.
#
# hwm and lwm are fixed for a pipe's life but for one case: an inproc pipe
# connected before its binder existed gets its final limits when the binder
# appears, from the binder's thread (pipe_raise_limits). That is the same
# handshake with the new hwm in place of msgs_read.
#
# Ending a pipe: an end that closes writes a delimiter after its last message
# (so the reader still gets everything sent before it), wakes the reader, and
# sends PIPE_TERM so that an owner that never reads (PUSH) learns it too. The
# pipe struct is refcounted: one reference per live end and one per command in
# flight, so no thread ever touches freed memory however the two ends race.

cdef struct pipe_end_t:
    pipe_t *pipe
    pipe_end_t *peer
    ypipe_t *inq                # [owner] read side
    ypipe_t *outq               # [owner] write side
    void *owner_mb              # [any] mailbox_t*, atomic (NULL until attached)
    void *owner                 # [owner] sock_t* or session_t*
    int hwm                     # [owner; pipe_raise_limits] outbound limit in messages, 0 = none
    int lwm                     # [owner; pipe_raise_limits] credit step for the inbound side
    uint64_t msgs_written       # [owner]
    uint64_t msgs_read          # [owner writes, peer reads] atomic
    int writer_parked           # [any] atomic
    bint in_active              # [owner] in the socket's fair-queue prefix
    bint out_active             # [owner] in the socket's load-balance prefix
    bint peer_gone              # [owner] PIPE_TERM or delimiter seen
    bint closed                 # [owner] this end is finished
    bint more_in                # [owner] inside a multipart message being read
    bint more_out               # [owner] inside a multipart message being written
    int lb_index
    int fq_index
    void *tag                   # [owner] free for the owner (endpoint record)
    unsigned char *rid          # [owner] routing id (ROUTER-like sockets), malloc'd
    int rid_len                 # -1: not known yet
    bint rid_fixed              # CONNECT_ROUTING_ID chose it: peer identities are ignored
    bint rid_generated          # the socket made the routing id up (no handover onto it)
    bint ignored                # ROUTER: duplicate id, kept but never read
    bint inproc                 # joins two sockets directly (for stats)
    unsigned int match_gen      # [owner] dist: matched the current message
    bint mb_reserved            # its owner's mailbox holds command slots for it
    chunk_t *meta               # [owner] properties of the messages now read (a ref), or NULL
    unsigned long long fast_mark    # [owner] the owner's msgs_received when it last sent here (fast_write)

cdef struct fastw_t:
    # The fast write path (engine/fast_write.pxi): end 0's owner may write a
    # message to the connection's fd itself while this is open.
    int lock                    # [any] atomic spin flag: its holder owns the fields below
    int fd                      # [lock] the connection's fd while open, -1 closed
    void *out                   # [lock] stream_out_t*: the engine's (empty) out buffer

cdef struct fastr_t:
    # The fast read path (engine/fast_read.pxi): end 0's owner, blocked in a
    # receive, may read the connection's fd itself and decode what came into
    # the pipe while this is open.
    int lock                    # [any] atomic spin flag: its holder owns the fields below and the engine's input
    int fd                      # [lock] the connection's fd while open, -1 closed
    int lent                    # [any] atomic: end 0's owner sleeps on fd (the io thread lets it read first)
    void *sess                  # [lock] the session_t whose input it is
    int (*take)(fastr_t *fr) noexcept nogil    # [lock] reads fd and decodes (the engine's)

cdef struct pipe_t:
    int refcnt                  # [any] atomic
    pipe_end_t ends[2]
    fastw_t fw
    fastr_t fr


cdef inline int lwm_for(int hwm) noexcept nogil:
    if hwm <= 0:
        return 1000
    return (hwm + 1) // 2


cdef pipe_t *pipe_new(int hwm0, int hwm1) noexcept nogil:
    """A pipe whose end 0 may queue hwm0 messages out, end 1 hwm1. NULL
    with errno ENOMEM without memory."""
    cdef pipe_t *p = <pipe_t *>mq_calloc(1, sizeof(pipe_t))
    cdef ypipe_t *q01
    cdef ypipe_t *q10
    if p == NULL:
        set_errno(ENOMEM)
        return NULL
    q01 = ypipe_new()
    q10 = ypipe_new()
    if q01 == NULL or q10 == NULL:
        if q01 != NULL:
            ypipe_free(q01)
        if q10 != NULL:
            ypipe_free(q10)
        free(p)
        set_errno(ENOMEM)
        return NULL
    p.refcnt = 2
    p.fw.fd = -1
    p.fr.fd = -1
    p.ends[0].pipe = p
    p.ends[1].pipe = p
    p.ends[0].peer = &p.ends[1]
    p.ends[1].peer = &p.ends[0]
    p.ends[0].outq = q01
    p.ends[1].inq = q01
    p.ends[1].outq = q10
    p.ends[0].inq = q10
    p.ends[0].hwm = hwm0
    p.ends[1].hwm = hwm1
    p.ends[0].lwm = lwm_for(hwm1)
    p.ends[1].lwm = lwm_for(hwm0)
    p.ends[0].in_active = True
    p.ends[1].in_active = True
    p.ends[0].out_active = True
    p.ends[1].out_active = True
    p.ends[0].lb_index = -1
    p.ends[1].lb_index = -1
    p.ends[0].fq_index = -1
    p.ends[1].fq_index = -1
    p.ends[0].rid_len = -1
    p.ends[1].rid_len = -1
    return p


cdef int pipe_set_owner(pipe_end_t *e, mailbox_t *mb, void *owner) noexcept nogil:
    """Gives e to the owner of mb. -1 with errno ENOMEM when the mailbox
    could not set command slots aside for e (see mailbox_reserve): e is
    given all the same, and the caller should turn the pipe away."""
    cdef int rc = mailbox_reserve(mb, MB_SLOTS_PER_END)
    pipe_set_owner_reserved(e, mb, owner, rc == 0)
    return rc


cdef void pipe_set_owner_reserved(pipe_end_t *e, mailbox_t *mb, void *owner, bint reserved) noexcept nogil:
    """pipe_set_owner when the caller reserved the slots already."""
    e.mb_reserved = reserved
    e.owner = owner
    mailbox_incref(mb)
    mq_ptr_store(&e.owner_mb, mb)


cdef inline void pipe_end_unreserve(pipe_end_t *e) noexcept nogil:
    if e.mb_reserved:
        mailbox_reserve(<mailbox_t *>e.owner_mb, -MB_SLOTS_PER_END)


cdef void pipe_decref(pipe_t *p) noexcept nogil:
    if mq_int_add(&p.refcnt, -1) != 0:
        return
    ypipe_free(p.ends[0].outq)
    ypipe_free(p.ends[1].outq)
    free(p.ends[0].rid)
    free(p.ends[1].rid)
    chunk_swap(&p.ends[0].meta, NULL)
    chunk_swap(&p.ends[1].meta, NULL)
    pipe_end_unreserve(&p.ends[0])
    pipe_end_unreserve(&p.ends[1])
    mailbox_decref(<mailbox_t *>p.ends[0].owner_mb)
    mailbox_decref(<mailbox_t *>p.ends[1].owner_mb)
    free(p)


cdef void pipe_send_command(pipe_end_t *target, int type, long long arg) noexcept nogil:
    """Sends a command about `target` to target's owner, if it has one."""
    cdef mailbox_t *mb = <mailbox_t *>mq_ptr_load(&target.owner_mb)
    cdef command_t cmd
    if mb == NULL:
        return
    cmd.type = type
    cmd.obj = NULL
    cmd.end = target
    cmd.arg = arg
    mq_int_add(&target.pipe.refcnt, 1)
    if mailbox_send(mb, &cmd) < 0:
        pipe_decref(target.pipe)


cdef inline bint pipe_is_full(pipe_end_t *e) noexcept nogil:
    cdef int hwm = mq_int_load_sc(&e.hwm)
    return hwm > 0 and <long long>(e.msgs_written - mq_u64_load(&e.peer.msgs_read)) >= hwm


cdef bint pipe_check_write(pipe_end_t *e) noexcept nogil:
    """[owner] True when one more message fits. False parks the writer: a
    later ACTIVATE_WRITE says to look again."""
    if e.closed or e.peer_gone:
        return False
    if not pipe_is_full(e):
        return True
    mq_int_store_sc(&e.writer_parked, 1)
    if pipe_is_full(e):
        return False
    mq_int_xchg_sc(&e.writer_parked, 0)
    return True


cdef inline int pipe_write(pipe_end_t *e, msg_t *m) noexcept nogil:
    """[owner] Moves *m into the pipe; flush() publishes complete messages.
    ENOMEM (nothing written, *m still the caller's) without memory: the
    caller takes back the frames of the message already written
    (pipe_unwrite) so that the reader never sees part of it."""
    cdef bint more = (m.flags & MSG_MORE) != 0
    if ypipe_write(e.outq, m, more) < 0:
        return ENOMEM
    e.more_out = more
    if not more:
        e.msgs_written += 1
    return 0


cdef void pipe_unwrite(pipe_end_t *e) noexcept nogil:
    """[owner] Takes back the frames of an unfinished message."""
    ypipe_rollback(e.outq)
    e.more_out = False


cdef inline void pipe_flush(pipe_end_t *e) noexcept nogil:
    if not ypipe_flush(e.outq):
        pipe_send_command(e.peer, CMD_ACTIVATE_READ, 0)


cdef inline void pipe_wake_parked_writer(pipe_end_t *w) noexcept nogil:
    """[any] The writer w's credit grew (the store of it came just before):
    if w parked, wake it."""
    mq_fence_sc()
    if mq_int_load_sc(&w.writer_parked) and mq_int_xchg_sc(&w.writer_parked, 0):
        pipe_send_command(w, CMD_ACTIVATE_WRITE, 0)


cdef inline void pipe_note_read(pipe_end_t *e) noexcept nogil:
    """[owner] Counts one complete message read and returns credit."""
    cdef uint64_t n = e.msgs_read + 1
    mq_u64_store_release(&e.msgs_read, n)
    if n % <uint64_t>mq_int_load_relaxed(&e.lwm) == 0:
        pipe_wake_parked_writer(e.peer)


cdef void pipe_raise_limits(pipe_end_t *e, int hwm, int lwm) noexcept nogil:
    """[any] Gives e a new outbound limit (0 = none) and inbound credit step
    while e's owner may be sending on it. A writer parked under the old
    limit is woken to look again."""
    # The peer end's owner writes the messages this lwm counts only after
    # this call, and e's owner reads them through the ypipe's acquire: it
    # counts every one of them with the new lwm.
    mq_int_store_relaxed(&e.lwm, lwm)
    mq_int_store_sc(&e.hwm, hwm)
    pipe_wake_parked_writer(e)


cdef inline int pipe_read(pipe_end_t *e, msg_t *m) noexcept nogil:
    """[owner] 1: a frame was read into *m; 0: nothing now (the reader is
    marked asleep); -1: the peer ended the pipe (delimiter reached)."""
    while True:
        if not ypipe_read(e.inq, m):
            return 0
        if not (m.flags & (MSG_DELIMITER | MSG_METADATA)):
            break
        if m.flags & MSG_DELIMITER:
            e.peer_gone = True
            return -1
        pipe_take_metadata(e, m)
    e.more_in = (m.flags & MSG_MORE) != 0
    if not e.more_in and not (m.flags & MSG_IDENTITY):
        pipe_note_read(e)
    return 1


cdef void pipe_take_metadata(pipe_end_t *e, msg_t *m) noexcept nogil:
    """[owner] A metadata marker was read: the messages after it carry its
    properties (e.meta takes the marker's reference)."""
    if e.meta != NULL:
        chunk_decref(e.meta)
    e.meta = m.chunk
    m.chunk = NULL
    m.size = 0


cdef inline bint pipe_skip_metadata(pipe_end_t *e, msg_t *front) noexcept nogil:
    """[owner] For readers that peek: True when the front was a metadata
    marker, now taken (peek again)."""
    cdef msg_t m
    if not (front.flags & MSG_METADATA):
        return False
    ypipe_read(e.inq, &m)
    pipe_take_metadata(e, &m)
    return True


cdef int pipe_write_metadata(pipe_end_t *e, chunk_t *meta) noexcept nogil:
    """[owner] Tells the reader that the messages written from now on have
    the properties in meta (a ZMTP property list; this takes one reference
    to it). In band, outside the HWM count. ENOMEM without memory (then
    nothing was written and the reference is still the caller's)."""
    cdef msg_t m
    msg_init(&m)
    m.flags = MSG_METADATA
    m.chunk = meta
    m.size = meta.size
    if ypipe_write(e.outq, &m, False) < 0:
        return ENOMEM
    return 0


cdef inline int pipe_write_identity(pipe_end_t *e, const unsigned char *rid, size_t n) noexcept nogil:
    """The writer's routing id, in band but outside the HWM count. ENOMEM
    without memory (then nothing was written)."""
    cdef msg_t m
    if msg_init_bytes(&m, rid, n) < 0:
        return ENOMEM
    m.flags = MSG_IDENTITY
    if ypipe_write(e.outq, &m, False) < 0:
        msg_close(&m)
        return ENOMEM
    return 0


cdef void pipe_read_newest(pipe_end_t *e, msg_t *m) noexcept nogil:
    """CONFLATE: *m was just read; replace it with the newest message
    waiting behind it (single-part messages only), dropping the others."""
    cdef msg_t *front
    if m.flags & MSG_MORE:
        return          # multipart is not conflated: it passes as it is
    while True:
        front = ypipe_peek(e.inq)
        if front != NULL and pipe_skip_metadata(e, front):
            continue
        if front == NULL or front.flags & (MSG_DELIMITER | MSG_IDENTITY | MSG_MORE):
            return
        msg_close(m)
        pipe_read(e, m)


cdef void pipe_close(pipe_end_t *e, long long linger) noexcept nogil:
    """[owner] Ends this end: the peer reads what was sent, then the end."""
    cdef msg_t d
    if e.closed:
        return
    e.closed = True
    # A half-written multipart message can never be completed and readers
    # only ever see whole messages, so take its frames back.
    ypipe_rollback(e.outq)
    msg_init_delimiter(&d)
    ypipe_write_last(e.outq, &d)
    ypipe_flush(e.outq)
    if not e.peer_gone:
        pipe_send_command(e.peer, CMD_PIPE_TERM, linger)
    pipe_decref(e.pipe)
