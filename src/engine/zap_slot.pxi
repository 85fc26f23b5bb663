# The context's ZAP handler slot (RFC 27): the socket bound at
# inproc://zeromq.zap.01, set and cleared by the context's inproc registry.
# Every socket's options point to it (options.zap), and each session holds a
# reference, so that it outlives the context while io threads still run.
# The ZAP client that uses it is engine/zap.pxi.

cdef struct zap_slot_t:
    int refcnt                  # [any] atomic: the context's, and one per session
    pthread_mutex_t lock
    void *sock                  # [lock] sock_t* of the handler, or NULL
    mailbox_t *mb               # [lock] its mailbox (ref held), or NULL


cdef zap_slot_t *zap_slot_new() noexcept nogil:
    cdef zap_slot_t *z = <zap_slot_t *>mq_calloc(1, sizeof(zap_slot_t))
    if z == NULL:
        return NULL
    z.refcnt = 1
    pthread_mutex_init(&z.lock, NULL)
    return z


cdef inline void zap_slot_incref(void *slot) noexcept nogil:
    if slot != NULL:
        mq_int_add(&(<zap_slot_t *>slot).refcnt, 1)


cdef void zap_slot_decref(void *slot) noexcept nogil:
    cdef zap_slot_t *z = <zap_slot_t *>slot
    if z == NULL or mq_int_add(&z.refcnt, -1) != 0:
        return
    mailbox_decref(z.mb)
    pthread_mutex_destroy(&z.lock)
    free(z)


cdef void zap_slot_set(zap_slot_t *z, void *sock, mailbox_t *mb) noexcept nogil:
    """The handler socket bound inproc://zeromq.zap.01 (NULL: unbound)."""
    cdef mailbox_t *old
    if mb != NULL:
        mailbox_incref(mb)
    pthread_mutex_lock(&z.lock)
    old = z.mb
    z.sock = sock
    z.mb = mb
    pthread_mutex_unlock(&z.lock)
    mailbox_decref(old)


