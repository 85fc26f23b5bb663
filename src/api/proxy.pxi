# zmq.proxy and zmq.proxy_steerable: the Python face of the proxy loop in
# src/proxy.pxi. It holds the sockets open (their in-use counts) while the
# loop runs without the GIL, and turns the loop's result into Python's.

cdef object run_proxy(Socket frontend, Socket backend, Socket capture, Socket control):
    cdef proxy_t p
    cdef int rc
    memset(&p, 0, sizeof(proxy_t))
    for s in (frontend, backend, capture, control):
        if s is not None:
            (<Socket>s)._check_open()
    p.front = frontend.s
    p.back = backend.s
    p.capture = capture.s if capture is not None else NULL
    p.control = control.s if control is not None else NULL
    users = [s for s in (frontend, backend, capture, control) if s is not None]
    for s in users:
        (<Socket>s)._enter()
    try:
        while True:
            with nogil:
                rc = proxy_run(&p)
            if rc == WAIT_INTR:
                PyErr_CheckSignals()
                continue
            if rc == PROXY_RAISED:
                proxy_reraise()
            if rc == 0:
                return None
            if any((<Socket>s)._close_pending for s in users):
                rc = ENOTSOCK       # closed by another thread, as libzmq's closed sockets
            elif any((<Socket>s)._closed for s in users):
                rc = ENOTSOCK
            raise_errno(rc)
    finally:
        for s in users:
            (<Socket>s)._leave()


cdef int proxy_reraise() except -1:
    return -1                   # the handler's exception is already set


def proxy(Socket frontend, Socket backend, Socket capture=None):
    """Forwards messages between frontend and backend (both ways) until the
    context is terminated; copies them to capture if given."""
    return run_proxy(frontend, backend, capture, None)


def proxy_steerable(Socket frontend, Socket backend, Socket capture=None, Socket control=None):
    """proxy() that a control socket can PAUSE, RESUME, TERMINATE or ask for
    STATISTICS (8 u64 frames: messages and bytes in and out, frontend then
    backend)."""
    return run_proxy(frontend, backend, capture, control)
