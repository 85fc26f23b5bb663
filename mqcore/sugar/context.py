"""``zmq.sugar.context``: the Context classes."""

from mqcore.context import Context

SyncContext = Context

__all__ = ["Context", "SyncContext"]
