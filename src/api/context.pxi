# Context: io threads, the registry of sockets (for term) and of inproc
# endpoints. Thread-safe as far as the GIL makes it so: every method here
# runs with the GIL, except the wait in term(), which releases it.

import atexit as _atexit
import weakref as _weakref
cimport cython
from cpython.weakref cimport PyWeakref_CheckRef, PyWeakref_NewRef
from posix.unistd cimport getpid
from libc.errno cimport ETIMEDOUT

cdef extern from *:
    """
    #include <pthread.h>
    #include <time.h>
    /* Joins t, waiting at most ms (-1: as long as it takes); ETIMEDOUT if
       it still runs. Where the C library has no timed join, always waits
       as long as it takes. */
    static int mq_join_ms(pthread_t t, int ms)
    {
    #if defined(__GLIBC__)
        struct timespec ts;
        if (ms >= 0) {
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += ms / 1000;
            ts.tv_nsec += (long)(ms % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
            return pthread_timedjoin_np(t, NULL, &ts);
        }
    #else
        (void)ms;
    #endif
        return pthread_join(t, NULL);
    }
    """
    int mq_join_ms(pthread_t t, int ms) nogil

# Live core contexts by address (`underlying`), for Context.shadow(address).
# Weak: the registry keeps nothing alive; a shadow holds its context itself.
# A C global, so that it is still there at interpreter exit.
cdef dict _live_contexts = {}


cdef bint g_exiting = False
ZAP_INPROC_NAME = "zeromq.zap.01"     # where the ZAP handler binds (RFC 27)     # the interpreter is shutting down (atexit ran)


def _notice_interpreter_exit():
    global g_exiting
    g_exiting = True

# Registered at import, so it runs after the program's own atexit handlers
# (a term() there still waits for its linger) and before module teardown.
_atexit.register(_notice_interpreter_exit)


