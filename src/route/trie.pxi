# Subscription tries (libzmq's trie and mtrie in one node type).
#
# SUB and XSUB keep a counted trie: `count` says how many times a prefix
# was subscribed (two subscribes need two cancels). XPUB keeps, per prefix,
# the set of pipes subscribed to it; matching a message walks its first
# frame down the trie once and collects every pipe on the way, since a
# subscription is a prefix of what it matches.
#
# Topics come from peers and may be of any length, so:
# - the trie is compressed: an edge holds a byte string (`label`), and a
#   node exists only where a subscription ends or two of them part, so a
#   topic costs about its length plus one node, whatever its length;
# - nothing recurses: walks go down by label and come back up by `parent`
#   (a node knows its `slot` in its parent), so no depth a peer chooses
#   can exhaust the C stack;
# - a node left holding nothing is freed, and one left holding nothing but
#   one child is merged into it, whenever a subscription or a pipe goes;
# - an allocation that fails makes the operation fail (the caller drops
#   it) and leaves the trie as it was. A merge that cannot get memory is
#   skipped: the trie stays correct, only less compact.

cdef enum:
    TRIE_NOMEM = -2


cdef struct tnode_t:
    # what matching reads first, in one cache line
    pipe_end_t **pipes          # mtrie: pipes subscribed to exactly this prefix
    int npipes
    int nkids
    unsigned char *keys         # keys[i] == kids[i].label[0]
    tnode_t **kids
    unsigned char *label        # the edge from parent (at least one byte; none at the root)
    size_t nlabel
    int count                   # trie: subscriptions ending here
    int slot                    # index in parent.kids
    # the rest
    int cappipes
    int capkids
    tnode_t *parent             # NULL at the root
    unsigned char *lbase        # the allocation label points into (it may start further on)
    size_t plen                 # length of the whole prefix this node stands for


# ---------------------------------------------------------------- nodes

cdef tnode_t *tnode_new(const unsigned char *label, size_t n, size_t plen) noexcept nogil:
    cdef tnode_t *t = <tnode_t *>mq_calloc(1, sizeof(tnode_t))
    if t == NULL:
        return NULL
    t.lbase = <unsigned char *>mq_malloc(n)
    if t.lbase == NULL:
        free(t)
        return NULL
    memcpy(t.lbase, label, n)
    t.label = t.lbase
    t.nlabel = n
    t.plen = plen
    return t


cdef void tnode_free_one(tnode_t *t) noexcept nogil:
    free(t.lbase)
    free(t.keys)
    free(t.kids)
    free(t.pipes)
    free(t)


cdef void tnode_free(tnode_t *root) noexcept nogil:
    """Frees root and everything under it (each node's children first)."""
    cdef tnode_t *t = root
    cdef tnode_t *up
    if root == NULL:
        return
    while True:
        if t.nkids:
            t.nkids -= 1
            t = t.kids[t.nkids]
        else:
            up = t.parent
            tnode_free_one(t)
            if t == root:
                return
            t = up


cdef inline bint tnode_holds(tnode_t *t) noexcept nogil:
    return t.count != 0 or t.npipes != 0


cdef inline tnode_t *tnode_child(tnode_t *t, unsigned char b) noexcept nogil:
    cdef int i
    for i in range(t.nkids):
        if t.keys[i] == b:
            return t.kids[i]
    return NULL


cdef inline tnode_t *tnode_descend(tnode_t *t, const unsigned char *p, size_t n, size_t *i) noexcept nogil:
    """The child of t whose whole label comes next in p (at *i, which moves
    past it), or NULL."""
    cdef tnode_t *k
    cdef size_t at = i[0]
    if at == n:
        return NULL
    k = tnode_child(t, p[at])
    if k == NULL or k.nlabel > n - at:
        return NULL
    if k.nlabel > 1 and memcmp(k.label + 1, p + at + 1, k.nlabel - 1) != 0:
        return NULL
    i[0] = at + k.nlabel
    return k


