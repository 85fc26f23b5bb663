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


def _plain_hello_parse(bytes body):
    """(user name, password) from a PLAIN HELLO body after its name, or
    None when malformed (mech/plain.pxi: plain_hello_parse)."""
    cdef const unsigned char *cred[2]
    cdef size_t clen[2]
    if plain_hello_parse(<const unsigned char *>PyBytes_AS_STRING(body), len(body),
                         &cred[0], &clen[0], &cred[1], &clen[1]) < 0:
        return None
    return (PyBytes_FromStringAndSize(<const char *>cred[0], clen[0]),
            PyBytes_FromStringAndSize(<const char *>cred[1], clen[1]))


cdef int _engine_curve_key(unsigned char *dest, bytes key) except -1:
    """A 32-byte CURVE key into an options field (empty: left zero)."""
    if len(key) == 0:
        return 0
    if len(key) != CURVE_KEY:
        raise ValueError("CURVE keys are 32 bytes")
    memcpy(dest, PyBytes_AS_STRING(key), CURVE_KEY)
    return 0


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
    cdef zap_slot_t *zap            # the ZAP handler slot the session sees, or NULL
    cdef pipe_end_t *zap_end        # the handler's end of the session's ZAP pipe
    cdef list zap_frames            # the request being read
    cdef public list zap_reply      # frames the handler answers with (None: it never answers)
    cdef public list zap_requests   # the requests it got, each a list of frame bodies

    def __cinit__(self):
        self.io = NULL
        self.s = NULL
        self.sock_mb = NULL
        self.ev = NULL
        self.end = NULL
        self.buf.cmds = NULL
        self.buf.cap = 0
        self.zap = NULL
        self.zap_end = NULL

    def __init__(self, int socket_type, long long maxmsgsize=-1, int rcvhwm=1000, bytes routing_id=b"",
                 int heartbeat_ivl=0, str mechanism="NULL", bint as_server=False,
                 bytes plain_username=b"", bytes plain_password=b"",
                 bytes curve_public_key=b"", bytes curve_secret_key=b"", bytes curve_server_key=b"",
                 zap_reply=None, bint zap_handler=False):
        """mechanism "NULL", "PLAIN" or "CURVE" with its role and
        credentials (CURVE keys: 32 bytes each, as the options take them).
        zap_handler: a ZAP handler is bound (played by this object: every
        request goes to zap_requests and is answered with the frames of
        zap_reply, e.g. [b"", b"1.0", b"1", b"200", b"OK", b"", b""]; None:
        never answered). Without one a PLAIN server refuses every HELLO
        and a CURVE server accepts every vouched client key."""
        import socket as pysocket
        cdef options_t o
        cdef endpoint_t ep
        cdef Py_ssize_t n = min(len(routing_id), 255)
        options_defaults(&o, socket_type)
        o.mechanism = {"NULL": MECH_NULL, "PLAIN": MECH_PLAIN, "CURVE": MECH_CURVE}[mechanism]
        o.as_server = as_server
        if len(plain_username) > 255 or len(plain_password) > 255:
            raise ValueError("PLAIN credentials are at most 255 bytes")
        memcpy(o.plain_username, PyBytes_AS_STRING(plain_username), len(plain_username))
        o.plain_username_len = <int>len(plain_username)
        memcpy(o.plain_password, PyBytes_AS_STRING(plain_password), len(plain_password))
        o.plain_password_len = <int>len(plain_password)
        if o.mechanism == MECH_CURVE:
            if not SODIUM.ok:
                raise RuntimeError("CURVE needs PyNaCl")
            _engine_curve_key(o.curve_public_key, curve_public_key)
            _engine_curve_key(o.curve_secret_key, curve_secret_key)
            _engine_curve_key(o.curve_server_key, curve_server_key)
        o.maxmsgsize = maxmsgsize
        o.rcvhwm = rcvhwm
        o.handshake_ivl = 0
        o.heartbeat_ivl = heartbeat_ivl
        memcpy(o.routing_id, PyBytes_AS_STRING(routing_id), n)
        o.routing_id_len = <int>n
        self.frames = []
        self.output = bytearray()
        self.peer_reads = True
        self.zap_reply = None if zap_reply is None else [bytes(f) for f in zap_reply]
        self.zap_requests = []
        self.zap_frames = []
        if zap_handler:
            self.zap = zap_slot_new()
            if self.zap == NULL:
                raise MemoryError()
            o.zap = self.zap
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
        if self.zap != NULL and self.sock_mb != NULL:
            # The handler socket's mailbox is ours: its ATTACH names the slot.
            zap_slot_set(self.zap, <void *>self.zap, self.sock_mb)
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
            if c.type == CMD_ATTACH and self.zap != NULL and c.obj == <void *>self.zap:
                if self.zap_end != NULL:
                    pipe_close(self.zap_end, 0)
                self.zap_end = c.end
                self.zap_frames = []
            elif c.type == CMD_ATTACH and self.end == NULL:
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
        return got + self._zap_step()

    cdef int _zap_step(self) except -1:
        """The ZAP handler: reads whole requests, answers each with zap_reply."""
        cdef msg_t m
        cdef int got = 0
        cdef int rc
        cdef bytes b
        while self.zap_end != NULL:
            msg_init(&m)
            rc = pipe_read(self.zap_end, &m)
            if rc <= 0:
                if rc < 0:
                    pipe_close(self.zap_end, 0)
                    self.zap_end = NULL
                return got
            got += 1
            if m.flags & MSG_IDENTITY:
                msg_close(&m)
                continue
            more = m.flags & MSG_MORE
            self.zap_frames.append(PyBytes_FromStringAndSize(<char *>msg_data(&m), m.size))
            msg_close(&m)
            if more:
                continue
            self.zap_requests.append(self.zap_frames)
            self.zap_frames = []
            if self.zap_reply is None:
                continue
            for i, f in enumerate(self.zap_reply):
                b = f
                _msg_from(&m, b, MSG_MORE if i + 1 < len(self.zap_reply) else 0)
                pipe_write(self.zap_end, &m)
            pipe_flush(self.zap_end)
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
        if self.zap_end != NULL:
            pipe_close(self.zap_end, 0)
            self.zap_end = NULL
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
        if self.zap != NULL:
            zap_slot_set(self.zap, NULL, NULL)
            zap_slot_decref(self.zap)
            self.zap = NULL
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



