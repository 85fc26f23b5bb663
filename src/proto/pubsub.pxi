# Publish-subscribe (RFC 29): XPUB, PUB, XSUB, SUB.
#
# XPUB keeps, per topic prefix, the pipes subscribed to it (mtrie) and
# sends each message to the pipes whose subscriptions match its first frame
# (dist), dropping it for a pipe at its HWM. It reads its pipes as soon as
# they have data (xread_activated): subscriptions arrive as 0x01/0x00 +
# topic messages (the session turns ZMTP 3.1 SUBSCRIBE/CANCEL commands into
# that form) and are applied, then shown to the user as XPUB's rules say.
# XSUB keeps a counted trie of its own subscriptions, sends them to every
# publisher and again on every new connection; SUB is XSUB with the
# subscriptions set by option and a local prefix filter on what arrives.

# ---------------------------------------------------------------- state

cdef struct pubsub_state_t:
    # what PUB, XPUB, SUB and XSUB keep
    tnode_t *subs               # XPUB: mtrie of pipes per prefix; (X)SUB: counted trie
    msgq_t pending              # messages made up for the user (XPUB notices, ...)
    pipe_end_t **matching       # the pipes of the message being sent
    int nmatching
    int capmatching
    unsigned int match_gen
    bint dist_in_msg            # inside a message being distributed
    pipe_end_t *last_sub_pipe   # XPUB_MANUAL: where the last subscription came from
    bint sub_in_msg             # SUB recv: inside a message whose first frame matched
    held_msg_t held             # SUB: a matching message fetched ahead by has_in
    unsigned char *welcome      # XPUB_WELCOME_MSG
    int welcome_len


cdef inline pubsub_state_t *pubsub_state(sock_t *s) noexcept nogil:
    return <pubsub_state_t *>sock_priv(s)


cdef int pubsub_init(sock_t *s) noexcept nogil:
    cdef pubsub_state_t *ps = pubsub_state(s)
    msg_init(&ps.held.msg)
    ps.subs = <tnode_t *>mq_calloc(1, sizeof(tnode_t))
    return ENOMEM if ps.subs == NULL else 0


cdef void pubsub_free(sock_t *s) noexcept nogil:
    cdef pubsub_state_t *ps = pubsub_state(s)
    msg_close(&ps.held.msg)
    msgq_clear(&ps.pending)
    tnode_free(ps.subs)
    ps.subs = NULL
    free(ps.matching)
    ps.matching = NULL
    free(ps.welcome)
    ps.welcome = NULL


cdef void pubsub_forget(sock_t *s, pipe_end_t *e, bint gone) noexcept nogil:
    cdef pubsub_state_t *ps = pubsub_state(s)
    cdef int i
    if not gone:
        return
    if ps.last_sub_pipe == e:
        ps.last_sub_pipe = NULL
    for i in range(ps.nmatching):
        if ps.matching[i] == e:
            ps.nmatching -= 1
            ps.matching[i] = ps.matching[ps.nmatching]
            break


cdef void pubsub_abort_send(sock_t *s) noexcept nogil:
    cdef pubsub_state_t *ps = pubsub_state(s)
    cdef int i
    if ps.dist_in_msg:
        for i in range(ps.nmatching):
            sock_unwrite(ps.matching[i])
        ps.dist_in_msg = False
        ps.nmatching = 0


cdef void pubsub_family(socktype_t *row) noexcept nogil:
    """The hooks of the pub/sub types' private state."""
    row.priv_size = sizeof(pubsub_state_t)
    row.xinit = pubsub_init
    row.xfree = pubsub_free
    row.xforget = pubsub_forget
    row.xabort_send = pubsub_abort_send


cdef int pubsub_topics_count(sock_t *s) noexcept nogil:
    """TOPICS_COUNT: the prefixes subscribed (any pub/sub type)."""
    return trie_count(pubsub_state(s).subs)


cdef int xpub_set_welcome(sock_t *s, const unsigned char *p, size_t n) noexcept nogil:
    """XPUB_WELCOME_MSG: what each new subscriber gets first. ENOMEM: the
    old one stays."""
    cdef pubsub_state_t *ps = pubsub_state(s)
    cdef unsigned char *welcome = <unsigned char *>mq_malloc(n + 1)
    if welcome == NULL:
        return ENOMEM
    memcpy(welcome, p, n)
    free(ps.welcome)
    ps.welcome = welcome
    ps.welcome_len = <int>n
    return 0


# ---------------------------------------------------------------- dist

