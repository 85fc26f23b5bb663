# The raw engine of STREAM sockets (libzmq's raw_engine_t): no greeting, no
# handshake, no framing. Whatever one read() brings is one message; each
# message's bytes go out as they are, and an empty message closes the
# connection once what came before it is written.

cdef struct raw_t:
    stream_out_t out
    unsigned char *inbuf
    bint closing                # the user asked to close after what is queued


cdef inline raw_t *raw_state(session_t *s) noexcept nogil:
    return <raw_t *>s.eng


cdef int raw_init(session_t *s) noexcept nogil:
    cdef raw_t *r = raw_state(s)
    r.inbuf = <unsigned char *>mq_malloc(IN_BATCH)
    if stream_out_init(&r.out) < 0 or r.inbuf == NULL:
        return -1
    return 0


cdef void raw_fini(session_t *s) noexcept nogil:
    cdef raw_t *r = raw_state(s)
    stream_out_fini(&r.out)
    free(r.inbuf)
    r.inbuf = NULL


cdef void raw_unplug(session_t *s) noexcept nogil:
    stream_out_reset(&raw_state(s).out)


cdef void raw_plug(session_t *s) noexcept nogil:
    # STREAM speaks to any TCP peer: ready at once (and no heartbeats: a
    # PING would be data to the peer). Its messages carry Peer-Address.
    cdef chunk_t *meta
    if connection_metadata(s.h.fd, NULL, 0, NULL, 0, &meta) != 0:
        set_errno(ENOMEM)
        session_engine_error(s, False)
        return
    session_engine_ready(s, NULL, 0, meta)


cdef void raw_on_event(session_t *s, int events) noexcept nogil:
    if events & MQ_POLLOUT:
        raw_write(s)
        if s.state == S_DEAD:
            return
    if (events & MQ_POLLERR) and s.in_blocked:
        # As the ZMTP engine: a hung-up fd waits for room in the pipe.
        handle_forget(s.h.io, &s.h)
        return
    if events & (MQ_POLLIN | MQ_POLLERR):
        raw_read(s)


cdef bint raw_has_output(session_t *s) noexcept nogil:
    return stream_out_pending(&raw_state(s).out)


cdef int raw_push(session_t *s, const unsigned char *data, size_t n) noexcept nogil:
    """One read's bytes as one message. 0 taken, -1 the session ended."""
    cdef msg_t m
    if msg_init_bytes(&m, data, n) < 0:
        # Not delivered as an empty message: that would read as a hang-up.
        session_engine_error(s, False)     # errno ENOMEM
        return -1
    if pipe_write(s.pipe, &m) != 0:
        msg_close(&m)
        session_engine_error(s, False)     # errno ENOMEM
        return -1
    return 0


cdef void raw_read(session_t *s) noexcept nogil:
    cdef raw_t *r = raw_state(s)
    cdef int rounds = 0
    cdef ssize_t n
    while s.state == S_ACTIVE and s.pipe != NULL:
        if not pipe_check_write(s.pipe):
            if not s.pipe.peer_gone:
                session_block_input(s)
                break
        if rounds == READS_PER_EVENT:
            break
        rounds += 1
        n = mq_read(s.h.fd, r.inbuf, IN_BATCH)
        if n > 0:
            if (s.pipe.peer_gone and not pipe_check_write(s.pipe)) or raw_push(s, r.inbuf, n) == 0:
                if n < IN_BATCH:
                    break
                continue
            return
        if n == 0 or (errno != EAGAIN and errno != EINTR):
            session_flush_in(s)
            session_engine_error(s, False)
            return
        break       # EAGAIN
    if s.state != S_DEAD:
        if not s.in_blocked and s.h.fd >= 0:
            handle_want(s.h.io, &s.h, s.h.events | MQ_POLLIN)
        session_flush_in(s)


cdef int raw_fill(session_t *s, raw_t *r) noexcept nogil:
    """Moves messages from the pipe into the out buffer; 1 if anything is
    queued."""
    cdef msg_t m
    if s.state != S_ACTIVE or s.pipe == NULL:
        return stream_out_pending(&r.out)
    while not r.out.has_big and not s.pipe_done and not r.closing and r.out.len + COPY_MAX <= OUT_BATCH:
        msg_init(&m)
        if session_pull_msg(s, &m) <= 0:
            break
        if m.size == 0:
            r.closing = True
            msg_close(&m)
            break
        if m.size <= COPY_MAX:
            memcpy(r.out.buf + r.out.len, msg_data(&m), m.size)
            r.out.len += m.size
            msg_close(&m)
        else:
            stream_out_take_big(&r.out, &m, 0)
    return stream_out_pending(&r.out)


cdef void raw_write(session_t *s) noexcept nogil:
    cdef raw_t *r = raw_state(s)
    cdef ssize_t n
    cdef bint full
    while raw_fill(s, r):
        n = stream_out_write(s.h.fd, &r.out, &full)
        if n < 0:
            if errno == EAGAIN:
                handle_want(s.h.io, &s.h, s.h.events | MQ_POLLOUT)
                return
            session_engine_error(s, False)
            return
        if full:
            handle_want(s.h.io, &s.h, s.h.events | MQ_POLLOUT)
            return
    if s.h.fd >= 0:
        handle_want(s.h.io, &s.h, s.h.events & ~MQ_POLLOUT)
    if (s.pipe_done or r.closing) and s.state == S_ACTIVE:
        session_destroy(s)


cdef engine_ops_t RAW_ENGINE
RAW_ENGINE.name = b"raw"
RAW_ENGINE.kind = ENGINE_STREAM
RAW_ENGINE.raw = True
RAW_ENGINE.state_size = sizeof(raw_t)
RAW_ENGINE.init = raw_init
RAW_ENGINE.fini = raw_fini
RAW_ENGINE.plug = raw_plug
RAW_ENGINE.unplug = raw_unplug
RAW_ENGINE.on_event = raw_on_event
RAW_ENGINE.restart_output = raw_write
RAW_ENGINE.restart_input = raw_read
RAW_ENGINE.has_output = raw_has_output
engine_register(&RAW_ENGINE)
