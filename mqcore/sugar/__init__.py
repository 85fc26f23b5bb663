"""``zmq.sugar``: pyzmq's Python layer over the backend, by submodule.

In mqcore the Python layer lives in ``mqcore.context``, ``mqcore.socket``
and friends; these modules give the same objects under pyzmq's module
paths, so ``from zmq.sugar.socket import Socket`` finds mqcore's Socket.
"""

from __future__ import annotations

from mqcore import error
from mqcore.devices.basedevice import device
from mqcore.error import *  # noqa: F403 - the exception classes are the API
from mqcore.sugar import (
    attrsettr,
    context,
    frame,
    poll,
    socket,
    stopwatch,
    tracker,
    version,
)
from mqcore.sugar.context import *  # noqa: F403
from mqcore.sugar.frame import *  # noqa: F403
from mqcore.sugar.poll import *  # noqa: F403
from mqcore.sugar.socket import *  # noqa: F403
from mqcore.sugar.stopwatch import Stopwatch
from mqcore.sugar.tracker import *  # noqa: F403
from mqcore.sugar.tracker import _FINISHED_TRACKER  # noqa: F401
from mqcore.sugar.version import *  # noqa: F403
from mqcore.sugar.version import __revision__, __version__  # noqa: F401

__all__ = ["device", "Stopwatch"]
for _submodule in (context, error, frame, poll, socket, tracker, version):
    __all__.extend(_submodule.__all__)
del _submodule
