"""Device, ThreadDevice, ProcessDevice: a proxy between two sockets, run in
the caller, a thread or a process (pyzmq's ``zmq.devices.basedevice``)."""

from __future__ import annotations

import time
from multiprocessing import Process
from threading import Thread
from typing import Any, Callable

import mqcore
from mqcore.constants import DeviceType, Errno, SocketType
from mqcore.context import Context
from mqcore.error import ZMQBindError, ZMQError
from mqcore.socket import Socket

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


__all__ = ["Device", "ThreadDevice", "ProcessDevice"]
