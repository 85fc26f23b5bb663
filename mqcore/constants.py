"""ZeroMQ constants (libzmq 4.3.5 numbering) as IntEnum/IntFlag classes.

Every number here is part of the wire-independent C API of libzmq, so a
pyzmq program that writes ``zmq.SNDHWM`` or ``zmq.Flag.DONTWAIT`` must see
exactly the value libzmq would use.  The enum classes carry the names pyzmq
gives them; the module-level names (``PUSH``, ``EVENT_CONNECTED``,
``NOTIFY_CONNECT``...) are generated from the classes at the bottom of the
file, so a constant is written down exactly once.

This module must import without ``mqcore._core``: the core itself reads the
option-type table below, and ``mqcore.error`` depends on ``Errno``.
"""

from __future__ import annotations

import errno as _errno
from enum import Enum, IntEnum, IntFlag

# Base of the error numbers libzmq invents for itself (zmq.h ZMQ_HAUSNUMERO).
_HAUSNUMERO = 156384712


def _posix_errno(name: str, offset: int) -> int:
    """The platform's value for a POSIX error name.

    zmq.h only defines ``HAUSNUMERO + offset`` when the C library lacks the
    name, so the platform value always wins when there is one.
    """
    return getattr(_errno, name, _HAUSNUMERO + offset)


class Errno(IntEnum):
    """Error numbers a ZeroMQ call can fail with."""

    EAGAIN = _errno.EAGAIN
    EFAULT = _errno.EFAULT
    EINVAL = _errno.EINVAL

    ENOTSUP = _posix_errno("ENOTSUP", 1)
    EPROTONOSUPPORT = _posix_errno("EPROTONOSUPPORT", 2)
    ENOBUFS = _posix_errno("ENOBUFS", 3)
    ENETDOWN = _posix_errno("ENETDOWN", 4)
    EADDRINUSE = _posix_errno("EADDRINUSE", 5)
    EADDRNOTAVAIL = _posix_errno("EADDRNOTAVAIL", 6)
    ECONNREFUSED = _posix_errno("ECONNREFUSED", 7)
    EINPROGRESS = _posix_errno("EINPROGRESS", 8)
    ENOTSOCK = _posix_errno("ENOTSOCK", 9)
    EMSGSIZE = _posix_errno("EMSGSIZE", 10)
    EAFNOSUPPORT = _posix_errno("EAFNOSUPPORT", 11)
    ENETUNREACH = _posix_errno("ENETUNREACH", 12)
    ECONNABORTED = _posix_errno("ECONNABORTED", 13)
    ECONNRESET = _posix_errno("ECONNRESET", 14)
    ENOTCONN = _posix_errno("ENOTCONN", 15)
    ETIMEDOUT = _posix_errno("ETIMEDOUT", 16)
    EHOSTUNREACH = _posix_errno("EHOSTUNREACH", 17)
    ENETRESET = _posix_errno("ENETRESET", 18)

    # ZeroMQ's own errors: always HAUSNUMERO-based, on every platform.
    EFSM = _HAUSNUMERO + 51
    ENOCOMPATPROTO = _HAUSNUMERO + 52
    ETERM = _HAUSNUMERO + 53
    EMTHREAD = _HAUSNUMERO + 54


class ContextOption(IntEnum):
    """Options for ``Context.get`` / ``Context.set`` (zmq_ctx_get/set)."""

    IO_THREADS = 1
    MAX_SOCKETS = 2
    # libzmq reuses 3: read-only SOCKET_LIMIT, write-only THREAD_PRIORITY.
    SOCKET_LIMIT = 3
    THREAD_PRIORITY = 3
    THREAD_SCHED_POLICY = 4
    MAX_MSGSZ = 5
    MSG_T_SIZE = 6
    THREAD_AFFINITY_CPU_ADD = 7
    THREAD_AFFINITY_CPU_REMOVE = 8
    THREAD_NAME_PREFIX = 9


class SocketType(IntEnum):
    """Socket types accepted by ``Context.socket``."""

    PAIR = 0
    PUB = 1
    SUB = 2
    REQ = 3
    REP = 4
    DEALER = 5
    ROUTER = 6
    PULL = 7
    PUSH = 8
    XPUB = 9
    XSUB = 10
    STREAM = 11

    # Names from ZeroMQ 2.x, still accepted.
    XREQ = DEALER
    XREP = ROUTER

    # Draft types (thread-safe, single-part).
    SERVER = 12
    CLIENT = 13
    RADIO = 14
    DISH = 15
    GATHER = 16
    SCATTER = 17
    DGRAM = 18
    PEER = 19
    CHANNEL = 20