cdef tnode_t *tnode_find(tnode_t *root, const unsigned char *p, size_t n) noexcept nogil:
    """The node for exactly prefix p, or NULL."""
    cdef tnode_t *t = root
    cdef size_t i = 0
    while i < n:
        t = tnode_descend(t, p, n, &i)
        if t == NULL:
            return NULL
    return t


cdef bint tnode_room_for_kid(tnode_t *t) noexcept nogil:
    cdef int cap
    cdef unsigned char *keys
    cdef tnode_t **kids
    if t.nkids < t.capkids:
        return True
    cap = t.capkids * 2 + 2
    if cap > 256:
        cap = 256           # one child per first byte at most
    keys = <unsigned char *>mq_realloc(t.keys, cap)
    if keys == NULL:
        return False
    t.keys = keys
    kids = <tnode_t **>mq_realloc(t.kids, sizeof(tnode_t *) * cap)
    if kids == NULL:
        return False
    t.kids = kids
    t.capkids = cap
    return True


cdef inline void tnode_put_kid(tnode_t *t, int slot, tnode_t *k) noexcept nogil:
    t.keys[slot] = k.label[0]
    t.kids[slot] = k
    k.parent = t
    k.slot = slot


cdef void tnode_unlink(tnode_t *t, tnode_t *k) noexcept nogil:
    """Takes child k off t (the last child takes its slot)."""
    t.nkids -= 1
    if k.slot != t.nkids:
        tnode_put_kid(t, k.slot, t.kids[t.nkids])


cdef tnode_t *tnode_split(tnode_t *t, tnode_t *k, size_t m) noexcept nogil:
    """Puts a new node for k's first m label bytes between t and k; returns
    it, or NULL (nothing changed) when memory is short. k keeps its label's
    memory, so this costs m, not k's label: a peer that subscribes and
    cancels a short prefix of a long topic does no more work than it sends."""
    cdef tnode_t *mid = tnode_new(k.label, m, t.plen + m)
    if mid == NULL:
        return NULL
    if not tnode_room_for_kid(mid):
        tnode_free_one(mid)
        return NULL
    tnode_put_kid(t, k.slot, mid)
    k.label += m
    k.nlabel -= m
    tnode_put_kid(mid, 0, k)
    mid.nkids = 1
    return mid


cdef bint tnode_merge_into_kid(tnode_t *t) noexcept nogil:
    """t holds nothing and has one child: the child takes t's place, its
    label grown by t's. False (nothing changed) when memory is short."""
    cdef tnode_t *k = t.kids[0]
    cdef unsigned char *label
    if <size_t>(k.label - k.lbase) >= t.nlabel:
        # Room in front, where a split left it: undoing the split costs t's label.
        k.label -= t.nlabel
        memcpy(k.label, t.label, t.nlabel)
    else:
        label = <unsigned char *>mq_malloc(t.nlabel + k.nlabel)
        if label == NULL:
            return False
        memcpy(label, t.label, t.nlabel)
        memcpy(label + t.nlabel, k.label, k.nlabel)
        free(k.lbase)
        k.lbase = label
        k.label = label
    k.nlabel += t.nlabel
    tnode_put_kid(t.parent, t.slot, k)
    t.nkids = 0
    tnode_free_one(t)
    return True


cdef bint tnode_tidy_one(tnode_t *t) noexcept nogil:
    """Frees t if it holds nothing and has no children, or merges it into
    its only child if it holds nothing; True when t was freed."""
    if t.parent == NULL or tnode_holds(t) or t.nkids > 1:
        return False
    if t.nkids == 1:
        return tnode_merge_into_kid(t)
    tnode_unlink(t.parent, t)
    tnode_free_one(t)
    return True


cdef void tnode_tidy(tnode_t *t) noexcept nogil:
    """After something left t: frees the nodes from t up that hold
    nothing, and merges the first one left with a single child."""
    cdef tnode_t *up
    while t.parent != NULL and not tnode_holds(t):
        up = t.parent
        if t.nkids == 0:
            tnode_unlink(up, t)
            tnode_free_one(t)
            t = up
        else:
            tnode_tidy_one(t)
            return


