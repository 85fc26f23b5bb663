# Subscription tries (libzmq's trie and mtrie in one node type).
#
# SUB and XSUB keep a counted trie: `count` says how many times a prefix
# was subscribed (two subscribes need two cancels). XPUB keeps, per prefix,
# the set of pipes subscribed to it; matching a message walks its first
# frame down the trie once and collects every pipe on the way, since a
# subscription is a prefix of what it matches. Empty nodes are pruned on
# removal so churn does not grow memory.

cdef struct tnode_t:
    int count                   # trie: subscriptions ending here
    pipe_end_t **pipes          # mtrie: pipes subscribed to exactly this prefix
    int npipes
    int cappipes
    unsigned char *keys         # child i hangs under byte keys[i]
    tnode_t **kids
    int nkids
    int capkids


cdef tnode_t *tnode_child(tnode_t *t, unsigned char b, bint create) noexcept nogil:
    cdef int i
    cdef tnode_t *k
    for i in range(t.nkids):
        if t.keys[i] == b:
            return t.kids[i]
    if not create:
        return NULL
    if t.nkids == t.capkids:
        t.capkids = t.capkids * 2 + 2
        t.keys = <unsigned char *>realloc(t.keys, t.capkids)
        t.kids = <tnode_t **>realloc(t.kids, sizeof(tnode_t *) * t.capkids)
        if t.keys == NULL or t.kids == NULL:
            abort()
    k = <tnode_t *>calloc(1, sizeof(tnode_t))
    if k == NULL:
        abort()
    t.keys[t.nkids] = b
    t.kids[t.nkids] = k
    t.nkids += 1
    return k


cdef inline bint tnode_empty(tnode_t *t) noexcept nogil:
    return t.count == 0 and t.npipes == 0 and t.nkids == 0


cdef void tnode_free(tnode_t *t) noexcept nogil:
    cdef int i
    if t == NULL:
        return
    for i in range(t.nkids):
        tnode_free(t.kids[i])
    free(t.keys)
    free(t.kids)
    free(t.pipes)
    free(t)


cdef void tnode_prune(tnode_t *t, const unsigned char *p, size_t n) noexcept nogil:
    """Drops the empty nodes along path p below t."""
    cdef tnode_t *k
    cdef int i
    if n == 0:
        return
    k = tnode_child(t, p[0], False)
    if k == NULL:
        return
    tnode_prune(k, p + 1, n - 1)
    if tnode_empty(k):
        for i in range(t.nkids):
            if t.kids[i] == k:
                t.nkids -= 1
                t.keys[i] = t.keys[t.nkids]
                t.kids[i] = t.kids[t.nkids]
                break
        tnode_free(k)


cdef tnode_t *tnode_find(tnode_t *t, const unsigned char *p, size_t n, bint create) noexcept nogil:
    cdef size_t i
    for i in range(n):
        t = tnode_child(t, p[i], create)
        if t == NULL:
            return NULL
    return t


# ---------------------------------------------------------------- counted trie

cdef bint trie_add(tnode_t *root, const unsigned char *p, size_t n) noexcept nogil:
    """True when the prefix is new."""
    cdef tnode_t *t = tnode_find(root, p, n, True)
    t.count += 1
    return t.count == 1


cdef int trie_rm(tnode_t *root, const unsigned char *p, size_t n) noexcept nogil:
    """-1: not subscribed; 1: the last subscription went; 0: others remain."""
    cdef tnode_t *t = tnode_find(root, p, n, False)
    if t == NULL or t.count == 0:
        return -1
    t.count -= 1
    if t.count:
        return 0
    tnode_prune(root, p, n)
    return 1


cdef bint trie_match(tnode_t *root, const unsigned char *p, size_t n) noexcept nogil:
    cdef size_t i = 0
    cdef tnode_t *t = root
    while True:
        if t.count:
            return True
        if i == n:
            return False
        t = tnode_child(t, p[i], False)
        if t == NULL:
            return False
        i += 1


ctypedef void (*topic_fn)(void *ctx, const unsigned char *topic, size_t n) noexcept nogil


