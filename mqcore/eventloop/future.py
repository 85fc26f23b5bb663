"""Future-returning sockets for tornado coroutines, as ``zmq.eventloop.future``.

tornado's Future *is* asyncio.Future (tornado >= 5) and its IOLoop runs an
asyncio loop, so the asyncio sockets of ``mqcore.asyncio`` already give
futures that tornado coroutines ``await`` or ``yield``.  This module gives
them the names and the Context of their own that pyzmq has here.

One difference from pyzmq: a cancelled future is an asyncio cancellation
(``CancelledError`` below is asyncio's), where pyzmq stores an exception of
its own class in it.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

from mqcore import asyncio as _aio

CancelledError = asyncio.CancelledError


class Socket(_aio.Socket):
    """A socket whose send/recv/poll return futures a tornado coroutine awaits."""


class Poller(_aio.Poller):
    """A Poller whose ``poll`` returns a future."""


class Context(_aio.Context):
    """A Context making the tornado-future ``Socket`` of this module."""

    _socket_class = Socket
    # A shared instance() apart from the plain and asyncio Contexts' ones.
    _instance = None
    _instance_pid = None
    io_loop = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.pop("io_loop", None) is not None:
            # pyzmq 22.2 dropped the argument: the running loop is used.
            warnings.warn(
                f"{type(self).__name__}(io_loop) argument is deprecated in pyzmq 22.2."
                " The currently active loop will always be used.",
                DeprecationWarning,
                stacklevel=2,
            )
        super().__init__(*args, **kwargs)


__all__ = ["CancelledError", "Context", "Poller", "Socket"]
