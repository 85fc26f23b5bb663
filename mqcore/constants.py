"""ZeroMQ constants (libzmq 4.3.5 numbering) as IntEnum/IntFlag classes.

Every number here is part of the wire-independent C API of libzmq, so a
pyzmq program that writes ``zmq.SNDHWM`` or ``zmq.Flag.DONTWAIT`` must see
exactly the value libzmq would use.  The enum classes carry the names pyzmq
gives them; the module-level names (``PUSH``, ``EVENT_CONNECTED``,
``NOTIFY_CONNECT``...) are generated from the classes at the bottom of the
file, so a constant is written down exactly once.

This module must import without ``mqcore._core``: ``mqcore.error`` depends
on ``Errno``. The socket options come from ``mqcore._options``, the one
option table, which the core reads as well.
"""

from __future__ import annotations

import errno as _errno
from enum import Enum, IntEnum, IntFlag

from mqcore import _options

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


def _build_socket_option() -> type:
    """SocketOption from the option table (``mqcore._options``), which the
    core reads too: names, numbers and aliases are written there once."""
    members = [(o.name, o.number) for o in _options.OPTIONS]
    members += [(alias, _options.BY_NAME[name].number) for alias, name in _options.ALIASES.items()]
    cls = IntEnum("SocketOption", members, module=__name__, qualname="SocketOption")
    cls.__doc__ = """Options for ``Socket.get`` / ``Socket.set`` (zmq_getsockopt/setsockopt).

    The value type of each option is in ``OPTION_TYPES`` (and on each member
    as ``opt_type``); everything else the core knows of it (default, range,
    socket types, whether it is built) is in ``mqcore._options``.
    """

    def opt_type(self) -> OptType:
        """The value type of this option (see ``OPTION_TYPES``)."""
        return option_type(self)

    # pyzmq's private spelling, for code that reads it.
    cls.opt_type = cls._opt_type = property(opt_type)
    return cls


SocketOption = _build_socket_option()


def _options_of_type(opt_type: str) -> frozenset:
    return frozenset(SocketOption(o.number) for o in _options.OPTIONS if o.type == opt_type)


_BYTES_OPTIONS = _options_of_type("bytes")
_INT64_OPTIONS = _options_of_type("int64")
_FD_OPTIONS = _options_of_type("fd")

# option number -> OptType, for every socket option (aliases share a number).
OPTION_TYPES: dict[int, OptType] = {o.number: OptType(o.type) for o in _options.OPTIONS}


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