cdef void trie_each(tnode_t *t, unsigned char *buf, size_t depth, topic_fn fn, void *ctx) noexcept nogil:
    """Calls fn for every subscribed prefix; buf must hold 65536 bytes
    (longer prefixes are not walked)."""
    cdef int i
    if t.count:
        fn(ctx, buf, depth)
    if depth >= 65536:
        return
    for i in range(t.nkids):
        buf[depth] = t.keys[i]
        trie_each(t.kids[i], buf, depth + 1, fn, ctx)


cdef int trie_count(tnode_t *t) noexcept nogil:
    cdef int i
    cdef int c = 1 if (t.count or t.npipes) else 0
    for i in range(t.nkids):
        c += trie_count(t.kids[i])
    return c


# ---------------------------------------------------------------- pipe trie

cdef int mtrie_add(tnode_t *root, const unsigned char *p, size_t n, pipe_end_t *e) noexcept nogil:
    """1: the prefix had no subscriber before; 0: it had; -1: e already on it."""
    cdef tnode_t *t = tnode_find(root, p, n, True)
    cdef int i
    for i in range(t.npipes):
        if t.pipes[i] == e:
            return -1
    if t.npipes == t.cappipes:
        t.cappipes = t.cappipes * 2 + 2
        t.pipes = <pipe_end_t **>realloc(t.pipes, sizeof(pipe_end_t *) * t.cappipes)
        if t.pipes == NULL:
            abort()
    t.pipes[t.npipes] = e
    t.npipes += 1
    return 1 if t.npipes == 1 else 0


cdef int mtrie_rm(tnode_t *root, const unsigned char *p, size_t n, pipe_end_t *e) noexcept nogil:
    """-1: e was not on it; 1: nobody is subscribed to it any more; 0: others are."""
    cdef tnode_t *t = tnode_find(root, p, n, False)
    cdef int i
    if t == NULL:
        return -1
    for i in range(t.npipes):
        if t.pipes[i] == e:
            t.npipes -= 1
            t.pipes[i] = t.pipes[t.npipes]
            if t.npipes:
                return 0
            tnode_prune(root, p, n)
            return 1
    return -1


cdef void mtrie_rm_pipe(tnode_t *t, pipe_end_t *e, unsigned char *buf, size_t depth,
                        topic_fn emptied, void *ctx) noexcept nogil:
    """Takes e off every prefix; calls emptied for each prefix left with no
    subscriber. (Pruning is left to the next removal on that path.)"""
    cdef int i
    for i in range(t.npipes):
        if t.pipes[i] == e:
            t.npipes -= 1
            t.pipes[i] = t.pipes[t.npipes]
            if t.npipes == 0 and emptied != NULL:
                emptied(ctx, buf, depth)
            break
    if depth >= 65536:
        return
    for i in range(t.nkids):
        buf[depth] = t.keys[i]
        mtrie_rm_pipe(t.kids[i], e, buf, depth + 1, emptied, ctx)


cdef inline void pipes_push(pipe_end_t ***arr, int *n, int *cap, pipe_end_t *e) noexcept nogil:
    """Appends e to a growable array of pipe ends."""
    if n[0] == cap[0]:
        cap[0] = cap[0] * 2 + 8
        arr[0] = <pipe_end_t **>realloc(arr[0], sizeof(pipe_end_t *) * cap[0])
        if arr[0] == NULL:
            abort()
    arr[0][n[0]] = e
    n[0] += 1


cdef void mtrie_match(tnode_t *t, const unsigned char *p, size_t n, unsigned int gen,
                      pipe_end_t ***out, int *nout, int *capout) noexcept nogil:
    """Appends every pipe subscribed to a prefix of p to *out, once each
    (a pipe's match_gen marks it as taken for this message)."""
    cdef size_t i = 0
    cdef int j
    cdef pipe_end_t *e
    while t != NULL:
        for j in range(t.npipes):
            e = t.pipes[j]
            if e.match_gen != gen:
                e.match_gen = gen
                pipes_push(out, nout, capout, e)
        if i == n:
            return
        t = tnode_child(t, p[i], False)
        i += 1
