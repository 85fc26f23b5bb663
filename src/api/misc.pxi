# Module-level functions of pyzmq's backend contract.

cdef extern from "mq_net.h":
    enum:
        IPC_PATH_MAX

# Longest ipc path (the rest of sockaddr_un's sun_path, less its NUL).
IPC_PATH_MAX_LEN = IPC_PATH_MAX

def has(capability):
    """Whether this build has a transport or feature, as zmq.has(): the
    transports the table reports (ipc), and the draft socket types; pgm,
    tipc, norm, curve, gssapi not (yet)."""
    cdef const transport_t *tp
    if isinstance(capability, str):
        capability = capability.encode()
    if not isinstance(capability, bytes):
        return False
    if capability == b"draft":
        return True
    tp = transport_for_scheme(capability, len(capability))
    return tp != NULL and tp.reported_by_has


def zmq_errno():
    """The error number of the last error the core raised."""
    return g_last_errno


def curve_keypair():
    """CURVE needs libsodium, which this build does not have: like libzmq
    built without it, this fails with ENOTSUP (and has("curve") is False)."""
    raise_errno(ENOTSUP)


def curve_public(secret_key):
    """As curve_keypair: ENOTSUP in a build without CURVE."""
    raise_errno(ENOTSUP)
