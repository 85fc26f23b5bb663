# Message parts.
#
# A msg_t is one frame: small bodies (up to VSM_MAX bytes) live inline, larger
# ones in a refcounted chunk_t so that copies for fan-out and hand-over
# between threads never copy the bytes. A chunk either owns its bytes (they
# follow the header in one malloc) or borrows them from a Python buffer for a
# zero-copy send. A borrowed buffer may only be released with the GIL, so when
# the io thread drops the last reference the chunk goes onto a lock-free stack
# that the application thread drains (drain_deferred_releases).

cdef enum:
    # 64, not libzmq's 33: a 64 B body then costs no malloc in the sending
    # thread and no free in the io thread (and the same on receipt, where the
    # free lands in another thread's arena: malloc_consolidate and arena
    # locks were a quarter of the perf samples of a 64 B tcp stream). msg_t
    # grows from 64 to 96 bytes.
    VSM_MAX = 64
    MSG_MORE = 1
    MSG_COMMAND = 2
    MSG_DELIMITER = 4       # end-of-pipe marker, never seen by users
    MSG_IDENTITY = 8        # session -> ROUTER-like socket: the peer's routing id
    MSG_SUBSCRIBE = 16      # SUB/XSUB's own (un)subscription: a command to 3.1 peers
    MSG_METADATA = 32       # session -> socket: the properties of the messages that follow
    MSG_JOIN = 64           # DISH -> RADIO: the pipe joins the message's group (JOIN command on the wire)
    MSG_LEAVE = 128         # DISH -> RADIO: the pipe leaves it (LEAVE command)
    GROUP_MAX = 255         # libzmq's ZMQ_GROUP_MAX_LENGTH
    MSG_SUBSCRIBE_ALL = 256 # session -> XPUB/PUB/RADIO: this pipe takes every topic or group, silently (pgm, udp)

cdef struct chunk_t:
    chunk_t *next_free      # [any] link in the deferred-release stack; must stay first
    int refcnt              # [any] atomic
    size_t size
    unsigned char *data
    void (*free_fn)(chunk_t *) noexcept nogil   # NULL: plain free()

cdef struct msg_t:
    size_t size
    unsigned int flags
    unsigned int routing_id
    chunk_t *chunk          # NULL for inline bodies
    chunk_t *group          # RADIO/DISH group (its bytes), NULL for none: costs
                            # other messages one pointer test on copy and close
    unsigned char vsm[VSM_MAX]

cdef void *g_deferred = NULL   # [any] stack of borrowed chunks to release with the GIL


cdef inline void msg_init(msg_t *m) noexcept nogil:
    m.size = 0
    m.flags = 0
    m.routing_id = 0
    m.chunk = NULL
    m.group = NULL


cdef void pool_chunk_free(chunk_t *c) noexcept nogil:
    # A pooled chunk's block size is kept in the word right after it.
    pool_give(c, (<size_t *>(c + 1))[0])


cdef inline chunk_t *chunk_new(size_t size) noexcept nogil:
    """A refcounted block of `size` bytes (one reference), whatever its
    size: for data shared by reference rather than carried in a message
    (a connection's metadata). NULL when memory is short."""
    cdef chunk_t *c = <chunk_t *>mq_malloc(sizeof(chunk_t) + size)
    if c == NULL:
        return NULL
    c.next_free = NULL
    c.refcnt = 1
    c.size = size
    c.data = <unsigned char *>(c + 1)
    c.free_fn = NULL
    return c


cdef inline int msg_init_size(msg_t *m, size_t size) noexcept nogil:
    """Reserves room for `size` body bytes; -1 when memory is short."""
    cdef chunk_t *c
    m.size = size
    m.flags = 0
    m.routing_id = 0
    m.group = NULL
    if size <= VSM_MAX:
        m.chunk = NULL
        return 0
    cdef size_t block
    if size < POOL_MIN:
        c = chunk_new(size)
    else:
        # Large bodies: recycled memory (base/pool.pxi); the block's size is
        # kept in the word after the header; the body starts on a cache line.
        c = <chunk_t *>pool_take(size + POOL_HEADER, &block)
        if c != NULL:
            (<size_t *>(c + 1))[0] = block
            c.data = <unsigned char *>c + POOL_HEADER
            c.free_fn = pool_chunk_free
            c.next_free = NULL
            c.refcnt = 1
            c.size = size
    m.chunk = c
    if c == NULL:
        m.size = 0
        return -1
    return 0


cdef inline unsigned char *msg_data(msg_t *m) noexcept nogil:
    if m.chunk != NULL:
        return m.chunk.data
    return m.vsm


