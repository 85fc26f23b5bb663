# The PGM engine (libzmq's pgm_sender_t / pgm_receiver_t over OpenPGM): a
# PUB or XPUB session is a PGM source, a SUB or XSUB session a receiver of
# the first source it hears on the group. One fd (transport/pgm.pxi opens
# it: a receiver's joined to the group, a source's at its NLA where NAKs
# arrive).
#
# Source: messages from the pipe become ZMTP/1.0 frames packed into APDUs of
# one TSDU each, the first two bytes saying where the first message starting
# in it begins (0xffff: none), as libzmq packs them; each goes out as ODATA,
# at most RATE kbit/s, and stays in the transmit window (RATE x
# RECOVERY_IVL bytes of packets, as libzmq sizes OpenPGM's) to answer NAKs
# with an NCF and RDATA. SPMs tell receivers where to NAK: after data on
# OpenPGM's heartbeat schedule (the one libzmq sets), and every 30 s.
#
# Receiver: one window and decoder (wire/pgm_rx.pxi) for each source heard
# on the group, by TSI, as libzmq keeps one decoder a TSI; their messages
# reach the pipe whole, one source's at a time. Here packets are read,
# checked (pgm_parse), and NAKs sent to each source's NLA once an SPM gave
# it; until then an SPMR asks the source for one (RFC 3208 13.6, OpenPGM's
# spmr_expiry as libzmq sets it). SUB's subscriptions coming down the pipe
# are dropped: PGM carries everything and SUB filters, as with libzmq.

cdef enum:
    PGM_RECV_BUF = 65536
    PGM_IP_HEADER = 20
    PGM_UDP_HEADER = 8
    PGM_TXW_MAX = 65536
    PGM_AMBIENT_SPM = 30000
    PGM_NAKS_PER_ROUND = 64
    PGM_BURST_MS = 2
    PGM_REPAIRS_MAX = 1024
    PGM_DATA_SOURCE_PORT = 0    # 0: a random source port (libzmq: OpenPGM's default)

# OpenPGM's heartbeat SPM intervals after data, as libzmq sets them (ms)
cdef int PGM_HEARTBEAT[9]
PGM_HEARTBEAT[:] = [100, 100, 100, 100, 1300, 7000, 16000, 25000, 30000]

# Test hook (api/testing.pxi): receivers drop the ODATA of these sequence
# numbers, counted from the first one each receiver hears; `forever` drops
# their RDATA too (a loss beyond repair).
cdef uint32_t g_pgm_drop[16]
cdef int g_pgm_ndrop = 0
cdef bint g_pgm_drop_forever = False
# ... and sources skip sending these ODATA once (sequence numbers from 0):
# receivers must NAK them back.
cdef uint32_t g_pgm_skip[16]
cdef unsigned char g_pgm_skipped[16]
cdef int g_pgm_nskip = 0
# ... and sources send SPMs only when an SPMR asks for one.
cdef bint g_pgm_quiet_source = False

# What PGM sessions did, for tests (api/testing.pxi _pgm_test_counts):
# plain counters written by io threads, read once the sockets are closed.
cdef struct pgm_counts_t:
    long long dropped           # ODATA/RDATA the receive hook dropped
    long long skipped           # ODATA the send hook did not send
    long long naks_sent
    long long ncfs_received
    long long rdata_received    # repairs that filled a gap
    long long naks_received
    long long rdata_sent
    long long losses            # messages given up (rx resets)
    long long odata_sent
    long long rate_waits        # times RATE held a packet back
    long long spmrs_sent
    long long spmrs_received    # for a source of ours
    long long sources           # sources receivers followed
    long long sources_refused   # new sources heard with every slot taken

cdef pgm_counts_t g_pgm_counts


cdef struct pgm_tslot_t:
    unsigned char *pkt          # the ODATA as sent (RDATA is made from it)
    size_t len

