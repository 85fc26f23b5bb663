"""The low-level layer, as pyzmq's ``zmq.backend``.

pyzmq picks a Cython or a CFFI binding to libzmq here.  mqcore has one core,
the compiled ``mqcore._core``, so this module simply names its objects under
the backend's public API: programs that import ``zmq.backend`` (to reach
the "raw" classes or functions) find them.  The classes are mqcore's full
Socket/Context, which subclass the core's, so isinstance checks against
either layer behave as pyzmq's.
"""

from __future__ import annotations

from mqcore import _core
from mqcore.context import Context
from mqcore.devices.monitoredqueue import monitored_queue
from mqcore.error import strerror
from mqcore.socket import Socket

Frame = _core.Frame
Message = Frame
IPC_PATH_MAX_LEN = _core.IPC_PATH_MAX_LEN
curve_keypair = _core.curve_keypair
curve_public = _core.curve_public
has = _core.has
proxy = _core.proxy
proxy_steerable = _core.proxy_steerable
zmq_poll = _core.zmq_poll
zmq_errno = _core.zmq_errno

# pyzmq's name for "built with draft support".
PYZMQ_DRAFT_API: bool = bool(has("draft"))


def zmq_version_info() -> tuple[int, int, int]:
    """The libzmq version whose behaviour mqcore implements."""
    from mqcore.error import LIBZMQ_VERSION_INFO

    return LIBZMQ_VERSION_INFO


# What pyzmq's select_backend() asks every backend to provide.
public_api = [
    "Context",
    "Socket",
    "Frame",
    "Message",
    "proxy",
    "proxy_steerable",
    "zmq_poll",
    "strerror",
    "zmq_errno",
    "has",
    "curve_keypair",
    "curve_public",
    "zmq_version_info",
    "IPC_PATH_MAX_LEN",
    "PYZMQ_DRAFT_API",
]


def select_backend(name: str) -> dict:
    """pyzmq's hook for choosing a backend; mqcore has only itself.

    Any name gives mqcore's namespace, so code that asks for "cython" or
    "cffi" explicitly keeps working.
    """
    return {key: globals()[key] for key in public_api}


__all__ = list(public_api)
