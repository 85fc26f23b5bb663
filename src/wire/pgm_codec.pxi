# PGM packets (RFC 3208) as OpenPGM writes and reads them: the 16-byte
# common header, the ODATA/RDATA, SPM, NAK/NCF and SPMR bodies (IPv4 NLAs),
# and the option extensions we act on (OPT_LENGTH, OPT_FRAGMENT,
# OPT_NAK_LIST); every other option is skipped by its length. Every byte
# here came from the network: each length is checked against what was
# received before anything is read.

cdef enum:
    PGM_SPM = 0x00
    PGM_ODATA = 0x04
    PGM_RDATA = 0x05
    PGM_NAK = 0x08
    PGM_NNAK = 0x09
    PGM_NCF = 0x0a
    PGM_SPMR = 0x0c
    PGM_HEADER = 16
    PGM_DATA_HEADER = 8         # data_sqn, data_trail
    PGM_SPM_BODY = 20           # sqn, trail, lead, afi, reserved, IPv4 NLA
    PGM_NAK_BODY = 20           # sqn, afi, reserved, src NLA, afi, reserved, group NLA
    PGM_OPT_PRESENT = 0x01
    PGM_OPT_END = 0x80
    PGM_OPT_MASK = 0x7f
    PGM_OPT_LENGTH = 0x00
    PGM_OPT_FRAGMENT = 0x01
    PGM_OPT_NAK_LIST = 0x02
    PGM_OPT_FRAGMENT_LEN = 16
    PGM_NAK_LIST_MAX = 62
    PGM_AFI_IP = 1
    PGM_OFFSET_NONE = 0xffff    # libzmq: no message starts in this APDU


cdef struct pgm_pkt_t:
    int type
    unsigned int sport          # host order
    unsigned int dport
    unsigned char gsi[6]
    uint32_t sqn                # data, NAK/NCF: the sequence number; SPM: its own
    uint32_t trail              # data, SPM: the source's trailing edge
    uint32_t lead               # SPM: the leading edge
    uint32_t nla                # SPM path NLA / NAK source NLA (network order)
    uint32_t group              # NAK/NCF group NLA (network order)
    const unsigned char *data   # ODATA/RDATA: the TSDU
    size_t len
    bint fragment               # OPT_FRAGMENT: part of an APDU
    uint32_t frag_first         # the APDU's first sequence number
    uint32_t frag_off           # where this TSDU goes in it
    uint32_t frag_len           # the APDU's length
    int nak_count               # OPT_NAK_LIST: further sequence numbers
    uint32_t nak_list[PGM_NAK_LIST_MAX]


cdef inline unsigned int pgm_get_u16(const unsigned char *p) noexcept nogil:
    return (<unsigned int>p[0] << 8) | p[1]


cdef inline void pgm_put_u16(unsigned char *p, unsigned int v) noexcept nogil:
    p[0] = (v >> 8) & 0xff
    p[1] = v & 0xff


cdef inline bint pgm_sqn_lt(uint32_t a, uint32_t b) noexcept nogil:
    """a before b in sequence space (wraps at 2^32)."""
    return <int>(a - b) < 0


cdef unsigned int pgm_checksum(const unsigned char *p, size_t n, size_t skip) noexcept nogil:
    """The Internet checksum of a PGM packet, the two bytes at `skip` read
    as zero; as OpenPGM folds it (0xffff stays: 0 means none sent)."""
    cdef uint32_t sum = 0
    cdef size_t i = 0
    while i + 1 < n:
        if i != skip:
            sum += (<uint32_t>p[i] << 8) | p[i + 1]
        i += 2
    if i < n:
        sum += <uint32_t>p[i] << 8
    sum = (sum >> 16) + (sum & 0xffff)
    sum += sum >> 16
    sum &= 0xffff
    return sum if sum == 0xffff else (~sum) & 0xffff


