# The receive side of PGM for one source (OpenPGM's rxw plus libzmq's
# pgm_receiver_t): a window of sequence numbers in which data waits until
# everything before it is there, the gaps it NAKs (RFC 3208 5.3, with the
# back-off libzmq asks of OpenPGM), the APDUs put back together from
# OPT_FRAGMENT parts, and the ZMTP/1.0 frames libzmq packs in each APDU
# after a 2-byte offset of the first message that starts in it.
#
# A gap the source can no longer repair (its trailing edge passed it, or
# the NAKs ran out) is a loss: the message it cut is taken back whole
# (sink drop) and decoding starts again at the next APDU whose offset says
# a message begins, as libzmq does; rx.losses counts them. Nothing here
# touches a socket: the engine (engine/pgm_engine.pxi) and the fuzz entry
# point feed packets in and give a sink for the frames.

ctypedef int (*pgm_deliver_fn)(void *ctx, msg_t *m) noexcept nogil   # 0 taken, 1 full, -1 fatal
ctypedef void (*pgm_drop_fn)(void *ctx) noexcept nogil               # take back a cut message

cdef enum:
    RS_MISSING = 0
    RS_DATA = 1
    RS_LOST = 2
    # libzmq's settings for OpenPGM receivers (pgm_socket.cpp), in ms
    PGM_NAK_BO_IVL = 50
    PGM_NAK_RPT_IVL = 200
    PGM_NAK_RDATA_IVL = 200
    PGM_NAK_RETRIES = 50
    PGM_RXW_MIN = 4096          # a gap waits for its repair (back-off + RTT) while data keeps coming
    PGM_RXW_MAX = 65536
    PGM_APDU_MAX = 1 << 26      # an APDU larger than this is refused (a loss)
    # decoder stages (ZMTP/1.0 framing)
    V1_LEN = 0
    V1_LEN8 = 1
    V1_FLAGS = 2
    V1_BODY = 3
    # pgm_rx_drain results
    RX_DONE = 0
    RX_BLOCKED = 1
    RX_FATAL = -1

cdef struct pgm_rslot_t:
    unsigned char *data         # RS_DATA: the TSDU (ours)
    size_t len
    int state
    long long nak_due           # RS_MISSING: when to NAK (again)
    int nak_tries
    bint fragment
    uint32_t frag_first
    uint32_t frag_off
    uint32_t frag_len

cdef struct pgm_rx_t:
    pgm_rslot_t *ring
    uint32_t cap                # a power of two
    bint have_source
    unsigned char gsi[6]        # the source's TSI: gsi + sport
    unsigned int sport
    bint have_nla
    uint32_t nla                # where NAKs go (network order), from an SPM
    uint32_t data_from          # where its data came from (SPMRs go there)
    bint started
    uint32_t next               # the next sequence number to decode
    uint32_t lead               # the highest one known of
    bint skip                   # the source's window left us behind: jump to skip_to
    uint32_t skip_to
    long long maxmsgsize
    unsigned long long losses
    # the APDU being decoded (ours), from cur_pos
    unsigned char *cur
    size_t cur_len
    size_t cur_pos
    bint cur_fresh              # its offset not read yet
    # an APDU being put together from fragments
    unsigned char *apdu
    size_t apdu_fill
    uint32_t apdu_len
    uint32_t apdu_first
    # ZMTP/1.0 decoder
    bint joined                 # at a message boundary of this source
    bint in_message             # the last frame delivered had MORE
    int stage
    unsigned char lenbuf[8]
    int lenfill
    uint64_t size
    msg_t frame
    bint frame_open             # frame holds a body being filled
    bint frame_ready            # frame is whole, the sink was full
    size_t frame_fill


cdef int pgm_rx_init(pgm_rx_t *rx, long long sqns, long long maxmsgsize) noexcept nogil:
    """Room for a window of about sqns packets. -1: ENOMEM."""
    cdef uint32_t cap = PGM_RXW_MIN
    while cap < sqns and cap < PGM_RXW_MAX:
        cap <<= 1
    memset(rx, 0, sizeof(pgm_rx_t))
    rx.ring = <pgm_rslot_t *>mq_calloc(cap, sizeof(pgm_rslot_t))
    if rx.ring == NULL:
        return -1
    rx.cap = cap
    rx.maxmsgsize = maxmsgsize
    msg_init(&rx.frame)
    return 0


