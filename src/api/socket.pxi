# Socket: the Python face of sock_t. send and recv are the hot path: they
# try once with the GIL held (pure C, no syscall when a pipe has room or a
# message) and release the GIL only when they have to wait.

# Live core sockets by address (`underlying`), for Socket.shadow(address).
# Weak: a shadow holds the socket it shadows itself. A C global, so that it
# is still there when sockets are collected at interpreter exit.
cdef dict _live_sockets = {}


cdef enum:
    ZERO_COPY_MIN = 65536       # smaller zero-copy sends are copied: cheaper


cdef enum:
    GIL_FREE_COPY_MIN = 65536   # larger copies let other Python threads run


cdef inline void copy_bytes(unsigned char *dst, const unsigned char *src, size_t n) noexcept:
    """memcpy that releases the GIL for large bodies, so that a sender and a
    receiver thread of one process copy in parallel."""
    if n < GIL_FREE_COPY_MIN:
        memcpy(dst, src, n)
    else:
        with nogil:
            memcpy(dst, src, n)


# Seen by the garbage collector, so that cycles through a socket are found,
# but never cleared by it: __dealloc__ needs the context, intact, to finish
# a close. The close itself is done by the finaliser (Socket.__del__ in
# mqcore/socket.py), which PEP 442 runs for a whole cycle before anything in
# it is cleared, while the endpoint records are still there.
@cython.no_gc_clear
cdef class Socket:
    cdef sock_t *s
    cdef Context _ctx               # the real context, for the core's calls
    cdef object _context            # what .context gives: the one it was made on (maybe a shadow)
    cdef bint _closed
    cdef dict _endpoints            # endpoint -> [EndpointRecord] (a wildcard bind: also [] under the name given)
    cdef bytes _last_endpoint
    cdef object _monitor_name
    cdef int _users                 # calls inside that may let other threads run
    cdef bint _close_pending        # close() came while _users > 0
    cdef Socket _origin             # the socket a shadow works on; None for a real one
    cdef object _shadows            # [real socket] WeakSet of its shadows, or None
    cdef public Py_ssize_t copy_threshold   # smaller zero-copy sends are copied (pyzmq's)
    cdef chunk_t *_last_group       # the last send's group chunk, shared by the next to that group
    cdef object __weakref__

    def __cinit__(self, *args, **kwargs):
        # The arguments are __init__'s, so that a subclass may take its own.
        self.s = NULL
        self._closed = True
        self.copy_threshold = ZERO_COPY_MIN
        self._last_group = NULL

    def __init__(self, context=None, socket_type=-1, *, shadow=0, copy_threshold=None):
        """A socket of socket_type on context; or, with shadow (a Socket, or
        the `underlying` address of a live one), another Python object for
        that socket, which it keeps alive."""
        if self.s != NULL:
            raise RuntimeError("socket already initialised")
        if copy_threshold is not None:
            self.copy_threshold = copy_threshold
        if isinstance(context, Socket):
            shadow, context = context, None         # pyzmq's Socket(other)
        if shadow:
            self._shadow(_shadowed_socket(shadow))
            return
        if not isinstance(context, Context):
            raise TypeError("Socket needs a Context")
        self._open((<Context>context)._root(), socket_type)
        self._context = context

    cdef int _open(self, Context context, int socket_type) except -1:
        cdef socktype_t *row
        cdef options_t o
        row = socktype_implemented(socket_type)
        if row == NULL:
            raise_errno(EINVAL)
        context._socket_opened(self)
        options_defaults(&o, socket_type)
        o.ipv6 = context._opts[42]
        o.zap = context._zap
        if not context._opts[70] and o.linger == -1:
            o.linger = 0
        self.s = sock_new(row, &o)
        if self.s == NULL:
            err = errno
            context._socket_closed(self)
            raise_errno(err if err else ENOMEM)     # EMFILE when out of descriptors
        self._ctx = context
        self._context = context
        self._closed = False
        self._endpoints = {}
        self._last_endpoint = b""
        _live_sockets[<size_t>self.s] = PyWeakref_NewRef(self, None)
        return 0

    cdef int _shadow(self, Socket root) except -1:
        # The shadow shares the core socket and holds the real one (root),
        # so the core lives as long as any of them; root's close marks its
        # shadows closed before the core is freed.
        if root._closed:
            raise_errno(ENOTSOCK)
        self._origin = root
        if root._shadows is None:
            root._shadows = _weakref.WeakSet()
        root._shadows.add(self)
        self.s = root.s
        self._ctx = root._ctx
        self._context = root._context
        self._endpoints = root._endpoints
        self._last_endpoint = b""
        self._closed = False
        return 0

    @property
    def context(self):
        """The context the socket was made on (a shadow of one gives that
        shadow, as pyzmq)."""
        return self._context

    cdef inline Socket _root(self):
        return self if self._origin is None else self._origin

    cdef void _mark_closed(self, bint freed):
        """Closed, here and in every shadow; freed: the core is gone too."""
        self._closed = True
        if self._shadows is None:
            return
        for shadow in list(self._shadows):
            (<Socket>shadow)._closed = True
            if freed:
                (<Socket>shadow).s = NULL

    def __dealloc__(self):
        # Garbage collected while open: close with its LINGER, as pyzmq. The
        # context's weak set dropped it already; it must not see it again.
        if not self._closed and self.s != NULL and self._origin is None:
            self._close_core(True)
        if self._last_group != NULL:
            chunk_decref(self._last_group)

    @property
    def closed(self):
        return self._closed

    @property
    def socket_type(self):
        return self.s.o.type if self.s != NULL else -1

    @property
    def underlying(self):
        """The core socket's address: Socket.shadow() takes it."""
        return <size_t>self.s

    cdef inline int _check_open(self) except -1:
        if self._closed:
            raise_errno(ENOTSOCK)
        return 0

    cdef void _context_stopping(self):
        if not self._closed:
            self._context_stopping_now()

    cdef void _context_stopping_now(self):
        cdef command_t cmd
        cmd.type = CMD_STOP
        cmd.obj = NULL
        cmd.end = NULL
        cmd.arg = 0
        mailbox_send(self.s.mb, &cmd)

    # ------------------------------------------------------------ close

    def close(self, linger=None):
        """Closes the socket. Messages still queued are sent for up to
        `linger` ms (default: the LINGER option) in the background."""
        if self._closed:
            return
        if self._origin is not None:
            # As pyzmq: closing a shadow closes the socket it shadows.
            Socket.close(self._origin, linger)
            return
        if linger is not None:
            linger_ms = max(-1, int(linger))    # int() may run Python code, and other threads
            if self._closed:
                return
            self.s.o.linger = linger_ms
        if self._users:
            # Another thread waits in this socket (a device, a poller):
            # wake it; the last one out finishes the close.
            self._mark_closed(False)
            self._close_pending = True
            self._context_stopping_now()
            return
        self._close_core()

    # A call that lets other Python threads run while it uses self.s (a
    # GIL-free wait, a large copy, Python code such as os.stat) brackets that
    # with _enter/_leave: a close() from another thread meanwhile marks the
    # socket closed at once and the last user out frees the core, so self.s
    # never goes away under a call. After such a section a call checks
    # _closed before touching the core again.

    cdef inline void _enter(self):
        cdef Socket root = self._root()
        root._users += 1

    cdef void _leave(self):
        # Counted on the real socket: a close through any object waits for
        # the users of all.
        cdef Socket root = self._root()
        root._users -= 1
        if root._users == 0 and root._close_pending:
            root._close_pending = False
            root._close_core()

    cdef void _abort_send(self):
        """No memory for a frame of the message being sent: that message can
        never be finished, so what was sent of it is taken back (the next
        send starts a new one)."""
        if self.s.threadsafe:
            pthread_mutex_lock(&self.s.tlock)
        sock_abort_send(self.s)
        if self.s.threadsafe:
            pthread_mutex_unlock(&self.s.tlock)

    cdef void _send_wakes(self):
        self._enter()
        with nogil:
            sock_send_wakes(self.s)
        self._leave()

    cdef void _close_core(self, bint dealloc=False):
        cdef long long linger = self.s.o.linger
        # Closed from here on: the Python calls below (the inproc registry)
        # may let other threads run, and they must not use the core being
        # taken down.
        self._mark_closed(False)
        if self._ctx._forked():
            # As pyzmq: in a forked child the socket is only marked closed.
            # Its pipes, sessions and io threads are the parent's, and a
            # lock a parent thread held at the fork is never released here.
            return
        self._stop_monitor()
        sock_close(self.s)
        records = [rec for recs in self._endpoints.values() for rec in recs]
        self._endpoints.clear()
        for rec in records:
            self._stop_endpoint(rec, linger)
        if _live_sockets is not None:
            _live_sockets.pop(<size_t>self.s, None)
        sock_free(self.s)
        self.s = NULL
        self._mark_closed(True)
        self._ctx._socket_closed(None if dealloc else self)
        drain_deferred_releases()

    cdef void _stop_endpoint(self, EndpointRecord rec, long long linger):
        """Undoes one bind or connect (the pipes of a connect are the
        caller's business: close closes them all, disconnect drops them)."""
        if rec.kind == EP_LISTENER:
            io_send(rec.io, CMD_CLOSE_LISTENER, rec.obj, linger)
            mailbox_reserve(rec.io.mb, -IO_SLOTS_PER_ENDPOINT)
            # Here, in the closing thread, so that a bind of the same
            # address right after close() is not undone by the io thread.
            # A forked child leaves the parent's files alone.
            if not self._ctx._in_forked_child():
                rec.ep.tp.unbound(&rec.ep)
        elif rec.kind == EP_SESSION or rec.kind == EP_SESSION_BOUND:
            # The command carries the socket's reference to the session.
            io_send(rec.io, CMD_TERM_SESSION, rec.obj, linger)
            mailbox_reserve(rec.io.mb, -IO_SLOTS_PER_ENDPOINT)
        elif rec.kind == EP_INPROC_BOUND:
            self._ctx._inproc_unbind(rec.address, self)

    # ------------------------------------------------------------ bind/connect

    def bind(self, addr):
        """Binds to an endpoint "scheme://address" of any transport:
        tcp://host:port (port * for any), ipc://path, ipc://@name, ipc://*,
        inproc://name."""
        cdef str endpoint
        if self._origin is not None:
            return Socket.bind(self._origin, addr)
        self._check_open()      # ENOTSOCK before the address is looked at, as libzmq
        endpoint = _endpoint_str(addr)
        self._enter()           # resolving releases the GIL: other threads may run
        try:
            self._bind(endpoint)
        finally:
            self._leave()

    cdef _bind(self, str endpoint):
        cdef EndpointRecord rec = endpoint_resolve(endpoint, &self.s.o, True)
        if self._closed:
            raise_errno(ENOTSOCK)       # by another thread meanwhile
        if rec.in_process():
            self._ctx._inproc_bind(rec.address, self)
            rec.kind = EP_INPROC_BOUND
            self._record(endpoint, rec)
            self._last_endpoint = endpoint.encode()
        elif rec.ep.tp.datagram or rec.ep.tp.bind_connects:
            # No listener: the bind makes the session (udp: DISH's socket
            # is the bound one; pgm/epgm: a bind is a connect, as libzmq).
            self._connect_session(endpoint, rec)
            if rec.ep.tp.datagram:
                rec.kind = EP_SESSION_BOUND
            self._record(endpoint, rec)
            self._last_endpoint = endpoint.encode()
        else:
            self._bind_listener(endpoint, rec)

    cdef _bind_listener(self, str endpoint, EndpointRecord rec):
        """A listening fd from the row, given to a listener in an io thread."""
        cdef int fd = -1
        cdef int err
        cdef listener_t *l
        cdef io_thread_t *io = self._ctx._pick_io_thread()
        # The io thread's commands for this listener (add, close) must not
        # fail for want of memory later: their room is set aside now.
        if mailbox_reserve(io.mb, IO_SLOTS_PER_ENDPOINT) < 0:
            raise_errno(ENOMEM)
        if rec.ep.tp.listen(&rec.ep, &self.s.o, &fd) < 0:
            err = errno
            mailbox_reserve(io.mb, -IO_SLOTS_PER_ENDPOINT)
            evsink_emit(self.s.ev, EV_BIND_FAILED, err, endpoint.encode())
            raise_errno(err)
        l = listener_new(fd, &self.s.o, self.s.mb, self.s, &rec.ep, self.s.ev)
        if l == NULL:
            close(fd)
            rec.ep.tp.unbound(&rec.ep)
            mailbox_reserve(io.mb, -IO_SLOTS_PER_ENDPOINT)
            raise_errno(ENOMEM)
        evsink_emit(self.s.ev, EV_LISTENING, fd, rec.ep.name)
        io_send(io, CMD_ADD_LISTENER, l, 0)
        rec.kind = EP_LISTENER
        rec.obj = l
        rec.io = io
        resolved = rec.name()
        self._record(resolved, rec)
        if resolved != endpoint:
            self._record(endpoint, None)
        self._last_endpoint = resolved.encode()

    def connect(self, addr):
        """Connects to an endpoint of any transport. The peer need not be
        there yet: messages queue and the connection is made (and re-made)
        in the background."""
        cdef str endpoint
        if self._origin is not None:
            return Socket.connect(self._origin, addr)
        self._check_open()      # ENOTSOCK before the address is looked at, as libzmq
        endpoint = _endpoint_str(addr)
        self._enter()
        try:
            self._connect(endpoint)
        finally:
            self._leave()

    cdef _connect(self, str endpoint):
        cdef EndpointRecord rec = endpoint_resolve(endpoint, &self.s.o, False)
        if self._closed:
            raise_errno(ENOTSOCK)       # by another thread meanwhile
        if rec.in_process():
            rec.kind = EP_INPROC_CONNECTED
            rec.tag = next_endpoint_tag()
            self._ctx._inproc_connect(rec.address, self, rec.tag)
        else:
            self._connect_session(endpoint, rec)
        self._record(endpoint, rec)
        self._last_endpoint = endpoint.encode()

    cdef _connect_session(self, str endpoint, EndpointRecord rec):
        """A session in an io thread that connects (and reconnects) through
        the row; with its pipe now unless the type makes one per connection."""
        cdef session_t *sess
        cdef pipe_t *p
        cdef io_thread_t *io = self._ctx._pick_io_thread()
        if mailbox_reserve(io.mb, IO_SLOTS_PER_ENDPOINT) < 0:     # as in bind
            raise_errno(ENOMEM)
        p = NULL
        if not self.s.o.immediate and not SOCKTYPES[self.s.o.type].pipe_per_connection:
            # The pipe exists from now on, so messages queue before the
            # connection is up and survive reconnects.
            p = pipe_new(out_hwm(&self.s.o), in_hwm(&self.s.o))
            if p == NULL:
                mailbox_reserve(io.mb, -IO_SLOTS_PER_ENDPOINT)
                raise_errno(ENOMEM)
        sess = session_new(&self.s.o, self.s.mb, self.s, True, &rec.ep, self.s.ev)
        if sess == NULL:
            if p != NULL:
                pipe_decref(p)
                pipe_decref(p)
            mailbox_reserve(io.mb, -IO_SLOTS_PER_ENDPOINT)
            raise_errno(ENOMEM)
        sess.refcnt = 2         # the io thread's and this socket's
        sess.tag = next_endpoint_tag()
        if p != NULL:
            try:
                self._attach_connect_pipe(p, sess, io)
            except BaseException:
                mailbox_reserve(io.mb, -IO_SLOTS_PER_ENDPOINT)
                raise
            if rec.ep.tp.datagram:
                # RADIO over udp sends every group from now on, as libzmq
                # (no JOINs come back over a datagram socket).
                sock_pipe_takes_every_group(self.s, &p.ends[0])
        elif self.s.connect_rid_len >= 0:
            # The pipe comes with each connection: the session names it.
            memcpy(sess.connect_rid, self.s.connect_rid, self.s.connect_rid_len)
            sess.connect_rid_len = self.s.connect_rid_len
            self.s.connect_rid_len = -1
        io_send(io, CMD_ADD_SESSION, sess, 0)
        rec.kind = EP_SESSION
        rec.obj = sess
        rec.io = io
        rec.tag = sess.tag

    def connect_peer(self, addr):
        """PEER: connects like connect() and returns the routing id to send
        to that peer with (zmq_connect_peer)."""
        if self._origin is not None:
            return Socket.connect_peer(self._origin, addr)
        self._check_open()
        if not self.s.row.connects_peers:
            raise_errno(ENOTSUP)
        if self.s.o.immediate:
            raise_errno(EFAULT)     # the pipe, and so its id, would come later
        self.connect(addr)
        self._check_open()      # closed by another thread meanwhile
        return pipe_u32_id(self.s.pipes[self.s.npipes - 1])

    cdef int _attach_connect_pipe(self, pipe_t *p, session_t *sess, io_thread_t *io) except -1:
        """Joins a new pipe between this socket and a session not started
        yet. Out of memory it undoes all (the pipe, the session) and raises
        ENOMEM: the session's end gets its owner last, so that nothing can
        have been told to it before then."""
        if mailbox_reserve(io.mb, MB_SLOTS_PER_END) < 0:
            pipe_decref(p)
            pipe_decref(p)
            session_decref(sess)
            session_decref(sess)
            raise_errno(ENOMEM)
        if pipe_set_owner(&p.ends[0], self.s.mb, self.s) < 0 or self._apply_connect_rid(&p.ends[0]) < 0:
            mailbox_reserve(io.mb, -MB_SLOTS_PER_END)
            pipe_decref(p)
            pipe_decref(p)
            session_decref(sess)
            session_decref(sess)
            raise_errno(ENOMEM)
        p.ends[0].tag = <void *>sess.tag
        if sock_attach(self.s, &p.ends[0]) != 0:
            # p.ends[0] was closed (and its reference dropped) by the refusal.
            mailbox_reserve(io.mb, -MB_SLOTS_PER_END)
            pipe_decref(p)
            session_decref(sess)
            session_decref(sess)
            raise_errno(ENOMEM)
        pipe_set_owner_reserved(&p.ends[1], io.mb, sess, True)
        sess.pipe = &p.ends[1]
        return 0

    cdef int _apply_connect_rid(self, pipe_end_t *e):
        """CONNECT_ROUTING_ID names the peer of the next connect. -1
        without memory (then it is kept for the next try)."""
        if self.s.connect_rid_len < 0:
            return 0
        e.rid = <unsigned char *>mq_malloc(self.s.connect_rid_len)
        if e.rid == NULL:
            return -1
        memcpy(e.rid, self.s.connect_rid, self.s.connect_rid_len)
        e.rid_len = self.s.connect_rid_len
        e.rid_fixed = True
        self.s.connect_rid_len = -1
        return 0

    cdef void _record(self, str endpoint, EndpointRecord rec):
        records = self._endpoints.setdefault(endpoint, [])
        if rec is not None:
            records.append(rec)

    def unbind(self, addr):
        self._check_open()
        if self._origin is not None:
            return Socket.unbind(self._origin, addr)
        self._forget_endpoint(_endpoint_str(addr), True)

    def disconnect(self, addr):
        self._check_open()
        if self._origin is not None:
            return Socket.disconnect(self._origin, addr)
        self._forget_endpoint(_endpoint_str(addr), False)

    cdef _forget_endpoint(self, str endpoint, bint binds):
        self._check_open()
        self._enter()           # the inproc registry may run Python code
        try:
            self._forget_endpoint_records(endpoint, binds)
        finally:
            self._leave()

    cdef _forget_endpoint_records(self, str endpoint, bint binds):
        """Undoes the binds (or the connects) recorded under endpoint.
        ENOENT when there are none: a wildcard bind is known only by its
        resolved name (LAST_ENDPOINT), as in libzmq."""
        cdef EndpointRecord rec
        records = self._endpoints.get(endpoint)
        if not records:
            raise_errno(ENOENT)
        keep = [rec for rec in records if not rec.undone_by(binds)]
        if len(keep) == len(records):
            raise_errno(ENOENT)
        if keep:
            self._endpoints[endpoint] = keep
        else:
            del self._endpoints[endpoint]
        for name in [n for n, r in self._endpoints.items() if not r]:
            del self._endpoints[name]
        for rec in records:
            if not rec.undone_by(binds):
                continue
            if rec.kind == EP_SESSION or rec.kind == EP_SESSION_BOUND or rec.kind == EP_INPROC_CONNECTED:
                # Leave the load-balancer now, as libzmq does, so no later
                # message goes to the peer being disconnected.
                self._drop_tagged_pipes(rec.tag)
            self._stop_endpoint(rec, self.s.o.linger)

    cdef void _drop_tagged_pipes(self, long long tag):
        cdef int i = 0
        while i < self.s.npipes:
            if self.s.pipes[i].tag == <void *>tag:
                sock_drop_pipe(self.s, self.s.pipes[i], self.s.o.linger)
            else:
                i += 1

    # ------------------------------------------------------------ monitor, stats

    def monitor(self, addr, int events=0xFFFF):
        """Sends this socket's events (libzmq's two-frame format) to a PAIR
        socket that connects to the inproc endpoint `addr`; addr None stops."""
        self._check_open()
        if self._origin is not None:
            return Socket.monitor(self._origin, addr, events)
        if addr is None:
            self._stop_monitor()
            return
        addr = _endpoint_str(addr)
        if not endpoint_transport(addr).in_process:
            raise_errno(EPROTONOSUPPORT)
        if events & ~0xFFFF:
            raise_errno(EINVAL)
        name = addr.partition("://")[2]
        self._stop_monitor()
        evsink_start(self.s.ev, events)
        self._ctx._inproc_bind(name, MonitorEndpoint.new(self.s.ev))
        self._monitor_name = name

    cdef void _stop_monitor(self):
        if self._monitor_name is None:
            return
        self._ctx._inproc_unbind_any(self._monitor_name)
        self._monitor_name = None
        evsink_stop(self.s.ev, b"")

    def stats(self):
        """Counters none of libzmq and pyzmq keep: messages and bytes sent
        and received (a multipart message counts once), messages dropped at
        a high-water mark or for want of a peer, and connections made and
        lost (network handshakes done and broken, inproc peers attached and
        gone), and of the messages sent how many the calling thread wrote
        to the connection itself (the fast path to an idle tcp/ipc
        connection, taken by the first send on a connection after a
        receive): msgs_direct whole, msgs_direct_part in part (the io thread
        wrote the rest); and how many times a thread blocked in a receive
        read its only connection itself and found frames there
        (reads_direct)."""
        if self._origin is not None:
            return Socket.stats(self._origin)
        cdef sock_stats_t st
        cdef unsigned long long conns, disconns
        self._check_open()
        st = self.s.stats      # a copy: building the dict may let other threads run
        pthread_mutex_lock(&self.s.ev.lock)
        conns = self.s.ev.connects
        disconns = self.s.ev.disconnects
        pthread_mutex_unlock(&self.s.ev.lock)
        return {
            "msgs_sent": st.msgs_sent, "bytes_sent": st.bytes_sent,
            "msgs_received": st.msgs_received, "bytes_received": st.bytes_received,
            "msgs_dropped": st.msgs_dropped, "msgs_direct": st.msgs_direct,
            "msgs_direct_part": st.msgs_direct_part, "reads_direct": st.reads_direct,
            "connects": conns + st.inproc_attached, "disconnects": disconns + st.inproc_detached,
        }

    # ------------------------------------------------------------ send/recv

    def send(self, data, int flags=0, bint copy=True, bint track=False, routing_id=None, group=None):
        """Sends one message part. flags: NOBLOCK/DONTWAIT, SNDMORE.
        copy=False sends large buffers without copying them."""
        cdef msg_t m
        cdef int rc
        cdef unsigned int rid = 0
        cdef MessageTracker tracker = None
        cdef bint borrowed = False
        if self._closed:
            raise_errno(ENOTSOCK)
        if routing_id is None and isinstance(data, Frame):
            routing_id = (<Frame>data).routing_id
        if routing_id:
            rid = routing_id_arg(routing_id)    # refused before a buffer is borrowed
        if group is None and isinstance(data, Frame):
            group = (<Frame>data)._group_bytes()     # a received Frame sent on keeps its group
        if group is not None:
            group = group_arg(group)            # likewise
        if type(data) is bytes and PyBytes_GET_SIZE(data) >= ZERO_COPY_MIN:
            # bytes cannot change: a large one is sent from its own memory
            # even with copy=True (no copy, no fresh pages to fault in).
            borrowed = True
            if msg_init_borrowed_(&m, data) < 0:
                self._abort_send()
                raise_errno(ENOMEM)
        elif type(data) is bytes and (copy or PyBytes_GET_SIZE(data) < self.copy_threshold):
            if msg_init_size(&m, PyBytes_GET_SIZE(data)) < 0:
                self._abort_send()
                raise_errno(ENOMEM)
            copy_bytes(msg_data(&m), <const unsigned char *>PyBytes_AS_STRING(data), m.size)
        elif isinstance(data, Frame):
            if track and (<Frame>data).tracker is None:
                raise ValueError("Not a tracked message")
            if (<Frame>data)._owns_msg:
                self._msg_from_object(&m, data, False, ZERO_COPY_MIN)
            else:
                # A Frame made from a large buffer with copy=False is sent
                # from that buffer, as in pyzmq; the message holds its own
                # export of it.
                self._msg_from_object(&m, (<Frame>data)._data, not copy, ZERO_COPY_MIN)
        elif isinstance(data, str):
            raise TypeError("unicode not allowed, use send_string")
        else:
            self._msg_from_object(&m, data, not copy, self.copy_threshold)
        if flags & 2:
            m.flags = MSG_MORE
        m.routing_id = rid
        if group is not None and msg_set_group_shared(&m, <const unsigned char *><char *>group, len(group),
                                                      &self._last_group) != 0:
            self._drop_unsent(&m, None)
            raise_errno(ENOMEM)
        tracker = self._tracker_for_send(&m, data, copy, track)
        if self._closed:
            # Closed by another thread while the body was copied without the GIL.
            self._drop_unsent(&m, tracker)
            raise_errno(ENOTSOCK)
        rc = sock_try_locked(self.s, &m, True)
        if self.s.nwakes:
            self._send_wakes()
            if self._closed:
                if rc == 0:
                    return tracker      # sent before another thread closed the socket
                self._drop_unsent(&m, tracker)
                raise_errno(ENOTSOCK)
        if rc == EAGAIN and not (flags & 1) and self.s.o.sndtimeo != 0:
            try:
                rc = self._wait_and_retry(&m, True, self.s.o.sndtimeo)
            except BaseException:
                self._drop_unsent(&m, tracker)
                raise
        if rc != 0:
            self._drop_unsent(&m, tracker)
            raise_errno(rc)
        if borrowed or not copy:
            drain_deferred_releases()
        return tracker

    cdef MessageTracker _tracker_for_send(self, msg_t *m, object data, bint copy, bint track):
        """pyzmq's rules: a Frame gives its own tracker (which now follows
        this message); a copying send gives None; a zero-copy one gives
        the finished tracker when it was copied after all (below
        copy_threshold), else a tracker only if asked for."""
        cdef MessageTracker t
        if isinstance(data, Frame):
            t = (<Frame>data).tracker
            if t is not None and t._pending:
                t._pending = False
                if m.chunk != NULL:
                    mq_int_add(&m.chunk.refcnt, 1)
                    t.chunk = m.chunk
            return t
        if copy:
            return None
        if m.chunk == NULL or m.chunk.free_fn != defer_chunk_release:
            return _FINISHED_TRACKER
        return tracker_for(m) if track else None

    cdef void _drop_unsent(self, msg_t *m, MessageTracker tracker):
        """A message that was not sent: a borrowed buffer goes back to its
        owner now (not at some later drain), so it can be resized at once."""
        if tracker is not None and tracker is not _FINISHED_TRACKER and tracker.chunk != NULL:
            chunk_decref(tracker.chunk)
            tracker.chunk = NULL
        msg_close(m)
        drain_deferred_releases()

    cdef int _msg_from_object(self, msg_t *m, object data, bint zero_copy,
                              Py_ssize_t threshold) except -1:
        cdef Py_buffer view
        PyObject_GetBuffer(data, &view, PyBUF_ANY_CONTIGUOUS)
        try:
            if zero_copy and view.len >= threshold and view.len > 0:
                if msg_init_borrowed_(m, data) < 0:
                    self._abort_send()
                    raise_errno(ENOMEM)
            else:
                if msg_init_size(m, view.len) < 0:
                    self._abort_send()
                    raise_errno(ENOMEM)
                # The view stays held during the copy, so the owner cannot
                # be resized meanwhile by a thread that runs while it goes.
                copy_bytes(msg_data(m), <const unsigned char *>view.buf, view.len)
        finally:
            PyBuffer_Release(&view)
        return 0

    def join(self, group):
        """DISH: receive the messages of `group` (str or bytes, at most 255
        bytes). EINVAL when already joined; ENOTSUP on other types."""
        self._join(group_arg(group), True)

    def leave(self, group):
        """DISH: stop receiving `group`. EINVAL when not joined."""
        self._join(group_arg(group), False)

    cdef _join(self, bytes g, bint join):
        cdef int rc
        self._check_open()
        if self.s.row.xjoin == NULL:
            raise_errno(ENOTSUP)
        pthread_mutex_lock(&self.s.tlock)
        rc = self.s.row.xjoin(self.s, <const unsigned char *><char *>g, len(g), join)
        sock_send_wakes(self.s)
        pthread_mutex_unlock(&self.s.tlock)
        if rc != 0:
            raise_errno(rc)

    def recv(self, int flags=0, bint copy=True, bint track=False):
        """Receives one message part: bytes, or a Frame with copy=False."""
        cdef msg_t m
        cdef int rc
        cdef object out
        cdef chunk_t *meta = NULL
        # Only a Frame can show its connection's properties (Frame.get).
        cdef chunk_t **want_meta = NULL if copy else &meta
        if self._closed:
            raise_errno(ENOTSOCK)
        msg_init(&m)
        rc = sock_try_locked(self.s, &m, False, want_meta)
        if rc == EAGAIN and not (flags & 1) and self.s.o.rcvtimeo != 0:
            rc = self._wait_and_retry(&m, False, self.s.o.rcvtimeo, want_meta)
        if rc != 0:
            raise_errno(rc)
        if not self._closed:
            self.s.rcvmore = (m.flags & MSG_MORE) != 0
        if copy:
            return bytes_from_msg(&m)
        return frame_from_msg(&m, meta)

    # ------------------------------------------------------------ batches

    def recv_many(self, int max_messages, int flags=0, bint multipart=False):
        """Up to max_messages at once: waits (as recv: RCVTIMEO, NOBLOCK)
        only for the first, then takes what is already queued, in one
        release of the GIL. A list of bytes, one per part; with
        multipart=True a list of whole messages, each a list of bytes."""
        cdef msg_t first
        cdef msg_t *parts = NULL
        cdef msg_t *grown
        cdef int n = 0, cap = 0, whole = 0, rc, i
        cdef bint more
        if self._closed:
            raise_errno(ENOTSOCK)
        if max_messages < 1:
            raise ValueError(f"max_messages={max_messages} must be at least 1")
        msg_init(&first)
        rc = sock_try_locked(self.s, &first, False, NULL)
        if rc == EAGAIN and not (flags & 1) and self.s.o.rcvtimeo != 0:
            rc = self._wait_and_retry(&first, False, self.s.o.rcvtimeo)
        if rc != 0:
            raise_errno(rc)
        more = (first.flags & MSG_MORE) != 0
        whole = 0 if more else 1
        # The rest, as long as it is there: up to max_messages parts, or
        # whole messages (never stopping inside one: they arrive whole).
        self._enter()
        try:
            with nogil:
                while (whole < max_messages or more) and (multipart or 1 + n < max_messages):
                    if n == cap:
                        cap = cap * 2 + 16
                        grown = <msg_t *>mq_realloc(parts, cap * sizeof(msg_t))
                        if grown == NULL:
                            break           # what we have so far
                        parts = grown
                    msg_init(&parts[n])
                    if sock_try_locked(self.s, &parts[n], False, NULL) != 0:
                        break
                    more = (parts[n].flags & MSG_MORE) != 0
                    n += 1
                    if not more:
                        whole += 1
            return self._batch_result(&first, parts, n, multipart)
        finally:
            msg_close(&first)       # (all closed already, unless a bytes object failed)
            for i in range(n):
                msg_close(&parts[i])
            free(parts)
            self._leave()

    cdef list _batch_result(self, msg_t *first, msg_t *parts, int n, bint multipart):
        """The received parts as lists of bytes (every part closed)."""
        cdef list out = []
        cdef list message = None
        cdef int i
        cdef bint more = False
        cdef msg_t *m
        for i in range(-1, n):
            m = first if i < 0 else &parts[i]
            more = (m.flags & MSG_MORE) != 0
            if not multipart:
                out.append(bytes_from_msg(m))
                continue
            if message is None:
                message = []
            message.append(bytes_from_msg(m))
            if not more:
                out.append(message)
                message = None
        if not self._closed:
            self.s.rcvmore = more
        return out

    def send_many(self, messages, int flags=0, bint copy=True):
        """Queues many messages in one release of the GIL: each item is one
        part (bytes-like) or a list/tuple of parts. Waits as send does
        (SNDTIMEO, NOBLOCK) when the high-water mark is reached; returns how
        many whole messages were queued, raising (Again...) only when none
        was."""
        cdef msg_t *parts = NULL
        cdef int *nparts = NULL
        cdef int nmsg, total, i, k, at, done = 0, rc = 0
        cdef object item
        if self._closed:
            raise_errno(ENOTSOCK)
        # A single-part item stays as it is (no tuple of one per message:
        # that was a tenth of a 64 B batch's sending CPU).
        batch = messages if type(messages) is list else list(messages)
        nmsg = len(batch)
        if nmsg == 0:
            return 0
        total = 0
        for item in batch:
            if is_multipart_item(item):
                if not item:
                    raise ValueError("a message needs at least one part")
                total += len(item)
            else:
                total += 1
        parts = <msg_t *>mq_calloc(total, sizeof(msg_t))
        nparts = <int *>mq_calloc(nmsg, sizeof(int))
        if parts == NULL or nparts == NULL:
            free(parts)
            free(nparts)
            raise_errno(ENOMEM)
        at = 0
        try:
            for i in range(nmsg):
                item = batch[i]
                if not is_multipart_item(item):
                    nparts[i] = 1
                    msg_for_part(&parts[at], item, copy)
                    at += 1
                    continue
                nparts[i] = len(item)
                if at + nparts[i] > total:  # (a list changed size meanwhile)
                    raise RuntimeError("send_many: a message's list of parts changed size")
                for k in range(nparts[i]):
                    msg_for_part(&parts[at], item[k], copy)
                    if k + 1 < nparts[i]:
                        parts[at].flags = MSG_MORE
                    at += 1
            done, rc = self._send_batch(parts, nparts, nmsg, flags)
        finally:
            for i in range(total):
                msg_close(&parts[i])    # the unsent (sent ones are empty)
            free(parts)
            free(nparts)
            drain_deferred_releases()
        if done == 0 and rc != 0:
            raise_errno(rc)
        return done

    cdef tuple _send_batch(self, msg_t *parts, int *nparts, int nmsg, int flags):
        """Sends the messages in parts (nparts[i] parts each) until one
        cannot go: (how many went whole, the errno that stopped them)."""
        cdef int done = 0, at = 0, rc = 0
        self._enter()
        try:
            while done < nmsg and rc == 0:
                with nogil:
                    while done < nmsg:
                        rc = sock_try_locked(self.s, &parts[at], True, NULL)
                        if rc == 0:
                            rc = send_rest(self.s, &parts[at + 1], nparts[done] - 1)
                        if rc != 0:
                            break
                        at += nparts[done]
                        done += 1
                    sock_send_wakes(self.s)
                if rc == EAGAIN and not (flags & 1) and self.s.o.sndtimeo != 0 and not self._closed:
                    rc = self._wait_and_retry(&parts[at], True, self.s.o.sndtimeo)
                    if rc == 0:
                        rc = send_rest(self.s, &parts[at + 1], nparts[done] - 1)
                    if rc == 0:
                        at += nparts[done]
                        done += 1
        finally:
            self._leave()
        return done, rc

    def recv_into(self, buffer, *, nbytes=0, int flags=0):
        """Receives one message part into `buffer` (writable, contiguous),
        at most nbytes (0: the buffer's size) of it; the rest is dropped.
        Returns the part's full size, as pyzmq (larger: truncated)."""
        cdef Py_buffer view
        cdef msg_t m
        cdef int rc
        cdef Py_ssize_t limit, size
        if self._closed:
            raise_errno(ENOTSOCK)
        if nbytes < 0:
            raise ValueError(f"nbytes={nbytes} must be non-negative")
        PyObject_GetBuffer(buffer, &view, PyBUF_WRITABLE | PyBUF_ANY_CONTIGUOUS)
        try:
            limit = view.len if nbytes == 0 else nbytes
            if limit > view.len:
                raise ValueError(f"nbytes={nbytes} too big for memoryview of {view.len}B")
            msg_init(&m)
            rc = sock_try_locked(self.s, &m, False, NULL)
            if rc == EAGAIN and not (flags & 1) and self.s.o.rcvtimeo != 0:
                rc = self._wait_and_retry(&m, False, self.s.o.rcvtimeo, NULL)
            if rc != 0:
                raise_errno(rc)
            if not self._closed:
                self.s.rcvmore = (m.flags & MSG_MORE) != 0
            size = m.size
            copy_bytes(<unsigned char *>view.buf, msg_data(&m), min(limit, size))
            msg_close(&m)
            return size
        finally:
            PyBuffer_Release(&view)

    cdef int _wait_and_retry(self, msg_t *m, bint sending, int timeout_ms,
                             chunk_t **meta=NULL) except? -1:
        """Blocks without the GIL; Python's signal handlers run in between,
        so Ctrl-C interrupts a blocked call. A close() from another thread
        wakes it (ENOTSOCK). The caller still owns m when this raises."""
        cdef long long deadline = -1
        cdef int rc
        if timeout_ms > 0:
            deadline = mq_now_ms() + timeout_ms
        self._enter()
        try:
            while True:
                with nogil:
                    rc = sock_io_blocking(self.s, m, sending, deadline, meta)
                if rc != WAIT_INTR:
                    break
                PyErr_CheckSignals()
                if self._closed:
                    break
        finally:
            self._leave()
        if self._closed and rc != 0:
            return ENOTSOCK
        return rc

    def _poll(self, int events, long timeout_ms):
        """Waits up to timeout_ms (-1: forever) for any of `events`
        (POLLIN 1, POLLOUT 2); returns those that are ready."""
        cdef long long deadline = -1
        cdef int ev, rc
        self._check_open()
        if timeout_ms > 0:
            deadline = mq_now_ms() + timeout_ms
        self._enter()
        try:
            while True:
                if self._closed:
                    raise_errno(ENOTSOCK)       # by another thread, or a signal handler
                ev = sock_events_locked(self.s) & events
                if ev or timeout_ms == 0 or self.s.ctx_terminated:
                    if self.s.ctx_terminated and not ev:
                        raise_errno(ETERM_)
                    return ev
                with nogil:
                    rc = sock_wait(self.s, deadline)
                if rc == EAGAIN:
                    return 0
                if rc == WAIT_INTR:
                    PyErr_CheckSignals()
        finally:
            self._leave()

    # ------------------------------------------------------------ options

    def set(self, int option, value):
        """setsockopt: int options take int, binary ones bytes."""
        return socket_set_option(self._root(), option, value)

    def get(self, int option):
        """getsockopt: int options give int, binary ones bytes."""
        return socket_get_option(self._root(), option)




