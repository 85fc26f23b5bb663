# RADIO and DISH (RFC 48): one-to-many by group. A message carries its
# group (msg_t.group, up to GROUP_MAX bytes) and is single-part. DISH
# keeps the groups it joined, tells every RADIO pipe about each join and
# leave (MSG_JOIN/MSG_LEAVE messages; the session turns them into ZMTP
# JOIN/LEAVE commands) and tells them all again on each new or re-made
# connection; it also drops whatever arrives for a group it is not in.
# RADIO keeps, per group, the pipes that joined it (the pub/sub mtrie)
# and sends each message to those pipes only, dropping it for a pipe at
# its HWM (never blocking, as PUB), unless XPUB_NODROP is set.
#
# Groups are exact matches, the mtrie matches prefixes: a group goes into
# it as its bytes plus a NUL, so that of all the prefixes of a message's
# key only the whole key ends in one (libzmq's groups are C strings and
# compare up to their first NUL; this does too). A pipe that wants every
# group (udp, which has no JOINs) sits on the empty prefix.

cdef enum:
    GROUP_KEY_MAX = GROUP_MAX + 1


cdef inline size_t group_key(msg_t *m, unsigned char *key) noexcept nogil:
    """m's group as a trie key in key (GROUP_KEY_MAX bytes): the group up
    to its first NUL, then a NUL. Its length."""
    cdef size_t n
    cdef const unsigned char *g = msg_group(m, &n)
    cdef const void *nul = memchr(g, 0, n) if n else NULL
    if nul != NULL:
        n = <const unsigned char *>nul - g
    if n:
        memcpy(key, g, n)
    key[n] = 0
    return n + 1


cdef int group_msg_init(msg_t *m, unsigned int flags, const unsigned char *g, size_t n) noexcept nogil:
    """An empty message with group g[:n] and flags (MSG_JOIN, MSG_LEAVE).
    ENOMEM without memory."""
    msg_init(m)
    m.flags = flags
    return msg_set_group(m, g, n)


# ---------------------------------------------------------------- RADIO

cdef void radio_take(sock_t *s, pipe_end_t *e, msg_t *m) noexcept nogil:
    """Applies a JOIN or LEAVE that came from pipe e."""
    cdef unsigned char key[GROUP_KEY_MAX]
    cdef size_t n
    cdef tnode_t *subs = pubsub_state(s).subs
    if m.flags & MSG_SUBSCRIBE_ALL:
        mtrie_add(subs, key, 0, e)      # every group (udp); short of memory: none
        return
    n = group_key(m, key)
    if m.flags & MSG_JOIN:
        mtrie_add(subs, key, n, e)      # short of memory: as if never asked
    elif m.flags & MSG_LEAVE:
        mtrie_rm(subs, key, n, e)


cdef void radio_read(sock_t *s, pipe_end_t *e) noexcept nogil:
    """Reads everything a DISH sent: JOINs and LEAVEs are applied, anything
    else is dropped (as libzmq)."""
    cdef msg_t m
    cdef int rc
    while True:
        msg_init(&m)
        rc = pipe_read(e, &m)
        if rc == 0:
            return
        if rc < 0:
            sock_drop_pipe(s, e)
            return
        radio_take(s, e, &m)
        msg_close(&m)


cdef int radio_attach(sock_t *s, pipe_end_t *e) noexcept nogil:
    radio_read(s, e)
    return 0


cdef void radio_no_notice(void *ctx, tnode_t *t) noexcept nogil:
    pass


cdef void radio_detach(sock_t *s, pipe_end_t *e) noexcept nogil:
    mtrie_rm_pipe(pubsub_state(s).subs, e, radio_no_notice, NULL, False)


cdef void sock_pipe_takes_every_group(sock_t *s, pipe_end_t *e) noexcept nogil:
    """A pipe to a udp RADIO session gets every group (short of memory:
    none until its session's marker, udp_plug, is read)."""
    cdef unsigned char key[1]
    if s.row.groups_out:
        mtrie_add(pubsub_state(s).subs, key, 0, e)


