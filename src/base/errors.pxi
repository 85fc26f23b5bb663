# Error numbers: POSIX ones come from <errno.h>; these four are ZeroMQ's own
# (ZMQ_HAUSNUMERO + n), as libzmq defines them on every platform.

cdef enum:
    HAUSNUMERO = 156384712
    EFSM_ = HAUSNUMERO + 51
    ENOCOMPATPROTO_ = HAUSNUMERO + 52
    ETERM_ = HAUSNUMERO + 53
    EMTHREAD_ = HAUSNUMERO + 54


cdef int g_last_errno = 0


cdef object raise_errno(int err):
    """The one place core error numbers become Python exceptions."""
    global g_last_errno
    from mqcore.error import error_for
    g_last_errno = err
    raise error_for(err)


cdef inline void set_errno(int err) noexcept nogil:
    """For creation paths that return NULL: the caller reads errno."""
    global errno
    errno = err
