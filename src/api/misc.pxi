# Module-level functions of pyzmq's backend contract.

cdef extern from "mq_net.h":
    enum:
        IPC_PATH_MAX

# Longest ipc path (the rest of sockaddr_un's sun_path, less its NUL).
IPC_PATH_MAX_LEN = IPC_PATH_MAX

def has(capability):
    """Whether this build has a transport or feature, as zmq.has(): the
    transports the table reports (ipc), the draft socket types, and curve
    when libsodium was found (PyNaCl); pgm, tipc, norm, gssapi not (yet)."""
    cdef const transport_t *tp
    if isinstance(capability, str):
        capability = capability.encode()
    if not isinstance(capability, bytes):
        return False
    if capability == b"draft":
        return True
    if capability == b"curve":
        return bool(SODIUM.ok)
    tp = transport_for_scheme(capability, len(capability))
    return tp != NULL and tp.reported_by_has


def zmq_errno():
    """The error number of the last error the core raised."""
    return g_last_errno


def curve_keypair():
    """A new CURVE key pair (public, secret), each as 40 Z85 characters
    (bytes), as zmq.curve_keypair. ENOTSUP without libsodium (PyNaCl)."""
    cdef unsigned char pk[CURVE_KEY]
    cdef unsigned char sk[CURVE_KEY]
    if not SODIUM.ok:
        raise_errno(ENOTSUP)
    with nogil:
        SODIUM.box_keypair(pk, sk)
    from mqcore.utils.z85 import encode
    public, secret = encode(pk[:CURVE_KEY]), encode(sk[:CURVE_KEY])
    SODIUM.memzero(sk, CURVE_KEY)
    return public, secret


def curve_public(secret_key):
    """The Z85 public key of a Z85 secret key (40 characters, bytes or
    str), as zmq.curve_public. ENOTSUP without libsodium; ValueError for a
    key that is not 40 long, EINVAL for one that is not Z85."""
    cdef unsigned char pk[CURVE_KEY]
    cdef unsigned char sk[CURVE_KEY]
    cdef bytes text
    if not SODIUM.ok:
        raise_errno(ENOTSUP)
    if isinstance(secret_key, str):
        secret_key = secret_key.encode("ascii")
    text = bytes(secret_key)
    if len(text) != CURVE_Z85_KEY:
        raise ValueError("secret key must be a 40 byte z85 encoded string")
    if z85_key_decode(sk, <const unsigned char *><char *>text) < 0:
        raise_errno(EINVAL)
    SODIUM.scalarmult_base(pk, sk)
    SODIUM.memzero(sk, CURVE_KEY)
    from mqcore.utils.z85 import encode
    return encode(pk[:CURVE_KEY])
