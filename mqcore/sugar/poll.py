"""``zmq.sugar.poll``: Poller and select."""

from mqcore.poll import Poller, select

__all__ = ["Poller", "select"]
