# Handles on the core's internals for the unit tests (tests/unit): the
# codec, a two-thread ring stress and a pipe's HWM credit, driven from
# Python without sockets. Not part of the public API.

def _encode_frame(body, bint more=False, bint command=False):
    cdef unsigned char hdr[9]
    cdef int n = frame_header(hdr, (ZMTP_MORE if more else 0) | (ZMTP_COMMAND if command else 0), len(body))
    return PyBytes_FromStringAndSize(<char *>hdr, n) + bytes(body)


def _greeting(int routing_id_len=0):
    cdef unsigned char g[64]
    greeting_build(g, b"NULL", routing_id_len)
    return PyBytes_FromStringAndSize(<char *>g, 64)


def _greeting_check(bytes g):
    """0 fine so far, -1 not ZMTP 3, -2 mechanism mismatch; and the minor."""
    cdef int minor = -1
    rc = greeting_check(<const unsigned char *>PyBytes_AS_STRING(g), len(g), b"NULL", &minor)
    return rc, minor


def _ready(int socket_type, bytes identity=b""):
    cdef unsigned char out[600]
    cdef size_t n = ready_build(out, socket_type, <const unsigned char *>PyBytes_AS_STRING(identity), len(identity))
    return PyBytes_FromStringAndSize(<char *>out, n)


def _parse_metadata(bytes props):
    """(socket_type, identity) from READY properties; ValueError if malformed."""
    cdef peer_meta_t meta
    if metadata_parse(<const unsigned char *>PyBytes_AS_STRING(props), len(props), &meta) < 0:
        raise ValueError("malformed metadata")
    return meta.socket_type, PyBytes_FromStringAndSize(<char *>meta.identity, meta.identity_len)


def _socket_types_compatible(int a, int b):
    return socket_types_compatible(a, b)


cdef class _Decoder:
    """Feeds bytes to the incremental decoder; collects (flags, body)."""
    cdef decoder_t dec

    def __cinit__(self, long long maxmsgsize=-1):
        decoder_init(&self.dec, maxmsgsize)

    def __dealloc__(self):
        msg_close(&self.dec.msg)

    def feed(self, data):
        cdef bytes b = bytes(data)
        cdef size_t pos = 0
        cdef size_t used
        cdef int rc
        frames = []
        while True:
            rc = decoder_feed(&self.dec, <const unsigned char *>PyBytes_AS_STRING(b) + pos, len(b) - pos, &used)
            pos += used
            if rc == DEC_ERROR:
                raise_errno(self.dec.error)
            if rc == DEC_NEED_MORE:
                return frames
            frames.append((self.dec.msg.flags,
                           PyBytes_FromStringAndSize(<char *>msg_data(&self.dec.msg), self.dec.msg.size)))
            msg_close(&self.dec.msg)


cdef struct ring_stress_t:
    ypipe_t *q
    mq_sig_t sig
    long long count
    long long wakeups


cdef void *ring_stress_writer(void *arg) noexcept nogil:
    cdef ring_stress_t *st = <ring_stress_t *>arg
    cdef msg_t m
    cdef long long i
    for i in range(st.count):
        msg_init_size(&m, 8 if i % 3 else 40)      # inline and chunked bodies
        (<long long *>msg_data(&m))[0] = i
        if i % 7 == 1:
            m.flags = MSG_MORE      # an unfinished message stays invisible...
            ypipe_write(st.q, &m, True)
            msg_init_size(&m, 8)
            (<long long *>msg_data(&m))[0] = -i
        ypipe_write(st.q, &m, False)
        if i % 16 == 0 or i == st.count - 1:
            if not ypipe_flush(st.q):
                st.wakeups += 1
                mq_sig_send(&st.sig)
    return NULL


def _ring_stress(long long count, int timeout_ms=20000):
    """Moves `count` messages through a ypipe from a C thread to this one,
    sleeping on a signal fd whenever the ring runs dry; returns
    (messages checked, wake-ups). Raises AssertionError on loss or
    reordering, TimeoutError if the reader starves."""
    cdef ring_stress_t st
    cdef pthread_t t
    cdef msg_t m
    cdef long long expect = 0
    cdef long long v
    cdef int bad = 0
    cdef int timed_out = 0
    st.q = ypipe_new()
    st.count = count
    st.wakeups = 0
    mq_sig_open(&st.sig)
    with nogil:
        pthread_create(&t, NULL, ring_stress_writer, &st)
        while expect < count and not bad:
            if ypipe_read(st.q, &m):
                v = (<long long *>msg_data(&m))[0]
                if m.flags & MSG_MORE:
                    if v != expect:
                        bad = 1
                else:
                    if (expect % 7 == 1 and v != -expect) or (expect % 7 != 1 and v != expect):
                        bad = 1
                    expect += 1
                msg_close(&m)
            else:
                if mq_sig_wait(&st.sig, timeout_ms) == 0:
                    timed_out = 1
                    break
                mq_sig_drain(&st.sig)
        pthread_join(t, NULL)
    ypipe_free(st.q)
    mq_sig_close(&st.sig)
    if bad:
        raise AssertionError(f"message {expect} lost or out of order")
    if timed_out:
        raise TimeoutError(f"reader starved after {expect} messages")
    return expect, st.wakeups


