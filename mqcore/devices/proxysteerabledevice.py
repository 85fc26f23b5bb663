"""ProxySteerable and its thread/process forms: a Proxy obeying a control
socket (pyzmq's ``zmq.devices.proxysteerabledevice``)."""

from __future__ import annotations

from typing import Any

from mqcore.constants import SocketType
from mqcore.devices.basedevice import _core_function, _SocketPlan
from mqcore.devices.proxydevice import ProcessProxy, Proxy, ThreadProxy
from mqcore.socket import Socket


class ProxySteerableBase:
    """Adds a control ("ctrl") socket to a Proxy; mix in before a Proxy class."""

    def __init__(
        self,
        in_type: int,
        out_type: int,
        mon_type: int = SocketType.PUB,
        ctrl_type: int | None = None,
    ) -> None:
        super().__init__(in_type=in_type, out_type=out_type, mon_type=mon_type)
        self.ctrl_type = ctrl_type
        self._ctrl = _SocketPlan()

    def bind_ctrl(self, addr: str) -> None:
        """Bind the control socket to ``addr`` when the device starts."""
        self._ctrl.binds.append(addr)

    def connect_ctrl(self, addr: str) -> None:
        """Connect the control socket to ``addr`` when the device starts."""
        self._ctrl.connects.append(addr)

    def setsockopt_ctrl(self, opt: int, value: Any) -> None:
        """Set an option on the control socket when the device starts."""
        self._ctrl.sockopts.append((opt, value))

    def bind_ctrl_to_random_port(self, addr: str, *args: Any, **kwargs: Any) -> int:
        """Pick a free port on ``addr`` now; bind the control socket to it at start."""
        port = self._reserve_random_port(addr, *args, **kwargs)
        self.bind_ctrl(f"{addr}:{port}")
        return port

    def _setup_sockets(self) -> tuple[Socket, ...]:
        ins, outs, mons = super()._setup_sockets()
        ctrls = self._new_socket(self.ctrl_type, self._ctrl)
        return ins, outs, mons, ctrls

    def run_device(self) -> None:
        ins, outs, mons, ctrls = self._setup_sockets()
        _core_function("proxy_steerable")(ins, outs, mons, ctrls)


class ProxySteerable(ProxySteerableBase, Proxy):
    """A Proxy that obeys commands on a control socket.

    PAUSE suspends forwarding, RESUME continues it, TERMINATE stops the
    device cleanly, STATISTICS replies with the message and byte counters.
    Configure the control socket with ``bind_ctrl``/``connect_ctrl``/
    ``setsockopt_ctrl``; ``ctrl_type`` is its socket type (PAIR or REP
    usually).
    """


class ThreadProxySteerable(ProxySteerableBase, ThreadProxy):
    """ProxySteerable in a background thread."""


class ProcessProxySteerable(ProxySteerableBase, ProcessProxy):
    """ProxySteerable in a background process."""


__all__ = ["ProxySteerable", "ThreadProxySteerable", "ProcessProxySteerable"]