cdef tnode_t *tnode_insert(tnode_t *root, const unsigned char *p, size_t n) noexcept nogil:
    """The node for exactly prefix p, made if need be; NULL when memory is
    short (the trie is left as it was)."""
    cdef tnode_t *t = root
    cdef tnode_t *k
    cdef size_t i = 0
    cdef size_t m
    while i < n:
        k = tnode_child(t, p[i])
        if k == NULL:
            if not tnode_room_for_kid(t):
                tnode_tidy(t)
                return NULL
            k = tnode_new(p + i, n - i, n)
            if k == NULL:
                tnode_tidy(t)
                return NULL
            tnode_put_kid(t, t.nkids, k)
            t.nkids += 1
            return k
        m = 1
        while m < k.nlabel and i + m < n and k.label[m] == p[i + m]:
            m += 1
        if m < k.nlabel:
            k = tnode_split(t, k, m)
            if k == NULL:
                tnode_tidy(t)
                return NULL
        t = k
        i += m
    return t


cdef void tnode_topic(tnode_t *t, unsigned char *dst) noexcept nogil:
    """Writes the t.plen bytes of the prefix t stands for to dst."""
    cdef size_t end = t.plen
    while t.parent != NULL:
        end -= t.nlabel
        memcpy(dst + end, t.label, t.nlabel)
        t = t.parent


cdef tnode_t *tnode_next(tnode_t *root, tnode_t *t) noexcept nogil:
    """The node after t when walking root's tree depth first, or NULL."""
    if t.nkids:
        return t.kids[0]
    while t != root:
        if t.slot + 1 < t.parent.nkids:
            return t.parent.kids[t.slot + 1]
        t = t.parent
    return NULL


cdef inline tnode_t *tnode_last_leaf(tnode_t *t) noexcept nogil:
    while t.nkids:
        t = t.kids[t.nkids - 1]
    return t


ctypedef void (*topic_fn)(void *ctx, tnode_t *t) noexcept nogil


# ---------------------------------------------------------------- counted trie

cdef int trie_add(tnode_t *root, const unsigned char *p, size_t n) noexcept nogil:
    """1: the prefix is new; 0: it was there; TRIE_NOMEM: not added."""
    cdef tnode_t *t = tnode_insert(root, p, n)
    if t == NULL:
        return TRIE_NOMEM
    t.count += 1
    return 1 if t.count == 1 else 0


cdef int trie_rm(tnode_t *root, const unsigned char *p, size_t n) noexcept nogil:
    """-1: not subscribed; 1: the last subscription went; 0: others remain."""
    cdef tnode_t *t = tnode_find(root, p, n)
    if t == NULL or t.count == 0:
        return -1
    t.count -= 1
    if t.count:
        return 0
    tnode_tidy(t)
    return 1


cdef bint trie_match(tnode_t *root, const unsigned char *p, size_t n) noexcept nogil:
    cdef size_t i = 0
    cdef tnode_t *t = root
    while t != NULL:
        if t.count:
            return True
        t = tnode_descend(t, p, n, &i)
    return False


cdef void trie_each(tnode_t *root, topic_fn fn, void *ctx) noexcept nogil:
    """Calls fn for every subscribed prefix (fn must not change the trie;
    tnode_topic gives the prefix)."""
    cdef tnode_t *t = root
    while t != NULL:
        if t.count:
            fn(ctx, t)
        t = tnode_next(root, t)


cdef int trie_count(tnode_t *root) noexcept nogil:
    cdef int c = 0
    cdef tnode_t *t = root
    while t != NULL:
        if tnode_holds(t):
            c += 1
        t = tnode_next(root, t)
    return c


# ---------------------------------------------------------------- pipe trie

