"""Constants: every value must equal pyzmq's (the reference), plus the spec's numbers.

pyzmq 27.3.0 bundles libzmq 4.3.5, whose zmq.h is what mqcore numbers after;
a mismatch here means a pyzmq program would pass the wrong number.
"""

import errno
from enum import IntEnum, IntFlag

import pytest

from mqcore import constants

zmq = pytest.importorskip("zmq", reason="pyzmq is the reference for constant values")

ENUM_CLASS_NAMES = [
    "ContextOption",
    "DeviceType",
    "Errno",
    "Event",
    "Flag",
    "MessageOption",
    "NormMode",
    "PollEvent",
    "ReconnectStop",
    "RouterNotify",
    "SecurityMechanism",
    "SocketOption",
    "SocketType",
]

# pyzmq's constants.__all__ also lists the enum base classes it imports.
PYZMQ_CONSTANT_NAMES = sorted(
    set(zmq.constants.__all__) - {"Enum", "IntEnum", "IntFlag"}
)


def test_same_names_as_pyzmq():
    assert sorted(constants.__all__) == PYZMQ_CONSTANT_NAMES


def test_values_match_pyzmq():
    mismatches = {}
    for name in PYZMQ_CONSTANT_NAMES:
        theirs = getattr(zmq.constants, name)
        if isinstance(theirs, type):
            continue  # the enum classes, compared member by member below
        ours = getattr(constants, name)
        if int(ours) != int(theirs):
            mismatches[name] = (int(ours), int(theirs))
    assert mismatches == {}


@pytest.mark.parametrize("class_name", ENUM_CLASS_NAMES)
def test_enum_members_match_pyzmq(class_name):
    """Same member names (aliases included) with the same numbers."""
    ours = getattr(constants, class_name).__members__
    theirs = getattr(zmq.constants, class_name).__members__
    assert {n: int(v) for n, v in ours.items()} == {n: int(v) for n, v in theirs.items()}


@pytest.mark.parametrize("class_name", ENUM_CLASS_NAMES)
def test_enum_kind_matches_pyzmq(class_name):
    ours = getattr(constants, class_name)
    theirs = getattr(zmq.constants, class_name)
    assert issubclass(ours, IntFlag) == issubclass(theirs, IntFlag)
    assert issubclass(ours, (IntEnum, IntFlag))


def test_module_names_are_the_enum_members():
    assert constants.PUSH is constants.SocketType.PUSH
    assert constants.SNDHWM is constants.SocketOption.SNDHWM
    assert constants.DONTWAIT is constants.Flag.DONTWAIT
    assert constants.POLLIN is constants.PollEvent.POLLIN
    assert constants.EAGAIN is constants.Errno.EAGAIN
    assert constants.EVENT_CONNECTED is constants.Event.CONNECTED
    assert constants.PROTOCOL_ERROR_ZAP_BAD_VERSION is constants.Event.PROTOCOL_ERROR_ZAP_BAD_VERSION
    assert constants.NOTIFY_CONNECT is constants.RouterNotify.CONNECT
    assert constants.NORM_CC is constants.NormMode.CC
    assert constants.RECONNECT_STOP_AFTER_DISCONNECT is constants.ReconnectStop.AFTER_DISCONNECT


@pytest.mark.parametrize(
    "alias, original",
    [
        ("IDENTITY", "ROUTING_ID"),
        ("CONNECT_RID", "CONNECT_ROUTING_ID"),
        ("DELAY_ATTACH_ON_CONNECT", "IMMEDIATE"),
        ("FAIL_UNROUTABLE", "ROUTER_MANDATORY"),
        ("ROUTER_BEHAVIOR", "ROUTER_MANDATORY"),
        ("XREQ", "DEALER"),
        ("XREP", "ROUTER"),
        ("NOBLOCK", "DONTWAIT"),
        ("EVENT_ALL", "EVENT_ALL_V1"),
    ],
)
def test_aliases(alias, original):
    assert getattr(constants, alias) is getattr(constants, original)