# ---------------------------------------------------------------- io timers, engine and mechanism seams
# Handles for tests/test_timers.py, tests/test_mechanism_seam.py and
# tests/test_codec_commands.py: the io thread's timer heap driven from
# Python, a toy mechanism that transforms every frame (to prove the
# mechanism interface is wired into the engine's read and write paths), and
# the codec's command builders.

cdef struct _timer_log_t:
    timer_t *slots
    long long *rearm            # per timer: re-arm this many ms later when it fires (0: no)
    timers_t *tm
    long long *fired            # ids in firing order
    int nfired
    int cap


cdef void _timer_log_fire(timer_t *t, long long now) noexcept nogil:
    cdef _timer_log_t *log = <_timer_log_t *>t.owner
    cdef int id = <int>(t - log.slots)
    if log.nfired < log.cap:
        log.fired[log.nfired] = id
        log.nfired += 1
    if log.rearm[id] > 0:
        timer_arm(log.tm, t, now + log.rearm[id])


cdef class _Timers:
    """n timers on one heap, identified by 0..n-1; deadlines are plain
    numbers (the heap does not read the clock except in timeout())."""
    cdef timers_t tm
    cdef _timer_log_t log
    cdef public int n

    def __cinit__(self, int n):
        cdef int i
        memset(&self.tm, 0, sizeof(timers_t))
        memset(&self.log, 0, sizeof(_timer_log_t))
        self.log.slots = <timer_t *>calloc(max(n, 1), sizeof(timer_t))
        self.log.rearm = <long long *>calloc(max(n, 1), sizeof(long long))
        self.log.cap = 4 * n + 16
        self.log.fired = <long long *>calloc(self.log.cap, sizeof(long long))
        self.log.tm = &self.tm
        if self.log.slots == NULL or self.log.rearm == NULL or self.log.fired == NULL:
            raise MemoryError()
        for i in range(n):
            timer_init(&self.log.slots[i], &self.log, _timer_log_fire)
        self.n = n

    def arm(self, int i, long long deadline):
        timer_arm(&self.tm, &self.log.slots[self._check(i)], deadline)

    def arm_earlier(self, int i, long long deadline):
        timer_arm_earlier(&self.tm, &self.log.slots[self._check(i)], deadline)

    def cancel(self, int i):
        timer_cancel(&self.tm, &self.log.slots[self._check(i)])

    def rearm_on_fire(self, int i, long long ms):
        self.log.rearm[self._check(i)] = ms

    def armed(self, int i):
        return timer_armed(&self.log.slots[self._check(i)])

    def deadline(self, int i):
        return self.log.slots[self._check(i)].deadline

    def next_deadline(self):
        return timers_next_deadline(&self.tm)

    def timeout(self):
        return timers_timeout(&self.tm)

    @property
    def size(self):
        """Timers in the heap (the overflow list not counted)."""
        return self.tm.n

    @property
    def overflowing(self):
        cdef int k = 0
        cdef timer_t *t = self.tm.overflow
        while t != NULL:
            k += 1
            t = t.overflow_next
        return k

    def run(self, long long now):
        """Fires what is due at `now`; the ids fired, in order."""
        self.log.nfired = 0
        timers_run(&self.tm, now)
        return [self.log.fired[i] for i in range(self.log.nfired)]

    def check(self):
        """Asserts the heap's invariants: each parent due no later than its
        children, and every timer's index naming its own slot."""
        cdef int i
        for i in range(self.tm.n):
            if self.tm.heap[i].index != i:
                raise AssertionError(f"slot {i} holds a timer that thinks it is at {self.tm.heap[i].index}")
            if i and self.tm.heap[(i - 1) >> 1].deadline > self.tm.heap[i].deadline:
                raise AssertionError(f"slot {i} is due before its parent")

    cdef int _check(self, int i) except -1:
        if i < 0 or i >= self.n:
            raise IndexError(i)
        return i

    def __dealloc__(self):
        timers_free(&self.tm)
        free(self.log.slots)
        free(self.log.rearm)
        free(self.log.fired)