cdef int pgm_parse_options(const unsigned char *p, size_t n, pgm_pkt_t *pkt) noexcept nogil:
    """The option extensions at p (n bytes follow); their total length, or
    -1 when malformed. OPT_LENGTH comes first and says the total."""
    cdef size_t total, at, olen
    cdef int t, i, k
    if n < 4 or (p[0] & PGM_OPT_MASK) != PGM_OPT_LENGTH or p[1] != 4:
        return -1
    total = pgm_get_u16(p + 2)
    if total < 4 or total > n:
        return -1
    at = 4
    while True:
        if at + 3 > total:
            return -1       # OPT_END missing
        t = p[at] & PGM_OPT_MASK
        olen = p[at + 1]
        if olen < 3 or at + olen > total:
            return -1
        if t == PGM_OPT_FRAGMENT:
            if olen != PGM_OPT_FRAGMENT_LEN:
                return -1
            pkt.fragment = True
            pkt.frag_first = mq_get_u32(p + at + 4)
            pkt.frag_off = mq_get_u32(p + at + 8)
            pkt.frag_len = mq_get_u32(p + at + 12)
        elif t == PGM_OPT_NAK_LIST:
            if olen < 4 or (olen - 4) % 4 != 0 or (olen - 4) // 4 > PGM_NAK_LIST_MAX:
                return -1
            k = <int>((olen - 4) // 4)
            for i in range(k):
                pkt.nak_list[i] = mq_get_u32(p + at + 4 + 4 * i)
            pkt.nak_count = k
        if p[at] & PGM_OPT_END:
            break
        at += olen
    return <int>total


cdef int pgm_parse(const unsigned char *p, size_t n, pgm_pkt_t *pkt) noexcept nogil:
    """One PGM packet (header first) into *pkt. 0, or -1: malformed, a bad
    checksum, an ODATA/RDATA without one, an IPv6 NLA, or a type we do not
    take (POLL/POLR/ACK): the caller drops it."""
    cdef size_t at, tsdu
    cdef unsigned int sum
    cdef int olen
    memset(pkt, 0, sizeof(pgm_pkt_t) - sizeof(pkt.nak_list))
    if n < PGM_HEADER:
        return -1
    pkt.type = p[4]
    sum = pgm_get_u16(p + 6)
    if sum != 0:
        if pgm_checksum(p, n, 6) != sum:
            return -1
    elif pkt.type == PGM_ODATA or pkt.type == PGM_RDATA:
        return -1           # mandatory for data (OpenPGM too)
    pkt.sport = pgm_get_u16(p)
    pkt.dport = pgm_get_u16(p + 2)
    memcpy(pkt.gsi, p + 8, 6)
    tsdu = pgm_get_u16(p + 14)
    at = PGM_HEADER
    if pkt.type == PGM_ODATA or pkt.type == PGM_RDATA:
        if n - at < PGM_DATA_HEADER:
            return -1
        pkt.sqn = mq_get_u32(p + at)
        pkt.trail = mq_get_u32(p + at + 4)
        at += PGM_DATA_HEADER
    elif pkt.type == PGM_SPM:
        if n - at < PGM_SPM_BODY or pgm_get_u16(p + at + 12) != PGM_AFI_IP:
            return -1
        pkt.sqn = mq_get_u32(p + at)
        pkt.trail = mq_get_u32(p + at + 4)
        pkt.lead = mq_get_u32(p + at + 8)
        memcpy(&pkt.nla, p + at + 16, 4)
        at += PGM_SPM_BODY
    elif pkt.type == PGM_NAK or pkt.type == PGM_NCF or pkt.type == PGM_NNAK:
        if (n - at < PGM_NAK_BODY or pgm_get_u16(p + at + 4) != PGM_AFI_IP
                or pgm_get_u16(p + at + 12) != PGM_AFI_IP):
            return -1
        pkt.sqn = mq_get_u32(p + at)
        memcpy(&pkt.nla, p + at + 8, 4)
        memcpy(&pkt.group, p + at + 16, 4)
        at += PGM_NAK_BODY
    elif pkt.type != PGM_SPMR:
        return -1
    if p[5] & PGM_OPT_PRESENT:
        olen = pgm_parse_options(p + at, n - at, pkt)
        if olen < 0:
            return -1
        at += <size_t>olen
    if pkt.type == PGM_ODATA or pkt.type == PGM_RDATA:
        if n - at != tsdu:
            return -1
        pkt.data = p + at
        pkt.len = tsdu
        if pkt.fragment and (pkt.frag_len == 0 or pkt.frag_off >= pkt.frag_len
                             or tsdu > pkt.frag_len - pkt.frag_off or tsdu == 0
                             or pgm_sqn_lt(pkt.sqn, pkt.frag_first)):
            return -1
    return 0


cdef size_t pgm_put_header(unsigned char *p, int type, unsigned int sport, unsigned int dport,
                           const unsigned char *gsi, size_t tsdu) noexcept nogil:
    pgm_put_u16(p, sport)
    pgm_put_u16(p + 2, dport)
    p[4] = <unsigned char>type
    p[5] = 0
    p[6] = 0
    p[7] = 0
    memcpy(p + 8, gsi, 6)
    pgm_put_u16(p + 14, tsdu)
    return PGM_HEADER


cdef inline void pgm_seal(unsigned char *p, size_t n) noexcept nogil:
    """Writes the checksum of the finished packet p[0:n]."""
    p[6] = 0
    p[7] = 0
    pgm_put_u16(p + 6, pgm_checksum(p, n, 6))


cdef size_t pgm_build_data(unsigned char *p, int type, unsigned int sport, unsigned int dport,
                           const unsigned char *gsi, uint32_t sqn, uint32_t trail,
                           const unsigned char *data, size_t n) noexcept nogil:
    """An ODATA/RDATA packet carrying data[0:n] (n fits 16 bits); its length."""
    cdef size_t at = pgm_put_header(p, type, sport, dport, gsi, n)
    mq_put_u32(p + at, sqn)
    mq_put_u32(p + at + 4, trail)
    at += PGM_DATA_HEADER
    if data != p + at:
        memmove(p + at, data, n)
    at += n
    pgm_seal(p, at)
    return at


cdef size_t pgm_build_spm(unsigned char *p, unsigned int sport, unsigned int dport,
                          const unsigned char *gsi, uint32_t spm_sqn, uint32_t trail,
                          uint32_t lead, uint32_t nla) noexcept nogil:
    cdef size_t at = pgm_put_header(p, PGM_SPM, sport, dport, gsi, 0)
    mq_put_u32(p + at, spm_sqn)
    mq_put_u32(p + at + 4, trail)
    mq_put_u32(p + at + 8, lead)
    pgm_put_u16(p + at + 12, PGM_AFI_IP)
    pgm_put_u16(p + at + 14, 0)
    memcpy(p + at + 16, &nla, 4)
    at += PGM_SPM_BODY
    pgm_seal(p, at)
    return at


cdef size_t pgm_build_nak(unsigned char *p, int type, unsigned int sport, unsigned int dport,
                          const unsigned char *gsi, uint32_t sqn, uint32_t src_nla,
                          uint32_t group) noexcept nogil:
    """A NAK (receiver to source: ports reversed) or an NCF (source to the
    group) for one sequence number."""
    cdef size_t at = pgm_put_header(p, type, sport, dport, gsi, 0)
    mq_put_u32(p + at, sqn)
    pgm_put_u16(p + at + 4, PGM_AFI_IP)
    pgm_put_u16(p + at + 6, 0)
    memcpy(p + at + 8, &src_nla, 4)
    pgm_put_u16(p + at + 12, PGM_AFI_IP)
    pgm_put_u16(p + at + 14, 0)
    memcpy(p + at + 16, &group, 4)
    at += PGM_NAK_BODY
    pgm_seal(p, at)
    return at


cdef size_t pgm_build_spmr(unsigned char *p, unsigned int sport, unsigned int dport,
                           const unsigned char *gsi) noexcept nogil:
    cdef size_t at = pgm_put_header(p, PGM_SPMR, sport, dport, gsi, 0)
    pgm_seal(p, at)
    return at