cdef int radio_send(sock_t *s, msg_t *m) noexcept nogil:
    """To the pipes that joined m's group; one at its HWM misses it (with
    XPUB_NODROP nothing is sent then: EAGAIN). Multipart is EINVAL."""
    cdef unsigned char key[GROUP_KEY_MAX]
    cdef size_t n
    cdef int i = 0
    cdef pubsub_state_t *ps = pubsub_state(s)
    if m.flags & MSG_MORE:
        return EINVAL
    n = group_key(m, key)
    ps.match_gen += 1
    ps.nmatching = 0
    mtrie_match(ps.subs, key, n, ps.match_gen, &ps.matching, &ps.nmatching, &ps.capmatching)
    if s.o.xpub_nodrop:
        for i in range(ps.nmatching):
            if not pipe_check_write(ps.matching[i]):
                ps.nmatching = 0
                return EAGAIN
    else:
        while i < ps.nmatching:
            if pipe_check_write(ps.matching[i]):
                i += 1
            else:
                s.stats.msgs_dropped += 1
                ps.nmatching -= 1
                ps.matching[i] = ps.matching[ps.nmatching]
    dist_write_matching(s, m, False)
    ps.nmatching = 0
    return 0


# ---------------------------------------------------------------- DISH

cdef void dish_join_one(void *ctx, tnode_t *t) noexcept nogil:
    """A JOIN for group t (its key less the NUL) to the pipe ctx."""
    cdef pipe_end_t *e = <pipe_end_t *>ctx
    cdef unsigned char key[GROUP_KEY_MAX + 1]
    cdef msg_t m
    if t.plen == 0 or t.plen > GROUP_KEY_MAX or not pipe_check_write(e):
        return      # at SNDHWM: that group is lost for this pipe, as libzmq
    tnode_topic(t, key)
    if group_msg_init(&m, MSG_JOIN, key, t.plen - 1) != 0 or pipe_write(e, &m) != 0:
        msg_close(&m)       # short of memory: likewise


cdef void dish_join_all(sock_t *s, pipe_end_t *e) noexcept nogil:
    """On each new or re-made connection, every group joined."""
    trie_each(pubsub_state(s).subs, dish_join_one, e)
    sock_flush_pipe(s, e)


cdef int dish_attach(sock_t *s, pipe_end_t *e) noexcept nogil:
    dish_join_all(s, e)
    return 0


cdef int dish_join(sock_t *s, const unsigned char *g, size_t n, bint join) noexcept nogil:
    """join()/leave(): EINVAL past GROUP_MAX bytes, for a group joined
    twice or left without being joined (as libzmq); ENOMEM."""
    cdef unsigned char key[GROUP_KEY_MAX]
    cdef tnode_t *subs = pubsub_state(s).subs
    cdef msg_t m
    cdef int rc
    if n > GROUP_MAX:
        return EINVAL
    if n:
        memcpy(key, g, n)
    key[n] = 0
    if join:
        rc = trie_add(subs, key, n + 1)
        if rc == TRIE_NOMEM:
            return ENOMEM
        if rc == 0:
            trie_rm(subs, key, n + 1)
            return EINVAL
    elif trie_rm(subs, key, n + 1) != 1:
        return EINVAL
    if group_msg_init(&m, MSG_JOIN if join else MSG_LEAVE, g, n) != 0:
        msg_close(&m)
        if join:
            trie_rm(subs, key, n + 1)   # as if never asked: the user may retry
        return ENOMEM
    send_to_all(s, &m)
    return 0


cdef int dish_recv(sock_t *s, msg_t *m) noexcept nogil:
    """Fair-queued, keeping only single-part messages of joined groups."""
    cdef unsigned char key[GROUP_KEY_MAX]
    cdef size_t n
    cdef int rc
    cdef pubsub_state_t *ps = pubsub_state(s)
    if held_take(&ps.held, m):
        return 0
    while True:
        rc = fq_recv(s, m)
        if rc != 0:
            return rc
        if m.flags & MSG_MORE:
            drop_rest_of_message(s, m)
            continue
        n = group_key(m, key)
        if trie_match(ps.subs, key, n):
            return 0
        msg_close(m)


cdef bint dish_has_in(sock_t *s) noexcept nogil:
    # Only a message of a joined group counts: fetch one ahead and keep it.
    cdef pubsub_state_t *ps = pubsub_state(s)
    if ps.held.has:
        return True
    if dish_recv(s, &ps.held.msg) == 0:
        ps.held.has = True
        return True
    return False
