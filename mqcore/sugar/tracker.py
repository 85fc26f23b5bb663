"""``zmq.sugar.tracker``: MessageTracker, and the tracker that is already done.

``_FINISHED_TRACKER`` is what pyzmq returns for sends that need no
tracking: the core's own instance, so that identity checks agree.
"""

import mqcore
from mqcore._core import MessageTracker

_FINISHED_TRACKER = mqcore._FINISHED_TRACKER

__all__ = ["MessageTracker", "_FINISHED_TRACKER"]
