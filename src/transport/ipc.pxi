# ipc://path (a Unix domain socket file) and ipc://@name (Linux abstract).

cdef void ipc_tune(int fd, const options_t *o) noexcept nogil:
    mq_tune_stream(fd, False, o.sndbuf, o.rcvbuf)


cdef transport_t IPC_TRANSPORT
IPC_TRANSPORT.scheme = b"ipc"
IPC_TRANSPORT.engine_kind = ENGINE_STREAM
IPC_TRANSPORT.accept = stream_accept
IPC_TRANSPORT.connect_start = stream_connect_start
IPC_TRANSPORT.connect_finish = stream_connect_finish
IPC_TRANSPORT.tune = ipc_tune
transport_register(&IPC_TRANSPORT)
