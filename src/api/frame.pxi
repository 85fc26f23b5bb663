# Frame: one message part as a Python object, zero-copy both ways.
#
# A received Frame owns the msg_t taken from the pipe and exposes its bytes
# through the buffer protocol (memoryview(frame), numpy.frombuffer, ...)
# without copying. A Frame made from Python data copies it when it is small
# (pyzmq's COPY_THRESHOLD) or copy=True; otherwise it keeps the object's
# buffer exported for its whole life, so the memory a view of the Frame
# points at cannot be resized or freed under it (a bytearray raises
# BufferError meanwhile, as it does for any live export). bytes need no
# export: they never change.

cdef enum:
    FRAME_COPY_THRESHOLD = 65536    # pyzmq's zmq.COPY_THRESHOLD


cdef class Frame:
    cdef msg_t msg
    cdef bint _owns_msg
    cdef object _data               # bytes, or the exporter of _view
    cdef Py_buffer _view            # [_viewing] held until the Frame dies
    cdef bint _viewing
    cdef object _bytes
    cdef object _buffer             # the memoryview .buffer gives, made once
    cdef public bint more
    cdef public object tracker
    cdef object _routing_id
    cdef bytes _group               # a Frame made here: its group until sent (None: none)
    cdef chunk_t *meta              # a received frame's connection properties (a ref), or NULL

    def __cinit__(self, data=None, track=False, copy=None, copy_threshold=None, **kwargs):
        msg_init(&self.msg)
        self._owns_msg = False
        self._viewing = False
        self.more = False
        self.tracker = None
        if data is None:
            data = b""
        if isinstance(data, str):
            raise TypeError("str objects cannot be sent as Frames: encode them first")
        if isinstance(data, Frame):
            data = (<Frame>data).bytes
        if type(data) is bytes:
            # Immutable: never copied, tracked only when sent without a copy.
            self._data = data
            if track:
                self.tracker = _FINISHED_TRACKER if PyBytes_GET_SIZE(data) < FRAME_COPY_THRESHOLD else pending_tracker()
            return
        PyObject_GetBuffer(data, &self._view, PyBUF_ANY_CONTIGUOUS)    # fails early without a buffer
        self._viewing = True        # __dealloc__ releases it, even if we raise below
        if copy is None:
            copy = self._view.len < (FRAME_COPY_THRESHOLD if copy_threshold is None else copy_threshold)
        if copy or self._view.len == 0:
            # A copy: later changes to a mutable buffer do not show here.
            self._data = PyBytes_FromStringAndSize(<const char *>self._view.buf, self._view.len)
            self._viewing = False
            PyBuffer_Release(&self._view)
            if track:
                self.tracker = _FINISHED_TRACKER
            return
        self._data = data
        if track:
            self.tracker = pending_tracker()

    def __dealloc__(self):
        if self._owns_msg:
            msg_close(&self.msg)
        if isinstance(self.tracker, MessageTracker) and (<MessageTracker>self.tracker)._pending:
            # Never sent: nothing holds the buffer once this frame is gone.
            (<MessageTracker>self.tracker)._pending = False
        chunk_swap(&self.meta, NULL)
        if self._viewing:
            PyBuffer_Release(&self._view)

    cdef const unsigned char *_ptr(self, Py_ssize_t *size) except NULL:
        if self._owns_msg:
            size[0] = self.msg.size
            return msg_data(&self.msg)
        if self._viewing:
            size[0] = self._view.len
            return <const unsigned char *>self._view.buf
        size[0] = PyBytes_GET_SIZE(self._data)
        return <const unsigned char *>PyBytes_AS_STRING(self._data)

    def __getbuffer__(self, Py_buffer *buffer, int flags):
        cdef Py_ssize_t n
        cdef const unsigned char *p = self._ptr(&n)
        # A received frame's memory is its own: writable, as in pyzmq.
        PyBuffer_FillInfo(buffer, self, <void *>p, n, 0 if self._owns_msg else 1, flags)

    def __releasebuffer__(self, Py_buffer *buffer):
        pass

    def __len__(self):
        cdef Py_ssize_t n
        self._ptr(&n)
        return n

    @property
    def bytes(self):
        """The frame's content as bytes (copied once, then cached)."""
        cdef Py_ssize_t n
        cdef const unsigned char *p
        if self._bytes is None:
            if not self._owns_msg and type(self._data) is bytes:
                self._bytes = self._data
            else:
                p = self._ptr(&n)
                self._bytes = PyBytes_FromStringAndSize(<const char *>p, n)
        return self._bytes

    @property
    def buffer(self):
        """A memoryview of the content: the same object every time."""
        if self._buffer is None:
            self._buffer = memoryview(self)
        return self._buffer

    @property
    def routing_id(self):
        """The u32 peer id of SERVER/PEER messages (0 or None: unset)."""
        if self._owns_msg:
            return self.msg.routing_id
        return self._routing_id

    @routing_id.setter
    def routing_id(self, value):
        if value is not None and not (0 < value < 2 ** 32):
            raise_errno(EINVAL)
        self._routing_id = value
        if self._owns_msg:
            self.msg.routing_id = value or 0

    @property
    def group(self):
        """The RADIO/DISH group ("" for none), as pyzmq: a str."""
        g = self._group_bytes()
        return "" if g is None else g.decode("utf8")

    @group.setter
    def group(self, value):
        cdef bytes g = group_arg(value)
        cdef int rc
        if self._owns_msg:
            rc = msg_set_group(&self.msg, <const unsigned char *><char *>g, len(g))
            if rc != 0:
                raise_errno(rc)
        self._group = g

    cdef object _group_bytes(self):
        """The group as bytes, None for none."""
        cdef size_t n
        cdef const unsigned char *p
        if self._owns_msg:
            if self.msg.group == NULL:
                return None
            p = msg_group(&self.msg, &n)
            return PyBytes_FromStringAndSize(<const char *>p, n)
        return self._group

    def set(self, option, value):
        """Sets a message property: "group" or "routing_id" (pyzmq's names)."""
        if option == "group":
            self.group = value
        elif option == "routing_id":
            self.routing_id = value
        else:
            raise_errno(EINVAL)

    def get(self, option):
        """A message property: an int option (MORE 1, SHARED 3), or, by
        name, a property of the connection the frame came in on, as libzmq
        keeps them (names as sent, compared exactly): "Socket-Type",
        "Identity", "Peer-Address", and with security "User-Id" and what
        the ZAP handler added. EINVAL when the frame has no such property."""
        cdef const unsigned char *value
        cdef size_t vlen
        cdef bytes name
        if isinstance(option, str):
            if option == "group":
                return self.group
            name = option.encode("utf8")
            if self.meta != NULL:
                if properties_find(self.meta.data, self.meta.size, name, len(name), True, &value, &vlen):
                    return text_until_nul(value, vlen)
                if name == b"Identity" and properties_find(self.meta.data, self.meta.size, b"Routing-Id",
                                                           10, True, &value, &vlen):
                    return text_until_nul(value, vlen)
            raise_errno(EINVAL)
        if option == 1:                           # MORE
            return int(self.more)
        if option == 3:                           # SHARED
            return int(self._owns_msg and self.msg.chunk != NULL and self.msg.chunk.refcnt > 1)
        raise_errno(EINVAL)

    def __bytes__(self):
        return self.bytes

    def __copy__(self):
        cdef Frame f = Frame(self.bytes)
        chunk_swap(&f.meta, self.meta)
        f._group = self._group_bytes()
        return f

    fast_copy = __copy__

    def __repr__(self):
        # pyzmq's format: short frames whole, long ones cut with their size.
        cdef Py_ssize_t n = len(self)
        suffix = ""
        if n > 16:
            shown = bytes(memoryview(self)[:12])
            if n >= 1000000000:
                suffix = f"...{n // 1000000000}GB"
            elif n >= 1048576:
                suffix = f"...{n // 1000000}MB"
            elif n >= 1000:
                suffix = f"...{n // 1000}kB"
            else:
                suffix = f"...{n}B"
        else:
            shown = self.bytes
        module = type(self).__module__
        if module.startswith("mqcore."):
            module = "mqcore"
        return f"<{module}.{type(self).__name__}({shown!r}{suffix})>"

    def __eq__(self, other):
        if isinstance(other, Frame):
            return self.bytes == (<Frame>other).bytes
        return self.bytes == other

    __hash__ = None