# Numbers from OPTIONS.md (zmq.h of v4.3.5), checked without pyzmq's help.
SPEC_VALUES = {
    "PAIR": 0, "PUB": 1, "SUB": 2, "REQ": 3, "REP": 4, "DEALER": 5, "ROUTER": 6,
    "PULL": 7, "PUSH": 8, "XPUB": 9, "XSUB": 10, "STREAM": 11, "SERVER": 12,
    "CHANNEL": 20,
    "AFFINITY": 4, "ROUTING_ID": 5, "SUBSCRIBE": 6, "RCVMORE": 13, "FD": 14,
    "EVENTS": 15, "TYPE": 16, "LINGER": 17, "SNDHWM": 23, "RCVHWM": 24,
    "RCVTIMEO": 27, "SNDTIMEO": 28, "LAST_ENDPOINT": 32, "IMMEDIATE": 39,
    "BLOCKY": 70, "HEARTBEAT_IVL": 75, "ROUTER_NOTIFY": 97, "NORM_PUSH": 124,
    "IO_THREADS": 1, "MAX_SOCKETS": 2, "SOCKET_LIMIT": 3, "THREAD_PRIORITY": 3,
    "MSG_T_SIZE": 6,
    "DONTWAIT": 1, "SNDMORE": 2, "MORE": 1, "SRCFD": 2, "SHARED": 3,
    "NULL": 0, "PLAIN": 1, "CURVE": 2, "GSSAPI": 3,
    "POLLIN": 1, "POLLOUT": 2, "POLLERR": 4, "POLLPRI": 8,
    "STREAMER": 1, "FORWARDER": 2, "QUEUE": 3,
    "EVENT_CONNECTED": 0x1, "EVENT_LISTENING": 0x8, "EVENT_DISCONNECTED": 0x200,
    "EVENT_MONITOR_STOPPED": 0x400, "EVENT_HANDSHAKE_SUCCEEDED": 0x1000,
    "EVENT_HANDSHAKE_FAILED_AUTH": 0x4000, "EVENT_ALL": 0xFFFF,
    "EVENT_PIPES_STATS": 0x10000, "EVENT_ALL_V2": 0x1FFFF,
    "PROTOCOL_ERROR_ZMTP_UNSPECIFIED": 0x10000000,
    "PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH": 0x11000002,
    "PROTOCOL_ERROR_ZAP_INVALID_METADATA": 0x20000005,
    "PROTOCOL_ERROR_WS_UNSPECIFIED": 0x30000000,
    "NOTIFY_CONNECT": 1, "NOTIFY_DISCONNECT": 2,
    "RECONNECT_STOP_CONN_REFUSED": 1, "RECONNECT_STOP_HANDSHAKE_FAILED": 2,
    "RECONNECT_STOP_AFTER_DISCONNECT": 4,
    "EFSM": 156384712 + 51, "ENOCOMPATPROTO": 156384712 + 52,
    "ETERM": 156384712 + 53, "EMTHREAD": 156384712 + 54,
}


def test_values_match_spec():
    mismatches = {
        name: getattr(constants, name)
        for name, value in SPEC_VALUES.items()
        if getattr(constants, name) != value
    }
    assert mismatches == {}


POSIX_ERRNO_NAMES = [
    "EAGAIN", "EFAULT", "EINVAL", "ENOTSUP", "EPROTONOSUPPORT", "ENOBUFS",
    "ENETDOWN", "EADDRINUSE", "EADDRNOTAVAIL", "ECONNREFUSED", "EINPROGRESS",
    "ENOTSOCK", "EMSGSIZE", "EAFNOSUPPORT", "ENETUNREACH", "ECONNABORTED",
    "ECONNRESET", "ENOTCONN", "ETIMEDOUT", "EHOSTUNREACH", "ENETRESET",
]


def test_posix_errors_use_platform_errno():
    mismatches = {
        name: (getattr(constants.Errno, name), getattr(errno, name))
        for name in POSIX_ERRNO_NAMES
        if hasattr(errno, name) and getattr(constants.Errno, name) != getattr(errno, name)
    }
    assert mismatches == {}


def test_option_types_match_pyzmq():
    mismatches = {}
    for name, option in constants.SocketOption.__members__.items():
        ours = constants.option_type(option).value
        theirs = zmq.constants.SocketOption[name]._opt_type.value
        if ours != theirs:
            mismatches[name] = (ours, theirs)
    assert mismatches == {}


def test_opt_type_attribute():
    assert constants.ROUTING_ID.opt_type is constants.OptType.bytes
    # pyzmq's private spelling still answers.
    assert constants.AFFINITY._opt_type is constants.OptType.int64


BYTES_OPTION_NAMES = [
    "ROUTING_ID", "IDENTITY", "SUBSCRIBE", "UNSUBSCRIBE", "LAST_ENDPOINT",
    "ZAP_DOMAIN", "PLAIN_USERNAME", "PLAIN_PASSWORD", "CURVE_PUBLICKEY",
    "CURVE_SECRETKEY", "CURVE_SERVERKEY", "CONNECT_ROUTING_ID",
    "XPUB_WELCOME_MSG", "SOCKS_PROXY", "BINDTODEVICE", "METADATA",
    "HELLO_MSG", "DISCONNECT_MSG", "HICCUP_MSG",
]
INT64_OPTION_NAMES = [
    "AFFINITY", "MAXMSGSIZE", "VMCI_BUFFER_SIZE", "VMCI_BUFFER_MIN_SIZE", "VMCI_BUFFER_MAX_SIZE",
]


def test_bytes_and_int64_options():
    def names_not_of_type(names, opt_type):
        return {n for n in names if constants.OPTION_TYPES[getattr(constants, n)] is not opt_type}

    assert names_not_of_type(BYTES_OPTION_NAMES, constants.OptType.bytes) == set()
    assert names_not_of_type(INT64_OPTION_NAMES, constants.OptType.int64) == set()


def test_fd_and_int_options():
    assert constants.option_type(constants.FD) is constants.OptType.fd
    assert constants.option_type(constants.LINGER) is constants.OptType.int
    assert constants.option_type(constants.PLAIN_SERVER) is constants.OptType.int
    assert constants.option_type(constants.VMCI_CONNECT_TIMEOUT) is constants.OptType.int


def test_option_table_covers_every_option():
    assert set(constants.OPTION_TYPES) == {int(o) for o in constants.SocketOption}
    # Unknown numbers are the core's to reject; the table just says "int".
    assert constants.option_type(10) is constants.OptType.int


def test_flags_combine():
    assert constants.DONTWAIT | constants.SNDMORE == 3
    assert constants.POLLIN | constants.POLLOUT == 3
    assert isinstance(constants.POLLIN | constants.POLLOUT, constants.PollEvent)
    assert constants.Event.CONNECTED.name == "CONNECTED"
