"""``zmq.sugar.socket``: the Socket classes."""

from mqcore.socket import Socket

SyncSocket = Socket

__all__ = ["Socket", "SyncSocket"]
