# The udp engine (libzmq's udp_engine_t): no ZMTP, one message a datagram,
# laid out as libzmq lays it out: one byte of group length, the group,
# the body. DISH's session receives: each datagram becomes one message with
# its group (a datagram cut short by the kernel, or whose group length runs
# past its end, is dropped whole). RADIO's session sends: each message
# becomes one datagram; one that does not fit UDP_MAX bytes is dropped (libzmq
# would overrun its buffer), and RADIO, which has no JOINs from udp, sends
# every group there (session_subscribe_all, read by radio_take).

cdef enum:
    UDP_MAX = 8192              # libzmq's MAX_UDP_MSG: its buffers, both ways
    UDP_BATCH = 16              # datagrams a recvmmsg/sendmmsg call moves at most
    UDP_OUT_AREA = 2 * UDP_MAX  # RADIO's encoded datagrams, packed; one more is
                                # pulled only while UDP_MAX bytes are free
    UDP_READS_PER_EVENT = 64    # then let the other sessions of the io thread run

cdef struct udp_t:
    msg_t pending_in            # a datagram's message the full pipe did not take yet
    bint has_pending_in
    chunk_t *in_group           # the last datagram's group, shared by the next of that group
    int in_next                 # inbuf's datagrams in_next..in_count-1: received,
    int in_count                # not yet decoded (the pipe filled up before them)
    size_t in_len[UDP_BATCH]
    int in_trunc[UDP_BATCH]
    int out_first               # outbuf's datagrams out_first..out_count-1 wait
    int out_count               # for room in the socket, in order
    size_t out_used
    size_t out_off[UDP_BATCH]
    size_t out_len[UDP_BATCH]
    unsigned char inbuf[UDP_BATCH * UDP_MAX]
    unsigned char outbuf[UDP_OUT_AREA]


cdef inline udp_t *udp(session_t *s) noexcept nogil:
    return <udp_t *>s.eng


cdef int udp_decode(const unsigned char *p, size_t n, msg_t *m, chunk_t **last_group) noexcept nogil:
    """The datagram p[:n] as a message with its group in *m (sharing
    *last_group's chunk when it is the same group). 0; -1 when it is
    malformed (empty, or its group runs past its end: *m untouched);
    ENOMEM (*m closed)."""
    cdef size_t glen
    if n < 1:
        return -1
    glen = p[0]
    if glen + 1 > n:
        return -1
    if msg_init_bytes(m, p + 1 + glen, n - 1 - glen) < 0:
        return ENOMEM
    if msg_set_group_shared(m, p + 1, glen, last_group) != 0:
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
    cdef udp_t *u = udp(s)
    msg_init(&u.pending_in)
    u.in_group = NULL
    u.in_next = u.in_count = 0
    u.out_first = u.out_count = 0
    u.out_used = 0
    return 0


cdef void udp_unplug(session_t *s) noexcept nogil:
    cdef udp_t *u = udp(s)
    if u.has_pending_in:
        msg_close(&u.pending_in)
        u.has_pending_in = False
    if u.in_group != NULL:
        chunk_decref(u.in_group)
        u.in_group = NULL
    u.in_next = u.in_count = 0
    u.out_first = u.out_count = 0
    u.out_used = 0


cdef void udp_fini(session_t *s) noexcept nogil:
    udp_unplug(s)


cdef void udp_plug(session_t *s) noexcept nogil:
    session_engine_ready(s, NULL, 0, NULL)
    if s.state != S_ACTIVE:
        return
    if s.groups == GROUPS_OUT:
        session_subscribe_all(s)        # RADIO: no JOINs come over udp
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


cdef bint udp_deliver_received(session_t *s, udp_t *u) noexcept nogil:
    """Decodes and hands on the datagrams of inbuf not yet taken, in
    order; False when the pipe filled up (the rest wait in inbuf, the one
    it refused in pending_in) or the session ended."""
    cdef msg_t m
    cdef int i
    cdef bint receiving = s.groups == GROUPS_IN
    while u.in_next < u.in_count:
        i = u.in_next
        u.in_next += 1
        if u.in_trunc[i] or not receiving:
            continue        # longer than any sender of this layout makes; RADIO hears nothing
        msg_init(&m)
        if udp_decode(u.inbuf + <size_t>i * UDP_MAX, u.in_len[i], &m, &u.in_group) != 0:
            continue        # malformed, or no memory for it: dropped whole
        if not udp_deliver(s, u, &m):
            return False
    return True


cdef void udp_read(session_t *s) noexcept nogil:
    cdef udp_t *u = udp(s)
    cdef msg_t m
    cdef int n
    cdef int taken = 0
    if s.state != S_ACTIVE or s.h.fd < 0:
        return
    if u.has_pending_in:
        u.has_pending_in = False
        memcpy(&m, &u.pending_in, sizeof(msg_t))
        msg_init(&u.pending_in)
        if not udp_deliver(s, u, &m):
            return
    while udp_deliver_received(s, u) and taken < UDP_READS_PER_EVENT:
        n = mq_udp_recv_batch(s.h.fd, u.inbuf, UDP_MAX, UDP_BATCH, u.in_len, u.in_trunc)
        if n <= 0:
            break           # EAGAIN, or an error a datagram socket reports (ICMP): go on later
        u.in_next = 0
        u.in_count = n
        taken += n
    session_flush_in(s)


cdef void udp_fill_out(session_t *s, udp_t *u) noexcept nogil:
    """Encodes queued messages after the datagrams waiting in outbuf, while
    there are slots and room for the largest datagram."""
    cdef msg_t m
    cdef size_t n
    if u.out_first == u.out_count:
        u.out_first = u.out_count = 0
        u.out_used = 0
    while u.out_count < UDP_BATCH and UDP_OUT_AREA - u.out_used >= UDP_MAX:
        msg_init(&m)
        if session_pull_plain(s, &m) <= 0:
            return
        if s.groups == GROUPS_OUT:
            n = udp_encode(&m, u.outbuf + u.out_used, UDP_MAX)
            if n:           # (one past UDP_MAX is dropped, as it would overrun libzmq's buffer)
                u.out_off[u.out_count] = u.out_used
                u.out_len[u.out_count] = n
                u.out_used += n
                u.out_count += 1
        msg_close(&m)       # (DISH's JOINs: udp has no commands; its group is the address)


cdef void udp_write(session_t *s) noexcept nogil:
    cdef udp_t *u = udp(s)
    cdef int n
    if s.state != S_ACTIVE or s.h.fd < 0:
        return
    while True:
        udp_fill_out(s, u)
        if u.out_first == u.out_count:
            break
        n = mq_udp_send_batch(s.h.fd, u.outbuf, u.out_off + u.out_first, u.out_len + u.out_first,
                              u.out_count - u.out_first, &s.ep.addr)
        if n < 0 and (errno == EAGAIN or errno == ENOBUFS):
            handle_want(s.h.io, &s.h, s.h.events | MQ_POLLOUT)
            return
        if n < 0:
            n = 1           # refused for good (unreachable...): that datagram is lost
        u.out_first += n
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
    return udp(s).out_first < udp(s).out_count


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
