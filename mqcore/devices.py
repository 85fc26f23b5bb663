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

import time
from multiprocessing import Process
from threading import Thread
from typing import Any, Callable

import mqcore
from mqcore.constants import DeviceType, Errno, SocketType
from mqcore.context import Context
from mqcore.error import ZMQBindError, ZMQError
from mqcore.poll import POLLIN, Poller
from mqcore.socket import Socket

# Errors that mean "the device was shut down", not "the device failed":
# the context was terminated, or its sockets were closed under it.
_SHUTDOWN_ERRNOS = frozenset({Errno.ETERM, Errno.ENOTSOCK})


def _core_function(name: str) -> Callable[..., Any]:
    """``mqcore.<name>`` (proxy, proxy_steerable), or a clear error if missing."""
    function = getattr(mqcore, name, None)
    if function is None:
        raise NotImplementedError(f"mqcore.{name} is not available in this build")
    return function


def device(device_type: int, frontend: Socket, backend: Socket) -> Any:
    """The old ``zmq_device`` call: ``proxy(frontend, backend)``.

    QUEUE, FORWARDER and STREAMER all behave the same way since libzmq 3.2
    (the socket types make the difference), so ``device_type`` is not used.
    """
    return _core_function("proxy")(frontend, backend)


# ---------------------------------------------------------------------------
# Queued socket set-up
# ---------------------------------------------------------------------------


class _SocketPlan:
    """What to do to one of a device's sockets once it exists.

    Options come first (IDENTITY and friends must be set before bind or
    connect), then binds, then connects.
    """

    def __init__(self) -> None:
        self.binds: list[str] = []
        self.connects: list[str] = []
        self.sockopts: list[tuple[int, Any]] = []

    def apply(self, sock: Socket) -> None:
        for option, value in self.sockopts:
            sock.setsockopt(option, value)
        for addr in self.binds:
            sock.bind(addr)
        for addr in self.connects:
            sock.connect(addr)