# A toy mechanism: the NULL handshake plus an X-Toy property and roles, then
# every frame XOR-ed with a key both ways (reversible, same size), and a
# count of frames in its private state. Test-only: registered on request.

cdef enum:
    TOY_MECHANISM = 100
    TOY_KEY = 0x5A

cdef struct _toy_priv_t:
    long long encoded
    long long decoded


cdef int _toy_next(mechanism_t *m, msg_t *out) noexcept nogil:
    cdef property_t props[3]
    cdef int n
    if m.ready_sent or m.status == MECH_ERROR:
        return EAGAIN
    n = mech_basic_properties(m, props)
    props[n].name = b"X-Toy"
    props[n].value = <const unsigned char *>(b"server" if m.as_server else b"client")
    props[n].len = 6
    if ready_init(out, props, n + 1) < 0:
        m.status = MECH_ERROR
        return ENOMEM
    m.ready_sent = True
    if m.ready_received:
        m.status = MECH_READY
    return 0


cdef int _toy_process(mechanism_t *m, msg_t *cmd) noexcept nogil:
    cdef const unsigned char *v
    cdef size_t vlen
    cdef int rc
    if m.ready_received or not command_is(cmd, b"READY"):
        m.status = MECH_ERROR
        return -1
    rc = mech_accept_metadata(m, msg_data(cmd) + 6, cmd.size - 6)
    if rc != 0:
        m.status = MECH_ERROR
        return rc
    # One side must be the server, and the peer must say which it is, both
    # in its greeting and in its properties (kept whole by the mechanism).
    if m.as_server == m.peer_as_server or not metadata_lookup(&m.peer, b"x-toy", &v, &vlen) or \
            vlen != 6 or memcmp(v, b"server" if m.peer_as_server else b"client", 6) != 0:
        m.status = MECH_ERROR
        m.error_code = PROTO_ERR_INVALID_METADATA
        return -1
    m.ready_received = True
    if m.ready_sent:
        m.status = MECH_READY
    return 0


cdef int _toy_xor(msg_t *m) noexcept nogil:
    # A new body: the message's may be shared (a PUB's copies, zero-copy).
    cdef msg_t out
    cdef size_t i
    cdef unsigned char *src = msg_data(m)
    if msg_init_size(&out, m.size) < 0:
        set_errno(ENOMEM)
        return -1
    for i in range(m.size):
        msg_data(&out)[i] = src[i] ^ TOY_KEY
    out.flags = m.flags
    msg_close(m)
    memcpy(m, &out, sizeof(msg_t))
    return 0


cdef int _toy_encode(mechanism_t *m, msg_t *msg) noexcept nogil:
    (<_toy_priv_t *>m.priv).encoded += 1
    return _toy_xor(msg)