cdef bytes group_arg(object value):
    """A group as libzmq takes it (str as UTF-8, or bytes; a C string: it
    ends at its first NUL); EINVAL past GROUP_MAX bytes."""
    cdef bytes g
    if isinstance(value, str):
        g = (<str>value).encode("utf8")
    elif isinstance(value, bytes):
        g = value
    else:
        raise TypeError(f"group must be str or bytes, not {type(value).__name__}")
    nul = g.find(b"\0")
    if nul >= 0:
        g = g[:nul]
    if len(g) > GROUP_MAX:
        raise_errno(EINVAL)
    return g


cdef object text_until_nul(const unsigned char *p, size_t n):
    # libzmq hands properties out as C strings: a value ends at its first NUL.
    cdef const void *nul = memchr(p, 0, n)
    if nul != NULL:
        n = <const unsigned char *>nul - p
    return PyBytes_FromStringAndSize(<const char *>p, n).decode("utf8")


cdef Frame frame_from_msg(msg_t *m, chunk_t *meta=NULL):
    """A Frame owning *m's body (m is left empty) and the reference to
    meta, its connection's properties."""
    cdef Frame f = Frame.__new__(Frame)
    f.meta = meta
    memcpy(&f.msg, m, sizeof(msg_t))
    msg_init(m)
    f._owns_msg = True
    f.more = (f.msg.flags & MSG_MORE) != 0
    return f


# Zero-copy sends borrow a Python buffer; the chunk keeps the Py_buffer right
# after its header and is released with the GIL by drain_deferred_releases.