cdef struct pgm_t:
    bint sender
    bint raw                    # pgm:// (IP), else epgm:// (UDP)
    mq_pgm_addr_t addr
    unsigned char gsi[6]
    unsigned int sport          # our TSI's port (source), the source's dport
    unsigned char *buf          # source: the ODATA being sent is built here
    unsigned char *rbuf         # packets are read here (a source builds RDATA in it)
    timer_t timer               # source: rate and SPMs; receiver: NAKs
    timer_t spm_timer
    # receiver
    pgm_peers_t peers           # the sources heard (wire/pgm_peers.pxi)
    bint peers_ready
    # source
    pgm_tslot_t *txw
    uint32_t txw_cap
    uint32_t next_sqn           # the next ODATA's
    uint32_t trail
    uint32_t spm_sqn
    int heartbeat               # index into PGM_HEARTBEAT, -1: ambient
    size_t tsdu_max             # APDU bytes per packet (offset included)
    msg_t cur                   # being encoded
    bint has_cur
    unsigned char hdr[10]
    int hlen
    int hpos
    size_t bpos
    bint more                   # the last frame taken had MORE
    double tokens               # bytes we may send now (RATE)
    long long refilled          # when tokens were last topped up
    double rate                 # bytes per ms
    double burst                # the bucket's depth: a TPDU, or PGM_BURST_MS at RATE
    size_t pending_len          # an ODATA the rate held back (in buf)
    uint32_t repairs[PGM_REPAIRS_MAX]   # NAKed sequence numbers to send again
    int nrepairs


cdef inline pgm_t *pgm_state(session_t *s) noexcept nogil:
    return <pgm_t *>s.eng


cdef void pgm_free_window(pgm_t *g) noexcept nogil:
    cdef uint32_t i
    if g.txw != NULL:
        for i in range(g.txw_cap):
            free(g.txw[i].pkt)
        free(g.txw)
        g.txw = NULL
    if g.peers_ready:
        g_pgm_counts.losses += <long long>pgm_peers_losses(&g.peers)
        g_pgm_counts.sources += <long long>g.peers.created
        g_pgm_counts.sources_refused += <long long>g.peers.refused
        pgm_peers_fini(&g.peers)
        g.peers_ready = False
    if g.has_cur:
        msg_close(&g.cur)
        g.has_cur = False


cdef void pgm_fini(session_t *s) noexcept nogil:
    cdef pgm_t *g = pgm_state(s)
    pgm_free_window(g)
    free(g.buf)
    g.buf = NULL
    free(g.rbuf)
    g.rbuf = NULL


cdef void pgm_unplug(session_t *s) noexcept nogil:
    cdef pgm_t *g = pgm_state(s)
    if s.h.io != NULL:
        timer_cancel(session_timers(s), &g.timer)
        timer_cancel(session_timers(s), &g.spm_timer)
    pgm_free_window(g)


