# Recycled memory for large message bodies.
#
# Fresh memory from malloc for a large body usually comes from mmap, so
# every byte the kernel copies into it first takes a page fault; measured on
# tcp 1 MiB zero-copy that was a fifth of the receiver's time. Bodies of at
# least POOL_MIN bytes therefore come from a small process-wide cache of
# blocks that were used before (any thread may take or give back; a mutex
# is cheap next to copying 64 KiB). Blocks are sized in POOL_STEP units and
# one is reused only for a body that fills most of it.

cdef enum:
    POOL_MIN = 65536
    POOL_HEADER = 128               # chunk_t, the block size, padding
    POOL_STEP = 65536
    POOL_SLOTS = 32
    POOL_MAX_BYTES = 134217728      # keep at most 128 MiB cached
    SPARE_SLOTS = 8
    SPARE_MAX_BYTES = 33554432      # spare receive bodies: at most 32 MiB

cdef struct pool_t:
    pthread_mutex_t lock
    void *blocks[POOL_SLOTS]
    size_t sizes[POOL_SLOTS]
    int n
    size_t bytes
    void *spares[SPARE_SLOTS]       # spare receive bodies (below)
    size_t spare_sizes[SPARE_SLOTS]
    int nspares
    size_t spare_bytes

cdef pool_t g_pool
pthread_mutex_init(&g_pool.lock, NULL)

# Spare receive bodies (msg.pxi's msg_init_body, api/frame.pxi's
# spare_refill): blank bytes objects that recv() handed over, in chunks
# (void * here: chunk_t comes in msg.pxi), in g_pool under its lock. A ZMTP body
# of exactly a spare's size is read into it, and recv() then returns that
# bytes object itself instead of copying the body into a new one.


cdef void *spare_take(size_t size) noexcept nogil:
    """A spare body of exactly `size` bytes, or NULL."""
    cdef void *c = NULL
    cdef int i
    if mq_int_load_relaxed(&g_pool.nspares) == 0:     # unlocked peek: a miss only costs a copy
        return NULL
    pthread_mutex_lock(&g_pool.lock)
    for i in range(g_pool.nspares):
        if g_pool.spare_sizes[i] == size:
            c = g_pool.spares[i]
            g_pool.nspares -= 1
            g_pool.spare_bytes -= size
            g_pool.spares[i] = g_pool.spares[g_pool.nspares]
            g_pool.spare_sizes[i] = g_pool.spare_sizes[g_pool.nspares]
            break
    pthread_mutex_unlock(&g_pool.lock)
    return c


cdef bint spare_room(size_t size) noexcept nogil:
    return g_pool.nspares < SPARE_SLOTS and g_pool.spare_bytes + size <= SPARE_MAX_BYTES


cdef bint spare_give(void *c, size_t size) noexcept nogil:
    """Keeps c as a spare; False when there is no room (c stays the caller's)."""
    cdef bint kept = False
    pthread_mutex_lock(&g_pool.lock)
    if spare_room(size):
        g_pool.spares[g_pool.nspares] = c
        g_pool.spare_sizes[g_pool.nspares] = size
        g_pool.nspares += 1
        g_pool.spare_bytes += size
        kept = True
    pthread_mutex_unlock(&g_pool.lock)
    return kept


cdef inline size_t pool_round(size_t n) noexcept nogil:
    return (n + POOL_STEP - 1) // POOL_STEP * POOL_STEP


cdef void *pool_take(size_t need, size_t *got) noexcept nogil:
    """A block of at least `need` bytes; *got is its real size."""
    cdef size_t want = pool_round(need)
    cdef int i
    cdef void *p = NULL
    pthread_mutex_lock(&g_pool.lock)
    for i in range(g_pool.n):
        if g_pool.sizes[i] >= want and g_pool.sizes[i] - want <= want // 4:
            p = g_pool.blocks[i]
            got[0] = g_pool.sizes[i]
            g_pool.bytes -= g_pool.sizes[i]
            g_pool.n -= 1
            g_pool.blocks[i] = g_pool.blocks[g_pool.n]
            g_pool.sizes[i] = g_pool.sizes[g_pool.n]
            break
    pthread_mutex_unlock(&g_pool.lock)
    if p == NULL:
        p = mq_malloc(want)
        got[0] = want
    return p


cdef void pool_give(void *p, size_t size) noexcept nogil:
    pthread_mutex_lock(&g_pool.lock)
    if g_pool.n < POOL_SLOTS and g_pool.bytes + size <= POOL_MAX_BYTES:
        g_pool.blocks[g_pool.n] = p
        g_pool.sizes[g_pool.n] = size
        g_pool.n += 1
        g_pool.bytes += size
        p = NULL
    pthread_mutex_unlock(&g_pool.lock)
    if p != NULL:
        free(p)