cdef void dist_pick(sock_t *s, msg_t *m) noexcept nogil:
    """Fills ps.matching with the pipes this message goes to."""
    cdef int i
    cdef pipe_end_t *e
    cdef pubsub_state_t *ps = pubsub_state(s)
    ps.match_gen += 1
    ps.nmatching = 0
    mtrie_match(ps.subs, msg_data(m), m.size, ps.match_gen, &ps.matching, &ps.nmatching, &ps.capmatching)
    if s.o.invert_matching:
        # Everyone who did not match, instead.
        ps.nmatching = 0
        for i in range(s.npipes):
            e = s.pipes[i]
            if e.match_gen != ps.match_gen:
                pipes_push(&ps.matching, &ps.nmatching, &ps.capmatching, e)   # short of memory: e misses it


cdef void dist_write_matching(sock_t *s, msg_t *m, bint more) noexcept nogil:
    """Writes a copy of *m to each pipe of ps.matching and closes *m. A pipe
    with no memory for it misses the whole message, as one at its HWM
    would: its frames are taken back and it leaves ps.matching."""
    cdef int i = 0
    cdef pipe_end_t *e
    cdef msg_t copy
    cdef pubsub_state_t *ps = pubsub_state(s)
    while i < ps.nmatching:
        e = ps.matching[i]
        msg_copy(&copy, m)
        if pipe_write(e, &copy) != 0:
            msg_close(&copy)
            if e.more_out:
                pipe_unwrite(e)
            s.stats.msgs_dropped += 1
            ps.nmatching -= 1
            ps.matching[i] = ps.matching[ps.nmatching]
            continue
        if not more:
            sock_flush_pipe(s, e)
        i += 1
    msg_close(m)


cdef int dist_send(sock_t *s, msg_t *m) noexcept nogil:
    """Sends to ps.matching; at the start of a message, chooses it. A full
    pipe misses the message (or, with XPUB_NODROP, nothing is sent: EAGAIN)."""
    cdef int i = 0
    cdef bint more = (m.flags & MSG_MORE) != 0
    cdef pubsub_state_t *ps = pubsub_state(s)
    if not ps.dist_in_msg:
        dist_pick(s, m)
        if s.o.xpub_nodrop:
            for i in range(ps.nmatching):
                if not pipe_check_write(ps.matching[i]):
                    return EAGAIN
        else:
            while i < ps.nmatching:
                if pipe_check_write(ps.matching[i]):
                    i += 1
                else:
                    s.stats.msgs_dropped += 1
                    ps.nmatching -= 1
                    ps.matching[i] = ps.matching[ps.nmatching]
    dist_write_matching(s, m, more)
    ps.dist_in_msg = more
    if not more:
        ps.nmatching = 0
    return 0


cdef void send_to_all(sock_t *s, msg_t *m) noexcept nogil:
    """A one-frame message to every pipe with room (subscriptions upstream;
    a pipe short of memory misses it, as one at its HWM does)."""
    cdef int i
    cdef msg_t copy
    for i in range(s.npipes):
        if pipe_check_write(s.pipes[i]):
            msg_copy(&copy, m)
            if pipe_write(s.pipes[i], &copy) != 0:
                msg_close(&copy)
                continue
            sock_flush_pipe(s, s.pipes[i])
    msg_close(m)


# ---------------------------------------------------------------- XPUB / PUB

cdef void xpub_notify(sock_t *s, bint subscribe, const unsigned char *topic, size_t n) noexcept nogil:
    cdef msg_t m
    cdef pubsub_state_t *ps = pubsub_state(s)
    if not s.row.shows_subscriptions:
        return              # PUB shows the user nothing
    cdef unsigned char *at = subscription_init(&m, subscribe, n)
    if at == NULL:
        return              # short of memory: the user misses this notice
    if n:
        memcpy(at, topic, n)
    if msgq_push(&ps.pending, &m) != 0:
        msg_close(&m)       # likewise


cdef void xpub_pipe_gone_from(void *ctx, tnode_t *t) noexcept nogil:
    """A leaving pipe was on prefix t: the user sees a cancel."""
    cdef sock_t *s = <sock_t *>ctx
    cdef msg_t m
    cdef pubsub_state_t *ps = pubsub_state(s)
    if not s.row.shows_subscriptions:
        return
    cdef unsigned char *at = subscription_init(&m, False, t.plen)
    if at == NULL:
        return
    tnode_topic(t, at)
    if msgq_push(&ps.pending, &m) != 0:
        msg_close(&m)       # short of memory: the user misses this notice


