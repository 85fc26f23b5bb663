# Socket types as data (nng's protocol tables, libzmq's socket_base
# subclasses): the zmq.h number of each type, and one row per type holding
# every fact about it and its behaviour. Layers below proto/ (codec,
# mechanisms, engines, the options) ask the row's facts; the socket core
# calls its hooks. proto/types.pxi fills every row, facts and hooks, one
# block a type, so that a new type is one file in proto/ plus one block
# there. Nothing outside proto/ compares type numbers.

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

# What a type's hooks take; defined further up (proto/, pipe/, base/msg).
cdef struct sock_t
cdef struct pipe_end_t
cdef struct msg_t

ctypedef int (*xsend_fn)(sock_t *, msg_t *) noexcept nogil
ctypedef bint (*xpoll_fn)(sock_t *) noexcept nogil
ctypedef int (*xpipe_fn)(sock_t *, pipe_end_t *) noexcept nogil
ctypedef void (*xpipe_void_fn)(sock_t *, pipe_end_t *) noexcept nogil

cdef struct socktype_t:
    # ---- facts: what the layers below proto/ may ask
    int type                    # zmq.h number
    const char *name            # ZMTP Socket-Type property value
    bint known                  # a row this build implements (it has hooks)
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
    bint owes_reply             # each message received must be answered before the next (REP)
    bint connects_peers         # connect_peer() gives the new peer's routing id (PEER)
    bint shows_subscriptions    # the user reads the subscriptions that arrive (XPUB)
    bint groups_out             # messages leave as group frame + body; JOIN/LEAVE commands come in (RADIO)
    bint groups_in              # group frame + body come in as one message; JOIN/LEAVE go out (DISH)
    const char *options         # type-specific options it takes, by name, space-separated
    unsigned long long option_bits[2]   # the same by number (bit n), filled at import
    # ---- behaviour (proto/types.pxi fills it): libzmq's x-methods
    bint uses_lb                # outgoing pipes join the load-balancer
    bint uses_fq                # incoming pipes join the fair-queue
    int max_pipes               # 0: any number; PAIR: 1
    xsend_fn xsend
    xsend_fn xrecv
    xpoll_fn xhas_in
    xpoll_fn xhas_out
    # optional hooks (NULL: nothing to do)
    xpipe_fn xattach                    # a pipe joined (ENOMEM: turn it away)
    xpipe_void_fn xdetach               # a pipe is leaving
    xpipe_void_fn xread_activated       # instead of fq activation
    xpipe_void_fn xhiccup               # its connection was re-made
    int (*xsubscribe)(sock_t *, const unsigned char *, size_t, bint) noexcept nogil   # SUBSCRIBE/UNSUBSCRIBE
    int (*xjoin)(sock_t *, const unsigned char *, size_t, bint) noexcept nogil        # join()/leave() (DISH)
    # ---- private state: priv_size bytes after the sock_t, zeroed, and the
    # hooks of the family that shares its layout (proto/*.pxi)
    size_t priv_size
    int (*xinit)(sock_t *) noexcept nogil                   # 0 or ENOMEM (xfree then undoes it)
    void (*xfree)(sock_t *) noexcept nogil                   # also on a zeroed block xinit never saw
    void (*xforget)(sock_t *, pipe_end_t *, bint) noexcept nogil   # nothing may reach the pipe (bint: it is gone, not just unroutable)
    void (*xabort_send)(sock_t *) noexcept nogil            # take back the message half sent
    int (*xtake_identity)(sock_t *, pipe_end_t *, msg_t *) noexcept nogil  # in-band routing id from the session

cdef socktype_t SOCKTYPES[NSOCKTYPES]


cdef inline unsigned int bit(int t) noexcept nogil:
    return 1u << t


# Facts given as one word to socktype_row.
cdef enum:
    F_THREAD_SAFE = 1 << 0
    F_ROUTES_BY_ID = 1 << 1
    F_SENDS_IDENTITY = 1 << 2
    F_CONFLATES = 1 << 3
    F_RAW = 1 << 4
    F_READS_SUBSCRIPTIONS = 1 << 5
    F_COUNTS_TOPICS = 1 << 6
    F_PIPE_PER_CONNECTION = 1 << 7
    F_OWES_REPLY = 1 << 8
    F_CONNECTS_PEERS = 1 << 9
    F_SHOWS_SUBSCRIPTIONS = 1 << 10
    F_LOAD_BALANCES = 1 << 11       # uses_lb
    F_FAIR_QUEUES = 1 << 12         # uses_fq
    F_ONE_PEER = 1 << 13            # max_pipes 1
    F_GROUPS_OUT = 1 << 14
    F_GROUPS_IN = 1 << 15


cdef socktype_t *socktype_row(int t, const char *name, unsigned int peers, unsigned int facts,
                              const char *options) noexcept nogil:
    """Starts type t's row afresh with its facts; the caller (proto/types.pxi)
    then gives it its hooks. default_linger is -1 (forever)."""
    cdef socktype_t *r = &SOCKTYPES[t]
    memset(r, 0, sizeof(socktype_t))
    r.type = t
    r.name = name
    r.peers = peers
    r.options = options
    r.default_linger = -1
    r.thread_safe = (facts & F_THREAD_SAFE) != 0
    r.routes_by_id = (facts & F_ROUTES_BY_ID) != 0
    r.sends_identity = (facts & F_SENDS_IDENTITY) != 0
    r.conflates = (facts & F_CONFLATES) != 0
    r.raw = (facts & F_RAW) != 0
    r.reads_subscriptions = (facts & F_READS_SUBSCRIPTIONS) != 0
    r.counts_topics = (facts & F_COUNTS_TOPICS) != 0
    r.pipe_per_connection = (facts & F_PIPE_PER_CONNECTION) != 0
    r.owes_reply = (facts & F_OWES_REPLY) != 0
    r.connects_peers = (facts & F_CONNECTS_PEERS) != 0
    r.shows_subscriptions = (facts & F_SHOWS_SUBSCRIPTIONS) != 0
    r.groups_out = (facts & F_GROUPS_OUT) != 0
    r.groups_in = (facts & F_GROUPS_IN) != 0
    r.uses_lb = (facts & F_LOAD_BALANCES) != 0
    r.uses_fq = (facts & F_FAIR_QUEUES) != 0
    r.max_pipes = 1 if facts & F_ONE_PEER else 0
    return r


cdef inline bint socktype_takes_option(const socktype_t *r, int option) noexcept nogil:
    """Whether the row lists `option` among its type-specific ones."""
    return 0 <= option < 128 and (r.option_bits[option >> 6] >> (option & 63)) & 1


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
