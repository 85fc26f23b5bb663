# Endpoints at the Python face: the one place an endpoint string becomes a
# transport row (api/ never names a scheme), and what a Socket remembers of
# each bind and connect so that unbind, disconnect and close can undo it.

cdef enum:
    EP_LISTENER = 1             # bind, network row: a listener in an io thread
    EP_SESSION = 2              # connect, network row: a session in an io thread
    EP_INPROC_BOUND = 3         # bind, in-process row: a name in the context's registry
    EP_INPROC_CONNECTED = 4     # connect, in-process row: pipes tagged `tag`
    EP_SESSION_BOUND = 5        # bind, datagram row: a session in an io thread, as EP_SESSION

cdef long long g_endpoint_ids = 0


cdef long long next_endpoint_tag() noexcept:
    """A tag for the pipes of one connect (unique in the process): disconnect
    drops exactly those."""
    global g_endpoint_ids
    g_endpoint_ids += 1
    return g_endpoint_ids


@cython.final
cdef class EndpointRecord:
    """One bind or connect of a socket. [GIL] Made by endpoint_resolve, kind
    and the rest set once the bind or connect is done."""
    cdef int kind               # EP_*
    cdef void *obj              # EP_LISTENER: listener_t; EP_SESSION: session_t (the socket's reference)
    cdef io_thread_t *io        # the io thread that runs obj
    cdef long long tag          # EP_SESSION, EP_INPROC_CONNECTED: the tag of this connect's pipes
    cdef str address            # what followed "scheme://" (the inproc registry's key)
    cdef endpoint_t ep          # as resolved; a listener's as bound (its row's unbound needs it)

    cdef inline bint is_bind(self):
        return self.kind == EP_LISTENER or self.kind == EP_INPROC_BOUND or self.kind == EP_SESSION_BOUND

    cdef inline bint undone_by(self, bint unbind):
        """unbind (True) or disconnect (False) undoes this record; both
        undo a pgm/epgm bind, which is a connect (libzmq)."""
        return self.is_bind() == unbind or self.ep.tp.bind_connects

    cdef inline bint in_process(self):
        return self.ep.tp.in_process

    cdef str name(self):
        """The endpoint as resolved (a listener's: as bound)."""
        return (<bytes>self.ep.name).decode()

    def __repr__(self):
        return f"<EndpointRecord kind={self.kind} {self.name()}>"


cdef const transport_t *endpoint_transport(str endpoint) except NULL:
    """The row for endpoint's scheme (endpoint has "://"); EPROTONOSUPPORT
    when no transport has it."""
    cdef bytes scheme = endpoint.partition("://")[0].encode()
    cdef const transport_t *tp = transport_for_scheme(scheme, len(scheme))
    if tp == NULL:
        raise_errno(EPROTONOSUPPORT)
    return tp


cdef EndpointRecord endpoint_resolve(str endpoint, const options_t *o, bint for_bind):
    """endpoint's row, and the address resolved by it. The GIL is released
    meanwhile (a name may take a while to resolve): a caller on a Socket
    brackets this with _enter/_leave."""
    cdef EndpointRecord rec = EndpointRecord.__new__(EndpointRecord)
    cdef bytes address
    cdef const char *a
    cdef int rc
    cdef int err = 0
    rec.ep.tp = endpoint_transport(endpoint)
    rec.address = endpoint.partition("://")[2]
    address = rec.address.encode()
    if b"\0" in address:
        raise_errno(EINVAL)
    a = address
    with nogil:
        rc = rec.ep.tp.resolve(&rec.ep, a, o, for_bind)
        if rc < 0:
            err = errno
    if rc < 0:
        raise_errno(err)
    if rec.ep.tp.datagram and not (SOCKTYPES[o.type].groups_in if for_bind else SOCKTYPES[o.type].groups_out):
        # As libzmq: udp binds DISH (it receives) and connects RADIO (it sends).
        raise_errno(ENOCOMPATPROTO_)
    return rec