cdef int msg_init_borrowed_(msg_t *m, object obj) except -2:
    """-1 without memory; raises (-2) when obj lends no buffer."""
    cdef chunk_t *c = <chunk_t *>mq_malloc(sizeof(chunk_t) + sizeof(Py_buffer))
    cdef Py_buffer *view
    if c == NULL:
        return -1
    view = <Py_buffer *>(c + 1)
    if PyObject_GetBuffer(obj, view, PyBUF_ANY_CONTIGUOUS) < 0:
        free(c)
        return -1
    c.next_free = NULL
    c.refcnt = 1
    c.size = view.len
    c.data = <unsigned char *>view.buf
    c.free_fn = defer_chunk_release
    m.size = view.len
    m.flags = 0
    m.routing_id = 0
    m.group = NULL
    m.chunk = c
    return 0


cdef void drain_deferred_releases():
    cdef chunk_t *c
    cdef chunk_t *nx
    if g_deferred == NULL:
        return
    c = <chunk_t *>mq_stack_take_all(&g_deferred)
    while c != NULL:
        nx = c.next_free
        PyBuffer_Release(<Py_buffer *>(c + 1))
        free(c)
        c = nx


# Spare receive bodies (base/pool.pxi): recv() hands the io threads blank
# bytes objects of the size it just received; a body of that size is then
# read straight into one, and recv() returns it without copying. It is
# never seen by Python code before that, so writing into it is safe.

cdef object spare_steal(msg_t *m):
    """The bytes object behind a spare body that only m holds; m is closed."""
    cdef chunk_t *c = m.chunk
    cdef Py_buffer *view = <Py_buffer *>(c + 1)
    cdef object out = <object>view.obj
    PyBuffer_Release(view)
    free(c)
    m.chunk = NULL
    msg_close(m)            # its group, if any
    return out


cdef inline bint spare_stealable(msg_t *m) noexcept nogil:
    return (m.chunk != NULL and m.chunk.free_fn == spare_chunk_release
            and mq_int_load(&m.chunk.refcnt) == 1)


cdef void spare_refill(size_t size):
    """Another blank spare of `size` bytes, if there is room (never raises)."""
    cdef chunk_t *c
    cdef Py_buffer *view
    drain_deferred_releases()       # spares the io threads dropped
    if not spare_room(size):
        return
    c = <chunk_t *>mq_malloc(sizeof(chunk_t) + sizeof(Py_buffer))
    if c == NULL:
        return
    view = <Py_buffer *>(c + 1)
    try:
        obj = PyBytes_FromStringAndSize(NULL, size)
        PyObject_GetBuffer(obj, view, PyBUF_SIMPLE)
    except MemoryError:
        free(c)
        return
    c.next_free = NULL
    c.refcnt = 1
    c.size = size
    c.data = <unsigned char *>view.buf
    c.free_fn = spare_chunk_release
    if not spare_give(c, size):
        PyBuffer_Release(view)
        free(c)


cdef class MessageTracker:
    """Tells when the core has finished with a zero-copy send's buffer.
    MessageTracker(*towatch) is done when all of towatch (trackers, tracked
    Frames, threading.Events) are."""
    cdef chunk_t *chunk
    cdef bint _pending              # a tracked Frame's, before it is sent
    cdef list _peers

    def __init__(self, *towatch):
        peers = []
        for obj in towatch:
            if isinstance(obj, Frame):
                if obj.tracker is None:
                    raise ValueError("Not a tracked message")
                peers.append(obj.tracker)
            elif isinstance(obj, MessageTracker) or hasattr(obj, "is_set"):
                peers.append(obj)
            else:
                raise TypeError(f"Require Events or Message Frames, not {type(obj)}")
        self._peers = peers

    def __dealloc__(self):
        if self.chunk != NULL:
            chunk_decref(self.chunk)
            self.chunk = NULL

    @property
    def done(self):
        if self.chunk != NULL and mq_int_load(&self.chunk.refcnt) == 1:
            # Only this tracker holds the message now: let the buffer go, so
            # its owner may resize it as soon as it is told it is done.
            chunk_decref(self.chunk)
            self.chunk = NULL
        drain_deferred_releases()
        if self.chunk != NULL or self._pending:
            return False
        if self._peers:
            for peer in self._peers:
                if not (peer.done if isinstance(peer, MessageTracker) else peer.is_set()):
                    return False
        return True

    def wait(self, timeout=-1):
        """Waits until done; raises NotDone after `timeout` seconds."""
        import time
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout
        while not self.done:
            if deadline is not None and time.monotonic() >= deadline:
                from mqcore.error import NotDone
                raise NotDone()
            time.sleep(0.0005)


# What a send that copied anyway gives for a tracker: done from the start.
_FINISHED_TRACKER = MessageTracker()


cdef MessageTracker pending_tracker():
    cdef MessageTracker t = MessageTracker.__new__(MessageTracker)
    t._pending = True
    return t


cdef MessageTracker tracker_for(msg_t *m):
    cdef MessageTracker t = MessageTracker.__new__(MessageTracker)
    if m.chunk != NULL:
        mq_int_add(&m.chunk.refcnt, 1)
        t.chunk = m.chunk
    return t
