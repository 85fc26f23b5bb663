# The socket types of the pipeline and exclusive-pair patterns (RFC 30, 31).
# Each is a row: which helpers it routes with and its hooks.

cdef proto_t PROTO_PAIR
cdef proto_t PROTO_PUSH
cdef proto_t PROTO_PULL

PROTO_PAIR.type = 0
PROTO_PAIR.uses_lb = True
PROTO_PAIR.uses_fq = True
PROTO_PAIR.max_pipes = 1
PROTO_PAIR.xsend = lb_send
PROTO_PAIR.xrecv = fq_recv
PROTO_PAIR.xhas_in = fq_has_in
PROTO_PAIR.xhas_out = lb_has_out

# PUSH: load-balances, blocks at HWM, cannot receive.
PROTO_PUSH.type = 8
PROTO_PUSH.uses_lb = True
PROTO_PUSH.uses_fq = False
PROTO_PUSH.max_pipes = 0
PROTO_PUSH.xsend = lb_send
PROTO_PUSH.xrecv = no_recv
PROTO_PUSH.xhas_in = never
PROTO_PUSH.xhas_out = lb_has_out

# PULL: fair-queues, cannot send.
PROTO_PULL.type = 7
PROTO_PULL.uses_lb = False
PROTO_PULL.uses_fq = True
PROTO_PULL.max_pipes = 0
PROTO_PULL.xsend = no_send
PROTO_PULL.xrecv = fq_recv
PROTO_PULL.xhas_in = fq_has_in
PROTO_PULL.xhas_out = never


cdef proto_t *proto_for(int socket_type) noexcept nogil:
    if socket_type == 0:
        return &PROTO_PAIR
    if socket_type == 8:
        return &PROTO_PUSH
    if socket_type == 7:
        return &PROTO_PULL
    return NULL
