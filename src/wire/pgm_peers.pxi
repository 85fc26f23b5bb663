# The sources one PGM receiver follows, as libzmq's pgm_receiver_t keeps a
# decoder per source TSI: a window (wire/pgm_rx.pxi) for each, found by
# TSI. Peers choose their TSIs, so the table is bounded (PGM_SOURCES_MAX);
# a source silent for PGM_PEER_EXPIRY gives way to a new one when it is
# full. Messages reach the sink whole and one source's at a time: a source
# keeps the sink while its message is half delivered, otherwise the
# sources take turns. Nothing here touches a socket (the engine and the
# fuzz entry point use it alike).

cdef enum:
    # libzmq's OpenPGM receiver settings (pgm_socket.cpp), ms
    PGM_SPMR_EXPIRY = 25        # data before any SPM: ask for one this late
    PGM_SPMR_REPEAT = 1000      # ... and again while none comes
    PGM_PEER_EXPIRY = 300000
    PGM_SOURCES_MAX = 16

cdef struct pgm_src_t:
    pgm_rx_t rx
    long long spmr_due          # when to ask for an SPM; -1: one came
    long long heard             # the last packet from it
    # the engine's loss test hook (engine/pgm_engine.pxi)
    bint first_seen
    uint32_t first_sqn
    unsigned char dropped[16]

cdef struct pgm_peers_t:
    pgm_src_t *srcs[PGM_SOURCES_MAX]
    int n
    int cur                     # the source whose message is half delivered, or -1
    int turn                    # the source drained first next time
    unsigned int port           # the group's (data packets' dport)
    long long sqns
    long long maxmsgsize
    unsigned long long created  # sources followed
    unsigned long long refused  # new sources heard with every slot taken
    unsigned long long losses   # of the sources freed


cdef void pgm_peers_init(pgm_peers_t *p, unsigned int port, long long sqns, long long maxmsgsize) noexcept nogil:
    memset(p, 0, sizeof(pgm_peers_t))
    p.cur = -1
    p.port = port
    p.sqns = sqns
    p.maxmsgsize = maxmsgsize


cdef void pgm_peers_free_source(pgm_peers_t *p, int i) noexcept nogil:
    """Source i leaves the table (the last one takes its slot)."""
    p.losses += p.srcs[i].rx.losses
    pgm_rx_fini(&p.srcs[i].rx)
    free(p.srcs[i])
    p.n -= 1
    p.srcs[i] = p.srcs[p.n]
    p.srcs[p.n] = NULL
    if p.cur == i:
        p.cur = -1
    elif p.cur == p.n:
        p.cur = i


cdef void pgm_peers_fini(pgm_peers_t *p) noexcept nogil:
    while p.n > 0:
        pgm_peers_free_source(p, p.n - 1)


cdef unsigned long long pgm_peers_losses(const pgm_peers_t *p) noexcept nogil:
    cdef unsigned long long n = p.losses
    cdef int i
    for i in range(p.n):
        n += p.srcs[i].rx.losses
    return n


cdef int pgm_peers_find(const pgm_peers_t *p, const unsigned char *gsi, unsigned int sport) noexcept nogil:
    cdef int i
    for i in range(p.n):
        if pgm_rx_is_source(&p.srcs[i].rx, gsi, sport):
            return i
    return -1


cdef bint pgm_peers_make_room(pgm_peers_t *p, long long now) noexcept nogil:
    cdef int i
    if p.n < PGM_SOURCES_MAX:
        return True
    for i in range(p.n):
        if i != p.cur and now - p.srcs[i].heard > PGM_PEER_EXPIRY:
            pgm_peers_free_source(p, i)
            return True
    return False


cdef pgm_src_t *pgm_peers_source_of(pgm_peers_t *p, const pgm_pkt_t *pkt, long long now) noexcept nogil:
    """The window for the source of a packet sent downstream on our port;
    a new one for data or an SPM of a source not heard before. NULL: not
    for a receiver, no room, or ENOMEM (the packet is ignored)."""
    cdef int i
    cdef pgm_src_t *src
    if pkt.dport != p.port:
        return NULL
    if pkt.type != PGM_ODATA and pkt.type != PGM_RDATA and pkt.type != PGM_SPM and pkt.type != PGM_NCF:
        return NULL
    i = pgm_peers_find(p, pkt.gsi, pkt.sport)
    if i >= 0:
        p.srcs[i].heard = now
        return p.srcs[i]
    if pkt.type == PGM_NCF:
        return NULL
    if not pgm_peers_make_room(p, now):
        p.refused += 1
        return NULL
    src = <pgm_src_t *>mq_calloc(1, sizeof(pgm_src_t))
    if src == NULL:
        return NULL
    if pgm_rx_init(&src.rx, p.sqns, p.maxmsgsize) < 0:
        free(src)
        return NULL
    src.spmr_due = now + PGM_SPMR_EXPIRY
    src.heard = now
    p.srcs[p.n] = src
    p.n += 1
    p.created += 1
    return src


cdef void pgm_peers_on_spmr(pgm_peers_t *p, const pgm_pkt_t *pkt, long long now) noexcept nogil:
    """Another receiver asked a source for an SPM (OpenPGM multicasts its
    SPMRs): the answer reaches us too, so ours waits (RFC 3208 13.6)."""
    cdef int i
    if pkt.type != PGM_SPMR or pkt.sport != p.port:
        return
    i = pgm_peers_find(p, pkt.gsi, pkt.dport)
    if i >= 0 and p.srcs[i].spmr_due >= 0:
        p.srcs[i].spmr_due = now + PGM_SPMR_REPEAT


cdef bint pgm_src_wants_spmr(pgm_src_t *src, long long now) noexcept nogil:
    """Time to ask this source for an SPM (and the next time is set)."""
    if src.rx.have_nla:
        src.spmr_due = -1
        return False
    if src.spmr_due < 0 or not src.rx.started or src.spmr_due > now:
        return False
    src.spmr_due = now + PGM_SPMR_REPEAT
    return True


cdef int pgm_peers_drain_one(pgm_peers_t *p, int i, pgm_deliver_fn deliver, pgm_drop_fn drop,
                             void *ctx) noexcept nogil:
    cdef pgm_rx_t *rx = &p.srcs[i].rx
    cdef int rc = pgm_rx_drain(rx, deliver, drop, ctx)
    p.cur = i if (rx.in_message or rx.frame_ready) else -1
    return rc


cdef int pgm_peers_drain(pgm_peers_t *p, pgm_deliver_fn deliver, pgm_drop_fn drop, void *ctx) noexcept nogil:
    """What the sources have in order, to the sink: RX_DONE, RX_BLOCKED or
    RX_FATAL as pgm_rx_drain says."""
    cdef int rc = RX_DONE
    cdef int k
    if p.cur >= 0:
        rc = pgm_peers_drain_one(p, p.cur, deliver, drop, ctx)
    if rc == RX_DONE and p.cur < 0 and p.n > 0:
        # Round robin from a turn that moves, so no source starves another.
        for k in range(p.n):
            rc = pgm_peers_drain_one(p, (p.turn + k) % p.n, deliver, drop, ctx)
            if rc != RX_DONE or p.cur >= 0:
                break
        p.turn = (p.turn + 1) % p.n
    return rc