cdef Socket _shadowed_socket(object shadow):
    """The real socket behind `shadow` (a Socket or an address from
    `underlying`); ENOTSOCK for an address that is no open socket."""
    cdef object ref
    if isinstance(shadow, Socket):
        target = shadow
    else:
        ref = _live_sockets.get(int(shadow))
        target = ref() if ref is not None else None
        if target is None:
            raise_errno(ENOTSOCK)
    return (<Socket>target)._root()


cdef unsigned int routing_id_arg(object value) except? 0:
    """A u32 routing id for SERVER/PEER sends (0 means none, so not here)."""
    if not (0 < value < 4294967296):
        raise_errno(EINVAL)
    return <unsigned int>value


cdef str _endpoint_str(addr):
    if isinstance(addr, bytes):
        addr = addr.decode()
    if not isinstance(addr, str):
        raise TypeError(f"endpoint must be str, not {type(addr).__name__}")
    if "://" not in addr:
        raise_errno(EINVAL)
    return addr


cdef object bytes_from_msg(msg_t *m):
    """A received part as bytes (m is closed): copied, or for large bodies
    read straight into a bytes object, taken over without a copy."""
    cdef object out
    cdef size_t size = m.size
    if size < GIL_FREE_COPY_MIN:
        out = PyBytes_FromStringAndSize(<char *>msg_data(m), size)
        msg_close(m)
        return out
    if spare_stealable(m):
        out = spare_steal(m)        # read straight into a bytes object: no copy
        if size >= POOL_MIN:
            spare_refill(size)      # for the next body of this size
        return out
    out = PyBytes_FromStringAndSize(NULL, size)
    copy_bytes(<unsigned char *>PyBytes_AS_STRING(out), msg_data(m), size)
    msg_close(m)
    if size >= POOL_MIN:
        # Two: the io thread is ahead of us; more spares let it catch the
        # bodies still to come.
        spare_refill(size)
        spare_refill(size)
    return out