class OptType(Enum):
    """How a socket option's value is passed in and out of ``set``/``get``."""

    int = "int"  # C int
    int64 = "int64"  # C int64_t / uint64_t
    bytes = "bytes"  # binary or NUL-free string, returned as bytes
    fd = "fd"  # a file descriptor (SOCKET on Windows)


# pyzmq spells the type enum with a leading underscore; keep that name working.
_OptType = OptType


class SocketOption(IntEnum):
    """Options for ``Socket.get`` / ``Socket.set`` (zmq_getsockopt/setsockopt).

    The value type of each option is in ``OPTION_TYPES`` (and on each member
    as ``opt_type``).
    """

    HWM = 1
    AFFINITY = 4
    ROUTING_ID = 5
    SUBSCRIBE = 6
    UNSUBSCRIBE = 7
    RATE = 8
    RECOVERY_IVL = 9
    SNDBUF = 11
    RCVBUF = 12
    RCVMORE = 13
    FD = 14
    EVENTS = 15
    TYPE = 16
    LINGER = 17
    RECONNECT_IVL = 18
    BACKLOG = 19
    RECONNECT_IVL_MAX = 21
    MAXMSGSIZE = 22
    SNDHWM = 23
    RCVHWM = 24
    MULTICAST_HOPS = 25
    RCVTIMEO = 27
    SNDTIMEO = 28
    IPV4ONLY = 31
    LAST_ENDPOINT = 32
    ROUTER_MANDATORY = 33
    TCP_KEEPALIVE = 34
    TCP_KEEPALIVE_CNT = 35
    TCP_KEEPALIVE_IDLE = 36
    TCP_KEEPALIVE_INTVL = 37
    TCP_ACCEPT_FILTER = 38
    IMMEDIATE = 39
    XPUB_VERBOSE = 40
    ROUTER_RAW = 41
    IPV6 = 42
    MECHANISM = 43
    PLAIN_SERVER = 44
    PLAIN_USERNAME = 45
    PLAIN_PASSWORD = 46
    CURVE_SERVER = 47
    CURVE_PUBLICKEY = 48
    CURVE_SECRETKEY = 49
    CURVE_SERVERKEY = 50
    PROBE_ROUTER = 51
    REQ_CORRELATE = 52
    REQ_RELAXED = 53
    CONFLATE = 54
    ZAP_DOMAIN = 55
    ROUTER_HANDOVER = 56
    TOS = 57
    IPC_FILTER_PID = 58
    IPC_FILTER_UID = 59
    IPC_FILTER_GID = 60
    CONNECT_ROUTING_ID = 61
    GSSAPI_SERVER = 62
    GSSAPI_PRINCIPAL = 63
    GSSAPI_SERVICE_PRINCIPAL = 64
    GSSAPI_PLAINTEXT = 65
    HANDSHAKE_IVL = 66
    SOCKS_PROXY = 68
    XPUB_NODROP = 69
    # libzmq lists BLOCKY with the socket options, but it is a context option.
    BLOCKY = 70
    XPUB_MANUAL = 71
    XPUB_WELCOME_MSG = 72
    STREAM_NOTIFY = 73
    INVERT_MATCHING = 74
    HEARTBEAT_IVL = 75
    HEARTBEAT_TTL = 76
    HEARTBEAT_TIMEOUT = 77
    XPUB_VERBOSER = 78
    CONNECT_TIMEOUT = 79
    TCP_MAXRT = 80
    THREAD_SAFE = 81
    MULTICAST_MAXTPDU = 84
    VMCI_BUFFER_SIZE = 85
    VMCI_BUFFER_MIN_SIZE = 86
    VMCI_BUFFER_MAX_SIZE = 87
    VMCI_CONNECT_TIMEOUT = 88
    USE_FD = 89
    GSSAPI_PRINCIPAL_NAMETYPE = 90
    GSSAPI_SERVICE_PRINCIPAL_NAMETYPE = 91
    BINDTODEVICE = 92

    # Draft options.
    ZAP_ENFORCE_DOMAIN = 93
    LOOPBACK_FASTPATH = 94
    METADATA = 95
    MULTICAST_LOOP = 96
    ROUTER_NOTIFY = 97
    XPUB_MANUAL_LAST_VALUE = 98
    SOCKS_USERNAME = 99
    SOCKS_PASSWORD = 100
    IN_BATCH_SIZE = 101
    OUT_BATCH_SIZE = 102
    WSS_KEY_PEM = 103
    WSS_CERT_PEM = 104
    WSS_TRUST_PEM = 105
    WSS_HOSTNAME = 106
    WSS_TRUST_SYSTEM = 107
    ONLY_FIRST_SUBSCRIBE = 108
    RECONNECT_STOP = 109
    HELLO_MSG = 110
    DISCONNECT_MSG = 111
    PRIORITY = 112
    BUSY_POLL = 113
    HICCUP_MSG = 114
    XSUB_VERBOSE_UNSUBSCRIBE = 115
    TOPICS_COUNT = 116
    NORM_MODE = 117
    NORM_UNICAST_NACK = 118
    NORM_BUFFER_SIZE = 119
    NORM_SEGMENT_SIZE = 120
    NORM_BLOCK_SIZE = 121
    NORM_NUM_PARITY = 122
    NORM_NUM_AUTOPARITY = 123
    NORM_PUSH = 124

    # Old names kept by libzmq as aliases of the options above.
    IDENTITY = ROUTING_ID
    CONNECT_RID = CONNECT_ROUTING_ID
    DELAY_ATTACH_ON_CONNECT = IMMEDIATE
    FAIL_UNROUTABLE = ROUTER_MANDATORY
    ROUTER_BEHAVIOR = ROUTER_MANDATORY

    @property
    def opt_type(self) -> OptType:
        """The value type of this option (see ``OPTION_TYPES``)."""
        return option_type(self)

    # pyzmq's private spelling, for code that reads it.
    _opt_type = opt_type


