# Lock-free single-producer/single-consumer queue of msg_t (libzmq's
# yqueue + ypipe).
#
# Theory of operation. Items live in a linked list of chunks of YQ_N slots;
# the writer appends, the reader pops, and one spare chunk is recycled
# between them so steady traffic allocates nothing. Three writer-side
# pointers and one shared one give batching and sleeping:
#   w  first slot not yet flushed (writer only)
#   f  first slot past the last complete item (writer only); items written
#      "incomplete" (frames of an unfinished multipart message) stay behind f
#      and are invisible to the reader
#   r  first slot the reader has not prefetched (reader only)
#   c  the single point of contention: the writer moves it forward on flush
#      with a CAS; the reader, finding nothing, CASes it to NULL to say "I am
#      asleep". A flush that finds NULL instead of w returns 0: the writer must
#      wake the reader with a command. So one wake-up serves a whole batch.

cdef enum:
    YQ_N = 256

cdef struct yq_chunk_t:
    msg_t values[YQ_N]
    yq_chunk_t *prev
    yq_chunk_t *next

cdef struct ypipe_t:
    # reader side
    yq_chunk_t *begin_chunk
    int begin_pos
    msg_t *r
    char _pad1[64]
    # writer side
    yq_chunk_t *back_chunk
    int back_pos
    yq_chunk_t *end_chunk
    int end_pos
    msg_t *w
    msg_t *f
    char _pad2[64]
    # shared
    void *c                 # [any] msg_t*, atomic
    void *spare             # [any] yq_chunk_t*, atomic


cdef inline msg_t *yq_front(ypipe_t *p) noexcept nogil:
    return &p.begin_chunk.values[p.begin_pos]


cdef inline msg_t *yq_back(ypipe_t *p) noexcept nogil:
    return &p.back_chunk.values[p.back_pos]


# Out of memory, a write must fail cleanly (the message stays the
# caller's), except the one write that ends a pipe: its delimiter must
# always fit, or the reader would never learn that the pipe ended. So the
# queue keeps one allocated slot beyond the one the next write fills (slots
# back, end and the one after end exist): a data write that would use up
# that spare slot first links the next chunk, and fails if it cannot; the
# final write (ypipe_write_last) takes the spare slot without allocating.

cdef yq_chunk_t *yq_link_next(ypipe_t *p) noexcept nogil:
    """Links a chunk after end_chunk: the recycled spare or a new one."""
    cdef yq_chunk_t *sc = <yq_chunk_t *>mq_ptr_xchg(&p.spare, NULL)
    if sc == NULL:
        sc = <yq_chunk_t *>mq_malloc(sizeof(yq_chunk_t))
        if sc == NULL:
            return NULL
    p.end_chunk.next = sc
    sc.prev = p.end_chunk
    sc.next = NULL
    return sc


cdef inline void yq_advance(ypipe_t *p) noexcept nogil:
    """Moves back and end on by one slot (the slots exist)."""
    p.back_chunk = p.end_chunk
    p.back_pos = p.end_pos
    p.end_pos += 1
    if p.end_pos == YQ_N:
        p.end_chunk = p.end_chunk.next
        p.end_pos = 0


cdef inline int yq_push(ypipe_t *p) noexcept nogil:
    """Commits the slot at back. -1 (nothing changed) without memory."""
    if p.end_pos == YQ_N - 2 and p.end_chunk.next == NULL and yq_link_next(p) == NULL:
        return -1
    yq_advance(p)
    return 0


cdef inline void yq_pop(ypipe_t *p) noexcept nogil:
    cdef yq_chunk_t *o
    cdef yq_chunk_t *cs
    p.begin_pos += 1
    if p.begin_pos == YQ_N:
        o = p.begin_chunk
        p.begin_chunk = p.begin_chunk.next
        p.begin_chunk.prev = NULL
        p.begin_pos = 0
        cs = <yq_chunk_t *>mq_ptr_xchg(&p.spare, o)
        if cs != NULL:
            free(cs)


cdef ypipe_t *ypipe_new() noexcept nogil:
    cdef ypipe_t *p = <ypipe_t *>mq_calloc(1, sizeof(ypipe_t))
    if p == NULL:
        return NULL
    p.begin_chunk = <yq_chunk_t *>mq_malloc(sizeof(yq_chunk_t))
    if p.begin_chunk == NULL:
        free(p)
        return NULL
    p.begin_chunk.prev = NULL
    p.begin_chunk.next = NULL
    p.begin_pos = 0
    p.back_chunk = NULL
    p.back_pos = 0
    p.end_chunk = p.begin_chunk
    p.end_pos = 0
    yq_advance(p)
    p.r = yq_back(p)
    p.w = p.r
    p.f = p.r
    p.c = p.r
    return p