class Device:
    """A proxy between an "in" and an "out" socket, run by ``start()``.

    ``Device(device_type, in_type, out_type)``: ``device_type`` (QUEUE,
    FORWARDER, STREAMER) is kept for compatibility; the socket types decide
    what the device does.  With ``out_type < 0`` the in socket is used for
    both sides.

    This base class runs in the caller's thread: ``start()`` blocks until the
    device stops.  ``ThreadDevice`` and ``ProcessDevice`` run it in the
    background.

    ``daemon`` (default True) is passed to the thread or process, so that a
    running device does not keep the program alive.
    """

    # How a device gets its context.  A thread shares the process-wide
    # instance; a process makes its own (see ProcessDevice).
    context_factory: Callable[[], Context] = Context.instance

    def __init__(
        self,
        device_type: int = DeviceType.QUEUE,
        in_type: int | None = None,
        out_type: int | None = None,
    ) -> None:
        if in_type is None:
            raise TypeError("in_type must be specified")
        if out_type is None:
            raise TypeError("out_type must be specified")
        self.device_type = device_type
        self.in_type = in_type
        self.out_type = out_type
        self._in = _SocketPlan()
        self._out = _SocketPlan()
        self._random_addrs: list[str] = []
        self._sockets: list[Socket] = []
        self.daemon = True
        self.done = False

    # -- queued configuration of the in and out sockets ---------------------

    def bind_in(self, addr: str) -> None:
        """Bind the in socket to ``addr`` when the device starts."""
        self._in.binds.append(addr)

    def connect_in(self, addr: str) -> None:
        """Connect the in socket to ``addr`` when the device starts."""
        self._in.connects.append(addr)

    def setsockopt_in(self, opt: int, value: Any) -> None:
        """Set an option on the in socket when the device starts."""
        self._in.sockopts.append((opt, value))

    def bind_in_to_random_port(self, addr: str, *args: Any, **kwargs: Any) -> int:
        """Pick a free port on ``addr`` now; bind the in socket to it at start."""
        port = self._reserve_random_port(addr, *args, **kwargs)
        self.bind_in(f"{addr}:{port}")
        return port

    def bind_out(self, addr: str) -> None:
        """Bind the out socket to ``addr`` when the device starts."""
        self._out.binds.append(addr)

    def connect_out(self, addr: str) -> None:
        """Connect the out socket to ``addr`` when the device starts."""
        self._out.connects.append(addr)

    def setsockopt_out(self, opt: int, value: Any) -> None:
        """Set an option on the out socket when the device starts."""
        self._out.sockopts.append((opt, value))

    def bind_out_to_random_port(self, addr: str, *args: Any, **kwargs: Any) -> int:
        """Pick a free port on ``addr`` now; bind the out socket to it at start."""
        port = self._reserve_random_port(addr, *args, **kwargs)
        self.bind_out(f"{addr}:{port}")
        return port

    def _reserve_random_port(self, addr: str, *args: Any, **kwargs: Any) -> int:
        """A port on ``addr`` that was free a moment ago and not handed out yet.

        The port is found by binding a throwaway socket, which is closed
        again: the real socket only exists once the device runs.  There is
        a window in which another program can take the port; pyzmq has the
        same window.
        """
        with Context() as ctx:
            with ctx.socket(SocketType.PUSH) as probe:
                for _ in range(5):
                    port = probe.bind_to_random_port(addr, *args, **kwargs)
                    candidate = f"{addr}:{port}"
                    if candidate not in self._random_addrs:
                        self._random_addrs.append(candidate)
                        return port
        raise ZMQBindError("Could not reserve random port.")

    # -- running -------------------------------------------------------------

    def _new_socket(self, socket_type: int, plan: _SocketPlan) -> Socket:
        sock = self._context.socket(socket_type)
        self._sockets.append(sock)
        plan.apply(sock)
        return sock

    def _setup_sockets(self) -> tuple[Socket, ...]:
        """Create and configure the sockets; called where the device runs."""
        self._context = self.context_factory()
        ins = self._context.socket(self.in_type)
        self._sockets.append(ins)
        if self.out_type < 0:
            outs = ins
        else:
            outs = self._context.socket(self.out_type)
            self._sockets.append(outs)
        # All options before any bind or connect, across both sockets, as
        # pyzmq does: a shared in/out socket gets every option first.
        for opt, value in self._in.sockopts:
            ins.setsockopt(opt, value)
        for opt, value in self._out.sockopts:
            outs.setsockopt(opt, value)
        for addr in self._in.binds:
            ins.bind(addr)
        for addr in self._out.binds:
            outs.bind(addr)
        for addr in self._in.connects:
            ins.connect(addr)
        for addr in self._out.connects:
            outs.connect(addr)
        return ins, outs

    def run_device(self) -> None:
        """Set up the sockets and proxy between them (runs until shut down)."""
        ins, outs = self._setup_sockets()
        _core_function("proxy")(ins, outs)

    def _close_sockets(self) -> None:
        for sock in self._sockets:
            if not sock.closed:
                sock.close()

    def run(self) -> None:
        """``run_device``, treating context termination as a clean stop."""
        try:
            self.run_device()
        except ZMQError as exc:
            if exc.errno not in _SHUTDOWN_ERRNOS:
                raise
        finally:
            self.done = True
            self._close_sockets()

    def start(self) -> None:
        """Run the device; in this base class, in the calling thread."""
        return self.run()

    def join(self, timeout: float | None = None) -> None:
        """Wait until the device has stopped, or ``timeout`` seconds passed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done:
            if deadline is not None and time.monotonic() >= deadline:
                return
            time.sleep(0.001)


class BackgroundDevice(Device):
    """A Device whose ``start()`` launches ``run`` in a thread or process."""

    launcher: Any = None
    _launch_class: Any = None

    def start(self) -> None:
        self.launcher = self._launch_class(target=self.run)
        self.launcher.daemon = self.daemon
        return self.launcher.start()

    def join(self, timeout: float | None = None) -> None:
        return self.launcher.join(timeout=timeout)


class ThreadDevice(BackgroundDevice):
    """A Device run in a background thread."""

    _launch_class = Thread


class ProcessDevice(BackgroundDevice):
    """A Device run in a background process.

    The process makes a fresh Context: a context inherited through fork
    belongs to the parent and must never be used by the child.
    """

    _launch_class = Process
    context_factory = Context


# ---------------------------------------------------------------------------
# Proxy: in, out, and a monitor socket that sees every message
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# ProxySteerable: a Proxy plus a control socket (PAUSE/RESUME/TERMINATE/...)
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# monitored_queue: a two-way queue that reports traffic, with prefixes
# ---------------------------------------------------------------------------


def _relay(
    source: Socket, target: Socket, monitor: Socket, prefix: bytes, swap_ids: bool
) -> None:
    """Move one whole message from ``source`` to ``target``; copy it to ``monitor``.

    Between two ROUTERs the first two frames are the sender's and the
    receiver's routing ids; swapping them makes the target ROUTER route to
    the receiver and tells the receiver who sent it.
    """
    frames = source.recv_multipart()
    if swap_ids:
        frames[:2] = frames[1::-1]
    target.send_multipart(frames)
    monitor.send_multipart([prefix, *frames])


def monitored_queue(
    in_socket: Socket,
    out_socket: Socket,
    mon_socket: Socket,
    in_prefix: bytes = b"in",
    out_prefix: bytes = b"out",
) -> None:
    """Forward messages both ways between two sockets; report each on a third.

    Every message from ``in_socket`` goes to ``out_socket`` and vice versa.
    ``mon_socket`` receives a copy of each, with ``in_prefix`` or
    ``out_prefix`` as an extra first frame telling the direction.  Unlike
    ``proxy``, both sides may be ROUTER sockets.

    Runs until a socket fails; context termination ends it with
    ContextTerminated, as it ends ``proxy``.
    """
    swap_ids = (
        in_socket.socket_type == SocketType.ROUTER
        and out_socket.socket_type == SocketType.ROUTER
    )
    poller = Poller()
    poller.register(in_socket, POLLIN)
    poller.register(out_socket, POLLIN)
    while True:
        ready = dict(poller.poll())
        if in_socket in ready:
            _relay(in_socket, out_socket, mon_socket, in_prefix, swap_ids)
        if out_socket in ready:
            _relay(out_socket, in_socket, mon_socket, out_prefix, swap_ids)


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
