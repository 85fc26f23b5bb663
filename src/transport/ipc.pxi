# ipc://path (a Unix domain socket file) and ipc://@name (Linux abstract).
# bind to ipc://* makes a private directory and binds "socket" in it.
#
# The socket file is bind's: listen removes a stale one first (as libzmq),
# records the new file's inode, and unbound removes the file only while it
# is still that one, so a later bind of the same path by someone else is
# never undone. unbound runs in the closing thread, not the io thread, for
# the same reason: a bind right after close() must not race the removal.

cdef enum:
    IPC_TEMP_PATH_MAX = 4096

cdef transport_t IPC_TRANSPORT


cdef int ipc_resolve(endpoint_t *ep, const char *address, const options_t *o,
                     bint for_bind) noexcept nogil:
    if for_bind and strcmp(address, b"*") == 0:
        ep.temp_dir = True      # listen picks the path
    elif mq_ipc_addr(address, &ep.addr) < 0:
        return -1
    mq_endpoint_name(ep.name, ENDPOINT_NAME_MAX, IPC_TRANSPORT.scheme, address)
    return 0


cdef int ipc_listen(endpoint_t *ep, const options_t *o, int *fd) noexcept nogil:
    cdef char path[IPC_TEMP_PATH_MAX]
    cdef int s, err
    cdef size_t n
    if ep.temp_dir:
        if mq_make_temp_dir(path, IPC_TEMP_PATH_MAX - 8) < 0:
            return -1
        n = strlen(path)
        memcpy(path + n, b"/socket", 8)
        if mq_ipc_addr(path, &ep.addr) < 0:
            err = errno
            ipc_remove_temp_dir(ep)
            set_errno(err)
            return -1
    mq_ipc_path(&ep.addr, path, IPC_TEMP_PATH_MAX)
    if path[0] != c'@':
        unlink(path)            # a file left by an earlier run would make bind fail
    s = mq_socket(AF_UNIX, SOCK_STREAM)
    if s < 0 or mq_bind_listen(s, &ep.addr, o.backlog) < 0:
        err = errno
        if ep.temp_dir:
            ipc_remove_temp_dir(ep)
        set_errno(err)
        return -1
    if path[0] != c'@':
        ep.file_id = mq_file_id(path)
    mq_endpoint_name(ep.name, ENDPOINT_NAME_MAX, IPC_TRANSPORT.scheme, path)
    fd[0] = s
    return 0


cdef void ipc_remove_temp_dir(const endpoint_t *ep) noexcept nogil:
    """rmdir of the directory listen made for ipc://* (fails, harmlessly,
    if someone put other files there)."""
    cdef char path[IPC_TEMP_PATH_MAX]
    mq_remove_parent_dir(mq_ipc_path(&ep.addr, path, IPC_TEMP_PATH_MAX))


cdef void ipc_unbound(const endpoint_t *ep) noexcept nogil:
    cdef char path[IPC_TEMP_PATH_MAX]
    if ep.file_id == 0:
        return
    mq_ipc_path(&ep.addr, path, IPC_TEMP_PATH_MAX)
    if mq_file_id(path) == ep.file_id:
        unlink(path)
    if ep.temp_dir:
        ipc_remove_temp_dir(ep)


cdef void ipc_tune(int fd, const options_t *o) noexcept nogil:
    # On the connection: a unix socket has no window to size at connect, and
    # an accepted one does not inherit the listener's buffers (unlike tcp).
    mq_set_buffers(fd, o.sndbuf, o.rcvbuf)


IPC_TRANSPORT.scheme = b"ipc"
IPC_TRANSPORT.engine_kind = ENGINE_STREAM
IPC_TRANSPORT.reported_by_has = True
IPC_TRANSPORT.resolve = ipc_resolve
IPC_TRANSPORT.listen = ipc_listen
IPC_TRANSPORT.accept = stream_accept
IPC_TRANSPORT.connect_start = stream_connect_start
IPC_TRANSPORT.connect_finish = stream_connect_finish
IPC_TRANSPORT.tune = ipc_tune
IPC_TRANSPORT.unbound = ipc_unbound
transport_register(&IPC_TRANSPORT)