cdef inline pgm_rslot_t *pgm_rx_slot(pgm_rx_t *rx, uint32_t sqn) noexcept nogil:
    return &rx.ring[sqn & (rx.cap - 1)]


cdef void pgm_rx_slot_clear(pgm_rslot_t *sl) noexcept nogil:
    free(sl.data)
    memset(sl, 0, sizeof(pgm_rslot_t))


cdef void pgm_rx_fini(pgm_rx_t *rx) noexcept nogil:
    cdef uint32_t i
    if rx.ring != NULL:
        for i in range(rx.cap):
            free(rx.ring[i].data)
        free(rx.ring)
        rx.ring = NULL
    free(rx.cur)
    rx.cur = NULL
    free(rx.apdu)
    rx.apdu = NULL
    if rx.frame_open or rx.frame_ready:
        msg_close(&rx.frame)
    rx.frame_open = False
    rx.frame_ready = False


cdef inline long long pgm_nak_backoff(long long now) noexcept nogil:
    # RFC 3208 5.3: a random back-off before the first NAK, so that many
    # receivers missing the same packet do not all NAK at once.
    return now + 1 + <long long>(mq_random_u32() % PGM_NAK_BO_IVL)


cdef void pgm_rx_extend(pgm_rx_t *rx, uint32_t to, long long now) noexcept nogil:
    """Sequence numbers up to `to` exist: those not seen are gaps to NAK.
    A lead more than the window ahead of next: the oldest are lost."""
    cdef pgm_rslot_t *sl
    while pgm_sqn_lt(rx.lead, to):
        rx.lead += 1
        if rx.lead - rx.next >= rx.cap:
            # No room: what is still missing at the start is given up
            # (RX_LOST), data there is decoded first by drain.
            rx.skip = True
            rx.skip_to = rx.lead - rx.cap + 1
            rx.lead = rx.next + rx.cap - 1
            return
        sl = pgm_rx_slot(rx, rx.lead)
        pgm_rx_slot_clear(sl)
        sl.state = RS_MISSING
        sl.nak_due = pgm_nak_backoff(now)


cdef void pgm_rx_trail(pgm_rx_t *rx, uint32_t trail) noexcept nogil:
    """The source keeps nothing before trail: gaps there are losses."""
    cdef uint32_t s = rx.next
    if not rx.started or not pgm_sqn_lt(rx.next, trail):
        return
    while pgm_sqn_lt(s, trail) and not pgm_sqn_lt(rx.lead, s):
        if pgm_rx_slot(rx, s).state == RS_MISSING:
            pgm_rx_slot(rx, s).state = RS_LOST
        s += 1
    if pgm_sqn_lt(rx.lead, s) and pgm_sqn_lt(s, trail):
        # Packets we never heard of are gone too.
        if not rx.skip or pgm_sqn_lt(rx.skip_to, trail):
            rx.skip = True
            rx.skip_to = trail


cdef bint pgm_rx_is_source(const pgm_rx_t *rx, const unsigned char *gsi, unsigned int sport) noexcept nogil:
    """rx follows the source of this TSI."""
    return rx.have_source and rx.sport == sport and memcmp(rx.gsi, gsi, 6) == 0


cdef bint pgm_rx_same_source(pgm_rx_t *rx, const pgm_pkt_t *pkt) noexcept nogil:
    """The first source heard is the one followed (others are ignored: the
    engine keeps one window a source)."""
    if not rx.have_source:
        memcpy(rx.gsi, pkt.gsi, 6)
        rx.sport = pkt.sport
        rx.have_source = True
        return True
    return rx.sport == pkt.sport and memcmp(rx.gsi, pkt.gsi, 6) == 0


