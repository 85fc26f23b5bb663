# Handles on the core's internals for the unit tests (tests/unit): the
# codec, a two-thread ring stress and a pipe's HWM credit, driven from
# Python without sockets. Not part of the public API.

def _encode_frame(body, bint more=False, bint command=False):
    cdef unsigned char hdr[9]
    cdef int n = frame_header(hdr, (ZMTP_MORE if more else 0) | (ZMTP_COMMAND if command else 0), len(body))
    return PyBytes_FromStringAndSize(<char *>hdr, n) + bytes(body)


def _greeting(int routing_id_len=0):
    cdef unsigned char g[64]
    greeting_build(g, b"NULL", False, routing_id_len)
    return PyBytes_FromStringAndSize(<char *>g, 64)


def _greeting_check(bytes g):
    """0 fine so far, -1 not ZMTP 3, -2 mechanism mismatch; and the minor."""
    cdef int minor = -1
    rc = greeting_check(<const unsigned char *>PyBytes_AS_STRING(g), len(g), b"NULL", &minor)
    return rc, minor


def _ready(int socket_type, bytes identity=b""):
    """The whole READY frame a NULL handshake sends (codec: ready_init)."""
    cdef options_t o
    cdef mechanism_t mech
    cdef property_t props[2]
    cdef msg_t m
    cdef unsigned char hdr[9]
    cdef Py_ssize_t n = min(len(identity), 255)
    options_defaults(&o, socket_type)
    memcpy(o.routing_id, PyBytes_AS_STRING(identity), n)
    o.routing_id_len = <int>n
    memset(&mech, 0, sizeof(mechanism_t))
    mech.o = &o
    if ready_init(&m, props, mech_basic_properties(&mech, props)) < 0:
        raise MemoryError()
    h = frame_header(hdr, ZMTP_COMMAND, m.size)
    b = PyBytes_FromStringAndSize(<char *>hdr, h) + PyBytes_FromStringAndSize(<char *>msg_data(&m), m.size)
    msg_close(&m)
    return b


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
    all_threads (the io threads' too: their order varies from run to run)."""
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


# ---------------------------------------------------------------- fuzzing
# Entry points for the fuzzers (fuzz/, tests/fuzz): the engine's own code
# (greeting check, NULL handshake, metadata, decoder, commands, HWM
# backpressure) driven over bytes from Python, with no io thread.

cdef class _NullMechanism:
    """The NULL mechanism as a session runs it: process() takes one
    handshake command body, next() gives what it would send now."""
    cdef options_t o
    cdef mechanism_t m

    def __cinit__(self, int socket_type, bytes routing_id=b""):
        cdef Py_ssize_t n = min(len(routing_id), 255)
        options_defaults(&self.o, socket_type)
        memcpy(self.o.routing_id, PyBytes_AS_STRING(routing_id), n)
        self.o.routing_id_len = <int>n
        if mech_init(&self.m, &self.o) != 0:
            raise MemoryError()

    def __dealloc__(self):
        mech_fini(&self.m)

    def next(self):
        """The next handshake command body, or None when there is none."""
        cdef msg_t out
        msg_init(&out)
        if self.m.next_handshake_command(&self.m, &out) != 0:
            return None
        b = PyBytes_FromStringAndSize(<char *>msg_data(&out), out.size)
        msg_close(&out)
        return b

    def process(self, body):
        """0: the command was acceptable; -1: the handshake failed."""
        cdef bytes b = bytes(body)
        cdef msg_t cmd
        cdef int rc
        if msg_init_size(&cmd, len(b)) < 0:
            raise MemoryError()
        memcpy(msg_data(&cmd), PyBytes_AS_STRING(b), len(b))
        cmd.flags = MSG_COMMAND
        rc = self.m.process_handshake_command(&self.m, &cmd)
        msg_close(&cmd)
        return rc

    @property
    def status(self):
        """0 handshaking, 1 ready, 2 error."""
        return self.m.status

    @property
    def error_code(self):
        return self.m.error_code

    @property
    def peer_socket_type(self):
        return self.m.peer.socket_type

    @property
    def peer_identity(self):
        return PyBytes_FromStringAndSize(<char *>self.m.peer.identity, self.m.peer.identity_len)


cdef class _Engine:
    """The session of one accepted connection, run on this thread. Bytes
    given to feed() reach it through a socketpair, as from a TCP peer, and
    pump() does what its io thread would: read and write events, pipe
    commands, the socket taking what the session delivered (into `frames`
    as (flags, body); flags 8 marks a routing id)."""
    cdef io_thread_t *io
    cdef session_t *s
    cdef mailbox_t *sock_mb
    cdef evsink_t *ev
    cdef pipe_end_t *end
    cdef cmdbuf_t buf
    cdef object peer
    cdef public list frames
    cdef public bytearray output
    cdef public bint protocol_error
    cdef public bint attached
    cdef public bint pipe_ended
    cdef public bint peer_reads     # False: the remote peer stops reading

    def __cinit__(self):
        self.io = NULL
        self.s = NULL
        self.sock_mb = NULL
        self.ev = NULL
        self.end = NULL
        self.buf.cmds = NULL
        self.buf.cap = 0

    def __init__(self, int socket_type, long long maxmsgsize=-1, int rcvhwm=1000, bytes routing_id=b"",
                 int heartbeat_ivl=0):
        import socket as pysocket
        cdef options_t o
        cdef endpoint_t ep
        cdef Py_ssize_t n = min(len(routing_id), 255)
        options_defaults(&o, socket_type)
        o.maxmsgsize = maxmsgsize
        o.rcvhwm = rcvhwm
        o.handshake_ivl = 0
        o.heartbeat_ivl = heartbeat_ivl
        memcpy(o.routing_id, PyBytes_AS_STRING(routing_id), n)
        o.routing_id_len = <int>n
        self.frames = []
        self.output = bytearray()
        self.peer_reads = True
        mine, self.peer = pysocket.socketpair(pysocket.AF_UNIX, pysocket.SOCK_STREAM)
        mine.setblocking(False)
        self.peer.setblocking(False)
        self.io = <io_thread_t *>calloc(1, sizeof(io_thread_t))
        if self.io == NULL:
            raise MemoryError()
        self.io.poller = mq_poller_new(0)
        self.io.mb = mailbox_new()
        self.sock_mb = mailbox_new()
        self.ev = evsink_new()
        memset(&ep, 0, sizeof(endpoint_t))
        ep.tp = &IPC_TRANSPORT
        strncpy(ep.name, b"fuzz", ENDPOINT_NAME_MAX - 1)
        self.s = session_new(&o, self.sock_mb, NULL, False, &ep, self.ev)
        if self.io.poller == NULL or self.io.mb == NULL or self.sock_mb == NULL or self.s == NULL:
            raise MemoryError()
        self.s.h.fd = mine.detach()
        session_start(self.io, self.s)
        self.pump()

    @property
    def alive(self):
        return self.s != NULL

    @property
    def active(self):
        return self.s != NULL and self.s.state == S_ACTIVE

    cdef bint _session_step(self):
        """One poller round for the session; True if it was given an event."""
        cdef int want
        if self.s == NULL:
            return False
        want = self.s.h.events & (MQ_POLLIN | MQ_POLLOUT) if self.s.h.registered else 0
        if want:
            session_on_event(self.s, want)
        io_process_commands(self.io)
        if self.s.state == S_DEAD:
            self.protocol_error = self.s.no_reconnect
            self.s = NULL       # freed with the io thread's retired list
        io_release_retired(self.io)
        return want != 0

    cdef int _socket_step(self) except -1:
        """Takes the socket's commands and reads its pipe end; returns how
        many frames and commands there were."""
        cdef int n = mailbox_take(self.sock_mb, &self.buf, True)
        cdef int i
        cdef int got = n
        cdef msg_t m
        cdef command_t *c
        for i in range(n):
            c = &self.buf.cmds[i]
            if c.type == CMD_ATTACH and self.end == NULL:
                self.end = c.end
                self.attached = True
            elif c.type == CMD_ATTACH:
                pipe_close(c.end, 0)
            if c.end != NULL:
                pipe_decref(c.end.pipe)
        while self.end != NULL and not self.pipe_ended:
            msg_init(&m)
            i = pipe_read(self.end, &m)
            if i == 0:
                break
            if i < 0:
                self.pipe_ended = True
                break
            self.frames.append((m.flags, PyBytes_FromStringAndSize(<char *>msg_data(&m), m.size)))
            msg_close(&m)
            got += 1
        return got

    cdef int _peer_step(self) except -1:
        cdef int got = 0
        while self.peer_reads:
            try:
                b = self.peer.recv(65536)
            except (BlockingIOError, InterruptedError):
                return got
            except OSError:
                return got
            if not b:
                return got
            self.output += b
            got += len(b)
        return 0

    def send(self, frames):
        """The socket sends: (flags, body) frames (flags 1: more) into the
        session's pipe, HWM ignored; False before the pipe is attached."""
        cdef msg_t m
        cdef bytes b
        if self.end == NULL or self.pipe_ended:
            return False
        for flags, body in frames:
            b = bytes(body)
            if msg_init_size(&m, len(b)) < 0:
                raise MemoryError()
            memcpy(msg_data(&m), PyBytes_AS_STRING(b), len(b))
            m.flags = MSG_MORE if flags & 1 else 0
            pipe_write(self.end, &m)
        pipe_flush(self.end)
        self.pump()
        return True

    def pump(self, int rounds=1000000):
        """Runs the session and the socket side until nothing moves."""
        cdef int i
        cdef int moved
        for i in range(rounds):
            moved = self._socket_step() + self._peer_step()
            self._session_step()
            moved += self._socket_step() + self._peer_step()
            if moved == 0:
                break

    def feed(self, data):
        """Sends bytes as the remote peer; False if the session closed the
        connection before taking them all."""
        cdef bytes b = bytes(data)
        cdef Py_ssize_t pos = 0
        cdef int stuck = 0
        while pos < len(b):
            if self.s == NULL:
                return False
            try:
                pos += self.peer.send(b[pos:pos + 65536])
                stuck = 0
            except (BlockingIOError, InterruptedError):
                stuck += 1
                if stuck > 1000:
                    raise RuntimeError("the session stopped reading with its pipe drained")
            except OSError:
                self.pump()
                return False
            self.pump()
        return True

    def run_timers(self):
        """The io thread's timer pass (heartbeats, timeouts), then a pump."""
        io_run_timers(self.io)
        self._session_step()
        self.pump()

    def hang_up(self):
        """The remote peer closes its side; the session sees end of stream."""
        import socket as pysocket
        try:
            self.peer.shutdown(pysocket.SHUT_WR)
        except OSError:
            pass
        self.pump()

    def close(self):
        """Ends the session and frees everything (idempotent)."""
        if self.peer is not None:
            self.peer.close()
            self.peer = None
        self._release()

    cdef void _release(self) noexcept:
        cdef cmdbuf_t rest
        cdef int n
        cdef int i
        if self.io == NULL:
            return
        if self.s != NULL:
            session_destroy(self.s)
            self.s = NULL
        io_release_retired(self.io)
        if self.end != NULL:
            pipe_close(self.end, 0)
            self.end = NULL
        n = mailbox_take(self.sock_mb, &self.buf, True)
        for i in range(n):
            if self.buf.cmds[i].type == CMD_ATTACH:
                pipe_close(self.buf.cmds[i].end, 0)
            if self.buf.cmds[i].end != NULL:
                pipe_decref(self.buf.cmds[i].end.pipe)
        io_process_commands(self.io)
        io_release_retired(self.io)
        mq_poller_free(self.io.poller)
        timers_free(&self.io.timers)
        rest.cmds = NULL
        rest.cap = 0
        mailbox_close(self.io.mb, &rest)
        free(rest.cmds)
        mailbox_decref(self.io.mb)
        free(self.io.cmdbuf.cmds)
        free(self.io)
        self.io = NULL
        mailbox_decref(self.sock_mb)
        self.sock_mb = NULL
        evsink_decref(self.ev)
        self.ev = NULL
        free(self.buf.cmds)
        self.buf.cmds = NULL

    def __dealloc__(self):
        self._release()


cdef class _FuzzDecoder(_Decoder):
    """_Decoder plus what the engine asks of it between reads."""

    def feed_until_error(self, data):
        """(frames, errno): the frames that completed, and 0 or the error
        that stopped the stream after them."""
        cdef bytes b = bytes(data)
        cdef size_t pos = 0
        cdef size_t used
        cdef int rc
        frames = []
        while True:
            rc = decoder_feed(&self.dec, <const unsigned char *>PyBytes_AS_STRING(b) + pos, len(b) - pos, &used)
            pos += used
            if pos > <size_t>len(b):
                raise AssertionError("the decoder consumed more than it was given")
            if rc == DEC_ERROR:
                return frames, self.dec.error
            if rc == DEC_NEED_MORE:
                if pos != <size_t>len(b):
                    raise AssertionError("the decoder asked for more with bytes left")
                return frames, 0
            frames.append((self.dec.msg.flags,
                           PyBytes_FromStringAndSize(<char *>msg_data(&self.dec.msg), self.dec.msg.size)))
            msg_close(&self.dec.msg)

    @property
    def body_missing(self):
        return decoder_body_missing(&self.dec)

    @property
    def at_frame_start(self):
        return self.dec.state == DEC_FLAGS