# A Socket holds its Context, and the Context holds no strong reference to
# a Socket (a weak set, a weak inproc registry), so no cycle is made of
# these two alone. no_gc_clear keeps the Context's fields for __dealloc__
# when a cycle through it is collected; the containers it owns may still be
# emptied by the collector, which is why what needs them is done in the
# finalisers (Socket.__del__ in mqcore/socket.py, Context.__del__ here),
# which PEP 442 runs for a whole cycle before anything in it is cleared.
@cython.no_gc_clear
cdef class Context:
    cdef io_thread_t **_io
    cdef int _nio_started
    cdef int _pid                   # the process that made the context
    cdef int _io_pid                # the process that started the io threads
    cdef int _rr
    cdef readonly bint closed
    cdef bint _terminating
    cdef bint _term_running         # a term() is waiting (another caller waits for it)
    cdef bint _io_stop_sent         # the io threads were asked to stop
    cdef unsigned int _changes      # [GIL and _lock] bumped when _nsockets or term's state changes
    cdef bint _finalized            # collected: the last socket's close ends the inproc registry
    cdef pthread_mutex_t _lock
    cdef pthread_cond_t _cond
    cdef int _nsockets              # [GIL] open sockets
    cdef object _socket_refs
    cdef dict _inproc_bound         # name -> weakref to a Socket, or a MonitorEndpoint
    cdef dict _inproc_pending       # name -> [(end address, sndhwm, rcvhwm)]
    cdef dict _opts                 # context options (zmq_ctx_set)
    cdef zap_slot_t *_zap           # the ZAP handler slot (engine/zap.pxi), shared with sessions
    cdef Context _origin            # the context a shadow works on; None for a real one
    cdef object __weakref__

    def __cinit__(self, *args, **kwargs):
        # Everything __dealloc__ touches is set up before anything can
        # raise: a failed constructor is deallocated too. The arguments
        # are __init__'s business, so a subclass may take its own.
        self._io = NULL
        self._nio_started = 0
        self._pid = getpid()
        self.closed = False
        self._terminating = False
        pthread_mutex_init(&self._lock, NULL)
        pthread_cond_init(&self._cond, NULL)
        self._socket_refs = _weakref.WeakSet()
        self._inproc_bound = {}
        self._inproc_pending = {}
        self._zap = zap_slot_new()
        if self._zap == NULL:
            raise_errno(ENOMEM)
        # IO_THREADS, MAX_SOCKETS, IPV6, BLOCKY
        self._opts = {1: 1, 2: 1023, 42: 0, 70: 1}
        _live_contexts[<size_t><void *>self] = PyWeakref_NewRef(self, None)

    def __init__(self, io_threads=1, shadow=0):
        """io_threads: how many io threads (started on first use). shadow: a
        Context, or the `underlying` address of a live one, to share: this
        object then works on that context, which it keeps alive."""
        if isinstance(io_threads, Context):
            shadow, io_threads = io_threads, 1      # pyzmq's Context(other)
        if shadow:
            self._origin = _shadowed_context(shadow)
            return
        if io_threads < 0:
            raise_errno(EINVAL)
        self._opts[1] = int(io_threads)

    @property
    def underlying(self):
        """The address of the core context: Context.shadow() takes it."""
        cdef Context root = self._root()
        return <size_t><void *>root

    cdef inline Context _root(self):
        return self if self._origin is None else self._origin

    def __del__(self):
        if self.closed or self._terminating or self._origin is not None:
            return
        if self._nsockets == 0:
            self._drop_pending_inproc()
        else:
            # In a collected cycle this may run before the sockets' own
            # finalisers close them.
            self._finalized = True

    def __dealloc__(self):
        # Every socket holds its context, so none is open by now.
        if _live_contexts is not None:
            _live_contexts.pop(<size_t><void *>self, None)
        try:
            if not self.closed and self._nsockets == 0 and self._origin is None:
                self._drop_pending_inproc()
                if g_exiting:
                    # As pyzmq: a context is not terminated at interpreter
                    # exit, so lingering messages do not hold the process;
                    # the io threads end with it.
                    self._abandon_io_threads()
                else:
                    self._stop_io_threads_or_abandon()
        finally:
            if self._io == NULL and not g_exiting:
                # Abandoned io threads may still hold sessions that use it.
                zap_slot_decref(self._zap)
            self._zap = NULL
            pthread_mutex_destroy(&self._lock)
            pthread_cond_destroy(&self._cond)

    cdef int _stop_io_threads_or_abandon(self) except -1:
        # Waits for lingering messages like term(); Ctrl-C ends the wait,
        # leaving the threads to finish in the background, and is reported
        # as "Exception ignored" (a finaliser cannot raise), as in pyzmq.
        try:
            self._stop_io_threads(True)
        except BaseException:
            self._abandon_io_threads()
            raise
        return 0

    # ------------------------------------------------------------ options

    def set(self, int option, value):
        if self._origin is not None:
            return Context.set(self._origin, option, value)
        value = int(value)
        if option == 1:
            if value < 0:
                raise_errno(EINVAL)
            if self._nio_started:
                # libzmq ignores it once the threads run; so do we.
                return
        elif option == 2:
            if value < 1 or value > 65535:
                raise_errno(EINVAL)
        elif option in (42, 70):
            value = 1 if value else 0
        elif option in (3, 4, 7, 8, 10):
            return      # thread priority / scheduling hints: accepted, no effect here
        else:
            raise_errno(EINVAL)
        self._opts[option] = value

    def get(self, int option):
        if self._origin is not None:
            return Context.get(self._origin, option)
        if option in self._opts:
            return self._opts[option]
        if option == 3:                 # SOCKET_LIMIT
            return 65535
        if option == 5:                 # MAX_MSGSZ
            return 2147483647
        if option == 6:                 # MSG_T_SIZE
            return 64
        raise_errno(EINVAL)

    # ------------------------------------------------------------ sockets

    cdef int _socket_opened(self, object sock) except -1:
        if self._terminating or self.closed:
            raise_errno(ETERM_)
        if self._nsockets >= self._opts[2]:
            raise_errno(EMFILE)
        self._socket_refs.add(sock)
        self._nsockets += 1
        return 0

    cdef void _socket_closed(self, object sock):
        if sock is not None:
            self._socket_refs.discard(sock)
        self._nsockets -= 1
        self._note_change()
        if self._finalized and self._nsockets == 0:
            self._drop_pending_inproc()

    def _sockets(self):
        if self._origin is not None:
            return Context._sockets(self._origin)
        return [s for s in list(self._socket_refs) if not s.closed]

    cdef io_thread_t *_pick_io_thread(self) except NULL:
        cdef int n = self._opts[1]
        cdef int i
        if n == 0:
            raise_errno(EMTHREAD_)
        if self._io == NULL:
            self._start_io_threads(n)
            self._io_pid = getpid()
        self._rr = (self._rr + 1) % self._nio_started
        return self._io[self._rr]

    cdef int _start_io_threads(self, int n) except -1:
        """All n or none: out of descriptors or threads it is a ZMQError
        (EMFILE, EAGAIN), and a later call tries again."""
        cdef int i, err
        cdef io_thread_t **io = <io_thread_t **>mq_calloc(n, sizeof(io_thread_t *))
        if io == NULL:
            raise_errno(ENOMEM)
        for i in range(n):
            io[i] = io_thread_new()
            if io[i] == NULL:
                err = errno
                with nogil:
                    while i > 0:
                        i -= 1
                        io_thread_stop_and_free(io[i])
                free(io)
                raise_errno(err if err else ENOMEM)
        self._io = io
        self._nio_started = n
        return 0

    def _poller_backend(self):
        """Which poller the io threads run: "epoll", "kqueue" or "poll"
        (MQCORE_POLLER=poll forces the portable one)."""
        cdef io_thread_t *io = self._pick_io_thread()
        return ("poll", "epoll", "kqueue")[io.poller.kind]

    # ------------------------------------------------------------ term

    def term(self):
        """Ends the context: blocked calls in other threads fail with
        ContextTerminated; returns once every socket is closed and their
        lingering messages are sent (or their linger ran out). Ctrl-C
        interrupts the wait (KeyboardInterrupt), as in pyzmq; term() may
        then be called again to go on."""
        if self.closed:
            return
        if self._origin is not None:
            # As pyzmq: a shadow's term() terminates the shared context.
            Context.term(self._origin)
            self.closed = True
            return
        if self._forked():
            # As pyzmq: in a forked child the context is only marked closed;
            # its sockets and threads are the parent's business.
            self._abandon_io_threads()
            self.closed = True
            return
        if not self._terminating:
            self._terminating = True
            self._wake_sockets()
        # Another thread is terminating: wait until it is done, or until it
        # was interrupted, and then go on in its place.
        while self._term_running:
            self._wait_a_while()
            if self.closed:
                return
        self._term_running = True
        try:
            while self._nsockets > 0:
                self._wait_a_while()
            self._stop_io_threads(True)
        finally:
            self._term_running = False
            self._note_change()
        self._drop_pending_inproc()
        drain_deferred_releases()
        self.closed = True
        self._note_change()

    cdef int _wait_a_while(self) except -1:
        """Sleeps until a socket closes or a term() ends or stops, for at most
        100 ms, without the GIL; then lets Python run its signal handlers,
        so that Ctrl-C can interrupt a term() that waits."""
        cdef unsigned int seen = self._changes      # read with the GIL: see _note_change
        with nogil:
            pthread_mutex_lock(&self._lock)
            if self._changes == seen:
                mq_cond_wait_ms(&self._cond, &self._lock, 100)
            pthread_mutex_unlock(&self._lock)
        PyErr_CheckSignals()
        return 0

    cdef void _note_change(self):
        # [GIL] Changes are made with the GIL held, so a waiter that read
        # _changes with the GIL cannot miss one made before it sleeps.
        pthread_mutex_lock(&self._lock)
        self._changes += 1
        pthread_cond_broadcast(&self._cond)
        pthread_mutex_unlock(&self._lock)

    cdef void _wake_sockets(self):
        # A method of its own so that no local variable of term() keeps
        # the last socket alive while term() waits for it to be closed.
        for sock in list(self._socket_refs):
            (<Socket>sock)._context_stopping()

    cdef bint _forked(self):
        """True in a child forked from the process that made the context."""
        return getpid() != self._pid

    cdef bint _in_forked_child(self):
        """True in a child forked after the io threads started: what they
        own (listeners, ipc files, pollers) is still the parent's."""
        return self._io_pid != 0 and self._io_pid != getpid()

    cdef void _abandon_io_threads(self):
        # Forgets the threads without stopping them (a forked child's, an
        # interrupted wait, interpreter exit): they end with the process.
        free(self._io)
        self._io = NULL
        self._nio_started = 0

    cdef int _stop_io_threads(self, bint interruptible) except -1:
        """Stops the io threads once what they still send (LINGER) is gone.
        If interruptible, Ctrl-C interrupts the wait and a later call goes
        on where this one stopped."""
        cdef int i, rc
        cdef io_thread_t *io
        if self._io == NULL:
            return 0
        if self._in_forked_child():
            # A forked child has none of the parent's io threads, but shares
            # their pollers (epoll, kqueue) with the parent: stopping them
            # here would unregister the parent's descriptors and hang it.
            self._abandon_io_threads()
            return 0
        if not self._io_stop_sent:
            with nogil:
                for i in range(self._nio_started):
                    io_send(self._io[i], CMD_STOP, NULL, 0)
            self._io_stop_sent = True
        for i in range(self._nio_started):
            io = self._io[i]
            if io == NULL:
                continue        # joined by an earlier, interrupted call
            while True:
                with nogil:
                    rc = mq_join_ms(io.thread, 100 if interruptible else -1)
                if rc != ETIMEDOUT:
                    break
                PyErr_CheckSignals()
            io_thread_free_joined(io)
            self._io[i] = NULL
        free(self._io)
        self._io = NULL
        self._nio_started = 0
        return 0

    cdef void _drop_pending_inproc(self):
        cdef pipe_end_t *e
        for entries in self._inproc_pending.values():
            for addr, _, _ in entries:
                e = <pipe_end_t *><size_t>addr
                e.closed = True
                pipe_decref(e.pipe)
        self._inproc_pending.clear()

    # ------------------------------------------------------------ inproc

    cdef object _inproc_binder(self, str name):
        """The live Socket or MonitorEndpoint bound to `name`, or None. A
        socket is held weakly, so that one dropped without close() is still
        collected (and closed, which frees the name) instead of making
        term() wait for it forever."""
        cdef object bound = self._inproc_bound.get(name)
        if PyWeakref_CheckRef(bound):
            return bound()
        return bound

    cdef int _inproc_bind(self, str name, object binder) except -1:
        cdef pipe_end_t *e
        if self._inproc_binder(name) is not None:
            raise_errno(EADDRINUSE)
        self._inproc_bound[name] = PyWeakref_NewRef(binder, None) if isinstance(binder, Socket) else binder
        if name == ZAP_INPROC_NAME and isinstance(binder, Socket):
            zap_slot_set(self._zap, (<Socket>binder).s, (<Socket>binder).s.mb)
        for addr, c_snd, c_rcv in self._inproc_pending.pop(name, []):
            e = <pipe_end_t *><size_t>addr
            if isinstance(binder, MonitorEndpoint):
                self._wake_connector(e)
                (<MonitorEndpoint>binder).take(e)
            else:
                self._inproc_attach_pending(<Socket>binder, e, c_snd, c_rcv)
        return 0

    cdef void _wake_connector(self, pipe_end_t *e):
        # The connector may have looked, found nothing and gone to sleep;
        # then what the binder writes first (its identity) wakes no one.
        # libzmq's bind command wakes it (and makes its FD readable), so
        # does this. Sent before the attach, which may free e.
        pipe_send_command(e.peer, CMD_ACTIVATE_READ, 0)

    cdef void _inproc_attach_pending(self, Socket binder, pipe_end_t *e, int c_snd, int c_rcv):
        # Out of memory the pipe is turned away: the connector sees it close.
        inproc_set_hwms(e.peer, e, c_snd, c_rcv, out_hwm(&binder.s.o), in_hwm(&binder.s.o))
        if pipe_set_owner(e, binder.s.mb, binder.s) != 0 or inproc_send_identity(e, &binder.s.o) != 0:
            self._wake_connector(e)
            pipe_close(e, 0)
            return
        self._wake_connector(e)
        inproc_wake_own_reader(e)
        sock_attach(binder.s, e)

    cdef void _inproc_unbind(self, str name, Socket binder):
        # From __dealloc__ the weak reference is already dead: a dead one
        # can only be this socket's, as a live binder keeps its name. C-API
        # calls, not the weakref module: at interpreter exit this may run
        # after the module's globals were cleared.
        cdef object bound = self._inproc_bound.get(name)
        cdef object target
        if PyWeakref_CheckRef(bound):
            target = bound()
            if target is binder or target is None:
                del self._inproc_bound[name]
                if name == ZAP_INPROC_NAME:
                    zap_slot_set(self._zap, NULL, NULL)

    cdef void _inproc_unbind_any(self, str name):
        self._inproc_bound.pop(name, None)

    cdef int _inproc_connect(self, str name, Socket conn, long long tag) except -1:
        """Out of memory it is ENOMEM with nothing changed; only a failure
        past the point where the binder was told (its attach, later) shows
        as a pipe that closes at once."""
        cdef object bound = self._inproc_binder(name)
        cdef Socket binder = bound if isinstance(bound, Socket) else None
        cdef pipe_t *p = pipe_new(0, 0)
        cdef command_t cmd
        cdef int rc, rid_len
        if p == NULL:
            raise_errno(ENOMEM)
        p.ends[0].inproc = True
        p.ends[1].inproc = True
        rc = pipe_set_owner(&p.ends[0], conn.s.mb, conn.s)
        p.ends[0].tag = <void *>tag
        if rc == 0:
            rc = inproc_send_identity(&p.ends[0], &conn.s.o)
        if rc == 0 and binder is not None:
            rc = pipe_set_owner(&p.ends[1], binder.s.mb, binder.s)
            if rc == 0:
                rc = inproc_send_identity(&p.ends[1], &binder.s.o)
        if rc == 0:
            rc = conn._apply_connect_rid(&p.ends[0])    # last: it is used up
        if rc != 0:
            pipe_decref(p)
            pipe_decref(p)
            raise_errno(ENOMEM)
        if isinstance(bound, MonitorEndpoint):
            inproc_set_hwms(&p.ends[0], &p.ends[1], conn.s.o.sndhwm, conn.s.o.rcvhwm, 1000, 1000)
            (<MonitorEndpoint>bound).take(&p.ends[1])
        elif binder is None:
            # Connect before bind: the connector can queue at once; the
            # binder takes the other end when it binds.
            # Until then each direction holds the connector's own limit.
            p.ends[0].hwm = out_hwm(&conn.s.o)
            p.ends[1].hwm = in_hwm(&conn.s.o)
            p.ends[0].lwm = lwm_for(p.ends[1].hwm)
            p.ends[1].lwm = lwm_for(p.ends[0].hwm)
            self._inproc_pending.setdefault(name, []).append(
                (<size_t>&p.ends[1], out_hwm(&conn.s.o), in_hwm(&conn.s.o)))
        else:
            inproc_set_hwms(&p.ends[0], &p.ends[1], out_hwm(&conn.s.o), in_hwm(&conn.s.o),
                            out_hwm(&binder.s.o), in_hwm(&binder.s.o))
            if binder is conn:
                if sock_attach(conn.s, &p.ends[1]) != 0:
                    # p.ends[1] was closed (its reference dropped) by the refusal.
                    self._undo_connect_rid(conn, &p.ends[0])
                    pipe_close(&p.ends[0], 0)
                    raise_errno(ENOMEM)
            else:
                cmd.type = CMD_ATTACH
                cmd.obj = binder.s
                cmd.end = &p.ends[1]
                cmd.arg = 0
                mq_int_add(&p.refcnt, 1)
                if mailbox_send(binder.s.mb, &cmd) < 0:
                    self._undo_connect_rid(conn, &p.ends[0])
                    pipe_decref(p)      # the command's reference
                    pipe_decref(p)
                    pipe_decref(p)
                    raise_errno(ENOMEM)
        inproc_wake_own_reader(&p.ends[0])
        rid_len = p.ends[0].rid_len if p.ends[0].rid_fixed else -1
        if sock_attach(conn.s, &p.ends[0]) != 0:
            # Turned away (closed, so the binder's end sees its peer gone;
            # the pipe may be gone already).
            if rid_len >= 0:
                conn.s.connect_rid_len = rid_len
            raise_errno(ENOMEM)
        return 0

    cdef void _undo_connect_rid(self, Socket conn, pipe_end_t *e):
        # The routing id is still in conn's buffer: keep it for the next try.
        if e.rid_fixed:
            conn.s.connect_rid_len = e.rid_len