cdef int pgm_rx_on_data(pgm_rx_t *rx, const pgm_pkt_t *pkt, uint32_t from_addr, long long now) noexcept nogil:
    """An ODATA/RDATA of our source: kept in the window. 0, or -1 ENOMEM."""
    cdef pgm_rslot_t *sl
    cdef unsigned char *copy
    if not rx.started:
        rx.started = True
        rx.next = pkt.sqn
        rx.lead = pkt.sqn - 1
    # Until an SPM gives the NLA, NAKs wait: an SPMR goes here for one.
    rx.data_from = from_addr
    if pgm_sqn_lt(pkt.sqn, rx.next):
        return 0        # decoded already, or given up
    if rx.skip and pgm_sqn_lt(pkt.sqn, rx.skip_to):
        return 0
    pgm_rx_extend(rx, pkt.sqn, now)
    if pgm_sqn_lt(rx.lead, pkt.sqn):
        return 0        # beyond the window (extend gave up the start)
    sl = pgm_rx_slot(rx, pkt.sqn)
    if sl.state == RS_MISSING:
        copy = <unsigned char *>mq_malloc(pkt.len if pkt.len else 1)
        if copy == NULL:
            return -1
        memcpy(copy, pkt.data, pkt.len)
        sl.data = copy
        sl.len = pkt.len
        sl.state = RS_DATA
        sl.fragment = pkt.fragment
        sl.frag_first = pkt.frag_first
        sl.frag_off = pkt.frag_off
        sl.frag_len = pkt.frag_len
    pgm_rx_trail(rx, pkt.trail)
    return 0


cdef void pgm_rx_on_spm(pgm_rx_t *rx, const pgm_pkt_t *pkt, long long now) noexcept nogil:
    """SPM: where NAKs go, and how far the source got (a lost last packet
    shows only here)."""
    rx.nla = pkt.nla
    rx.have_nla = True
    if rx.started:
        if not pgm_sqn_lt(pkt.lead, rx.next) and pkt.lead - rx.next < 0x7fffffff:
            pgm_rx_extend(rx, pkt.lead, now)
        pgm_rx_trail(rx, pkt.trail)


cdef void pgm_rx_on_ncf(pgm_rx_t *rx, uint32_t sqn, long long now) noexcept nogil:
    """The source confirmed a NAK: wait for the repair, not NAK again soon."""
    cdef pgm_rslot_t *sl
    if not rx.started or pgm_sqn_lt(sqn, rx.next) or pgm_sqn_lt(rx.lead, sqn):
        return
    sl = pgm_rx_slot(rx, sqn)
    if sl.state == RS_MISSING:
        sl.nak_due = now + PGM_NAK_RDATA_IVL


cdef int pgm_rx_due_naks(pgm_rx_t *rx, long long now, uint32_t *out, int cap,
                         long long *next_due) noexcept nogil:
    """The gaps to NAK now (up to cap of them, in out); *next_due the next
    time one falls due (-1: none). A gap NAKed too often is lost."""
    cdef uint32_t s = rx.next
    cdef pgm_rslot_t *sl
    cdef int n = 0
    next_due[0] = -1
    if not rx.started:
        return 0
    while not pgm_sqn_lt(rx.lead, s):
        sl = pgm_rx_slot(rx, s)
        if sl.state == RS_MISSING:
            if sl.nak_due <= now and n < cap:
                if sl.nak_tries >= PGM_NAK_RETRIES:
                    sl.state = RS_LOST
                else:
                    sl.nak_tries += 1
                    sl.nak_due = now + PGM_NAK_RPT_IVL
                    out[n] = s
                    n += 1
            if sl.state == RS_MISSING and (next_due[0] < 0 or sl.nak_due < next_due[0]):
                next_due[0] = sl.nak_due
        s += 1
    return n


cdef void pgm_rx_reset(pgm_rx_t *rx, pgm_drop_fn drop, void *ctx) noexcept nogil:
    """A loss or a malformed APDU: the message under way is taken back, and
    decoding waits for the next message boundary."""
    if rx.frame_open or rx.frame_ready:
        msg_close(&rx.frame)
        rx.frame_open = False
        rx.frame_ready = False
    drop(ctx)
    rx.joined = False
    rx.in_message = False
    rx.stage = V1_LEN
    free(rx.cur)
    rx.cur = NULL
    free(rx.apdu)
    rx.apdu = NULL
    rx.losses += 1


