"""tornado's IOLoop under its old pyzmq name (deprecated in pyzmq 17).

Kept because programs still write ``from zmq.eventloop import ioloop;
ioloop.install()``: nothing needs installing any more, tornado's own loop
serves mqcore sockets, so this warns and re-exports tornado.ioloop.
"""

import warnings


def _deprecated() -> None:
    warnings.warn(
        "zmq.eventloop.ioloop is deprecated in pyzmq 17."
        " pyzmq now works with default tornado and asyncio eventloops.",
        DeprecationWarning,
        stacklevel=3,
    )


_deprecated()

from tornado.ioloop import *  # noqa: E402,F403 - the module is a re-export
from tornado.ioloop import IOLoop  # noqa: E402

ZMQIOLoop = IOLoop


def install() -> None:
    """Does nothing: tornado's loop needs no replacing (pyzmq 17+)."""
    _deprecated()
