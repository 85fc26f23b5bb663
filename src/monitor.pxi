# Socket monitor events and per-socket connection counters.
#
# Every socket has an evsink that its sessions and listeners (on io threads)
# and the socket itself (bind) report to. When a monitor is attached, each
# event becomes libzmq's two-frame message (u16 event + u32 value in host
# order, then the endpoint) written into an inproc pipe read by the user's
# PAIR socket. Any thread may report, so writes into that pipe are under the
# sink's mutex (the lock makes the single-producer pipe safe), and an event
# that finds the pipe full is dropped: libzmq blocks there and can hang the
# monitored socket (libzmq issues #2829, #3575), which is worse.

cdef enum:
    EV_CONNECTED = 0x0001
    EV_CONNECT_DELAYED = 0x0002
    EV_CONNECT_RETRIED = 0x0004
    EV_LISTENING = 0x0008
    EV_BIND_FAILED = 0x0010
    EV_ACCEPTED = 0x0020
    EV_ACCEPT_FAILED = 0x0040
    EV_CLOSED = 0x0080
    EV_CLOSE_FAILED = 0x0100
    EV_DISCONNECTED = 0x0200
    EV_MONITOR_STOPPED = 0x0400
    EV_HANDSHAKE_FAILED_NO_DETAIL = 0x0800
    EV_HANDSHAKE_SUCCEEDED = 0x1000
    EV_HANDSHAKE_FAILED_PROTOCOL = 0x2000
    EV_HANDSHAKE_FAILED_AUTH = 0x4000
    PROTO_ERR_UNSPECIFIED = 0x10000000
    PROTO_ERR_UNEXPECTED_COMMAND = 0x10000001
    PROTO_ERR_INVALID_SEQUENCE = 0x10000002
    PROTO_ERR_KEY_EXCHANGE = 0x10000003
    PROTO_ERR_MALFORMED_MESSAGE = 0x10000012
    PROTO_ERR_MALFORMED_HELLO = 0x10000013
    PROTO_ERR_MALFORMED_INITIATE = 0x10000014
    PROTO_ERR_MALFORMED_ERROR = 0x10000015
    PROTO_ERR_MALFORMED_READY = 0x10000016
    PROTO_ERR_MALFORMED_WELCOME = 0x10000017
    PROTO_ERR_INVALID_METADATA = 0x10000018
    PROTO_ERR_CRYPTOGRAPHIC = 0x11000001
    PROTO_ERR_MECHANISM_MISMATCH = 0x11000002
    PROTO_ERR_ZAP_UNSPECIFIED = 0x20000000
    PROTO_ERR_ZAP_MALFORMED_REPLY = 0x20000001
    PROTO_ERR_ZAP_BAD_REQUEST_ID = 0x20000002
    PROTO_ERR_ZAP_BAD_VERSION = 0x20000003
    PROTO_ERR_ZAP_INVALID_STATUS_CODE = 0x20000004
    PROTO_ERR_ZAP_INVALID_METADATA = 0x20000005

cdef struct evsink_t:
    int refcnt                  # [any] atomic
    pthread_mutex_t lock
    int events                  # [lock] what the monitor asked for
    pipe_end_t *pipe            # [lock] writer end towards the monitor socket
    mailbox_t *mb               # [lock] where that end's commands land
    cmdbuf_t buf
    unsigned long long connects     # [lock]
    unsigned long long disconnects  # [lock]


cdef evsink_t *evsink_new() noexcept nogil:
    """NULL with errno set when out of memory or descriptors."""
    cdef evsink_t *ev = <evsink_t *>mq_calloc(1, sizeof(evsink_t))
    cdef int err
    if ev == NULL:
        set_errno(ENOMEM)
        return NULL
    ev.mb = mailbox_new()
    if ev.mb == NULL:
        err = errno
        free(ev)
        set_errno(err)
        return NULL
    ev.refcnt = 1
    pthread_mutex_init(&ev.lock, NULL)
    return ev


cdef inline void evsink_incref(evsink_t *ev) noexcept nogil:
    mq_int_add(&ev.refcnt, 1)