cdef int pgm_v1_deliver(pgm_rx_t *rx, pgm_deliver_fn deliver, void *ctx) noexcept nogil:
    """The whole frame to the sink; in_message says whether more of its
    message is to come (the engine keeps sources' messages apart)."""
    cdef bint more = (rx.frame.flags & MSG_MORE) != 0
    cdef int rc = deliver(ctx, &rx.frame)
    if rc == 1:
        rx.frame_ready = True
        return RX_BLOCKED
    if rc < 0:
        return RX_FATAL
    rx.in_message = more
    msg_init(&rx.frame)
    return RX_DONE


cdef int pgm_v1_frame_done(pgm_rx_t *rx, pgm_deliver_fn deliver, void *ctx) noexcept nogil:
    rx.frame_open = False
    rx.stage = V1_LEN
    return pgm_v1_deliver(rx, deliver, ctx)


cdef int pgm_v1_decode(pgm_rx_t *rx, pgm_deliver_fn deliver, void *ctx) noexcept nogil:
    """Frames from the current APDU. RX_DONE (all of it read), RX_BLOCKED,
    RX_FATAL, or 2: malformed (the caller resets)."""
    cdef unsigned int off
    cdef size_t n
    cdef unsigned char b
    cdef int rc
    cdef const unsigned char *p = rx.cur
    if rx.frame_ready:
        rx.frame_ready = False
        rc = pgm_v1_deliver(rx, deliver, ctx)
        if rc != RX_DONE:
            return rc
    if rx.cur_fresh:
        rx.cur_fresh = False
        if rx.cur_len < 2:
            return 2
        off = pgm_get_u16(p)
        rx.cur_pos = 2
        if not rx.joined:
            if off == PGM_OFFSET_NONE:
                return RX_DONE      # no message starts here: wait for one
            if off > rx.cur_len - 2:
                return 2
            rx.cur_pos += off
            rx.joined = True
            rx.stage = V1_LEN
    while rx.cur_pos < rx.cur_len:
        if rx.stage == V1_LEN:
            b = p[rx.cur_pos]
            rx.cur_pos += 1
            if b == 0xff:
                rx.stage = V1_LEN8
                rx.lenfill = 0
            elif b == 0:
                return 2        # the length counts the flags byte
            else:
                rx.size = b
                rx.stage = V1_FLAGS
        elif rx.stage == V1_LEN8:
            n = min(<size_t>(8 - rx.lenfill), rx.cur_len - rx.cur_pos)
            memcpy(rx.lenbuf + rx.lenfill, p + rx.cur_pos, n)
            rx.lenfill += <int>n
            rx.cur_pos += n
            if rx.lenfill == 8:
                rx.size = mq_get_u64(rx.lenbuf)
                if rx.size == 0:
                    return 2
                rx.stage = V1_FLAGS
        elif rx.stage == V1_FLAGS:
            b = p[rx.cur_pos]
            rx.cur_pos += 1
            if rx.maxmsgsize >= 0 and rx.size - 1 > <uint64_t>rx.maxmsgsize:
                return 2
            if rx.size - 1 > <uint64_t>PGM_APDU_MAX * 64 or msg_init_body(&rx.frame, <size_t>(rx.size - 1)) < 0:
                return 2        # more than memory gives: the message is lost
            if b & 1:
                rx.frame.flags |= MSG_MORE
            rx.frame_open = True
            rx.frame_fill = 0
            rx.stage = V1_BODY
            if rx.size == 1:
                rc = pgm_v1_frame_done(rx, deliver, ctx)
                if rc != RX_DONE:
                    return rc
        else:
            n = min(<size_t>(rx.size - 1 - rx.frame_fill), rx.cur_len - rx.cur_pos)
            memcpy(msg_data(&rx.frame) + rx.frame_fill, p + rx.cur_pos, n)
            rx.frame_fill += n
            rx.cur_pos += n
            if rx.frame_fill == rx.size - 1:
                rc = pgm_v1_frame_done(rx, deliver, ctx)
                if rc != RX_DONE:
                    return rc
    return RX_DONE


