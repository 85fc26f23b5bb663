"""tornado's IOLoop for green programs, as ``zmq.green.eventloop``."""

from mqcore.green.eventloop.ioloop import IOLoop

__all__ = ["IOLoop"]
