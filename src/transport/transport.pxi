# Transports as a table keyed by scheme (libzmq's tcp_address_t/ipc_listener
# family, nng's transport ops): each row says how to resolve an address, bind,
# accept, connect and tune a connection, and what kind of engine a connection
# gets. Everything above asks the row; only transport/ names a scheme.
#
# Rows work on file descriptors and addresses only: sessions and listeners
# (engine/) own the fds and call these through the endpoint's row; the
# socket's thread (api/) resolves, listens and, after a listener is closed,
# calls unbound. Adding a transport is one file that fills a transport_t and
# registers it (transport_register) and one include line in _core.pyx.
#
# Who calls what, and where:
#   resolve, listen, unbound  the socket's thread (api/), resolve without the GIL
#   connect_start/finish      the io thread (a session, at each (re)connect)
#   accept                    the io thread (a listener)
#   tune                      the io thread, on each new connection (both sides)

cdef enum:
    ENGINE_STREAM = 1           # a byte stream: ZMTP, or raw bytes for STREAM sockets
    ENGINE_DATAGRAM = 2         # one message per datagram (udp)
    ENDPOINT_NAME_MAX = 256

cdef struct transport_t
cdef struct endpoint_t:
    const transport_t *tp
    mq_addr_t addr
    char name[ENDPOINT_NAME_MAX]    # scheme://address as events and LAST_ENDPOINT show it
    unsigned long long file_id      # ipc: the inode of the socket file bind made (0: none)
    int tos                         # tcp: IP type of service for connect (TOS at resolve time)
    bint temp_dir                   # ipc "*": listen makes (and unbound removes) a private dir
    mq_addr_t local                 # udp: the address bound, or the multicast interface's
    bint multicast                  # udp: addr is a multicast group
    int ifindex                     # udp: the interface named (IPv6 multicast), 0: any
    bint bound                      # datagram rows: made by bind (receives), not connect (sends)

cdef struct transport_t:
    const char *scheme
    int engine_kind             # what speaks on its connections (ENGINE_*)
    bint in_process             # inproc: no fd; the context joins the pipes itself
    bint bind_connects          # bind is connect (pgm, epgm: no listener, as libzmq)
    bint reported_by_has        # zmq.has(scheme) is True (libzmq names ipc, pgm, ...; not tcp, inproc)
    bint datagram               # udp: bind and connect both make a session (connect_start opens
                                # the socket; no listener), for the types that take groups only
    # Fills ep (addr, name = scheme://address, ...) from `address`, what
    # follows "scheme://"; for_bind allows wildcards. No fd, no file made.
    # 0, or -1 with errno (EINVAL, ENODEV, ENAMETOOLONG). May block (DNS).
    int (*resolve)(endpoint_t *ep, const char *address, const options_t *o, bint for_bind) noexcept nogil
    # A listening fd in *fd, ep.name updated to the bound address (what
    # LAST_ENDPOINT shows: tcp://127.0.0.1:54321); -1 with errno, nothing left behind
    int (*listen)(endpoint_t *ep, const options_t *o, int *fd) noexcept nogil
    # an accepted fd, or -1 with errno (EAGAIN: none pending)
    int (*accept)(int lfd) noexcept nogil
    # 0: connected; 1: in progress (poll for POLLOUT, then connect_finish); -1 errno.
    # Options that must precede the handshake (buffers, TOS) are set here.
    int (*connect_start)(const endpoint_t *ep, const options_t *o, int *fd) noexcept nogil
    int (*connect_finish)(int fd) noexcept nogil
    # per-connection socket options (keepalive, ...; tcp's buffers are set
    # by listen and connect_start, before the handshake: mq_set_buffers)
    void (*tune)(int fd, const options_t *o) noexcept nogil
    # The socket's thread closed a listener made by listen: clean up what
    # listen left outside the fd (ipc: its file, if still the one it made)
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


cdef void transport_no_cleanup(const endpoint_t *ep) noexcept nogil:
    pass


cdef int stream_connect_finish(int fd) noexcept nogil:
    return mq_connect_finish(fd)


cdef int stream_accept(int lfd) noexcept nogil:
    return mq_accept(lfd)


cdef int stream_connect_start(const endpoint_t *ep, const options_t *o, int *fd) noexcept nogil:
    return mq_connect_start(&ep.addr, fd)
