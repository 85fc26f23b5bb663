"""MonitoredQueue and its thread/process forms
(pyzmq's ``zmq.devices.monitoredqueuedevice``)."""

from __future__ import annotations

from mqcore.constants import SocketType
from mqcore.devices.monitoredqueue import monitored_queue
from mqcore.devices.proxydevice import ProcessProxy, Proxy, ProxyBase, ThreadProxy


class MonitoredQueueBase(ProxyBase):
    """Runs ``monitored_queue`` instead of ``proxy``; mix in before a Proxy class."""

    def __init__(
        self,
        in_type: int,
        out_type: int,
        mon_type: int = SocketType.PUB,
        in_prefix: bytes = b"in",
        out_prefix: bytes = b"out",
    ) -> None:
        ProxyBase.__init__(self, in_type=in_type, out_type=out_type, mon_type=mon_type)
        self._in_prefix = in_prefix
        self._out_prefix = out_prefix

    def run_device(self) -> None:
        ins, outs, mons = self._setup_sockets()
        monitored_queue(ins, outs, mons, self._in_prefix, self._out_prefix)


class MonitoredQueue(MonitoredQueueBase, Proxy):
    """A Proxy whose monitor copies carry a direction prefix frame.

    Messages from the in socket are reported as ``[in_prefix, *frames]``,
    those from the out socket as ``[out_prefix, *frames]``.  Both sides may
    be ROUTER sockets.
    """


class ThreadMonitoredQueue(MonitoredQueueBase, ThreadProxy):
    """MonitoredQueue in a background thread."""


class ProcessMonitoredQueue(MonitoredQueueBase, ProcessProxy):
    """MonitoredQueue in a background process."""


__all__ = ["MonitoredQueue", "ThreadMonitoredQueue", "ProcessMonitoredQueue"]