cdef int _toy_decode(mechanism_t *m, msg_t *msg) noexcept nogil:
    (<_toy_priv_t *>m.priv).decoded += 1
    return _toy_xor(msg)


cdef long long g_toy_frames_encoded = 0
cdef long long g_toy_frames_decoded = 0


cdef void _toy_fini(mechanism_t *m) noexcept nogil:
    global g_toy_frames_encoded, g_toy_frames_decoded
    # The io thread's only writer here; tests read the totals after close.
    g_toy_frames_encoded += (<_toy_priv_t *>m.priv).encoded
    g_toy_frames_decoded += (<_toy_priv_t *>m.priv).decoded


cdef int _toy_init(mechanism_t *m) noexcept nogil:
    m.next_handshake_command = _toy_next
    m.process_handshake_command = _toy_process
    m.encode = _toy_encode
    m.decode = _toy_decode
    return 0


cdef mech_row_t TOY_MECHANISM_ROW
TOY_MECHANISM_ROW.name = b"X-TOY"
TOY_MECHANISM_ROW.number = TOY_MECHANISM
TOY_MECHANISM_ROW.priv_size = sizeof(_toy_priv_t)
TOY_MECHANISM_ROW.init = _toy_init
TOY_MECHANISM_ROW.fini = _toy_fini


def _toy_mechanism_register():
    """Adds the toy mechanism's row; returns its ZMQ_MECHANISM number."""
    mech_register(&TOY_MECHANISM_ROW)
    return TOY_MECHANISM


def _toy_mechanism_counts():
    """(frames encoded, frames decoded) by closed toy connections so far."""
    return g_toy_frames_encoded, g_toy_frames_decoded


def _toy_key():
    return TOY_KEY


def _set_mechanism(Socket s, int number, bint as_server):
    """Sets a socket's mechanism row and role for its later connections
    (what the ZMQ_*_SERVER options will do once a mechanism has them)."""
    s._check_open()
    s.s.o.mechanism = number
    s.s.o.as_server = as_server


def _metadata_lookup(bytes props, str name):
    """The value of property `name` in a READY property list, or None."""
    cdef peer_meta_t meta
    cdef const unsigned char *v
    cdef size_t vlen
    memset(&meta, 0, sizeof(peer_meta_t))
    if metadata_parse(<const unsigned char *>PyBytes_AS_STRING(props), len(props), &meta) < 0:
        raise ValueError("malformed metadata")
    if metadata_keep(&meta, <const unsigned char *>PyBytes_AS_STRING(props), len(props)) < 0:
        raise MemoryError()
    try:
        nb = name.encode()
        if not metadata_lookup(&meta, nb, &v, &vlen):
            return None
        return PyBytes_FromStringAndSize(<const char *>v, vlen)
    finally:
        metadata_free(&meta)


def _greeting_as(bint as_server, str mechanism="NULL"):
    cdef unsigned char g[64]
    mb = mechanism.encode()
    greeting_build(g, mb, as_server, 0)
    return PyBytes_FromStringAndSize(<char *>g, 64)


def _ping_frame(int ttl_ms, bytes context=b""):
    cdef unsigned char out[PING_MAX]
    cdef size_t n = ping_build(out, ttl_ms, <const unsigned char *>PyBytes_AS_STRING(context), len(context))
    return PyBytes_FromStringAndSize(<char *>out, n)


cdef int _msg_from(msg_t *m, bytes body, int flags) except -1:
    if msg_init_size(m, len(body)) < 0:
        raise MemoryError()
    memcpy(msg_data(m), PyBytes_AS_STRING(body), len(body))
    m.flags = flags
    return 0


def _pong_frame(bytes ping_body):
    cdef unsigned char out[PING_MAX]
    cdef msg_t m
    _msg_from(&m, ping_body, MSG_COMMAND)
    n = pong_build(out, &m)
    ttl = ping_ttl_ms(&m)
    msg_close(&m)
    return PyBytes_FromStringAndSize(<char *>out, n), ttl