cdef Context _shadowed_context(object shadow):
    """The real context behind `shadow` (a Context or an address from
    `underlying`); EFAULT for an address that is no live context."""
    cdef object ref
    if isinstance(shadow, Context):
        return (<Context>shadow)._root()
    ref = _live_contexts.get(int(shadow))
    target = ref() if ref is not None else None
    if target is None:
        raise_errno(EFAULT)
    return (<Context>target)._root()


cdef int inproc_send_identity(pipe_end_t *e, options_t *o) noexcept nogil:
    """As a session does for a network peer: the first message on an inproc
    pipe is the writer's routing id (only ROUTER-like readers keep it).
    0, or -1 without memory (nothing written)."""
    if pipe_write_identity(e, o.routing_id, o.routing_id_len) != 0:
        return -1
    ypipe_flush(e.outq)
    return 0


cdef void inproc_wake_own_reader(pipe_end_t *e) noexcept nogil:
    """[owner] e is being attached to its socket by the socket's own thread,
    so no command tells the socket of it (call this before sock_attach,
    which may close e). If messages wait in e, the socket's FD must say so:
    an event loop watching the FD would sleep on them. If none do, the
    reader is marked asleep, so the first message written wakes it."""
    if ypipe_check_read(e.inq):
        pipe_send_command(e, CMD_ACTIVATE_READ, 0)