_BYTES_OPTIONS = frozenset(
    {
        SocketOption.ROUTING_ID,
        SocketOption.SUBSCRIBE,
        SocketOption.UNSUBSCRIBE,
        SocketOption.LAST_ENDPOINT,
        SocketOption.TCP_ACCEPT_FILTER,
        SocketOption.PLAIN_USERNAME,
        SocketOption.PLAIN_PASSWORD,
        SocketOption.CURVE_PUBLICKEY,
        SocketOption.CURVE_SECRETKEY,
        SocketOption.CURVE_SERVERKEY,
        SocketOption.ZAP_DOMAIN,
        SocketOption.CONNECT_ROUTING_ID,
        SocketOption.GSSAPI_PRINCIPAL,
        SocketOption.GSSAPI_SERVICE_PRINCIPAL,
        SocketOption.SOCKS_PROXY,
        SocketOption.XPUB_WELCOME_MSG,
        SocketOption.BINDTODEVICE,
        SocketOption.METADATA,
        SocketOption.SOCKS_USERNAME,
        SocketOption.SOCKS_PASSWORD,
        SocketOption.WSS_KEY_PEM,
        SocketOption.WSS_CERT_PEM,
        SocketOption.WSS_TRUST_PEM,
        SocketOption.WSS_HOSTNAME,
        SocketOption.HELLO_MSG,
        SocketOption.DISCONNECT_MSG,
        SocketOption.HICCUP_MSG,
    }
)

_INT64_OPTIONS = frozenset(
    {
        SocketOption.AFFINITY,
        SocketOption.MAXMSGSIZE,
        SocketOption.VMCI_BUFFER_SIZE,
        SocketOption.VMCI_BUFFER_MIN_SIZE,
        SocketOption.VMCI_BUFFER_MAX_SIZE,
    }
)

_FD_OPTIONS = frozenset({SocketOption.FD})


def _build_option_types() -> dict[int, OptType]:
    """Map every option number to its value type; ``int`` unless listed."""
    table = {}
    for option in SocketOption:
        if option in _BYTES_OPTIONS:
            table[int(option)] = OptType.bytes
        elif option in _INT64_OPTIONS:
            table[int(option)] = OptType.int64
        elif option in _FD_OPTIONS:
            table[int(option)] = OptType.fd
        else:
            table[int(option)] = OptType.int
    return table


# option number -> OptType, for every socket option (aliases share a number).
OPTION_TYPES: dict[int, OptType] = _build_option_types()


def option_type(option: int) -> OptType:
    """Value type of a socket option number; unknown numbers count as ``int``.

    Unknown numbers are left for the core to reject with EINVAL, as libzmq does.
    """
    return OPTION_TYPES.get(int(option), OptType.int)


class MessageOption(IntEnum):
    """Properties readable from a message (zmq_msg_get)."""

    MORE = 1
    SRCFD = 2  # deprecated
    SHARED = 3


class Flag(IntFlag):
    """Flags for send and recv."""

    DONTWAIT = 1
    SNDMORE = 2
    NOBLOCK = DONTWAIT  # the 2.x name


class SecurityMechanism(IntEnum):
    """Values of the MECHANISM socket option."""

    NULL = 0
    PLAIN = 1
    CURVE = 2
    GSSAPI = 3


class RouterNotify(IntEnum):
    """Bits of the ROUTER_NOTIFY socket option (module names: NOTIFY_*)."""

    CONNECT = 1
    DISCONNECT = 2


class NormMode(IntEnum):
    """Values of the NORM_MODE socket option (module names: NORM_*)."""

    FIXED = 0
    CC = 1
    CCL = 2
    CCE = 3
    CCE_ECNONLY = 4