cdef class _PipeProbe:
    """One pipe with end 0 writing and end 1 reading, both in this thread;
    commands end 1 would send to end 0 land in a mailbox we can inspect."""
    cdef pipe_t *p
    cdef mailbox_t *mb0
    cdef mailbox_t *mb1
    cdef cmdbuf_t buf

    def __cinit__(self, int hwm0, int hwm1):
        self.p = pipe_new(hwm0, hwm1)
        self.mb0 = mailbox_new()
        self.mb1 = mailbox_new()
        pipe_set_owner(&self.p.ends[0], self.mb0, NULL)
        pipe_set_owner(&self.p.ends[1], self.mb1, NULL)

    def __dealloc__(self):
        if self.p != NULL:
            pipe_close(&self.p.ends[0], 0)
            pipe_close(&self.p.ends[1], 0)
        self._commands(self.mb0)
        self._commands(self.mb1)
        mailbox_decref(self.mb0)
        mailbox_decref(self.mb1)
        free(self.buf.cmds)

    def write(self, int n, bint more=False):
        """Writes up to n one-frame messages; returns how many fitted."""
        cdef msg_t m
        cdef int i
        for i in range(n):
            if not self.p.ends[0].more_out and not pipe_check_write(&self.p.ends[0]):
                return i
            msg_init_size(&m, 4)
            if more:
                m.flags = MSG_MORE
            pipe_write(&self.p.ends[0], &m)
            pipe_flush(&self.p.ends[0])
        return n

    def read(self, int n):
        """Reads up to n frames; returns how many there were."""
        cdef msg_t m
        cdef int i
        for i in range(n):
            msg_init(&m)
            if pipe_read(&self.p.ends[1], &m) != 1:
                return i
            msg_close(&m)
        return n

    cdef list _commands(self, mailbox_t *mb):
        cdef int n = mailbox_take(mb, &self.buf)
        cdef int i
        out = []
        for i in range(n):
            out.append(self.buf.cmds[i].type)
            if self.buf.cmds[i].end != NULL:
                pipe_decref(self.buf.cmds[i].end.pipe)
        return out

    def writer_commands(self):
        """Command types sent to the writer (2 = ACTIVATE_WRITE)."""
        return self._commands(self.mb0)

    def reader_commands(self):
        """Command types sent to the reader (1 = ACTIVATE_READ, 3 = PIPE_TERM)."""
        return self._commands(self.mb1)

    def close_writer(self):
        pipe_close(&self.p.ends[0], 0)

    @property
    def lwm(self):
        return self.p.ends[1].lwm


cdef struct credit_stress_t:
    pipe_t *p
    mailbox_t *mb0              # the writer's (end 0) commands
    mailbox_t *mb1              # the reader's (end 1) commands
    long long count
    long long parks             # [writer] times it found the pipe full
    int timeout_ms
    int stalled                 # [any] atomic: a side waited timeout_ms in vain


cdef bint credit_stress_wait(credit_stress_t *st, mailbox_t *mb, cmdbuf_t *buf) noexcept nogil:
    """Sleeps until the mailbox is signalled and takes its commands; False
    if timeout_ms passed without a signal."""
    cdef int rc = -1
    while rc < 0:
        rc = mq_sig_wait(&mb.sig, st.timeout_ms)
    credit_stress_drop_commands(mb, buf, False)
    return rc > 0


cdef void credit_stress_drop_commands(mailbox_t *mb, cmdbuf_t *buf, bint closing) noexcept nogil:
    cdef int i
    cdef int n = mailbox_close(mb, buf) if closing else mailbox_take(mb, buf, True)
    for i in range(n):
        pipe_decref(buf.cmds[i].end.pipe)


cdef void *credit_stress_writer(void *arg) noexcept nogil:
    cdef credit_stress_t *st = <credit_stress_t *>arg
    cdef pipe_end_t *e = &st.p.ends[0]
    cdef cmdbuf_t buf
    cdef msg_t m
    cdef long long i = 0
    buf.cmds = NULL
    buf.cap = 0
    while i < st.count and not mq_int_load(&st.stalled):
        if not pipe_check_write(e):
            st.parks += 1
            if not credit_stress_wait(st, st.mb0, &buf):
                mq_int_store(&st.stalled, 1)
            continue
        msg_init_size(&m, 8)
        (<long long *>msg_data(&m))[0] = i
        pipe_write(e, &m)
        pipe_flush(e)
        i += 1
    free(buf.cmds)
    return NULL


