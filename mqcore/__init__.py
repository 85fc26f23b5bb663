"""mqcore: brokerless ZeroMQ (ZMTP 3.1) messaging with pyzmq's interface.

``import mqcore as zmq`` is meant to run ordinary pyzmq programs: this
module exposes the same top-level names (constants, Context, Socket, Frame,
the exception classes, version functions).  The wire protocol and socket
machinery live in the Cython extension ``mqcore._core``; the classes here
are thin Python layers over it.

Import order matters: ``constants`` and ``error`` are pure Python and come
first, because ``_core`` imports ``mqcore.error`` while it initialises.
"""

from __future__ import annotations

from mqcore import constants, error
from mqcore.constants import *  # noqa: F403 - the constants are the API
from mqcore.error import (
    Again,
    DraftFDWarning,
    ContextTerminated,
    InterruptedSystemCall,
    NotDone,
    ZMQBaseError,
    ZMQBindError,
    ZMQError,
    ZMQVersionError,
    strerror,
)

from mqcore import _core  # noqa: E402 - needs constants and error loaded
from mqcore.context import Context  # noqa: E402
from mqcore.socket import Socket  # noqa: E402

from mqcore._version import __version__  # noqa: E402 - the one version source

# The pyzmq release whose API mqcore reproduces; reported by pyzmq_version()
# so that programs gating features on pyzmq's version take the modern paths.
_PYZMQ_VERSION_INFO = (27, 3, 0)

# Threshold under which pyzmq copies even when copy=False; kept for programs
# that read it.
COPY_THRESHOLD = 65536

Frame = _core.Frame
Message = Frame  # pyzmq's old name for Frame
# The tracker of a send that was copied: done from the start (pyzmq's name).
_FINISHED_TRACKER = _core._FINISHED_TRACKER

# pyzmq's names for the plain (non-async) classes.
SyncContext = Context
SyncSocket = Socket


def zmq_version() -> str:
    """The libzmq version whose behaviour mqcore implements, as "4.3.5"."""
    return ".".join(str(part) for part in error.LIBZMQ_VERSION_INFO)


def zmq_version_info() -> tuple[int, int, int]:
    """The libzmq version whose behaviour mqcore implements, as (4, 3, 5)."""
    return error.LIBZMQ_VERSION_INFO


def pyzmq_version() -> str:
    """The pyzmq version whose API mqcore reproduces, as "27.3.0"."""
    return ".".join(str(part) for part in _PYZMQ_VERSION_INFO)


def pyzmq_version_info() -> tuple[int, int, int]:
    """The pyzmq version whose API mqcore reproduces, as (27, 3, 0)."""
    return _PYZMQ_VERSION_INFO


from mqcore._core import (  # noqa: E402
    IPC_PATH_MAX_LEN,
    MessageTracker,
    curve_keypair,
    curve_public,
    has,
    proxy,
    proxy_steerable,
    zmq_errno,
    zmq_poll,
)
from mqcore.poll import Poller, select  # noqa: E402

# True when draft sockets and options (SERVER, CLIENT, ...) are available.
DRAFT_API: bool = bool(has("draft"))
PYZMQ_DRAFT_API = DRAFT_API  # pyzmq's spelling


def device(device_type: int, frontend: Socket, backend: Socket) -> None:
    """Old name for ``proxy(frontend, backend)``; ``device_type`` is ignored."""
    return proxy(frontend, backend)


# Names (besides the constants) that mqcore guarantees at top level; the
# contract test_exports checks.  Spelled as a list literal and extended by
# ``+= constants.__all__`` because those are the forms type checkers follow.
__all__ = [
    "Context",
    "Socket",
    "Frame",
    "Message",
    "SyncContext",
    "SyncSocket",
    "ZMQBaseError",
    "ZMQError",
    "Again",
    "ContextTerminated",
    "InterruptedSystemCall",
    "NotDone",
    "ZMQBindError",
    "ZMQVersionError",
    "strerror",
    "has",
    "zmq_version",
    "zmq_version_info",
    "pyzmq_version",
    "pyzmq_version_info",
    "COPY_THRESHOLD",
    "DRAFT_API",
    "__version__",
    "IPC_PATH_MAX_LEN",
    "MessageTracker",
    "curve_keypair",
    "curve_public",
    "device",
    "proxy",
    "proxy_steerable",
    "zmq_errno",
    "zmq_poll",
    "Poller",
    "select",
    "DraftFDWarning",
    "PYZMQ_DRAFT_API",
    "Stopwatch",
    "install",
]

# pyzmq's module paths (zmq.backend, zmq.sugar, zmq.utils) as attributes,
# as ``import zmq`` gives them; loaded last because they import the names
# above.
from mqcore import backend, sugar, utils  # noqa: E402
from mqcore.sugar.stopwatch import Stopwatch  # noqa: E402
from mqcore.sugar.version import __revision__  # noqa: E402,F401
from mqcore._install import install  # noqa: E402 - the opt-in switch for `import zmq`

PUBLIC_API = list(__all__)
__all__ += constants.__all__
