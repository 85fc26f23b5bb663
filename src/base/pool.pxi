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

cdef struct pool_t:
    pthread_mutex_t lock
    void *blocks[POOL_SLOTS]
    size_t sizes[POOL_SLOTS]
    int n
    size_t bytes

cdef pool_t g_pool
pthread_mutex_init(&g_pool.lock, NULL)


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
