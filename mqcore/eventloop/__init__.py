"""tornado integration, as ``zmq.eventloop``: ``ioloop``, ``zmqstream``, ``future``.

tornado is an optional dependency (the "tornado" extra).  Since tornado 5
its IOLoop runs on asyncio, so mqcore sockets need no special loop: the
submodules only adapt the API pyzmq programs use.
"""

from tornado.ioloop import IOLoop

__all__ = ["IOLoop"]
