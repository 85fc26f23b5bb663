"""``zmq.sugar.tracker``: MessageTracker, and the tracker that is already done.

``_FINISHED_TRACKER`` is what pyzmq returns for sends that need no
tracking; a tracker of no frames is done from the start.  The core's own
instance is used when it has one, so identity checks agree.
"""

import mqcore
from mqcore._core import MessageTracker

_FINISHED_TRACKER = mqcore._FINISHED_TRACKER

__all__ = ["MessageTracker", "_FINISHED_TRACKER"]