cdef void xpub_take_subscription(sock_t *s, pipe_end_t *e, msg_t *m) noexcept nogil:
    cdef unsigned char *p = msg_data(m)
    cdef int rc
    cdef pubsub_state_t *ps = pubsub_state(s)
    if m.flags & MSG_SUBSCRIBE_ALL:
        # A transport without subscriptions (pgm, session_subscribe_all):
        # as libzmq attaches such a pipe subscribed to all, nobody is told.
        mtrie_add(ps.subs, p, 0, e)
        return
    if s.o.xpub_manual:
        # The user decides; it applies them with setsockopt on this pipe.
        ps.last_sub_pipe = e
        xpub_notify(s, p[0] == 1, p + 1, m.size - 1)
        return
    if p[0] == 1:
        rc = mtrie_add(ps.subs, p + 1, m.size - 1, e)
        if rc == TRIE_NOMEM:
            return          # dropped: as if it never came
        if rc == 1 or s.o.xpub_verbose or s.o.xpub_verboser:
            xpub_notify(s, True, p + 1, m.size - 1)
    else:
        rc = mtrie_rm(ps.subs, p + 1, m.size - 1, e)
        if rc == 1 or (rc == 0 and s.o.xpub_verboser):
            xpub_notify(s, False, p + 1, m.size - 1)


cdef void xpub_read(sock_t *s, pipe_end_t *e) noexcept nogil:
    """Reads everything a subscriber sent: subscriptions and, for XPUB,
    other messages, which are passed up as they are."""
    cdef msg_t m
    cdef int rc
    cdef bint first
    cdef pubsub_state_t *ps = pubsub_state(s)
    while True:
        msg_init(&m)
        first = not e.more_in
        rc = pipe_read(e, &m)
        if rc == 0:
            return
        if rc < 0:
            sock_drop_pipe(s, e)
            return
        if m.flags & MSG_SUBSCRIBE_ALL or m.size > 0 and msg_data(&m)[0] <= 1 and \
                not (m.flags & MSG_IDENTITY) and (first or not s.o.only_first_subscribe):
            xpub_take_subscription(s, e, &m)
            if s.row.shows_subscriptions and m.flags & MSG_MORE:
                msgq_push(&ps.pending, &m)   # short of memory: closed below
            msg_close(&m)
        elif s.row.shows_subscriptions and not (m.flags & MSG_IDENTITY):
            if msgq_push(&ps.pending, &m) != 0:
                msg_close(&m)
        else:
            msg_close(&m)


cdef int xpub_attach(sock_t *s, pipe_end_t *e) noexcept nogil:
    """A subscriber that cannot be given the welcome message for want of
    memory is turned away (ENOMEM) rather than left without it."""
    cdef msg_t m
    cdef pubsub_state_t *ps = pubsub_state(s)
    if ps.welcome != NULL and pipe_check_write(e):
        if msg_init_bytes(&m, ps.welcome, ps.welcome_len) != 0:
            return ENOMEM
        if pipe_write(e, &m) != 0:
            msg_close(&m)
            return ENOMEM
        sock_flush_pipe(s, e)
    xpub_read(s, e)
    return 0


cdef void xpub_detach(sock_t *s, pipe_end_t *e) noexcept nogil:
    """As libzmq: a cancel for each prefix nobody is left on; with
    XPUB_VERBOSER, for each prefix the pipe was on. With XPUB_MANUAL only
    the user puts pipes on prefixes, and sees a cancel for each the pipe
    was on (libzmq shows those the peer had asked for: the same unless the
    user applied others)."""
    mtrie_rm_pipe(pubsub_state(s).subs, e, xpub_pipe_gone_from, s, s.o.xpub_manual or s.o.xpub_verboser)


cdef int xpub_recv(sock_t *s, msg_t *m) noexcept nogil:
    cdef pubsub_state_t *ps = pubsub_state(s)
    if msgq_pop(&ps.pending, m):
        return 0
    return EAGAIN


cdef bint xpub_has_in(sock_t *s) noexcept nogil:
    return pubsub_state(s).pending.n > 0


cdef bint always(sock_t *s) noexcept nogil:
    return True


cdef int xpub_manual_subscribe(sock_t *s, const unsigned char *topic, size_t n, bint add) noexcept nogil:
    """XPUB_MANUAL: the user applies a subscription to the last pipe that
    sent one (EINVAL unless XPUB_MANUAL is on)."""
    cdef pubsub_state_t *ps = pubsub_state(s)
    if not s.o.xpub_manual:
        return EINVAL
    if ps.last_sub_pipe == NULL:
        return 0
    if add:
        if mtrie_add(ps.subs, topic, n, ps.last_sub_pipe) == TRIE_NOMEM:
            return ENOMEM
    else:
        mtrie_rm(ps.subs, topic, n, ps.last_sub_pipe)
    return 0


# ---------------------------------------------------------------- XSUB / SUB

cdef void xsub_send_one(void *ctx, tnode_t *t) noexcept nogil:
    cdef pipe_end_t *e = <pipe_end_t *>ctx
    cdef msg_t m
    if not pipe_check_write(e):
        return      # at SNDHWM: that subscription is lost for this pipe
    cdef unsigned char *at = subscription_init(&m, True, t.plen)
    if at == NULL:
        return      # short of memory: likewise
    tnode_topic(t, at)
    m.flags = MSG_SUBSCRIBE
    if pipe_write(e, &m) != 0:
        msg_close(&m)       # short of memory: likewise


