"""``zmq.green.eventloop.ioloop``: the same re-export of tornado's IOLoop."""

from mqcore.eventloop.ioloop import *  # noqa: F403
from mqcore.eventloop.ioloop import IOLoop, ZMQIOLoop, install  # noqa: F401