cdef void evsink_drain(evsink_t *ev) noexcept nogil:
    """[lock] Takes the commands about the monitor pipe; a monitor socket
    that went away ends it."""
    cdef int n = mailbox_take(ev.mb, &ev.buf)
    cdef int i
    cdef command_t *c
    for i in range(n):
        c = &ev.buf.cmds[i]
        if c.type == CMD_PIPE_TERM and ev.pipe != NULL and c.end == ev.pipe:
            ev.pipe.peer_gone = True
            pipe_close(ev.pipe, 0)
            ev.pipe = NULL
        if c.end != NULL:
            pipe_decref(c.end.pipe)


cdef void evsink_detach_locked(evsink_t *ev) noexcept nogil:
    if ev.pipe != NULL:
        pipe_close(ev.pipe, 0)
        ev.pipe = NULL
    ev.events = 0
    evsink_drain(ev)


cdef void evsink_decref(evsink_t *ev) noexcept nogil:
    if mq_int_add(&ev.refcnt, -1) != 0:
        return
    evsink_detach_locked(ev)
    cdef cmdbuf_t rest
    rest.cmds = NULL
    rest.cap = 0
    mailbox_close(ev.mb, &rest)
    free(rest.cmds)
    mailbox_decref(ev.mb)
    free(ev.buf.cmds)
    pthread_mutex_destroy(&ev.lock)
    free(ev)


cdef int evsink_put_frame(evsink_t *ev, const unsigned char *data, size_t n, bint more) noexcept nogil:
    """0, or ENOMEM: nothing of this frame was written."""
    cdef msg_t m
    if msg_init_bytes(&m, data, n) < 0:
        return ENOMEM
    if more:
        m.flags = MSG_MORE
    if pipe_write(ev.pipe, &m) != 0:
        msg_close(&m)
        return ENOMEM
    return 0


cdef void evsink_emit(evsink_t *ev, int event, long long value, const char *endpoint) noexcept nogil:
    cdef unsigned char head[6]
    cdef unsigned short e16 = <unsigned short>event
    cdef unsigned int v32 = <unsigned int>value
    if ev == NULL or not (mq_int_load(&ev.events) & event):
        return
    pthread_mutex_lock(&ev.lock)
    evsink_drain(ev)
    if ev.pipe != NULL and (ev.events & event) and pipe_check_write(ev.pipe):
        memcpy(head, &e16, 2)
        memcpy(head + 2, &v32, 4)
        if (evsink_put_frame(ev, head, 6, True) == 0 and
                evsink_put_frame(ev, <const unsigned char *>endpoint, strlen(endpoint), False) == 0):
            pipe_flush(ev.pipe)
        else:
            pipe_unwrite(ev.pipe)     # out of memory: the event is dropped whole
    pthread_mutex_unlock(&ev.lock)


cdef void evsink_count(evsink_t *ev, int connects, int disconnects) noexcept nogil:
    pthread_mutex_lock(&ev.lock)
    ev.connects += connects
    ev.disconnects += disconnects
    pthread_mutex_unlock(&ev.lock)


cdef void evsink_attach(evsink_t *ev, pipe_end_t *e) noexcept nogil:
    """The monitor socket connected: e is our writing end (one reader only,
    like libzmq's PAIR)."""
    pthread_mutex_lock(&ev.lock)
    evsink_drain(ev)
    if ev.pipe != NULL:
        pipe_close(e, 0)
    else:
        ev.pipe = e
    pthread_mutex_unlock(&ev.lock)


cdef void evsink_start(evsink_t *ev, int events) noexcept nogil:
    pthread_mutex_lock(&ev.lock)
    evsink_detach_locked(ev)
    mq_int_store(&ev.events, events)
    pthread_mutex_unlock(&ev.lock)


cdef void evsink_stop(evsink_t *ev, const char *endpoint) noexcept nogil:
    evsink_emit(ev, EV_MONITOR_STOPPED, 0, b"")
    pthread_mutex_lock(&ev.lock)
    evsink_detach_locked(ev)
    pthread_mutex_unlock(&ev.lock)
