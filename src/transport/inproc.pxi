# inproc://name: no fd and no io thread; the context's registry joins the
# two sockets' pipe ends directly (api/context.pxi).

cdef transport_t INPROC_TRANSPORT
INPROC_TRANSPORT.scheme = b"inproc"
INPROC_TRANSPORT.in_process = True
transport_register(&INPROC_TRANSPORT)