class ReconnectStop(IntEnum):
    """Bits of the RECONNECT_STOP socket option (module names: RECONNECT_STOP_*)."""

    CONN_REFUSED = 0x1
    HANDSHAKE_FAILED = 0x2
    AFTER_DISCONNECT = 0x4


class Event(IntFlag):
    """Socket monitor events, and the protocol-error values they can carry.

    Module names: EVENT_* for events, PROTOCOL_ERROR_* unchanged.
    """

    # The multi-bit protocol-error values come first: older Python versions
    # name a Flag value after the first member that covers it, and these must
    # not take over the names of the single-bit events below.
    PROTOCOL_ERROR_ZMTP_UNSPECIFIED = 0x10000000
    PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND = 0x10000001
    PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE = 0x10000002
    PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE = 0x10000003
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED = 0x10000011
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE = 0x10000012
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO = 0x10000013
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE = 0x10000014
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR = 0x10000015
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY = 0x10000016
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME = 0x10000017
    PROTOCOL_ERROR_ZMTP_INVALID_METADATA = 0x10000018
    PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC = 0x11000001
    PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH = 0x11000002
    PROTOCOL_ERROR_ZAP_UNSPECIFIED = 0x20000000
    PROTOCOL_ERROR_ZAP_MALFORMED_REPLY = 0x20000001
    PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID = 0x20000002
    PROTOCOL_ERROR_ZAP_BAD_VERSION = 0x20000003
    PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE = 0x20000004
    PROTOCOL_ERROR_ZAP_INVALID_METADATA = 0x20000005
    PROTOCOL_ERROR_WS_UNSPECIFIED = 0x30000000

    CONNECTED = 0x0001
    CONNECT_DELAYED = 0x0002
    CONNECT_RETRIED = 0x0004
    LISTENING = 0x0008
    BIND_FAILED = 0x0010
    ACCEPTED = 0x0020
    ACCEPT_FAILED = 0x0040
    CLOSED = 0x0080
    CLOSE_FAILED = 0x0100
    DISCONNECTED = 0x0200
    MONITOR_STOPPED = 0x0400
    HANDSHAKE_FAILED_NO_DETAIL = 0x0800
    HANDSHAKE_SUCCEEDED = 0x1000
    HANDSHAKE_FAILED_PROTOCOL = 0x2000
    HANDSHAKE_FAILED_AUTH = 0x4000

    ALL_V1 = 0xFFFF
    ALL = ALL_V1
    PIPES_STATS = 0x10000  # draft, monitor version 2 only
    ALL_V2 = ALL_V1 | PIPES_STATS


class PollEvent(IntFlag):
    """Event bits for poll, Poller and the EVENTS option."""

    POLLIN = 1
    POLLOUT = 2
    POLLERR = 4
    POLLPRI = 8


class DeviceType(IntEnum):
    """Device kinds of the old zmq_device call."""

    STREAMER = 1
    FORWARDER = 2
    QUEUE = 3


# ---------------------------------------------------------------------------
# Module-level names.  Most members are exported under their own name; the
# classes below add a prefix because their bare names would be ambiguous
# (``CONNECT``, ``CC``) or clash (``Event.CLOSED``).
# ---------------------------------------------------------------------------

_EXPORTED_ENUMS = (
    ContextOption,
    DeviceType,
    Errno,
    Event,
    Flag,
    MessageOption,
    NormMode,
    PollEvent,
    ReconnectStop,
    RouterNotify,
    SecurityMechanism,
    SocketOption,
    SocketType,
)

_GLOBAL_PREFIX = {
    Event: "EVENT_",
    NormMode: "NORM_",
    ReconnectStop: "RECONNECT_STOP_",
    RouterNotify: "NOTIFY_",
}


def _global_name(enum_cls: type, member_name: str) -> str:
    """Module-level name of one enum member."""
    if enum_cls is Event and member_name.startswith("PROTOCOL_ERROR_"):
        return member_name
    return _GLOBAL_PREFIX.get(enum_cls, "") + member_name


def _export_members(namespace: dict) -> list[str]:
    """Bind every member (aliases included) as a module global; return the names.

    Raises if two enums would claim one name, so a clash is caught at import
    time instead of silently shadowing a constant.
    """
    names = []
    for enum_cls in _EXPORTED_ENUMS:
        names.append(enum_cls.__name__)
        for member_name, member in enum_cls.__members__.items():
            name = _global_name(enum_cls, member_name)
            if name in namespace and namespace[name] is not member:
                raise RuntimeError(f"constant {name} defined twice")
            namespace[name] = member
            names.append(name)
    return names


# OptType, OPTION_TYPES and option_type stay out of __all__: they are for
# mqcore's own layers, and ``from mqcore.constants import *`` feeds the
# top-level namespace, which should hold what pyzmq's holds.
__all__ = _export_members(globals())