cdef int pgm_rx_take_apdu(pgm_rx_t *rx, pgm_rslot_t *sl, uint32_t sqn) noexcept nogil:
    """Moves an in-order TSDU into the current APDU (or into the one being
    put together from fragments). 1 an APDU is ready, 0 not yet, 2
    malformed (reset), -1 ENOMEM."""
    if not sl.fragment:
        if rx.apdu != NULL:
            return 2            # the rest of a fragmented APDU never came
        rx.cur = sl.data
        rx.cur_len = sl.len
        rx.cur_fresh = True
        sl.data = NULL
        return 1
    if rx.apdu == NULL:
        if sl.frag_off != 0 or sl.frag_first != sqn:
            return 0 if not rx.joined else 2    # joined mid-APDU: skip it
        if sl.frag_len > PGM_APDU_MAX:
            return 2
        rx.apdu = <unsigned char *>mq_malloc(sl.frag_len)
        if rx.apdu == NULL:
            return -1
        rx.apdu_len = sl.frag_len
        rx.apdu_first = sqn
        rx.apdu_fill = 0
    if sl.frag_first != rx.apdu_first or sl.frag_len != rx.apdu_len or sl.frag_off != rx.apdu_fill:
        return 2
    memcpy(rx.apdu + rx.apdu_fill, sl.data, sl.len)    # parse checked off + len <= frag_len
    rx.apdu_fill += sl.len
    if rx.apdu_fill < rx.apdu_len:
        return 0
    rx.cur = rx.apdu
    rx.cur_len = rx.apdu_len
    rx.cur_fresh = True
    rx.apdu = NULL
    return 1


cdef int pgm_rx_drain(pgm_rx_t *rx, pgm_deliver_fn deliver, pgm_drop_fn drop, void *ctx) noexcept nogil:
    """Decodes what is in order, through losses. RX_DONE, RX_BLOCKED (the
    sink is full: call again when it is not), RX_FATAL."""
    cdef pgm_rslot_t *sl
    cdef int rc
    while True:
        if rx.cur != NULL:
            rc = pgm_v1_decode(rx, deliver, ctx)
            if rc == RX_BLOCKED or rc == RX_FATAL:
                return rc
            if rc == 2:
                pgm_rx_reset(rx, drop, ctx)
            free(rx.cur)
            rx.cur = NULL
        if not rx.started or pgm_sqn_lt(rx.lead, rx.next):
            break
        sl = pgm_rx_slot(rx, rx.next)
        if sl.state == RS_MISSING:
            if rx.skip and pgm_sqn_lt(rx.next, rx.skip_to):
                sl.state = RS_LOST
            else:
                break
        if sl.state == RS_LOST:
            pgm_rx_reset(rx, drop, ctx)
        else:
            rc = pgm_rx_take_apdu(rx, sl, rx.next)
            if rc < 0:
                return RX_FATAL
            if rc == 2:
                pgm_rx_reset(rx, drop, ctx)
        pgm_rx_slot_clear(sl)
        rx.next += 1
    if rx.skip:
        if rx.started and pgm_sqn_lt(rx.next, rx.skip_to):
            pgm_rx_reset(rx, drop, ctx)
            rx.next = rx.skip_to
            rx.lead = rx.skip_to - 1
        rx.skip = False
    return RX_DONE


cdef int pgm_rx_on_packet(pgm_rx_t *rx, const pgm_pkt_t *pkt, unsigned int port,
                          uint32_t from_addr, long long now) noexcept nogil:
    """A parsed packet heard on the group: what a receiver takes (ODATA,
    RDATA, SPM, NCF of its source on its port) goes into the window; the
    rest is ignored. 0, or -1 ENOMEM."""
    if pkt.dport != port:
        return 0
    if pkt.type != PGM_ODATA and pkt.type != PGM_RDATA and pkt.type != PGM_SPM and pkt.type != PGM_NCF:
        return 0
    if not pgm_rx_same_source(rx, pkt):
        return 0
    if pkt.type == PGM_SPM:
        pgm_rx_on_spm(rx, pkt, now)
    elif pkt.type == PGM_NCF:
        pgm_rx_on_ncf(rx, pkt.sqn, now)
    else:
        return pgm_rx_on_data(rx, pkt, from_addr, now)
    return 0


cdef bint pgm_rx_fills_gap(pgm_rx_t *rx, const pgm_pkt_t *pkt) noexcept nogil:
    """pkt is data for a gap the window has."""
    return (rx.started and not pgm_sqn_lt(pkt.sqn, rx.next) and not pgm_sqn_lt(rx.lead, pkt.sqn)
            and pgm_rx_slot(rx, pkt.sqn).state == RS_MISSING)