cdef void ypipe_free(ypipe_t *p) noexcept nogil:
    """Closes every message still queued (flushed or not) and frees p."""
    cdef msg_t *end = yq_back(p)
    cdef yq_chunk_t *ch
    cdef yq_chunk_t *nx
    while yq_front(p) != end:
        msg_close(yq_front(p))
        yq_pop(p)
    ch = p.begin_chunk
    while ch != NULL:
        nx = ch.next
        free(ch)
        ch = nx
    free(p.spare)
    free(p)


cdef inline int ypipe_write(ypipe_t *p, msg_t *m, bint incomplete) noexcept nogil:
    """[writer] Moves *m into the queue (m is left empty). -1 without
    memory: nothing changed, *m is still the caller's."""
    memcpy(yq_back(p), m, sizeof(msg_t))
    if yq_push(p) < 0:
        return -1
    msg_init(m)
    if not incomplete:
        p.f = yq_back(p)
    return 0


cdef void ypipe_write_last(ypipe_t *p, msg_t *m) noexcept nogil:
    """[writer] The final, complete item (a pipe's delimiter): it never
    needs memory, and nothing may be written after it."""
    memcpy(yq_back(p), m, sizeof(msg_t))
    msg_init(m)
    yq_advance(p)
    p.f = yq_back(p)


cdef inline void yq_unpush(ypipe_t *p) noexcept nogil:
    # The chunk after end stays linked: it is the spare slot's, or will be.
    if p.back_pos:
        p.back_pos -= 1
    else:
        p.back_pos = YQ_N - 1
        p.back_chunk = p.back_chunk.prev
    if p.end_pos:
        p.end_pos -= 1
    else:
        p.end_pos = YQ_N - 1
        p.end_chunk = p.end_chunk.prev


cdef void ypipe_rollback(ypipe_t *p) noexcept nogil:
    """[writer] Drops the frames written since the last complete item."""
    while p.f != yq_back(p):
        yq_unpush(p)
        msg_close(yq_back(p))


cdef inline bint ypipe_flush(ypipe_t *p) noexcept nogil:
    """[writer] Publishes complete items. False: the reader is asleep and
    must be woken by the caller."""
    if p.w == p.f:
        return True
    if mq_ptr_cas(&p.c, p.w, p.f) != <void *>p.w:
        mq_ptr_store(&p.c, p.f)
        p.w = p.f
        return False
    p.w = p.f
    return True


cdef inline bint ypipe_check_read(ypipe_t *p) noexcept nogil:
    """[reader] True if an item can be read; False marks the reader asleep."""
    if yq_front(p) != p.r and p.r != NULL:
        return True
    p.r = <msg_t *>mq_ptr_cas(&p.c, yq_front(p), NULL)
    if yq_front(p) == p.r or p.r == NULL:
        return False
    return True


cdef inline bint ypipe_read(ypipe_t *p, msg_t *out) noexcept nogil:
    """[reader] Moves the front item into *out (out must be empty)."""
    if not ypipe_check_read(p):
        return False
    memcpy(out, yq_front(p), sizeof(msg_t))
    yq_pop(p)
    return True


cdef inline msg_t *ypipe_peek(ypipe_t *p) noexcept nogil:
    """[reader] The front item without taking it, or NULL."""
    if not ypipe_check_read(p):
        return NULL
    return yq_front(p)


cdef int ypipe_unflushed(ypipe_t *p, msg_t **out, int max) noexcept nogil:
    """[writer] The items written but not flushed yet, oldest first, into
    out; how many, or -1 when there are more than max. The reader cannot
    see them, so the writer may still take them back (ypipe_unwrite_all)."""
    cdef yq_chunk_t *chunk = p.back_chunk
    cdef int pos = p.back_pos
    cdef msg_t *cur = yq_back(p)
    cdef int n = 0, i
    cdef msg_t *t
    # Walk back from the write position; every chunk passed lies after the
    # one holding w, so the reader never touches its links meanwhile.
    while cur != p.w:
        if n == max:
            return -1
        if pos:
            pos -= 1
        else:
            chunk = chunk.prev
            pos = YQ_N - 1
        cur = &chunk.values[pos]
        out[n] = cur
        n += 1
    for i in range(n // 2):
        t = out[i]
        out[i] = out[n - 1 - i]
        out[n - 1 - i] = t
    return n


cdef void ypipe_unwrite_all(ypipe_t *p) noexcept nogil:
    """[writer] Drops every item not flushed yet, complete ones too."""
    p.f = p.w
    ypipe_rollback(p)