cdef long long pgm_window_sqns(const options_t *o) noexcept nogil:
    """libzmq's compute_sqns: RATE (kbit/s) x RECOVERY_IVL (ms) in TPDUs."""
    cdef long long n = (<long long>o.rate // 8) * o.recovery_ivl // o.multicast_maxtpdu
    return n if n > 0 else 1


cdef void pgm_plug(session_t *s) noexcept nogil:
    cdef pgm_t *g = pgm_state(s)
    cdef mq_pgm_ep_t *pe = mq_pgm_ep_of(&s.ep.addr)
    cdef long long sqns = pgm_window_sqns(&s.o)
    cdef long long overhead
    cdef uint32_t r
    g.raw = pe.raw
    g.sender = pe.sender
    memcpy(&g.addr, &pe.a, sizeof(mq_pgm_addr_t))
    r = mq_random_u32()
    memcpy(g.gsi, &r, 4)
    r = mq_random_u32()
    memcpy(g.gsi + 4, &r, 2)
    g.sport = (r >> 16) & 0xffff
    if g.sport == g.addr.port or g.sport == 0:
        g.sport = (g.addr.port + 1) & 0xffff or 1
    if g.sender:
        overhead = PGM_IP_HEADER + PGM_HEADER + PGM_DATA_HEADER + (0 if g.raw else PGM_UDP_HEADER)
        if s.o.multicast_maxtpdu - overhead < 3:
            set_errno(EINVAL)
            session_engine_error(s, True)
            return
        g.tsdu_max = <size_t>(s.o.multicast_maxtpdu - overhead)
        if g.tsdu_max > PGM_RECV_BUF - PGM_HEADER - PGM_DATA_HEADER:
            g.tsdu_max = PGM_RECV_BUF - PGM_HEADER - PGM_DATA_HEADER
        g.txw_cap = <uint32_t>(sqns if sqns < PGM_TXW_MAX else PGM_TXW_MAX)
        g.txw = <pgm_tslot_t *>mq_calloc(g.txw_cap, sizeof(pgm_tslot_t))
        if g.txw == NULL:
            session_engine_error(s, False)
            return
        g.next_sqn = 0
        g.trail = 0
        g.rate = s.o.rate / 8.0      # kbit/s = bytes per ms x 8
        # The io thread's timers tick in ms: a bucket a TPDU deep would cap
        # the rate at one TPDU a tick, whatever RATE says.
        g.burst = max(<double>s.o.multicast_maxtpdu, g.rate * PGM_BURST_MS)
        g.tokens = g.burst
        g.refilled = mq_now_ms()
        g.heartbeat = 0
    else:
        pgm_peers_init(&g.peers, g.addr.port, sqns, s.o.maxmsgsize)
        g.peers_ready = True
    session_engine_ready(s, NULL, 0, NULL)
    if s.state != S_ACTIVE:
        return
    if g.sender:
        session_subscribe_all(s)
        if not g_pgm_quiet_source:
            pgm_send_spm(s, g)
        session_arm(s, &g.spm_timer, PGM_HEARTBEAT[0])
        pgm_send_data(s, g)
    else:
        pgm_receive(s, g)


# ---------------------------------------------------------------- source

cdef void pgm_send_packet(session_t *s, pgm_t *g, const unsigned char *p, size_t n,
                          uint32_t to) noexcept nogil:
    cdef in_addr dst
    dst.s_addr = to
    if mq_pgm_sendto(s.h.fd, g.raw, dst, g.addr.port, p, n) < 0:
        session_engine_error(s, False)


cdef void pgm_send_spm(session_t *s, pgm_t *g) noexcept nogil:
    cdef unsigned char pkt[PGM_HEADER + PGM_SPM_BODY]
    cdef size_t n = pgm_build_spm(pkt, g.sport, g.addr.port, g.gsi, g.spm_sqn, g.trail,
                                  g.next_sqn - 1, g.addr.iface.s_addr)
    g.spm_sqn += 1
    pgm_send_packet(s, g, pkt, n, g.addr.group.s_addr)


cdef void pgm_on_spm_timer(timer_t *t, long long now) noexcept nogil:
    cdef session_t *s = <session_t *>t.owner
    cdef pgm_t *g = pgm_state(s)
    if s.state != S_ACTIVE:
        return
    if not g_pgm_quiet_source:
        pgm_send_spm(s, g)
    if s.state != S_ACTIVE:
        return
    if g.heartbeat >= 0 and g.heartbeat + 1 < 9:
        g.heartbeat += 1
        session_arm(s, &g.spm_timer, PGM_HEARTBEAT[g.heartbeat])
    else:
        g.heartbeat = -1
        session_arm(s, &g.spm_timer, PGM_AMBIENT_SPM)


cdef void pgm_load_msg(pgm_t *g, msg_t *m) noexcept nogil:
    """ZMTP/1.0 framing: length (of flags + body), flags, body."""
    cdef uint64_t n = m.size + 1
    if n < 255:
        g.hdr[0] = <unsigned char>n
        g.hlen = 1
    else:
        g.hdr[0] = 0xff
        mq_put_u64(g.hdr + 1, n)
        g.hlen = 9
    g.hdr[g.hlen] = 1 if (m.flags & MSG_MORE) else 0
    g.hlen += 1
    g.hpos = 0
    g.bpos = 0
    g.more = (m.flags & MSG_MORE) != 0
    memcpy(&g.cur, m, sizeof(msg_t))
    g.has_cur = True


cdef size_t pgm_encode(pgm_t *g, unsigned char *out, size_t room) noexcept nogil:
    """As much of the current frame as fits."""
    cdef size_t done = 0
    cdef size_t n
    if not g.has_cur:
        return 0
    n = min(<size_t>(g.hlen - g.hpos), room)
    memcpy(out, g.hdr + g.hpos, n)
    g.hpos += <int>n
    done += n
    n = min(g.cur.size - g.bpos, room - done)
    if n:
        memcpy(out + done, msg_data(&g.cur) + g.bpos, n)
        g.bpos += n
        done += n
    if g.hpos == g.hlen and g.bpos == g.cur.size:
        msg_close(&g.cur)
        g.has_cur = False
    return done


cdef size_t pgm_fill_apdu(session_t *s, pgm_t *g, unsigned char *apdu) noexcept nogil:
    """The next APDU from the pipe (libzmq's pgm_sender_t::out_event): its
    length with the offset, 0 when there is nothing to send."""
    cdef unsigned char *bf = apdu + 2
    cdef size_t cap = g.tsdu_max - 2
    cdef size_t n = pgm_encode(g, bf, cap)
    cdef unsigned int offset = PGM_OFFSET_NONE
    cdef msg_t m
    while n < cap:
        if not g.more and offset == PGM_OFFSET_NONE:
            offset = <unsigned int>n
        if g.has_cur or s.pipe == NULL:
            break
        msg_init(&m)
        if session_pull_msg(s, &m) <= 0:
            break
        pgm_load_msg(g, &m)
        n += pgm_encode(g, bf + n, cap - n)
    if n == 0:
        return 0
    pgm_put_u16(apdu, offset)
    return n + 2


cdef bint pgm_rate_allows(session_t *s, pgm_t *g, size_t n) noexcept nogil:
    """RATE as a token bucket (g.burst deep): False arms the timer."""
    cdef long long now = mq_now_ms()
    cdef double wait
    g.tokens += (now - g.refilled) * g.rate
    g.refilled = now
    if g.tokens > g.burst:
        g.tokens = g.burst
    if g.tokens >= n:
        g.tokens -= n
        return True
    wait = (n - g.tokens) / g.rate
    g_pgm_counts.rate_waits += 1
    session_arm(s, &g.timer, <long long>wait + 1)
    return False


cdef bint pgm_test_skips(uint32_t sqn) noexcept nogil:
    cdef int i
    for i in range(g_pgm_nskip):
        if g_pgm_skip[i] == sqn and not g_pgm_skipped[i]:
            g_pgm_skipped[i] = 1
            g_pgm_counts.skipped += 1
            return True
    return False


cdef void pgm_send_data(session_t *s, pgm_t *g) noexcept nogil:
    cdef pgm_tslot_t *sl
    cdef unsigned char *apdu = g.buf + PGM_HEADER + PGM_DATA_HEADER
    cdef size_t n
    cdef bint sent = False
    if timer_armed(&g.timer):
        return          # the rate holds us back until it fires
    if not pgm_send_repairs(s, g):
        return
    while s.state == S_ACTIVE:
        if g.pending_len == 0:
            n = pgm_fill_apdu(s, g, apdu)
            if n == 0:
                break
            if g.next_sqn - g.trail >= g.txw_cap:
                g.trail += 1        # the oldest packet leaves the window
            g.pending_len = pgm_build_data(g.buf, PGM_ODATA, g.sport, g.addr.port, g.gsi,
                                           g.next_sqn, g.trail, apdu, n)
        if not pgm_rate_allows(s, g, g.pending_len + PGM_IP_HEADER):
            return
        sl = &g.txw[g.next_sqn % g.txw_cap]
        if sl.pkt == NULL:
            sl.pkt = <unsigned char *>mq_malloc(PGM_HEADER + PGM_DATA_HEADER + g.tsdu_max)
            if sl.pkt == NULL:
                session_engine_error(s, False)
                return
        memcpy(sl.pkt, g.buf, g.pending_len)
        sl.len = g.pending_len
        if not pgm_test_skips(g.next_sqn):
            pgm_send_packet(s, g, g.buf, g.pending_len, g.addr.group.s_addr)
            g_pgm_counts.odata_sent += 1
        g.pending_len = 0
        g.next_sqn += 1
        sent = True
    if sent and s.state == S_ACTIVE and (g.heartbeat != 0 or not timer_armed(&g.spm_timer)):
        # Heartbeat SPMs after data (a lost last packet shows in them); an
        # SPM due soon is left alone, so that a steady stream still carries
        # one every PGM_HEARTBEAT[0] ms (receivers NAK to the NLA in it).
        g.heartbeat = 0
        session_arm(s, &g.spm_timer, PGM_HEARTBEAT[0])
    if s.pipe_done and s.state == S_ACTIVE and not g.has_cur:
        session_destroy(s)


cdef void pgm_repair(session_t *s, pgm_t *g, uint32_t sqn, uint32_t group) noexcept nogil:
    """A NAK for sqn: NCF to the group at once, and RDATA queued (RATE
    paces repairs too, ahead of new data, RFC 3208 5.2) if the window
    still has it."""
    cdef unsigned char pkt[PGM_HEADER + PGM_NAK_BODY]
    cdef size_t n
    cdef int i
    if pgm_sqn_lt(sqn, g.trail) or not pgm_sqn_lt(sqn, g.next_sqn):
        return          # gone (the receiver sees the trail move) or never sent
    n = pgm_build_nak(pkt, PGM_NCF, g.sport, g.addr.port, g.gsi, sqn, g.addr.iface.s_addr, group)
    pgm_send_packet(s, g, pkt, n, g.addr.group.s_addr)
    for i in range(g.nrepairs):
        if g.repairs[i] == sqn:
            return      # queued already
    if g.nrepairs < PGM_REPAIRS_MAX:
        g.repairs[g.nrepairs] = sqn
        g.nrepairs += 1


cdef bint pgm_send_repairs(session_t *s, pgm_t *g) noexcept nogil:
    """RDATA for the queued NAKs, as RATE allows. False: held back."""
    cdef pgm_tslot_t *sl
    cdef uint32_t sqn
    cdef size_t n
    while g.nrepairs > 0 and s.state == S_ACTIVE:
        sqn = g.repairs[0]
        if pgm_sqn_lt(sqn, g.trail):
            sl = NULL       # left the window meanwhile
        else:
            sl = &g.txw[sqn % g.txw_cap]
            if not pgm_rate_allows(s, g, sl.len + PGM_IP_HEADER):
                return False
            n = sl.len - PGM_HEADER - PGM_DATA_HEADER
            memcpy(g.rbuf, sl.pkt, sl.len)
            pgm_build_data(g.rbuf, PGM_RDATA, g.sport, g.addr.port, g.gsi, sqn, g.trail,
                           g.rbuf + PGM_HEADER + PGM_DATA_HEADER, n)
            pgm_send_packet(s, g, g.rbuf, sl.len, g.addr.group.s_addr)
            g_pgm_counts.rdata_sent += 1
        g.nrepairs -= 1
        memmove(g.repairs, g.repairs + 1, g.nrepairs * sizeof(uint32_t))
    return True


cdef void pgm_on_upstream(session_t *s, pgm_t *g, const pgm_pkt_t *pkt) noexcept nogil:
    """NAKs and SPMRs for our TSI (ports reversed: they go to our sport)."""
    cdef int i
    if pkt.dport != g.sport or pkt.sport != g.addr.port or memcmp(pkt.gsi, g.gsi, 6) != 0:
        return
    if pkt.type == PGM_SPMR:
        g_pgm_counts.spmrs_received += 1
        pgm_send_spm(s, g)
        return
    if pkt.type != PGM_NAK:
        return
    if pkt.nla != g.addr.iface.s_addr or pkt.group != g.addr.group.s_addr:
        return          # not for us as source (OpenPGM checks both too)
    g_pgm_counts.naks_received += 1
    pgm_repair(s, g, pkt.sqn, pkt.group)
    for i in range(pkt.nak_count):
        if s.state != S_ACTIVE:
            return
        pgm_repair(s, g, pkt.nak_list[i], pkt.group)


# ---------------------------------------------------------------- receiver

cdef int pgm_sink_deliver(void *ctx, msg_t *m) noexcept nogil:
    cdef session_t *s = <session_t *>ctx
    return session_push_msg(s, m)


cdef void pgm_sink_drop(void *ctx) noexcept nogil:
    cdef session_t *s = <session_t *>ctx
    if s.pipe != NULL and s.pipe.more_out:
        pipe_unwrite(s.pipe)


cdef bint pgm_test_drops(pgm_src_t *src, const pgm_pkt_t *pkt) noexcept nogil:
    cdef int i
    cdef uint32_t rel
    if g_pgm_ndrop == 0:
        return False
    if not src.first_seen:
        src.first_seen = True
        src.first_sqn = pkt.sqn
    rel = pkt.sqn - src.first_sqn
    for i in range(g_pgm_ndrop):
        if g_pgm_drop[i] == rel:
            if pkt.type == PGM_ODATA and not src.dropped[i]:
                src.dropped[i] = 1
                g_pgm_counts.dropped += 1
                return True
            if g_pgm_drop_forever:
                g_pgm_counts.dropped += 1
            return g_pgm_drop_forever
    return False


cdef void pgm_send_spmr(session_t *s, pgm_t *g, pgm_src_t *src) noexcept nogil:
    """SPMR to the address the source's data came from (ports reversed)."""
    cdef unsigned char pkt[PGM_HEADER]
    cdef in_addr dst
    cdef size_t n = pgm_build_spmr(pkt, g.addr.port, src.rx.sport, src.rx.gsi)
    dst.s_addr = src.rx.data_from
    if mq_pgm_sendto(s.h.fd, g.raw, dst, g.addr.port, pkt, n) == 0:
        g_pgm_counts.spmrs_sent += 1


cdef long long pgm_source_naks(session_t *s, pgm_t *g, pgm_src_t *src, long long now) noexcept nogil:
    """NAKs (or an SPMR) due for one source: when it next wants a turn, -1 never."""
    cdef uint32_t sqns[PGM_NAKS_PER_ROUND]
    cdef long long due
    cdef unsigned char pkt[PGM_HEADER + PGM_NAK_BODY]
    cdef size_t n
    cdef int i
    cdef int k
    cdef in_addr dst
    if pgm_src_wants_spmr(src, now):
        pgm_send_spmr(s, g, src)
    if not src.rx.have_nla:
        return src.spmr_due     # gaps wait for the NLA (their NAK tries are not spent)
    k = pgm_rx_due_naks(&src.rx, now, sqns, PGM_NAKS_PER_ROUND, &due)
    dst.s_addr = src.rx.nla
    for i in range(k):
        n = pgm_build_nak(pkt, PGM_NAK, g.addr.port, src.rx.sport, src.rx.gsi, sqns[i], src.rx.nla,
                          g.addr.group.s_addr)
        if mq_pgm_sendto(s.h.fd, g.raw, dst, g.addr.port, pkt, n) < 0:
            break
        g_pgm_counts.naks_sent += 1
    return due


cdef void pgm_send_naks(session_t *s, pgm_t *g) noexcept nogil:
    cdef long long now = mq_now_ms()
    cdef long long due
    cdef long long first = -1
    cdef int i
    for i in range(g.peers.n):
        due = pgm_source_naks(s, g, g.peers.srcs[i], now)
        if due >= 0 and (first < 0 or due < first):
            first = due
    timer_cancel(session_timers(s), &g.timer)
    if first >= 0:
        timer_arm(session_timers(s), &g.timer, first)


cdef void pgm_deliver(session_t *s, pgm_t *g) noexcept nogil:
    cdef int rc = pgm_peers_drain(&g.peers, pgm_sink_deliver, pgm_sink_drop, s)
    if s.state != S_ACTIVE:
        return
    if rc == RX_FATAL:
        session_engine_error(s, False)
        return
    session_flush_in(s)
    if rc == RX_BLOCKED:
        session_block_input(s)


cdef void pgm_on_packet(session_t *s, pgm_t *g, const unsigned char *p, size_t n,
                        uint32_t from_addr) noexcept nogil:
    cdef pgm_pkt_t pkt
    cdef pgm_src_t *src
    cdef long long now
    if pgm_parse(p, n, &pkt) < 0:
        return          # malformed or not checksummed: dropped, as OpenPGM does
    if g.sender:
        pgm_on_upstream(s, g, &pkt)
        return
    now = mq_now_ms()
    if pkt.type == PGM_SPMR:
        pgm_peers_on_spmr(&g.peers, &pkt, now)
        return
    src = pgm_peers_source_of(&g.peers, &pkt, now)
    if src == NULL:
        return
    if pkt.type == PGM_ODATA or pkt.type == PGM_RDATA:
        if pgm_test_drops(src, &pkt):
            return
        if pkt.type == PGM_RDATA and pgm_rx_fills_gap(&src.rx, &pkt):
            g_pgm_counts.rdata_received += 1
    elif pkt.type == PGM_NCF:
        g_pgm_counts.ncfs_received += 1
    if pgm_rx_on_packet(&src.rx, &pkt, g.addr.port, from_addr, now) < 0:
        session_engine_error(s, False)


cdef void pgm_receive(session_t *s, pgm_t *g) noexcept nogil:
    cdef ssize_t n
    cdef size_t skip
    cdef in_addr from_addr
    cdef int rounds = 0
    while s.state == S_ACTIVE and rounds < READS_PER_EVENT * 8:
        if not g.sender and s.in_blocked:
            break
        rounds += 1
        n = mq_pgm_recv(s.h.fd, g.raw, g.rbuf, PGM_RECV_BUF, &skip, &from_addr)
        if n == -2:
            continue
        if n < 0:
            session_engine_error(s, False)
            return
        if n == 0:
            break
        pgm_on_packet(s, g, g.rbuf + skip, <size_t>n - skip, from_addr.s_addr)
        if not g.sender and s.state == S_ACTIVE:
            pgm_deliver(s, g)
    if s.state == S_ACTIVE and not g.sender:
        pgm_send_naks(s, g)


cdef void pgm_on_timer(timer_t *t, long long now) noexcept nogil:
    cdef session_t *s = <session_t *>t.owner
    cdef pgm_t *g = pgm_state(s)
    if s.state != S_ACTIVE:
        return
    if g.sender:
        pgm_send_data(s, g)
    else:
        pgm_send_naks(s, g)
        if s.state == S_ACTIVE:
            pgm_deliver(s, g)


cdef void pgm_on_event(session_t *s, int events) noexcept nogil:
    cdef pgm_t *g = pgm_state(s)
    if events & (MQ_POLLIN | MQ_POLLERR):
        pgm_receive(s, g)
    if g.sender and s.state == S_ACTIVE:
        pgm_send_data(s, g)


cdef void pgm_restart_output(session_t *s) noexcept nogil:
    cdef pgm_t *g = pgm_state(s)
    cdef msg_t m
    if s.state != S_ACTIVE:
        return
    if g.sender:
        pgm_send_data(s, g)
        return
    # A receiver sends nothing: SUB's subscriptions are dropped here.
    while s.pipe != NULL:
        msg_init(&m)
        if session_pull_msg(s, &m) <= 0:
            break
        msg_close(&m)
    if s.pipe_done:
        session_destroy(s)


cdef void pgm_restart_input(session_t *s) noexcept nogil:
    cdef pgm_t *g = pgm_state(s)
    if s.state != S_ACTIVE or g.sender:
        return
    s.in_blocked = False
    pgm_deliver(s, g)
    if s.state == S_ACTIVE and not s.in_blocked:
        handle_want(s.h.io, &s.h, s.h.events | MQ_POLLIN)
        pgm_receive(s, g)


cdef bint pgm_has_output(session_t *s) noexcept nogil:
    cdef pgm_t *g = pgm_state(s)
    return g.sender and (g.has_cur or g.pending_len != 0 or g.nrepairs != 0)


cdef int pgm_init(session_t *s) noexcept nogil:
    cdef pgm_t *g = pgm_state(s)
    g.buf = <unsigned char *>mq_malloc(PGM_RECV_BUF)
    g.rbuf = <unsigned char *>mq_malloc(PGM_RECV_BUF)
    if g.buf == NULL or g.rbuf == NULL:
        return -1
    timer_init(&g.timer, s, pgm_on_timer)
    timer_init(&g.spm_timer, s, pgm_on_spm_timer)
    msg_init(&g.cur)
    return 0


cdef engine_ops_t PGM_ENGINE
PGM_ENGINE.name = b"pgm-source-receiver"
PGM_ENGINE.kind = ENGINE_PGM
PGM_ENGINE.raw = False
PGM_ENGINE.state_size = sizeof(pgm_t)
PGM_ENGINE.init = pgm_init
PGM_ENGINE.fini = pgm_fini
PGM_ENGINE.plug = pgm_plug
PGM_ENGINE.unplug = pgm_unplug
PGM_ENGINE.on_event = pgm_on_event
PGM_ENGINE.restart_output = pgm_restart_output
PGM_ENGINE.restart_input = pgm_restart_input
PGM_ENGINE.has_output = pgm_has_output
engine_register(&PGM_ENGINE)
