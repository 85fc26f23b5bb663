# Transports as a table keyed by scheme (libzmq's tcp_address_t/ipc_listener
# family, nng's transport ops): each row says how to resolve an address, bind,
# accept, connect and tune a connection, and what kind of engine a connection
# gets. Everything above asks the row; only transport/ names a scheme.
#
# Rows work on file descriptors and addresses only: sessions and listeners
# (engine/) own the fds and call these through the endpoint's row.

cdef enum:
    ENGINE_STREAM = 1           # a byte stream: ZMTP, or raw bytes for STREAM sockets
    ENDPOINT_NAME_MAX = 256

cdef struct transport_t
cdef struct endpoint_t:
    const transport_t *tp
    mq_addr_t addr
    char name[ENDPOINT_NAME_MAX]    # scheme://address as events and LAST_ENDPOINT show it
    unsigned long long file_id      # ipc: the inode of the socket file bind made (0: none)

cdef struct transport_t:
    const char *scheme
    int engine_kind             # what speaks on its connections (ENGINE_*)
    bint in_process             # inproc: no fd; the context joins the pipes itself
    # 0, or -1 with errno (EINVAL, ENODEV, ...): `address` is what follows "scheme://"
    int (*resolve)(endpoint_t *ep, const char *address, const options_t *o, bint for_bind) noexcept nogil
    # a listening fd in *fd, ep.name updated to the bound address; -1 with errno
    int (*listen)(endpoint_t *ep, const options_t *o, int *fd) noexcept nogil
    # an accepted fd, or -1 with errno (EAGAIN: none pending)
    int (*accept)(int lfd) noexcept nogil
    # 0: connected; 1: in progress (poll for POLLOUT, then connect_finish); -1 errno
    int (*connect_start)(const endpoint_t *ep, int *fd) noexcept nogil
    int (*connect_finish)(int fd) noexcept nogil
    # per-connection socket options (buffers, keepalive, ...)
    void (*tune)(int fd, const options_t *o) noexcept nogil
    # the listener was closed by the socket's thread: clean up (ipc: its file)
    void (*unbound)(const endpoint_t *ep) noexcept nogil

cdef enum:
    NTRANSPORTS_MAX = 8

cdef const transport_t *TRANSPORTS[NTRANSPORTS_MAX]
cdef int NTRANSPORTS = 0


cdef void transport_register(const transport_t *tp) noexcept:
    global NTRANSPORTS
    TRANSPORTS[NTRANSPORTS] = tp
    NTRANSPORTS += 1


cdef const transport_t *transport_for_scheme(const char *scheme, size_t n) noexcept nogil:
    """The row for a scheme (the part before "://"); NULL: not supported."""
    cdef int i
    for i in range(NTRANSPORTS):
        if strlen(TRANSPORTS[i].scheme) == n and memcmp(TRANSPORTS[i].scheme, scheme, n) == 0:
            return TRANSPORTS[i]
    return NULL


cdef int stream_connect_finish(int fd) noexcept nogil:
    return mq_connect_finish(fd)


cdef int stream_accept(int lfd) noexcept nogil:
    return mq_accept(lfd)


cdef int stream_connect_start(const endpoint_t *ep, int *fd) noexcept nogil:
    return mq_connect_start(&ep.addr, fd)
