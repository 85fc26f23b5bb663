"""green.device: a QUEUE/FORWARDER/STREAMER device that yields to gevent."""

from __future__ import annotations

from typing import Any, NoReturn

import mqcore as _zmq
from mqcore.green.poll import _Poller


def device(device_type: int, isocket: Any, osocket: Any) -> NoReturn:
    """Relay messages both ways between ``isocket`` and ``osocket`` forever.

    ``device_type`` is ignored, as in pyzmq's green device (one-way socket
    types simply never receive from the other side).  ``osocket`` may be
    -1 to reflect messages back to ``isocket``.  Runs until an error
    (ETERM once the context is terminated, ENOTSOCK once a socket closes).
    """
    if isinstance(osocket, int) and osocket == -1:
        osocket = isocket
    poller = _Poller()
    poller.register(isocket, _zmq.POLLIN)
    poller.register(osocket, _zmq.POLLIN)
    while True:
        ready = dict(poller.poll())
        if isocket in ready:
            osocket.send_multipart(isocket.recv_multipart())
        if osocket in ready:
            isocket.send_multipart(osocket.recv_multipart())


__all__ = ["device"]
