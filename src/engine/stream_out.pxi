# What byte-stream engines (ZMTP, raw) share: the batch sizes, and the out
# buffer with its large body. Small frames are copied into one buffer so one
# syscall carries many messages; a large body goes out from its own memory
# (never copied), after the buffer and in a write of its own.

cdef enum:
    IN_BATCH = 65536
    OUT_BATCH = 65536
    OUT_BUF = OUT_BATCH + 1024   # room past a batch for the handshake and the engine's commands
    COPY_MAX = 8192          # bodies up to this are copied into the out buffer
    LEAD_IN = 8192           # a larger body's first write ends on a multiple of this
    DIRECT_MIN = 16384       # bodies owing this much are read straight into place
    READS_PER_EVENT = 16

cdef struct stream_out_t:
    unsigned char *buf          # OUT_BUF bytes
    size_t pos                  # written so far
    size_t len                  # filled so far
    msg_t big                   # a large body, written from its own memory
    size_t big_off
    bint has_big


cdef int stream_out_init(stream_out_t *o) noexcept nogil:
    """-1 when memory is short (o can still be given to stream_out_fini)."""
    msg_init(&o.big)
    o.buf = <unsigned char *>mq_malloc(OUT_BUF)
    return 0 if o.buf != NULL else -1


cdef void stream_out_reset(stream_out_t *o) noexcept nogil:
    o.pos = 0
    o.len = 0
    if o.has_big:
        msg_close(&o.big)
        o.has_big = False


cdef void stream_out_fini(stream_out_t *o) noexcept nogil:
    stream_out_reset(o)
    msg_close(&o.big)
    free(o.buf)
    o.buf = NULL


cdef inline bint stream_out_pending(stream_out_t *o) noexcept nogil:
    return o.len > o.pos or o.has_big


cdef inline void stream_out_take_big(stream_out_t *o, msg_t *m, size_t off) noexcept nogil:
    memcpy(&o.big, m, sizeof(msg_t))
    o.big_off = off
    o.has_big = True


cdef ssize_t stream_out_write(int fd, stream_out_t *o, bint *full) noexcept nogil:
    """One write of what is buffered, else of the large body's rest (in that
    order and never together: see the ZMTP engine's fill). The count
    written, or -1 with errno; *full when the socket took less."""
    cdef iovec iov
    cdef ssize_t n
    cdef size_t head = o.len - o.pos
    if head:
        iov.iov_base = o.buf + o.pos
        iov.iov_len = head
    else:
        iov.iov_base = msg_data(&o.big) + o.big_off
        iov.iov_len = o.big.size - o.big_off
    n = mq_writev(fd, &iov, 1)
    if n < 0:
        return n
    if head:
        o.pos += n
        if o.pos == o.len:
            o.pos = 0
            o.len = 0
    else:
        o.big_off += n
        if o.big_off == o.big.size:
            msg_close(&o.big)
            o.has_big = False
    full[0] = <size_t>n < iov.iov_len
    return n