cdef inline bint is_multipart_item(object item):
    """send_many's item is a list/tuple of parts (else it is one part)."""
    return type(item) is not bytes and isinstance(item, (list, tuple))


cdef int msg_for_part(msg_t *m, object data, bint copy) except -1:
    """One part of send_many as send() would take it: large bytes from their
    own memory, other buffers copied (or lent with copy=False when large)."""
    cdef Py_buffer view
    if isinstance(data, str):
        raise TypeError("unicode not allowed, use send_string")
    if type(data) is bytes and (PyBytes_GET_SIZE(data) >= ZERO_COPY_MIN or copy):
        if PyBytes_GET_SIZE(data) >= ZERO_COPY_MIN:
            if msg_init_borrowed_(m, data) < 0:
                raise_errno(ENOMEM)
            return 0
        if msg_init_size(m, PyBytes_GET_SIZE(data)) < 0:
            raise_errno(ENOMEM)
        memcpy(msg_data(m), PyBytes_AS_STRING(data), m.size)
        return 0
    PyObject_GetBuffer(data, &view, PyBUF_ANY_CONTIGUOUS)
    try:
        if not copy and view.len >= ZERO_COPY_MIN:
            if msg_init_borrowed_(m, data) < 0:
                raise_errno(ENOMEM)
        else:
            if msg_init_size(m, view.len) < 0:
                raise_errno(ENOMEM)
            copy_bytes(msg_data(m), <const unsigned char *>view.buf, view.len)
    finally:
        PyBuffer_Release(&view)
    return 0


cdef int send_rest(sock_t *s, msg_t *parts, int n) noexcept nogil:
    """The parts after a message's first, which got in: they always fit
    (the high-water mark counts whole messages) unless memory runs out,
    which takes the message back. 0 or the errno."""
    cdef int k, rc
    for k in range(n):
        rc = sock_try_locked(s, &parts[k], True, NULL)
        if rc != 0:
            if s.threadsafe:
                pthread_mutex_lock(&s.tlock)
            sock_abort_send(s)
            if s.threadsafe:
                pthread_mutex_unlock(&s.tlock)
            return rc
    return 0
