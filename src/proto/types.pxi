# Every socket type as a row of SOCKTYPES (nng's protocol tables): one
# block a type, with all of its row: name, the types it talks to, its facts
# (base/socket_types.pxi: F_*), the type-specific options it takes, how it
# routes (hooks) and the private state of its family. A new socket type is
# its file in proto/ plus one block here. Rows without hooks (DGRAM) are
# only facts: a peer may name them, a socket cannot be one.

cdef void behaves(socktype_t *r, xsend_fn xsend, xsend_fn xrecv, xpoll_fn xhas_in,
                  xpoll_fn xhas_out) noexcept nogil:
    r.xsend = xsend
    r.xrecv = xrecv
    r.xhas_in = xhas_in
    r.xhas_out = xhas_out
    r.known = True


cdef void define_socket_types() noexcept nogil:
    cdef socktype_t *r

    r = socktype_row(ST_PAIR, b"PAIR", bit(ST_PAIR), F_LOAD_BALANCES | F_FAIR_QUEUES | F_ONE_PEER, b"")
    behaves(r, lb_send, fq_recv, fq_has_in, lb_has_out)

    r = socktype_row(ST_PUB, b"PUB", bit(ST_SUB) | bit(ST_XSUB),
                     F_CONFLATES | F_READS_SUBSCRIPTIONS | F_COUNTS_TOPICS,
                     b"XPUB_NODROP INVERT_MATCHING")
    behaves(r, dist_send, no_recv, never, always)
    r.xattach, r.xdetach, r.xread_activated = xpub_attach, xpub_detach, xpub_read
    pubsub_family(r)

    r = socktype_row(ST_SUB, b"SUB", bit(ST_PUB) | bit(ST_XPUB),
                     F_CONFLATES | F_COUNTS_TOPICS | F_FAIR_QUEUES,
                     b"SUBSCRIBE UNSUBSCRIBE INVERT_MATCHING")
    behaves(r, no_send, sub_recv, sub_has_in, never)
    r.xattach, r.xhiccup, r.xsubscribe = xsub_attach, xsub_resend_all, sub_subscribe
    r.default_linger = 0
    pubsub_family(r)

    r = socktype_row(ST_REQ, b"REQ", bit(ST_REP) | bit(ST_ROUTER),
                     F_SENDS_IDENTITY | F_LOAD_BALANCES | F_FAIR_QUEUES,
                     b"PROBE_ROUTER REQ_CORRELATE REQ_RELAXED")
    behaves(r, req_send, req_recv, req_has_in, req_has_out)
    r.xattach = dealer_attach
    req_hooks(r)

    r = socktype_row(ST_REP, b"REP", bit(ST_REQ) | bit(ST_DEALER), F_OWES_REPLY | F_FAIR_QUEUES, b"")
    behaves(r, rep_send, rep_recv, rep_has_in, rep_has_out)
    rep_hooks(r)

    r = socktype_row(ST_DEALER, b"DEALER", bit(ST_REP) | bit(ST_DEALER) | bit(ST_ROUTER),
                     F_SENDS_IDENTITY | F_CONFLATES | F_LOAD_BALANCES | F_FAIR_QUEUES,
                     b"PROBE_ROUTER")
    behaves(r, lb_send, fq_recv, fq_has_in, lb_has_out)
    r.xattach = dealer_attach

    r = socktype_row(ST_ROUTER, b"ROUTER", bit(ST_REQ) | bit(ST_DEALER) | bit(ST_ROUTER),
                     F_ROUTES_BY_ID | F_SENDS_IDENTITY | F_FAIR_QUEUES,
                     b"ROUTER_MANDATORY ROUTER_HANDOVER PROBE_ROUTER CONNECT_ROUTING_ID")
    behaves(r, router_send, router_recv, router_has_in, router_has_out)
    r.xattach, r.xread_activated = router_attach, router_read_activated
    route_family(r)

    r = socktype_row(ST_PULL, b"PULL", bit(ST_PUSH), F_CONFLATES | F_FAIR_QUEUES, b"")
    behaves(r, no_send, fq_recv, fq_has_in, never)

    r = socktype_row(ST_PUSH, b"PUSH", bit(ST_PULL), F_CONFLATES | F_LOAD_BALANCES, b"")
    behaves(r, lb_send, no_recv, never, lb_has_out)

    r = socktype_row(ST_XPUB, b"XPUB", bit(ST_SUB) | bit(ST_XSUB),
                     F_READS_SUBSCRIPTIONS | F_COUNTS_TOPICS | F_SHOWS_SUBSCRIPTIONS,
                     b"SUBSCRIBE UNSUBSCRIBE XPUB_VERBOSE XPUB_VERBOSER XPUB_MANUAL XPUB_WELCOME_MSG "
                     b"XPUB_NODROP INVERT_MATCHING ONLY_FIRST_SUBSCRIBE")
    behaves(r, dist_send, xpub_recv, xpub_has_in, always)
    r.xattach, r.xdetach, r.xread_activated = xpub_attach, xpub_detach, xpub_read
    r.xsubscribe = xpub_manual_subscribe
    pubsub_family(r)

    r = socktype_row(ST_XSUB, b"XSUB", bit(ST_PUB) | bit(ST_XPUB), F_COUNTS_TOPICS | F_FAIR_QUEUES,
                     b"ONLY_FIRST_SUBSCRIBE XSUB_VERBOSE_UNSUBSCRIBE")
    behaves(r, xsub_send, fq_recv, fq_has_in, always)
    r.xattach, r.xhiccup = xsub_attach, xsub_resend_all
    r.default_linger = 0
    pubsub_family(r)

    r = socktype_row(ST_STREAM, b"STREAM", bit(ST_STREAM),
                     F_ROUTES_BY_ID | F_RAW | F_PIPE_PER_CONNECTION | F_FAIR_QUEUES,
                     b"STREAM_NOTIFY CONNECT_ROUTING_ID")
    behaves(r, stream_send, stream_recv, stream_has_in, always)
    r.xattach, r.xdetach = stream_attach, stream_detach
    route_family(r)

    r = socktype_row(ST_SERVER, b"SERVER", bit(ST_CLIENT), F_THREAD_SAFE | F_ROUTES_BY_ID | F_FAIR_QUEUES, b"")
    behaves(r, server_send, server_recv, fq_has_in, always)
    r.xattach = server_attach
    route_family(r)

    r = socktype_row(ST_CLIENT, b"CLIENT", bit(ST_SERVER), F_THREAD_SAFE | F_LOAD_BALANCES | F_FAIR_QUEUES, b"")
    behaves(r, ts_send, ts_recv, fq_has_in, lb_has_out)

    r = socktype_row(ST_RADIO, b"RADIO", bit(ST_DISH), F_THREAD_SAFE | F_GROUPS_OUT, b"XPUB_NODROP")
    behaves(r, radio_send, no_recv, never, always)
    r.xattach, r.xdetach, r.xread_activated = radio_attach, radio_detach, radio_read
    pubsub_family(r)

    r = socktype_row(ST_DISH, b"DISH", bit(ST_RADIO), F_THREAD_SAFE | F_GROUPS_IN | F_FAIR_QUEUES, b"")
    behaves(r, no_send, dish_recv, dish_has_in, never)
    r.xattach, r.xhiccup, r.xjoin = dish_attach, dish_join_all, dish_join
    pubsub_family(r)

    r = socktype_row(ST_GATHER, b"GATHER", bit(ST_SCATTER), F_THREAD_SAFE | F_FAIR_QUEUES, b"")
    behaves(r, no_send, ts_recv, fq_has_in, never)

    r = socktype_row(ST_SCATTER, b"SCATTER", bit(ST_GATHER), F_THREAD_SAFE | F_LOAD_BALANCES, b"")
    behaves(r, ts_send, no_recv, never, lb_has_out)

    socktype_row(ST_DGRAM, b"DGRAM", bit(ST_DGRAM), 0, b"")

    r = socktype_row(ST_PEER, b"PEER", bit(ST_PEER),
                     F_THREAD_SAFE | F_ROUTES_BY_ID | F_CONNECTS_PEERS | F_FAIR_QUEUES, b"")
    behaves(r, server_send, server_recv, fq_has_in, always)
    r.xattach = server_attach
    route_family(r)

    r = socktype_row(ST_CHANNEL, b"CHANNEL", bit(ST_CHANNEL),
                     F_THREAD_SAFE | F_LOAD_BALANCES | F_FAIR_QUEUES | F_ONE_PEER, b"")
    behaves(r, ts_send, ts_recv, fq_has_in, lb_has_out)


define_socket_types()
bind_type_options(SOCKTYPES, NSOCKTYPES)


cdef socktype_t *socktype_implemented(int t) noexcept nogil:
    """The row of a type a socket can be made of; NULL for any other number."""
    cdef socktype_t *r = socktype(t)
    if r == NULL or not r.known:
        return NULL
    return r
