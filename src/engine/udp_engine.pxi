# The udp engine (libzmq's udp_engine_t): no ZMTP, one message a datagram,
# laid out as libzmq lays it out: one byte of group length, the group,
# the body. DISH's session receives: each datagram becomes one message with
# its group (a datagram cut short by the kernel, or whose group length runs
# past its end, is dropped whole). RADIO's session sends: each message
# becomes one datagram; one that does not fit UDP_MAX bytes is dropped (libzmq
# would overrun its buffer), and RADIO, which has no JOINs from udp, sends
# every group there (the session's "every group" marker, radio_take).

cdef enum:
    UDP_MAX = 8192              # libzmq's MAX_UDP_MSG: its buffers, both ways
    UDP_READS_PER_EVENT = 64    # then let the other sessions of the io thread run

cdef struct udp_t:
    msg_t pending_in            # a datagram's message the full pipe did not take yet
    bint has_pending_in
    size_t out_len              # a datagram that waits for room in the socket
    unsigned char inbuf[UDP_MAX]
    unsigned char outbuf[UDP_MAX]


cdef inline udp_t *udp(session_t *s) noexcept nogil:
    return <udp_t *>s.eng


cdef int udp_decode(const unsigned char *p, size_t n, msg_t *m) noexcept nogil:
    """The datagram p[:n] as a message with its group in *m. 0; -1 when it
    is malformed (empty, or its group runs past its end: *m untouched);
    ENOMEM (*m closed)."""
    cdef size_t glen
    if n < 1:
        return -1
    glen = p[0]
    if glen + 1 > n:
        return -1
    if msg_init_size(m, n - 1 - glen) < 0:
        return ENOMEM
    if m.size:
        memcpy(msg_data(m), p + 1 + glen, m.size)
    if msg_set_group(m, p + 1, glen) != 0:
        msg_close(m)
        return ENOMEM
    return 0


cdef size_t udp_encode(msg_t *m, unsigned char *out, size_t cap) noexcept nogil:
    """m as a datagram in out; 0 when it does not fit cap bytes."""
    cdef size_t glen
    cdef const unsigned char *g = msg_group(m, &glen)
    if 1 + glen + m.size > cap:
        return 0
    out[0] = <unsigned char>glen
    if glen:
        memcpy(out + 1, g, glen)
    if m.size:
        memcpy(out + 1 + glen, msg_data(m), m.size)
    return 1 + glen + m.size


cdef int udp_init(session_t *s) noexcept nogil:
    msg_init(&udp(s).pending_in)
    return 0


cdef void udp_unplug(session_t *s) noexcept nogil:
    cdef udp_t *u = udp(s)
    if u.has_pending_in:
        msg_close(&u.pending_in)
        u.has_pending_in = False
    u.out_len = 0


cdef void udp_fini(session_t *s) noexcept nogil:
    udp_unplug(s)


cdef void udp_plug(session_t *s) noexcept nogil:
    cdef msg_t every
    session_engine_ready(s, NULL, 0, NULL)
    if s.state != S_ACTIVE:
        return
    if s.groups == GROUPS_OUT and s.pipe != NULL:
        # RADIO: this pipe takes every group (JOIN and LEAVE at once).
        msg_init(&every)
        every.flags = MSG_JOIN | MSG_LEAVE
        if session_push_plain(s, &every) != 0:
            msg_close(&every)
        session_flush_in(s)
    udp_read(s)


cdef bint udp_deliver(session_t *s, udp_t *u, msg_t *m) noexcept nogil:
    """Hands a message on; False when the pipe is full (it is kept, reading
    stops until restart_input) or the session ended."""
    cdef int rc = session_push_plain(s, m)
    if rc == 0:
        return True
    if rc == 1:
        memcpy(&u.pending_in, m, sizeof(msg_t))
        u.has_pending_in = True
        session_block_input(s)
    return False


cdef void udp_read(session_t *s) noexcept nogil:
    cdef udp_t *u = udp(s)
    cdef msg_t m
    cdef ssize_t n
    cdef int truncated
    cdef int i
    cdef bint receiving = s.groups == GROUPS_IN
    if s.state != S_ACTIVE or s.h.fd < 0:
        return
    if u.has_pending_in:
        u.has_pending_in = False
        memcpy(&m, &u.pending_in, sizeof(msg_t))
        msg_init(&u.pending_in)
        if not udp_deliver(s, u, &m):
            return
    for i in range(UDP_READS_PER_EVENT):
        n = mq_udp_recv(s.h.fd, u.inbuf, UDP_MAX, &truncated)
        if n < 0:
            break           # EAGAIN, or an error a datagram socket reports (ICMP): go on later
        if truncated or not receiving:
            continue        # longer than any sender of this layout makes; RADIO hears nothing
        msg_init(&m)
        if udp_decode(u.inbuf, <size_t>n, &m) != 0:
            continue        # malformed, or no memory for it: dropped whole
        if not udp_deliver(s, u, &m):
            break
    session_flush_in(s)


cdef void udp_write(session_t *s) noexcept nogil:
    cdef udp_t *u = udp(s)
    cdef msg_t m
    cdef ssize_t n
    cdef int rc
    if s.state != S_ACTIVE or s.h.fd < 0:
        return
    while True:
        if u.out_len:
            n = mq_udp_send(s.h.fd, u.outbuf, u.out_len, &s.ep.addr)
            if n < 0 and (errno == EAGAIN or errno == ENOBUFS):
                handle_want(s.h.io, &s.h, s.h.events | MQ_POLLOUT)
                return
            u.out_len = 0   # sent, or refused for good (unreachable...): datagrams may be lost
        msg_init(&m)
        rc = session_pull_plain(s, &m)
        if rc <= 0:
            break
        if s.groups == GROUPS_OUT:
            u.out_len = udp_encode(&m, u.outbuf, UDP_MAX)
        msg_close(&m)       # (DISH's JOINs: udp has no commands; its group is the address)
    handle_want(s.h.io, &s.h, s.h.events & ~MQ_POLLOUT)
    if s.pipe_done and s.state == S_ACTIVE:
        session_destroy(s)


cdef void udp_on_event(session_t *s, int events) noexcept nogil:
    if events & MQ_POLLIN:
        udp_read(s)
    if events & MQ_POLLOUT:
        udp_write(s)


cdef void udp_restart_input(session_t *s) noexcept nogil:
    s.in_blocked = False
    handle_want(s.h.io, &s.h, s.h.events | MQ_POLLIN)
    udp_read(s)


cdef bint udp_has_output(session_t *s) noexcept nogil:
    return udp(s).out_len > 0


cdef engine_ops_t UDP_ENGINE
UDP_ENGINE.name = b"datagram"
UDP_ENGINE.kind = ENGINE_DATAGRAM
UDP_ENGINE.raw = False
UDP_ENGINE.state_size = sizeof(udp_t)
UDP_ENGINE.init = udp_init
UDP_ENGINE.fini = udp_fini
UDP_ENGINE.plug = udp_plug
UDP_ENGINE.unplug = udp_unplug
UDP_ENGINE.on_event = udp_on_event
UDP_ENGINE.restart_output = udp_write
UDP_ENGINE.restart_input = udp_restart_input
UDP_ENGINE.has_output = udp_has_output
engine_register(&UDP_ENGINE)
