"""``zmq.green.eventloop.zmqstream``: ZMQStream defaulting to ``IOLoop.instance()``."""

from __future__ import annotations

from typing import Any

from mqcore.eventloop import zmqstream
from mqcore.green.eventloop.ioloop import IOLoop


class ZMQStream(zmqstream.ZMQStream):
    def __init__(self, socket: Any, io_loop: IOLoop | None = None) -> None:
        super().__init__(socket, io_loop=io_loop or IOLoop.instance())


__all__ = ["ZMQStream"]
