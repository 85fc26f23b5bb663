"""``zmq.sugar.frame``: Frame (a message part) and its old name Message."""

from mqcore._core import Frame

Message = Frame

__all__ = ["Frame", "Message"]