cdef int mtrie_add(tnode_t *root, const unsigned char *p, size_t n, pipe_end_t *e) noexcept nogil:
    """1: the prefix had no subscriber before; 0: it had; -1: e already on
    it; TRIE_NOMEM: not added."""
    cdef tnode_t *t = tnode_insert(root, p, n)
    cdef pipe_end_t **grown
    cdef int i
    if t == NULL:
        return TRIE_NOMEM
    for i in range(t.npipes):
        if t.pipes[i] == e:
            return -1
    if t.npipes == t.cappipes:
        grown = <pipe_end_t **>mq_realloc(t.pipes, sizeof(pipe_end_t *) * (t.cappipes * 2 + 2))
        if grown == NULL:
            tnode_tidy(t)
            return TRIE_NOMEM
        t.pipes = grown
        t.cappipes = t.cappipes * 2 + 2
    t.pipes[t.npipes] = e
    t.npipes += 1
    return 1 if t.npipes == 1 else 0


cdef bint tnode_take_pipe(tnode_t *t, pipe_end_t *e) noexcept nogil:
    """Takes e off t's pipes; True if it was there."""
    cdef int i
    for i in range(t.npipes):
        if t.pipes[i] == e:
            t.npipes -= 1
            t.pipes[i] = t.pipes[t.npipes]
            return True
    return False


cdef int mtrie_rm(tnode_t *root, const unsigned char *p, size_t n, pipe_end_t *e) noexcept nogil:
    """-1: e was not on it; 1: nobody is subscribed to it any more; 0: others are."""
    cdef tnode_t *t = tnode_find(root, p, n)
    if t == NULL or not tnode_take_pipe(t, e):
        return -1
    if t.npipes:
        return 0
    tnode_tidy(t)
    return 1


cdef void mtrie_rm_pipe(tnode_t *root, pipe_end_t *e, topic_fn gone, void *ctx, bint every) noexcept nogil:
    """Takes e off every prefix, calling gone for each prefix left with no
    subscriber (every: for each prefix e was on), and frees the nodes left
    empty. Children come before
    their parent, the last child first, so freeing a node (whose slot the
    last child takes) never moves one still to be seen."""
    cdef tnode_t *t = tnode_last_leaf(root)
    cdef tnode_t *up
    cdef int slot
    while True:
        if tnode_take_pipe(t, e) and (every or t.npipes == 0) and gone != NULL:
            gone(ctx, t)
        if t == root:
            return
        up = t.parent
        slot = t.slot
        tnode_tidy_one(t)
        t = tnode_last_leaf(up.kids[slot - 1]) if slot > 0 else up


cdef bint pipes_grow(pipe_end_t ***arr, int *cap) noexcept nogil:
    cdef pipe_end_t **grown = <pipe_end_t **>mq_realloc(arr[0], sizeof(pipe_end_t *) * (cap[0] * 2 + 8))
    if grown == NULL:
        return False
    arr[0] = grown
    cap[0] = cap[0] * 2 + 8
    return True


cdef inline bint pipes_push(pipe_end_t ***arr, int *n, int *cap, pipe_end_t *e) noexcept nogil:
    """Appends e to a growable array of pipe ends; False (nothing changed)
    when memory is short."""
    if n[0] == cap[0] and not pipes_grow(arr, cap):
        return False
    arr[0][n[0]] = e
    n[0] += 1
    return True


cdef void mtrie_match(tnode_t *t, const unsigned char *p, size_t n, unsigned int gen,
                      pipe_end_t ***out, int *nout, int *capout) noexcept nogil:
    """Appends every pipe subscribed to a prefix of p to *out, once each
    (a pipe's match_gen marks it as taken for this message). With memory
    short, a pipe may be left out: it misses this message."""
    cdef size_t i = 0
    cdef int j
    cdef pipe_end_t *e
    while t != NULL:
        for j in range(t.npipes):
            e = t.pipes[j]
            if e.match_gen != gen and pipes_push(out, nout, capout, e):
                e.match_gen = gen
        t = tnode_descend(t, p, n, &i)