def _pipe_credit_stress(long long count, int hwm, int timeout_ms=20000):
    """Moves `count` messages through a pipe of SNDHWM `hwm` from a C thread
    to this one; each side sleeps on its mailbox when it can't go on, so a
    lost ACTIVATE_WRITE or ACTIVATE_READ stalls it. Returns (messages
    checked, times the writer parked). AssertionError on loss or
    reordering, TimeoutError on a stall."""
    cdef credit_stress_t st
    cdef pthread_t t
    cdef pipe_end_t *e
    cdef cmdbuf_t buf
    cdef msg_t m
    cdef long long expect = 0
    cdef int rc
    cdef int bad = 0
    memset(&st, 0, sizeof(st))
    st.p = pipe_new(hwm, hwm)
    st.mb0 = mailbox_new()
    st.mb1 = mailbox_new()
    st.count = count
    st.timeout_ms = timeout_ms
    e = &st.p.ends[1]
    buf.cmds = NULL
    buf.cap = 0
    pipe_set_owner(&st.p.ends[0], st.mb0, NULL)
    pipe_set_owner(e, st.mb1, NULL)
    with nogil:
        pthread_create(&t, NULL, credit_stress_writer, &st)
        while expect < count and not bad and not mq_int_load(&st.stalled):
            msg_init(&m)
            rc = pipe_read(e, &m)
            if rc == 1:
                if (<long long *>msg_data(&m))[0] != expect:
                    bad = 1
                expect += 1
                msg_close(&m)
            elif rc == 0 and not credit_stress_wait(&st, st.mb1, &buf):
                mq_int_store(&st.stalled, 1)
        pthread_join(t, NULL)
        pipe_close(&st.p.ends[0], 0)
        pipe_close(e, 0)
        credit_stress_drop_commands(st.mb0, &buf, True)
        credit_stress_drop_commands(st.mb1, &buf, True)
        mailbox_decref(st.mb0)
        mailbox_decref(st.mb1)
    free(buf.cmds)
    if bad:
        raise AssertionError(f"message {expect} lost or out of order")
    if st.stalled:
        raise TimeoutError(f"stalled after {expect} messages ({st.parks} parks)")
    return expect, st.parks


# ---------------------------------------------------------------- allocation faults

def _inject_alloc_failure(long k, long count=1, bint all_threads=False):
    """Makes the k-th allocation of the core from now fail (ENOMEM), and
    the count - 1 after it; k = 0 fails none but counts them (see
    _alloc_calls); k < 0 turns the injector off. Only allocations made by
    this thread (and threads that call _alloc_join_scope) count, unless
    all_threads: the io threads' code does not handle failures yet."""
    if k < 0:
        mq_alloc_disarm()
    else:
        mq_alloc_arm(k, count, all_threads)


def _alloc_join_scope():
    """Puts the calling thread in the injector's scope (see above)."""
    mq_alloc_join_scope()


def _alloc_calls():
    """(allocations through the core's wrappers, of which failed) since
    the injector was last armed."""
    return mq_alloc_call_count(), mq_alloc_fail_total()


def _mailbox_fold_check(int repeats):
    """Sends `repeats` ACTIVATE_READs, then an ACTIVATE_WRITE and a
    PIPE_TERM, about one pipe end to a mailbox while every allocation
    fails. Returns (command types queued in order, the pipe's refcount once
    they are taken: 2 if no reference leaked or was lost)."""
    cdef mailbox_t *mb = mailbox_new()
    cdef pipe_t *p = pipe_new(0, 0)
    cdef cmdbuf_t buf
    cdef int i, n, refs
    buf.cmds = NULL
    buf.cap = 0
    pipe_set_owner(&p.ends[0], mb, NULL)
    mq_alloc_arm(1, 1000000000, False)
    for i in range(repeats):
        pipe_send_command(&p.ends[0], CMD_ACTIVATE_READ, 0)
    pipe_send_command(&p.ends[0], CMD_ACTIVATE_WRITE, 0)
    pipe_send_command(&p.ends[0], CMD_PIPE_TERM, 0)
    mq_alloc_disarm()
    n = mailbox_close(mb, &buf)
    types = [buf.cmds[i].type for i in range(n)]
    for i in range(n):
        pipe_decref(buf.cmds[i].end.pipe)
    refs = p.refcnt
    free(buf.cmds)
    p.ends[0].closed = True
    pipe_decref(p)
    pipe_decref(p)
    mailbox_decref(mb)
    return types, refs
