"""Devices: proxies that run in the background, as pyzmq's ``zmq.devices``.

A device is configured with socket *types*, not sockets; it creates its
sockets in the thread or process that runs it, because a socket belongs to
one thread at a time.  Addresses and options are queued with
``bind_in``/``connect_out``/``setsockopt_in``/... and applied there:

    dev = ThreadDevice(mqcore.QUEUE, mqcore.ROUTER, mqcore.DEALER)
    dev.bind_in("tcp://127.0.0.1:5559")
    dev.bind_out("tcp://127.0.0.1:5560")
    dev.start()

The classes, by what they run and where:

=====================  ==============  ===================  ======================
runs                   in the caller   in a thread          in a process
=====================  ==============  ===================  ======================
proxy(in, out)         Device          ThreadDevice         ProcessDevice
proxy(in, out, mon)    Proxy           ThreadProxy          ProcessProxy
proxy_steerable(...)   ProxySteerable  ThreadProxySteerable ProcessProxySteerable
monitored_queue(...)   MonitoredQueue  ThreadMonitoredQueue ProcessMonitoredQueue
=====================  ==============  ===================  ======================

``proxy`` and ``proxy_steerable`` come from the core and are looked up when a
device runs, so this module imports even while the core lacks them.
``monitored_queue`` is plain Python over ``Poller``.
"""


from __future__ import annotations

from mqcore.devices import (
    basedevice,
    monitoredqueue,
    monitoredqueuedevice,
    proxydevice,
    proxysteerabledevice,
)
from mqcore.devices.basedevice import Device, ProcessDevice, ThreadDevice, device
from mqcore.devices.monitoredqueue import monitored_queue
from mqcore.devices.monitoredqueuedevice import (
    MonitoredQueue,
    ProcessMonitoredQueue,
    ThreadMonitoredQueue,
)
from mqcore.devices.proxydevice import ProcessProxy, Proxy, ThreadProxy
from mqcore.devices.proxysteerabledevice import (
    ProcessProxySteerable,
    ProxySteerable,
    ThreadProxySteerable,
)

__all__ = [
    "Device",
    "ThreadDevice",
    "ProcessDevice",
    "Proxy",
    "ThreadProxy",
    "ProcessProxy",
    "ProxySteerable",
    "ThreadProxySteerable",
    "ProcessProxySteerable",
    "monitored_queue",
    "MonitoredQueue",
    "ThreadMonitoredQueue",
    "ProcessMonitoredQueue",
    "device",
]
