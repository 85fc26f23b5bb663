# Every socket type as a row: which helpers it routes with and its hooks
# (nng's protocol tables). proto_for() maps zmq.h numbers to rows.

cdef enum:
    NPROTOS = 21

cdef proto_t PROTOS[NPROTOS]
cdef bint PROTO_KNOWN[NPROTOS]


cdef void proto_row(int t, bint lb, bint fq, int max_pipes,
                    int (*xsend)(sock_t *, msg_t *) noexcept nogil,
                    int (*xrecv)(sock_t *, msg_t *) noexcept nogil,
                    bint (*xhas_in)(sock_t *) noexcept nogil,
                    bint (*xhas_out)(sock_t *) noexcept nogil) noexcept nogil:
    memset(&PROTOS[t], 0, sizeof(proto_t))
    PROTOS[t].type = t
    PROTOS[t].uses_lb = lb
    PROTOS[t].uses_fq = fq
    PROTOS[t].max_pipes = max_pipes
    PROTOS[t].xsend = xsend
    PROTOS[t].xrecv = xrecv
    PROTOS[t].xhas_in = xhas_in
    PROTOS[t].xhas_out = xhas_out
    PROTO_KNOWN[t] = True


cdef void define_protocols() noexcept nogil:
    cdef int t
    #          type  lb     fq     max  xsend        xrecv        has_in        has_out
    proto_row(0,  True,  True,  1,  lb_send,     fq_recv,     fq_has_in,     lb_has_out)    # PAIR
    proto_row(8,  True,  False, 0,  lb_send,     no_recv,     never,         lb_has_out)    # PUSH
    proto_row(7,  False, True,  0,  no_send,     fq_recv,     fq_has_in,     never)         # PULL
    proto_row(5,  True,  True,  0,  lb_send,     fq_recv,     fq_has_in,     lb_has_out)    # DEALER
    proto_row(6,  False, True,  0,  router_send, router_recv, router_has_in, router_has_out) # ROUTER
    proto_row(3,  True,  True,  0,  req_send,    req_recv,    req_has_in,    req_has_out)   # REQ
    proto_row(4,  False, True,  0,  rep_send,    rep_recv,    rep_has_in,    rep_has_out)   # REP
    proto_row(9,  False, False, 0,  dist_send,   xpub_recv,   xpub_has_in,   always)        # XPUB
    proto_row(1,  False, False, 0,  dist_send,   no_recv,     never,         always)        # PUB
    proto_row(10, False, True,  0,  xsub_send,   fq_recv,     fq_has_in,     always)        # XSUB
    proto_row(2,  False, True,  0,  no_send,     sub_recv,    sub_has_in,    never)         # SUB
    proto_row(11, False, True,  0,  stream_send, stream_recv, stream_has_in, always)        # STREAM
    proto_row(12, False, True,  0,  server_send, server_recv, fq_has_in,     always)        # SERVER
    proto_row(13, True,  True,  0,  ts_send,     ts_recv,     fq_has_in,     lb_has_out)    # CLIENT
    proto_row(16, False, True,  0,  no_send,     ts_recv,     fq_has_in,     never)         # GATHER
    proto_row(17, True,  False, 0,  ts_send,     no_recv,     never,         lb_has_out)    # SCATTER
    proto_row(19, False, True,  0,  server_send, server_recv, fq_has_in,     always)        # PEER
    proto_row(20, True,  True,  1,  ts_send,     ts_recv,     fq_has_in,     lb_has_out)    # CHANNEL
    PROTOS[5].xattach = dealer_attach
    PROTOS[3].xattach = dealer_attach
    PROTOS[6].xattach = router_attach
    PROTOS[6].xread_activated = router_read_activated
    PROTOS[11].xattach = stream_attach
    PROTOS[11].xdetach = stream_detach
    PROTOS[12].xattach = server_attach                      # SERVER
    PROTOS[19].xattach = server_attach                      # PEER
    for t in range(NPROTOS):
        if t == 1 or t == 9:                                # PUB, XPUB
            PROTOS[t].xattach = xpub_attach
            PROTOS[t].xdetach = xpub_detach
            PROTOS[t].xread_activated = xpub_read
        elif t == 2 or t == 10:                             # SUB, XSUB
            PROTOS[t].xattach = xsub_attach
            PROTOS[t].xhiccup = xsub_resend_all


define_protocols()


cdef proto_t *proto_for(int socket_type) noexcept nogil:
    if socket_type < 0 or socket_type >= NPROTOS or not PROTO_KNOWN[socket_type]:
        return NULL
    return &PROTOS[socket_type]
