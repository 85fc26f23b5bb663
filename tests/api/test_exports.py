"""The top-level names a pyzmq program reaches for must exist on mqcore.

``import mqcore as zmq`` only works if every ``zmq.X`` the program touches is
there, with the meaning pyzmq gives it.
"""

import pytest

import mqcore
from mqcore import _core

zmq = pytest.importorskip("zmq", reason="pyzmq is the reference for the API surface")

# Used by ordinary pyzmq programs and provided by mqcore today.
REQUIRED_NAMES = [
    "Context", "Socket", "Frame", "Message", "SyncContext", "SyncSocket",
    "ZMQBaseError", "ZMQError", "Again", "ContextTerminated",
    "InterruptedSystemCall", "NotDone", "ZMQBindError", "ZMQVersionError",
    "strerror", "has", "zmq_version", "zmq_version_info", "pyzmq_version",
    "pyzmq_version_info", "COPY_THRESHOLD", "DRAFT_API", "__version__",
    "constants", "error",
    "Poller", "select", "proxy", "proxy_steerable", "device", "zmq_poll",
    "MessageTracker", "curve_keypair", "curve_public", "zmq_errno",
    "IPC_PATH_MAX_LEN",
]


@pytest.mark.parametrize("name", REQUIRED_NAMES)
def test_required_name_exists(name):
    assert hasattr(mqcore, name)
    assert hasattr(zmq, name)       # and pyzmq has it too: the same API


def test_curve_with_libsodium_from_pynacl():
    """libsodium comes from PyNaCl (a runtime dependency): has("curve") is
    True and the key functions return Z85 keys, as pyzmq's do."""
    assert mqcore.has("curve")
    public, secret = mqcore.curve_keypair()
    assert len(public) == len(secret) == 40
    assert mqcore.curve_public(secret) == public


def test_public_api_names_exist():
    assert [name for name in mqcore.PUBLIC_API if not hasattr(mqcore, name)] == []


def test_all_names_exist():
    assert [name for name in mqcore.__all__ if not hasattr(mqcore, name)] == []


def test_every_pyzmq_constant_is_top_level_with_same_value():
    """zmq.PUSH, zmq.EAGAIN, zmq.EVENT_CONNECTED... as pyzmq has them."""
    differ = {}
    # pyzmq also leaks the enum base classes (Enum, IntEnum, IntFlag) into
    # its constants.__all__; no program needs those from zmq.
    for name in set(zmq.constants.__all__) - {"Enum", "IntEnum", "IntFlag"}:
        theirs = getattr(zmq, name)
        if isinstance(theirs, type):
            assert isinstance(getattr(mqcore, name), type), name
            continue
        ours = getattr(mqcore, name, None)
        if ours is None or int(ours) != int(theirs):
            differ[name] = (ours, int(theirs))
    assert differ == {}


def test_constants_are_enum_members():
    assert mqcore.PUSH is mqcore.SocketType.PUSH
    assert mqcore.constants.SNDHWM is mqcore.SNDHWM


def test_error_classes_are_the_error_module_ones():
    assert mqcore.ZMQError is mqcore.error.ZMQError
    assert mqcore.Again is mqcore.error.Again
    assert mqcore.strerror is mqcore.error.strerror


def test_versions():
    assert mqcore.zmq_version() == "4.3.5"
    assert mqcore.zmq_version_info() == (4, 3, 5)
    assert mqcore.pyzmq_version() == "27.3.0"
    assert mqcore.pyzmq_version_info() == (27, 3, 0)
    assert mqcore.pyzmq_version_info() == zmq.pyzmq_version_info()[:3]
    assert mqcore.__version__ == "0.1.0"


def test_frame_and_message():
    assert mqcore.Frame is _core.Frame
    assert mqcore.Message is mqcore.Frame


def test_classes_build_on_the_core():
    assert issubclass(mqcore.Context, _core.Context)
    assert issubclass(mqcore.Socket, _core.Socket)
    assert mqcore.Context._socket_class is mqcore.Socket
    assert mqcore.SyncContext is mqcore.Context
    assert mqcore.SyncSocket is mqcore.Socket


def test_has_answers_bool():
    assert isinstance(mqcore.has("curve"), bool)
    assert mqcore.has("no-such-capability") is False
    assert mqcore.DRAFT_API is mqcore.has("draft")


def test_has_names_transports_as_libzmq_does():
    """ipc is reported (from the transport table); tcp and inproc, which
    every libzmq has, are not named by zmq_has."""
    assert mqcore.has("ipc") and mqcore.has(b"ipc")
    assert not mqcore.has("tcp")
    assert not mqcore.has("inproc")


def test_socket_methods_pyzmq_programs_use():
    names = [
        "bind", "connect", "unbind", "disconnect", "close", "send", "recv",
        "send_multipart", "recv_multipart", "send_string", "recv_string",
        "send_json", "recv_json", "send_pyobj", "recv_pyobj",
        "send_serialized", "recv_serialized", "setsockopt", "getsockopt",
        "setsockopt_string", "getsockopt_string", "set_string", "get_string",
        "set", "get", "bind_to_random_port", "poll", "subscribe",
        "unsubscribe", "set_hwm", "get_hwm", "hwm", "fileno",
        "get_monitor_socket", "disable_monitor", "__enter__", "__exit__",
    ]
    assert [name for name in names if not hasattr(mqcore.Socket, name)] == []


def test_context_methods_pyzmq_programs_use():
    names = [
        "socket", "term", "destroy", "instance", "set", "get", "setsockopt",
        "getsockopt", "__enter__", "__exit__",
    ]
    assert [name for name in names if not hasattr(mqcore.Context, name)] == []