cdef inline void chunk_decref(chunk_t *c) noexcept nogil:
    if mq_int_add(&c.refcnt, -1) == 0:
        if c.free_fn != NULL:
            c.free_fn(c)
        else:
            free(c)


cdef inline void chunk_swap(chunk_t **slot, chunk_t *c) noexcept nogil:
    """*slot holds a reference to c instead of what it held."""
    if slot[0] == c:
        return
    if c != NULL:
        mq_int_add(&c.refcnt, 1)
    if slot[0] != NULL:
        chunk_decref(slot[0])
    slot[0] = c


cdef inline void msg_close(msg_t *m) noexcept nogil:
    if m.chunk != NULL:
        chunk_decref(m.chunk)
        m.chunk = NULL
    if m.group != NULL:
        chunk_decref(m.group)
        m.group = NULL
    m.size = 0


cdef inline void msg_copy(msg_t *dst, msg_t *src) noexcept nogil:
    """dst shares src's body and group (dst must be closed or fresh)."""
    memcpy(dst, src, sizeof(msg_t))
    if src.chunk != NULL:
        mq_int_add(&src.chunk.refcnt, 1)
    if src.group != NULL:
        mq_int_add(&src.group.refcnt, 1)


cdef inline chunk_t *group_chunk_new(const unsigned char *p, size_t n) noexcept nogil:
    """A chunk holding the group p[:n]; NULL without memory."""
    cdef chunk_t *g = chunk_new(n)
    if g != NULL:
        memcpy(g.data, p, n)
    return g


cdef int msg_set_group(msg_t *m, const unsigned char *p, size_t n) noexcept nogil:
    """Gives m the group p[:n] in place of the one it had (an empty one is
    no group, as libzmq, where a message without one has group ""). EINVAL
    past GROUP_MAX bytes, ENOMEM without memory (m unchanged then)."""
    cdef chunk_t *g = NULL
    if n > GROUP_MAX:
        return EINVAL
    if n:
        g = group_chunk_new(p, n)
        if g == NULL:
            return ENOMEM
    if m.group != NULL:
        chunk_decref(m.group)
    m.group = g
    return 0


cdef int msg_set_group_shared(msg_t *m, const unsigned char *p, size_t n, chunk_t **last) noexcept nogil:
    """msg_set_group sharing *last, the previous message's group chunk,
    when it holds the same bytes: a stream to one group then costs no
    allocation a message (group chunks are never written after they are
    made, so sharing one is safe). *last then holds a reference to m's
    group (or stays as it was for no group). Same errors, m unchanged then."""
    cdef chunk_t *c
    if n == 0 or n > GROUP_MAX:
        return msg_set_group(m, p, n)
    c = last[0]
    if c == NULL or c.size != n or memcmp(c.data, p, n) != 0:
        c = group_chunk_new(p, n)
        if c == NULL:
            return ENOMEM
        if last[0] != NULL:
            chunk_decref(last[0])
        last[0] = c                     # the cache's own reference
    mq_int_add(&c.refcnt, 1)
    if m.group != NULL:
        chunk_decref(m.group)
    m.group = c
    return 0


cdef inline const unsigned char *msg_group(msg_t *m, size_t *n) noexcept nogil:
    """m's group and its length (0 for none)."""
    if m.group == NULL:
        n[0] = 0
        return <const unsigned char *>b""
    n[0] = m.group.size
    return m.group.data


cdef inline void msg_init_delimiter(msg_t *m) noexcept nogil:
    msg_init(m)
    m.flags = MSG_DELIMITER


cdef void defer_chunk_release(chunk_t *c) noexcept nogil:
    # Runs on whichever thread dropped the last reference, maybe an io
    # thread: only queue the chunk, never touch the Python object here.
    mq_stack_push(&g_deferred, c)


cdef void spare_chunk_release(chunk_t *c) noexcept nogil:
    # A spare receive body (base/pool.pxi) that recv() did not take over:
    # released as a borrowed buffer is. Its own function so that recv()
    # knows the bytes object behind it is a blank one of ours.
    defer_chunk_release(c)


cdef inline int msg_init_body(msg_t *m, size_t size) noexcept nogil:
    """msg_init_size for a body read off the wire: a large one goes into a
    spare bytes object when there is one of its size. -1 when memory is short."""
    cdef chunk_t *c
    if size >= POOL_MIN:
        c = <chunk_t *>spare_take(size)
        if c != NULL:
            m.size = size
            m.flags = 0
            m.routing_id = 0
            m.group = NULL
            m.chunk = c
            return 0
    return msg_init_size(m, size)
