"""Proxy, ThreadProxy, ProcessProxy: a Device with a monitor socket
(pyzmq's ``zmq.devices.proxydevice``)."""

from __future__ import annotations

from typing import Any

from mqcore.constants import SocketType
from mqcore.devices.basedevice import (
    Device,
    ProcessDevice,
    ThreadDevice,
    _core_function,
    _SocketPlan,
)
from mqcore.socket import Socket


class ProxyBase:
    """Adds a monitor ("mon") socket to a Device; mix in before a Device class."""

    def __init__(self, in_type: int, out_type: int, mon_type: int = SocketType.PUB) -> None:
        Device.__init__(self, in_type=in_type, out_type=out_type)
        self.mon_type = mon_type
        self._mon = _SocketPlan()

    def bind_mon(self, addr: str) -> None:
        """Bind the monitor socket to ``addr`` when the device starts."""
        self._mon.binds.append(addr)

    def connect_mon(self, addr: str) -> None:
        """Connect the monitor socket to ``addr`` when the device starts."""
        self._mon.connects.append(addr)

    def setsockopt_mon(self, opt: int, value: Any) -> None:
        """Set an option on the monitor socket when the device starts."""
        self._mon.sockopts.append((opt, value))

    def bind_mon_to_random_port(self, addr: str, *args: Any, **kwargs: Any) -> int:
        """Pick a free port on ``addr`` now; bind the monitor socket to it at start."""
        port = self._reserve_random_port(addr, *args, **kwargs)
        self.bind_mon(f"{addr}:{port}")
        return port

    def _setup_sockets(self) -> tuple[Socket, ...]:
        ins, outs = Device._setup_sockets(self)
        mons = self._new_socket(self.mon_type, self._mon)
        return ins, outs, mons

    def run_device(self) -> None:
        ins, outs, mons = self._setup_sockets()
        _core_function("proxy")(ins, outs, mons)


class Proxy(ProxyBase, Device):
    """A QUEUE-like device that also copies every message to a monitor socket.

    Configure the monitor socket with ``bind_mon``/``connect_mon``/
    ``setsockopt_mon``.  PUB is the usual monitor type (the default).
    """


class ThreadProxy(ProxyBase, ThreadDevice):
    """Proxy in a background thread."""


class ProcessProxy(ProxyBase, ProcessDevice):
    """Proxy in a background process."""


__all__ = ["Proxy", "ThreadProxy", "ProcessProxy"]
