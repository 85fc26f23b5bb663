# Socket types as data (nng's protocol tables, libzmq's socket_base
# subclasses): the zmq.h number of each type, and one row per type holding
# every fact about it. Layers below proto/ (codec, mechanisms, engines, the
# options) ask the row; proto/types.pxi fills the same row with the type's
# behaviour (its hooks). Nothing outside proto/ compares type numbers.

cdef enum:
    ST_PAIR = 0
    ST_PUB = 1
    ST_SUB = 2
    ST_REQ = 3
    ST_REP = 4
    ST_DEALER = 5
    ST_ROUTER = 6
    ST_PULL = 7
    ST_PUSH = 8
    ST_XPUB = 9
    ST_XSUB = 10
    ST_STREAM = 11
    ST_SERVER = 12
    ST_CLIENT = 13
    ST_RADIO = 14
    ST_DISH = 15
    ST_GATHER = 16
    ST_SCATTER = 17
    ST_DGRAM = 18
    ST_PEER = 19
    ST_CHANNEL = 20
    NSOCKTYPES = 21

cdef struct socktype_t:
    int type                    # zmq.h number
    const char *name            # ZMTP Socket-Type property value
    bint known                  # a row this build implements
    unsigned int peers          # bit (1 << type) per type it may talk to
    bint thread_safe            # calls from any thread (draft types)
    bint routes_by_id           # sessions hand the peer's routing id to the socket
    bint sends_identity         # READY carries our Identity property
    bint conflates              # CONFLATE applies to it
    bint raw                    # no ZMTP: plain bytes on the connection (STREAM)
    bint reads_subscriptions    # 0x01/0x00 messages and SUBSCRIBE/CANCEL are subscriptions
    bint counts_topics          # TOPICS_COUNT readable
    bint pipe_per_connection    # its connect() makes no pipe before the connection is up
    int default_linger          # ms, -1: forever

cdef socktype_t SOCKTYPES[NSOCKTYPES]


cdef inline unsigned int bit(int t) noexcept nogil:
    return 1u << t


cdef void socktype_facts(int t, const char *name, unsigned int peers) noexcept nogil:
    memset(&SOCKTYPES[t], 0, sizeof(socktype_t))
    SOCKTYPES[t].type = t
    SOCKTYPES[t].name = name
    SOCKTYPES[t].peers = peers
    SOCKTYPES[t].default_linger = -1


cdef void define_socktype_facts() noexcept:
    cdef int t
    socktype_facts(ST_PAIR, b"PAIR", bit(ST_PAIR))
    socktype_facts(ST_PUB, b"PUB", bit(ST_SUB) | bit(ST_XSUB))
    socktype_facts(ST_SUB, b"SUB", bit(ST_PUB) | bit(ST_XPUB))
    socktype_facts(ST_REQ, b"REQ", bit(ST_REP) | bit(ST_ROUTER))
    socktype_facts(ST_REP, b"REP", bit(ST_REQ) | bit(ST_DEALER))
    socktype_facts(ST_DEALER, b"DEALER", bit(ST_REP) | bit(ST_DEALER) | bit(ST_ROUTER))
    socktype_facts(ST_ROUTER, b"ROUTER", bit(ST_REQ) | bit(ST_DEALER) | bit(ST_ROUTER))
    socktype_facts(ST_PULL, b"PULL", bit(ST_PUSH))
    socktype_facts(ST_PUSH, b"PUSH", bit(ST_PULL))
    socktype_facts(ST_XPUB, b"XPUB", bit(ST_SUB) | bit(ST_XSUB))
    socktype_facts(ST_XSUB, b"XSUB", bit(ST_PUB) | bit(ST_XPUB))
    socktype_facts(ST_STREAM, b"STREAM", bit(ST_STREAM))
    socktype_facts(ST_SERVER, b"SERVER", bit(ST_CLIENT))
    socktype_facts(ST_CLIENT, b"CLIENT", bit(ST_SERVER))
    socktype_facts(ST_RADIO, b"RADIO", bit(ST_DISH))
    socktype_facts(ST_DISH, b"DISH", bit(ST_RADIO))
    socktype_facts(ST_GATHER, b"GATHER", bit(ST_SCATTER))
    socktype_facts(ST_SCATTER, b"SCATTER", bit(ST_GATHER))
    socktype_facts(ST_DGRAM, b"DGRAM", bit(ST_DGRAM))
    socktype_facts(ST_PEER, b"PEER", bit(ST_PEER))
    socktype_facts(ST_CHANNEL, b"CHANNEL", bit(ST_CHANNEL))
    for t in (ST_SERVER, ST_CLIENT, ST_RADIO, ST_DISH, ST_GATHER, ST_SCATTER, ST_PEER, ST_CHANNEL):
        SOCKTYPES[t].thread_safe = True
    for t in (ST_ROUTER, ST_STREAM, ST_SERVER, ST_PEER):
        SOCKTYPES[t].routes_by_id = True
    for t in (ST_REQ, ST_DEALER, ST_ROUTER):
        SOCKTYPES[t].sends_identity = True
    for t in (ST_DEALER, ST_PULL, ST_PUSH, ST_PUB, ST_SUB):
        SOCKTYPES[t].conflates = True
    for t in (ST_PUB, ST_XPUB):
        SOCKTYPES[t].reads_subscriptions = True
    for t in (ST_PUB, ST_SUB, ST_XPUB, ST_XSUB):
        SOCKTYPES[t].counts_topics = True
    for t in (ST_SUB, ST_XSUB):
        SOCKTYPES[t].default_linger = 0
    SOCKTYPES[ST_STREAM].raw = True
    SOCKTYPES[ST_STREAM].pipe_per_connection = True


define_socktype_facts()


cdef inline socktype_t *socktype(int t) noexcept nogil:
    """The row of type t; NULL for a number that names no type."""
    if t < 0 or t >= NSOCKTYPES:
        return NULL
    return &SOCKTYPES[t]


cdef inline bint socket_types_compatible(int local, int peer) noexcept nogil:
    return 0 <= local < NSOCKTYPES and 0 <= peer < NSOCKTYPES and (SOCKTYPES[local].peers & bit(peer)) != 0


cdef int socket_type_from_name(const unsigned char *name, size_t n) noexcept nogil:
    cdef int i
    for i in range(NSOCKTYPES):
        if strlen(SOCKTYPES[i].name) == n and memcmp(SOCKTYPES[i].name, name, n) == 0:
            return i
    return -1