cdef void xsub_resend_all(sock_t *s, pipe_end_t *e) noexcept nogil:
    """On each new or re-made connection, every current subscription."""
    trie_each(pubsub_state(s).subs, xsub_send_one, e)
    sock_flush_pipe(s, e)


cdef int subscription_to_all(sock_t *s, bint add, const unsigned char *topic, size_t n, bint flagged) noexcept nogil:
    cdef msg_t m
    cdef unsigned char *at = subscription_init(&m, add, n)
    if at == NULL:
        return ENOMEM
    if n:
        memcpy(at, topic, n)
    if flagged:
        m.flags = MSG_SUBSCRIBE
    send_to_all(s, &m)
    return 0


cdef int sub_subscribe(sock_t *s, const unsigned char *topic, size_t n, bint add) noexcept nogil:
    """SUB's SUBSCRIBE/UNSUBSCRIBE: counted; a subscribe always goes
    upstream, a cancel only when the last one for that topic goes."""
    cdef pubsub_state_t *ps = pubsub_state(s)
    if add:
        if trie_add(ps.subs, topic, n) == TRIE_NOMEM:
            return ENOMEM
        if subscription_to_all(s, True, topic, n, True) != 0:
            trie_rm(ps.subs, topic, n)       # as if never asked: the user may retry
            return ENOMEM
    elif trie_rm(ps.subs, topic, n) == 1:
        subscription_to_all(s, False, topic, n, True)
    return 0


cdef int xsub_send(sock_t *s, msg_t *m) noexcept nogil:
    """What the user writes goes to every publisher as it is (as data, even
    to 3.1 peers); subscriptions among it are also kept for reconnects."""
    cdef unsigned char *p = msg_data(m)
    cdef int rc
    cdef bint forward = True
    cdef pubsub_state_t *ps = pubsub_state(s)
    if not ps.dist_in_msg and m.size > 0:
        if p[0] == 1:
            trie_add(ps.subs, p + 1, m.size - 1)     # short of memory: sent, not kept
        elif p[0] == 0:
            rc = trie_rm(ps.subs, p + 1, m.size - 1)
            forward = rc == 1 or s.o.xsub_verbose_unsubscribe
    if not forward and not (m.flags & MSG_MORE):
        msg_close(m)
        return 0
    return xsub_dist_all(s, m)


cdef int xsub_dist_all(sock_t *s, msg_t *m) noexcept nogil:
    cdef int i
    cdef msg_t copy
    cdef bint more = (m.flags & MSG_MORE) != 0
    cdef pubsub_state_t *ps = pubsub_state(s)
    if not ps.dist_in_msg:
        ps.nmatching = 0
        for i in range(s.npipes):
            if not (pipe_check_write(s.pipes[i]) and
                    pipes_push(&ps.matching, &ps.nmatching, &ps.capmatching, s.pipes[i])):
                s.stats.msgs_dropped += 1
    dist_write_matching(s, m, more)
    ps.dist_in_msg = more
    return 0


cdef bint sub_matches(sock_t *s, msg_t *m) noexcept nogil:
    return trie_match(pubsub_state(s).subs, msg_data(m), m.size) != (s.o.invert_matching != 0)


cdef int sub_recv(sock_t *s, msg_t *m) noexcept nogil:
    """Fair-queued, keeping only messages whose first frame matches."""
    cdef int rc
    cdef pubsub_state_t *ps = pubsub_state(s)
    if held_take(&ps.held, m):
        ps.sub_in_msg = (m.flags & MSG_MORE) != 0
        return 0
    while True:
        rc = fq_recv(s, m)
        if rc != 0:
            return rc
        if ps.sub_in_msg:
            # The later frames of a kept message pass.
            ps.sub_in_msg = (m.flags & MSG_MORE) != 0
            return 0
        if sub_matches(s, m):
            ps.sub_in_msg = (m.flags & MSG_MORE) != 0
            return 0
        drop_rest_of_message(s, m)


cdef bint sub_has_in(sock_t *s) noexcept nogil:
    cdef pubsub_state_t *ps = pubsub_state(s)
    if ps.held.has:
        return True
    if ps.sub_in_msg:
        return fq_has_in(s)
    # Only a matching message counts: fetch one ahead (sub_recv drops the
    # others) and keep it for the next recv.
    if sub_recv(s, &ps.held.msg) == 0:
        ps.held.has = True
        return True
    return False


cdef int xsub_attach(sock_t *s, pipe_end_t *e) noexcept nogil:
    xsub_resend_all(s, e)
    return 0
