"""gevent compatibility, as ``zmq.green``: ``import mqcore.green as zmq``.

Everything mqcore has, with Context, Socket, Poller and device replaced by
versions whose blocking calls block only the calling greenlet (see core.py
for how).  gevent is an optional dependency (the "gevent" extra).
"""

from __future__ import annotations

import mqcore as _zmq
from mqcore import *  # noqa: F403 - the green module is all of mqcore
from mqcore.green.core import _Context, _Socket
from mqcore.green.poll import _Poller
from mqcore.green.device import device

Context = _Context
Socket = _Socket
Poller = _Poller

__all__: list[str] = list(_zmq.__all__)