cdef inline int hwm_sum(int a, int b) noexcept nogil:
    if a <= 0 or b <= 0:
        return 0
    return a + b


cdef void inproc_set_hwms(pipe_end_t *conn_end, pipe_end_t *bind_end, int c_snd, int c_rcv,
                          int b_snd, int b_rcv) noexcept nogil:
    # inproc has one queue per direction, so each direction may hold the
    # writer's SNDHWM plus the reader's RCVHWM (libzmq).
    bind_end.hwm = hwm_sum(b_snd, c_rcv)
    bind_end.lwm = lwm_for(hwm_sum(c_snd, b_rcv))
    # Connected before the bind, the connector may be sending (or parked at
    # its own SNDHWM) in its thread right now.
    pipe_raise_limits(conn_end, hwm_sum(c_snd, b_rcv), lwm_for(bind_end.hwm))


cdef class MonitorEndpoint:
    """An inproc name that a monitored socket's events are read from: the
    PAIR that connects there gets them."""
    cdef evsink_t *ev

    @staticmethod
    cdef MonitorEndpoint new(evsink_t *ev):
        cdef MonitorEndpoint m = MonitorEndpoint.__new__(MonitorEndpoint)
        evsink_incref(ev)
        m.ev = ev
        return m

    def __dealloc__(self):
        if self.ev != NULL:
            evsink_decref(self.ev)

    cdef void take(self, pipe_end_t *e):
        if pipe_set_owner(e, self.ev.mb, NULL) != 0:
            pipe_close(e, 0)        # out of memory: the monitor sees it close
            return
        evsink_attach(self.ev, e)