def _subscription_command(bint subscribe, bytes topic):
    """(SUBSCRIBE/CANCEL frame as sent to ZMTP 3.1 peers, the same decoded
    back into its message form, the command body for a mechanism)."""
    cdef msg_t m
    cdef unsigned char out[32]
    cdef unsigned char *at = subscription_init(&m, subscribe, len(topic))
    if at == NULL:
        raise MemoryError()
    memcpy(at, PyBytes_AS_STRING(topic), len(topic))
    h = subscription_command_header(out, &m)
    frame = PyBytes_FromStringAndSize(<char *>out, h) + topic
    if subscription_to_command(&m) < 0:
        msg_close(&m)
        raise MemoryError()
    body = PyBytes_FromStringAndSize(<char *>msg_data(&m), m.size)
    rc = subscription_from_command(&m)
    back = PyBytes_FromStringAndSize(<char *>msg_data(&m), m.size)
    msg_close(&m)
    if rc != 1:
        raise AssertionError("not read back as a subscription")
    return frame, back, body


def _error_command(bytes reason):
    """(ERROR body, its reason read back)."""
    cdef msg_t m
    cdef const unsigned char *r
    cdef size_t rlen
    rb = reason
    if error_init(&m, rb) < 0:
        raise MemoryError()
    body = PyBytes_FromStringAndSize(<char *>msg_data(&m), m.size)
    if error_reason(&m, &r, &rlen) < 0:
        msg_close(&m)
        raise ValueError("malformed ERROR")
    back = PyBytes_FromStringAndSize(<const char *>r, rlen)
    msg_close(&m)
    return body, back


def _udp_decode(bytes datagram):
    """A udp datagram as the DISH's engine reads it (engine/udp_engine.pxi):
    (group, body), or None when it is dropped as malformed."""
    cdef msg_t m
    cdef size_t glen
    cdef const unsigned char *g
    cdef chunk_t *last_group = NULL
    msg_init(&m)
    rc = udp_decode(<const unsigned char *>PyBytes_AS_STRING(datagram), len(datagram), &m, &last_group)
    if last_group != NULL:
        chunk_decref(last_group)    # m holds its own reference
    if rc < 0:
        return None
    if rc != 0:
        raise MemoryError()
    g = msg_group(&m, &glen)
    out = (PyBytes_FromStringAndSize(<const char *>g, glen),
           PyBytes_FromStringAndSize(<const char *>msg_data(&m), m.size))
    msg_close(&m)
    return out


def _udp_encode(bytes group, bytes body):
    """The datagram RADIO's engine sends for a message; None when it does
    not fit (dropped)."""
    cdef msg_t m
    cdef unsigned char *out = <unsigned char *>mq_malloc(UDP_MAX)
    cdef size_t n
    if out == NULL:
        raise MemoryError()
    try:
        if msg_init_bytes(&m, <const unsigned char *>PyBytes_AS_STRING(body), len(body)) != 0:
            raise MemoryError()
        rc = msg_set_group(&m, <const unsigned char *>PyBytes_AS_STRING(group), len(group))
        if rc != 0:
            msg_close(&m)
            raise_errno(rc)
        n = udp_encode(&m, out, UDP_MAX)
        msg_close(&m)
        return PyBytes_FromStringAndSize(<const char *>out, n) if n else None
    finally:
        free(out)


def _transport_rows():
    """The transport table as (scheme, reported_by_has) pairs, for the test
    that has() is derived from it."""
    return [(TRANSPORTS[i].scheme.decode(), bool(TRANSPORTS[i].reported_by_has))
            for i in range(NTRANSPORTS)]


def _pgm_test_hooks(drop=(), bint forever=False, skip=(), bint quiet_source=False):
    """PGM loss on purpose (engine/pgm_engine.pxi), for sessions made after
    this call: receivers drop the ODATA of the `drop` sequence numbers
    (counted from the first one each hears) once, or with `forever` their
    RDATA too; sources do not send the ODATA of the `skip` ones (from 0)
    the first time. At most 16 of each. `quiet_source`: sources send SPMs
    only in answer to SPMRs (receivers learn the NLA by asking)."""
    global g_pgm_ndrop, g_pgm_drop_forever, g_pgm_nskip, g_pgm_quiet_source
    drop = list(drop)[:16]
    skip = list(skip)[:16]
    for i, v in enumerate(drop):
        g_pgm_drop[i] = v
    for i, v in enumerate(skip):
        g_pgm_skip[i] = v
        g_pgm_skipped[i] = 0
    g_pgm_ndrop = len(drop)
    g_pgm_drop_forever = forever
    g_pgm_nskip = len(skip)
    g_pgm_quiet_source = quiet_source


