# A growable FIFO of msg_t owned by one thread: messages a socket made up
# for its user (XPUB subscription notices, ROUTER/STREAM connect notices,
# REP's stored envelope).

cdef struct msgq_t:
    msg_t *items
    int head
    int n
    int cap


cdef int msgq_reserve(msgq_t *q, int k) noexcept nogil:
    """Makes sure k more pushes need no memory. ENOMEM without it."""
    cdef msg_t *grown
    cdef int i, cap
    if q.cap - q.n >= k:
        return 0
    cap = q.cap * 2 + 8
    if cap < q.n + k:
        cap = q.n + k
    grown = <msg_t *>mq_malloc(sizeof(msg_t) * cap)
    if grown == NULL:
        return ENOMEM
    for i in range(q.n):
        memcpy(&grown[i], &q.items[(q.head + i) % q.cap], sizeof(msg_t))
    free(q.items)
    q.items = grown
    q.head = 0
    q.cap = cap
    return 0


cdef int msgq_push(msgq_t *q, msg_t *m) noexcept nogil:
    """Moves *m to the back of q. ENOMEM without memory: q is unchanged
    and *m is still the caller's."""
    if q.n == q.cap and msgq_reserve(q, 1) != 0:
        return ENOMEM
    memcpy(&q.items[(q.head + q.n) % q.cap], m, sizeof(msg_t))
    q.n += 1
    msg_init(m)
    return 0


cdef bint msgq_pop(msgq_t *q, msg_t *out) noexcept nogil:
    if q.n == 0:
        return False
    memcpy(out, &q.items[q.head], sizeof(msg_t))
    q.head = (q.head + 1) % q.cap
    q.n -= 1
    return True


cdef void msgq_clear(msgq_t *q) noexcept nogil:
    cdef msg_t m
    while msgq_pop(q, &m):
        msg_close(&m)
    free(q.items)
    q.items = NULL
    q.cap = 0
    q.head = 0


cdef int msg_init_bytes(msg_t *m, const unsigned char *data, size_t n) noexcept nogil:
    if msg_init_size(m, n) < 0:
        return -1
    if n:
        memcpy(msg_data(m), data, n)
    return 0
