# inproc://name: no fd and no io thread; the context's registry joins the
# two sockets' pipe ends directly (api/context.pxi). The row only checks the
# name: any non-empty string.

cdef transport_t INPROC_TRANSPORT


cdef int inproc_resolve(endpoint_t *ep, const char *address, const options_t *o,
                        bint for_bind) noexcept nogil:
    if address[0] == 0:
        set_errno(EINVAL)
        return -1
    mq_endpoint_name(ep.name, ENDPOINT_NAME_MAX, INPROC_TRANSPORT.scheme, address)
    return 0


INPROC_TRANSPORT.scheme = b"inproc"
INPROC_TRANSPORT.in_process = True
INPROC_TRANSPORT.resolve = inproc_resolve
INPROC_TRANSPORT.unbound = transport_no_cleanup
transport_register(&INPROC_TRANSPORT)