def _pgm_test_counts(bint reset=False):
    """What PGM sessions did since the last reset (engine/pgm_engine.pxi):
    a dict of counters (losses are added when a receiver's session ends)."""
    global g_pgm_counts
    c = g_pgm_counts
    out = {"dropped": c.dropped, "skipped": c.skipped, "naks_sent": c.naks_sent,
           "ncfs_received": c.ncfs_received, "rdata_received": c.rdata_received,
           "naks_received": c.naks_received, "rdata_sent": c.rdata_sent, "losses": c.losses,
           "odata_sent": c.odata_sent, "rate_waits": c.rate_waits, "spmrs_sent": c.spmrs_sent,
           "spmrs_received": c.spmrs_received,
           "sources": c.sources, "sources_refused": c.sources_refused}
    if reset:
        memset(&g_pgm_counts, 0, sizeof(g_pgm_counts))
    return out


cdef int _fuzz_pgm_deliver(void *ctx, msg_t *m) noexcept nogil:
    with gil:
        (<_FuzzPgmReceiver>ctx)._frame((<char *>msg_data(m))[:m.size], (m.flags & MSG_MORE) != 0)
    msg_close(m)
    return 0


cdef void _fuzz_pgm_drop(void *ctx) noexcept nogil:
    with gil:
        (<_FuzzPgmReceiver>ctx).partial = []


cdef class _FuzzPgmReceiver:
    """The receive side of a PGM session without the socket (fuzz/fuzz_pgm.py):
    packets go through pgm_parse, the table of sources (wire/pgm_peers.pxi)
    and their windows (wire/pgm_rx.pxi) as the engine sends them; whole
    messages collect in `messages`, a cut one's frames are taken back as
    the pipe takes them back."""
    cdef pgm_peers_t peers
    cdef bint ready
    cdef public list messages
    cdef public list partial

    def __cinit__(self, unsigned int port=5555, long long sqns=256, long long maxmsgsize=-1):
        pgm_peers_init(&self.peers, port, sqns, maxmsgsize)
        self.ready = True
        self.messages = []
        self.partial = []

    def __dealloc__(self):
        if self.ready:
            pgm_peers_fini(&self.peers)

    def _frame(self, bytes data, bint more):
        self.partial.append(data)
        if not more:
            self.messages.append(self.partial)
            self.partial = []

    def feed(self, bytes packet, long long now=0):
        """One packet as heard on the group: False when pgm_parse refuses it."""
        cdef pgm_pkt_t pkt
        cdef pgm_src_t *src
        cdef const unsigned char *p = packet
        if pgm_parse(p, len(packet), &pkt) < 0:
            return False
        if pkt.type == PGM_SPMR:
            pgm_peers_on_spmr(&self.peers, &pkt, now)
        else:
            src = pgm_peers_source_of(&self.peers, &pkt, now)
            if src != NULL and pgm_rx_on_packet(&src.rx, &pkt, self.peers.port, 0x0100007f, now) < 0:
                raise MemoryError()
        if pgm_peers_drain(&self.peers, _fuzz_pgm_deliver, _fuzz_pgm_drop, <void *>self) != RX_DONE:
            raise MemoryError()
        return True

    def due_naks(self, long long now):
        """(sqns to NAK, SPMRs due, the next time one is due) over all sources."""
        cdef uint32_t out[64]
        cdef long long due
        cdef long long first = -1
        cdef int i
        cdef int k
        cdef int n
        naks = []
        spmrs = 0
        for i in range(self.peers.n):
            if pgm_src_wants_spmr(self.peers.srcs[i], now):
                spmrs += 1
            if not self.peers.srcs[i].rx.have_nla:
                due = self.peers.srcs[i].spmr_due
            else:
                n = pgm_rx_due_naks(&self.peers.srcs[i].rx, now, out, 64, &due)
                naks.extend(out[k] for k in range(n))
            if due >= 0 and (first < 0 or due < first):
                first = due
        return naks, spmrs, first

    @property
    def losses(self):
        return pgm_peers_losses(&self.peers)

    @property
    def sources(self):
        return self.peers.n

    @property
    def window(self):
        if self.peers.n == 0 or not self.peers.srcs[0].rx.started:
            return None
        return (self.peers.srcs[0].rx.next, self.peers.srcs[0].rx.lead)


def _pgm_checksum(bytes packet, size_t skip=6):
    """pgm_checksum (the codec's), for building packets in tests."""
    return pgm_checksum(packet, len(packet), skip)
