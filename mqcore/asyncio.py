"""asyncio support: ``import mqcore.asyncio as zaio``, like ``zmq.asyncio``.

``zaio.Context`` makes ``zaio.Socket`` objects, whose ``send``/``recv``
family and ``poll`` return asyncio Futures instead of blocking, and
``zaio.Poller.poll`` returns a Future for the ready list.

Theory of operation
-------------------
Every (non-thread-safe) mqcore socket has a notification fd that becomes
readable when the socket's state *may* have changed.  Reading EVENTS
drains it, and from then on the fd fires again on the next change.  So:

1. A send or recv first tries the operation with NOBLOCK.  If it works,
   the caller gets an already-finished Future: no loop round trip.
2. If it would block, a request (Future + "try it now" callable) joins the
   socket's recv or send queue, FIFO.  The socket's fd is registered once
   with the loop (``add_reader``), and stays registered until close.
3. ``_service`` runs when the fd fires and right after a request is
   queued (that second call re-reads EVENTS, so a change that happened
   between the failed attempt and the registration is not lost).  It reads
   EVENTS, lets the head of the matching queue try again, and repeats
   until nothing more can be done: only then is it safe to sleep.
4. A request is attempted only while its Future is pending, and its result
   is stored in the same step, so a cancelled or timed-out recv never
   swallows a message: the message stays for the next receiver.
5. RCVTIMEO / SNDTIMEO >= 0 arm a loop timer that fails the Future with
   ``Again``, as pyzmq does.

Anything else that drains the fd (a plain ``zmq_poll`` of the socket, a
user reading EVENTS) is followed by a "kick": ``_service`` is scheduled so
that queued requests are not left waiting for a wake-up that was consumed.
"""

from __future__ import annotations

import asyncio
import warnings
import weakref
from collections import deque
from typing import Any, Callable

import mqcore as _zmq
from mqcore import _core
from mqcore.constants import Errno
from mqcore.error import Again, ZMQError
from mqcore.socket import _check_sendable

_NOBLOCK = int(_zmq.NOBLOCK)
_SNDMORE = int(_zmq.SNDMORE)
_POLLIN = int(_zmq.POLLIN)
_POLLOUT = int(_zmq.POLLOUT)
_EVENTS = int(_zmq.EVENTS)
_RCVMORE = int(_zmq.RCVMORE)
_RCVTIMEO = int(_zmq.RCVTIMEO)
_SNDTIMEO = int(_zmq.SNDTIMEO)

# The core's own methods: the synchronous, non-overridden operations.
_core_send = _core.Socket.send
_core_recv = _core.Socket.recv
_core_get = _core.Socket.get


def _current_loop() -> asyncio.AbstractEventLoop:
    """The running loop; outside a coroutine, the policy's loop (as pyzmq)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.get_event_loop_policy().get_event_loop()


def _chain(source: asyncio.Future, convert: Callable[[Any], Any]) -> asyncio.Future:
    """A Future for ``convert(source's result)``; cancelling it cancels ``source``."""
    result = source.get_loop().create_future()

    def forward(_: asyncio.Future) -> None:
        if result.done():
            return
        if source.cancelled():
            result.cancel()
        elif source.exception() is not None:
            result.set_exception(source.exception())
        else:
            try:
                result.set_result(convert(source.result()))
            except Exception as exc:  # noqa: BLE001 - belongs to the awaiter
                result.set_exception(exc)

    def propagate_cancel(_: asyncio.Future) -> None:
        if result.cancelled() and not source.done():
            source.cancel()

    source.add_done_callback(forward)
    result.add_done_callback(propagate_cancel)
    return result


def _settle(future: asyncio.Future, attempt: Callable[[], Any]) -> None:
    """Run ``attempt`` and store its outcome in ``future``."""
    try:
        future.set_result(attempt())
    except Exception as exc:  # noqa: BLE001 - belongs to the awaiter
        future.set_exception(exc)


class _Request:
    """A queued send/recv (or poll wake-up) waiting for the socket."""

    __slots__ = ("attempt", "future", "timer")

    def __init__(self, future: asyncio.Future, attempt: Callable[[], Any]) -> None:
        self.future = future
        self.attempt = attempt  # does the operation with NOBLOCK
        self.timer: asyncio.TimerHandle | None = None


def _ready() -> None:
    """The "attempt" of a poll request: being reached is the whole point."""
    return


class Socket(_zmq.Socket):
    """A socket whose send/recv/poll methods return asyncio Futures."""

    # Declared at class level so that Socket.__setattr__ treats them as
    # attributes, not socket options.
    _recv_queue: deque | None = None
    _send_queue: deque | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _fd: int = -1
    _kick_pending: bool = False

    _repr_cls = "mqcore.asyncio.Socket"

    def __init__(
        self,
        context: Any = None,
        socket_type: int = -1,
        io_loop: Any = None,
        _from_socket: Any = None,
        **kwargs: Any,
    ) -> None:
        # Socket(sync_socket) and from_socket() shadow a plain socket, as
        # pyzmq's do; the loop is the running one at each call (io_loop is
        # accepted for pyzmq's signature).
        if isinstance(context, _core.Socket):
            context, _from_socket = None, context
        if _from_socket is not None:
            kwargs["shadow"] = _from_socket
        super().__init__(context, socket_type, **kwargs)
        self._recv_queue = deque()
        self._send_queue = deque()
        # The FD is read when first watched: thread-safe types (CLIENT,
        # SERVER, ...) have none, and must still be constructible.

    @classmethod
    def from_socket(cls, socket: Any, io_loop: Any = None) -> Socket:
        """An asyncio socket sharing the plain ``socket``."""
        return cls(_from_socket=socket, io_loop=io_loop)

    # ------------------------------------------------------------------
    # Sending and receiving
    # ------------------------------------------------------------------

    def send(self, data: Any, flags: int = 0, copy: bool = True,
             track: bool = False, **kwargs: Any) -> asyncio.Future:
        """Send one frame; the Future resolves once it is queued."""
        def attempt() -> Any:
            return _core_send(self, data, flags | _NOBLOCK, copy=copy, track=track, **kwargs)
        return self._submit(self._send_queue, attempt, flags, _SNDTIMEO)

    def send_multipart(self, msg_parts: Any, flags: int = 0, copy: bool = True,
                       track: bool = False, **kwargs: Any) -> asyncio.Future:
        """Send a whole multipart message; the Future resolves once it is queued."""
        parts = list(msg_parts)
        if not parts:
            raise IndexError("cannot send a multipart message with no parts")
        _check_sendable(parts)

        def attempt() -> Any:
            # Only the first frame can meet the HWM: once it is accepted
            # the rest of the message goes through too.
            for part in parts[:-1]:
                _core_send(self, part, flags | _SNDMORE | _NOBLOCK, copy=copy, track=track)
            return _core_send(self, parts[-1], flags | _NOBLOCK, copy=copy, track=track)
        return self._submit(self._send_queue, attempt, flags, _SNDTIMEO)

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> asyncio.Future:
        """Receive one frame (bytes, or a Frame if not ``copy``)."""
        def attempt() -> Any:
            return _core_recv(self, flags | _NOBLOCK, copy=copy, track=track)
        return self._submit(self._recv_queue, attempt, flags, _RCVTIMEO)

    def recv_multipart(self, flags: int = 0, copy: bool = True,
                       track: bool = False) -> asyncio.Future:
        """Receive every frame of one message."""
        def attempt() -> list:
            # Messages are atomic: once the first frame is here, all are.
            parts = [_core_recv(self, flags | _NOBLOCK, copy=copy, track=track)]
            while _core_get(self, _RCVMORE):
                parts.append(_core_recv(self, flags | _NOBLOCK, copy=copy, track=track))
            return parts
        return self._submit(self._recv_queue, attempt, flags, _RCVTIMEO)

    def send_many(self, messages: Any, flags: int = 0, copy: bool = True) -> asyncio.Future:
        """Queue many messages (each one part, or a list of parts); the
        Future resolves with how many went whole once at least one did."""
        batch = list(messages)

        def attempt() -> Any:
            return _core.Socket.send_many(self, batch, flags | _NOBLOCK, copy=copy)
        return self._submit(self._send_queue, attempt, flags, _SNDTIMEO)

    def recv_many(self, max_messages: int, flags: int = 0,
                  multipart: bool = False) -> asyncio.Future:
        """Up to max_messages already queued, once there is at least one."""
        def attempt() -> list:
            return _core.Socket.recv_many(self, max_messages, flags | _NOBLOCK, multipart=multipart)
        return self._submit(self._recv_queue, attempt, flags, _RCVTIMEO)

    def _deserialize(self, received: asyncio.Future, load: Callable[[Any], Any]) -> asyncio.Future:
        # The base class's recv_string/json/pyobj/serialized call this with
        # what recv returned: here a Future, so convert its result later.
        return _chain(received, load)

    # ------------------------------------------------------------------
    # Polling
    # ------------------------------------------------------------------

    def poll(self, timeout: float | None = None, flags: int = _POLLIN) -> asyncio.Future:
        """Future for the events in ``flags`` ready within ``timeout`` ms (0 if none)."""
        if self.closed:
            raise ZMQError(Errno.ENOTSUP)
        if timeout == 0:
            # Nothing to wait for: answered now, as pyzmq does.
            future = _current_loop().create_future()
            _settle(future, lambda: _zmq.Socket.poll(self, 0, flags))
            self._kick()
            return future
        poller = Poller()
        poller.register(self, flags)
        return _chain(poller.poll(timeout), lambda ready: dict(ready).get(self, 0))

    def _wait_for_events(self, flags: int) -> asyncio.Future:
        """Future that resolves when EVENTS may include one of ``flags``."""
        loop = _current_loop()
        future = loop.create_future()
        if flags & _POLLIN:
            self._enqueue(loop, self._recv_queue, _Request(future, _ready), -1)
        if flags & _POLLOUT:
            self._enqueue(loop, self._send_queue, _Request(future, _ready), -1)
        self._service()
        return future

    def get(self, option: int) -> Any:
        value = _core_get(self, option)
        if option == _EVENTS:
            # The user just drained our fd; queued requests must not sleep.
            self._kick()
        return value

    getsockopt = get

    # ------------------------------------------------------------------
    # Closing
    # ------------------------------------------------------------------

    def close(self, linger: int | None = None) -> None:
        """Cancel pending Futures, stop watching the fd, close the socket."""
        if not self.closed:
            for queue in (self._recv_queue, self._send_queue):
                while queue:
                    future = queue.popleft().future
                    # A closed loop can run no callback: cancelling would
                    # raise (as when the socket is collected after
                    # asyncio.run() returned); nobody can await it anyway.
                    if not future.get_loop().is_closed():
                        future.cancel()
            self._unwatch()
        super().close(linger=linger)

    # ------------------------------------------------------------------
    # Machinery
    # ------------------------------------------------------------------

    def _submit(self, queue: deque, attempt: Callable[[], Any], flags: int,
                timeout_option: int) -> asyncio.Future:
        """A Future for ``attempt``: done now if possible, else queued."""
        loop = _current_loop()
        future = loop.create_future()
        if flags & _NOBLOCK:
            # The caller asked not to wait: Again goes into the Future.
            _settle(future, attempt)
            self._kick()
            return future
        if not queue:
            # Nobody is ahead of us, so trying first keeps the order.
            try:
                future.set_result(attempt())
            except Again:
                pass
            except Exception as exc:  # noqa: BLE001
                future.set_exception(exc)
            if future.done():
                # The attempt may have drained the fd under other waiters.
                self._kick()
                return future
        self._enqueue(loop, queue, _Request(future, attempt), _core_get(self, timeout_option))
        self._service()
        return future

    def _enqueue(self, loop: asyncio.AbstractEventLoop, queue: deque,
                 request: _Request, timeout_ms: int) -> None:
        """Queue ``request``, arm its timeout and make sure the fd is watched."""
        self._watch(loop)
        queue.append(request)
        if timeout_ms >= 0:
            request.timer = loop.call_later(timeout_ms / 1000, _time_out, request.future)

        def forget(_: asyncio.Future) -> None:
            # Finished by any means (served, cancelled, timed out): drop the
            # timer, and the queue entry if it is still there.
            if request.timer is not None:
                request.timer.cancel()
            try:
                queue.remove(request)
            except ValueError:
                pass
        request.future.add_done_callback(forget)

    def _service(self) -> None:
        """Serve queued requests until the socket can do nothing more."""
        self._kick_pending = False
        if self.closed:
            return
        while True:
            try:
                events = _core_get(self, _EVENTS)  # also drains the fd
            except ZMQError as exc:  # context terminated under us
                self._fail_all(exc)
                return
            served = False
            if events & _POLLIN:
                served |= self._serve_head(self._recv_queue)
            if events & _POLLOUT:
                served |= self._serve_head(self._send_queue)
            if not served:
                return

    @staticmethod
    def _serve_head(queue: deque) -> bool:
        """Let the first pending request try again; True if it finished."""
        while queue and queue[0].future.done():
            queue.popleft()
        if not queue:
            return False
        request = queue[0]
        try:
            result = request.attempt()
        except Again:
            return False
        except Exception as exc:  # noqa: BLE001 - belongs to the awaiter
            queue.popleft()
            request.future.set_exception(exc)
            return True
        queue.popleft()
        request.future.set_result(result)
        return True

    def _kick(self) -> None:
        """Schedule ``_service`` if requests wait on a fd that may be drained."""
        if self._kick_pending or not (self._recv_queue or self._send_queue):
            return
        if self._loop is None or self._loop.is_closed():
            return
        self._kick_pending = True
        self._loop.call_soon(self._service)

    def _fail_all(self, exc: BaseException) -> None:
        for queue in (self._recv_queue, self._send_queue):
            while queue:
                request = queue.popleft()
                if not request.future.done():
                    request.future.set_exception(exc)

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Register the fd with ``loop`` (once; moved if the loop changed)."""
        if self._loop is loop:
            return
        self._unwatch()
        if self._fd < 0:
            self._fd = _core_get(self, int(_zmq.FD))
        # Through a weak reference: the loop must not keep alive a socket
        # the program dropped without close(), or term() would wait for it
        # forever.  Collected, it closes itself, which unregisters the fd.
        loop.add_reader(self._fd, _service_if_alive, weakref.ref(self))
        self._loop = loop

    def _unwatch(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._fd)
        self._loop = None


def _service_if_alive(socket_ref: weakref.ref) -> None:
    socket = socket_ref()
    if socket is not None:
        socket._service()


def _time_out(future: asyncio.Future) -> None:
    """RCVTIMEO/SNDTIMEO expired: fail like a blocking call would."""
    if not future.done():
        future.set_exception(Again())


class Poller(_zmq.Poller):
    """A Poller whose ``poll`` returns a Future instead of blocking."""

    def poll(self, timeout: float | None = -1) -> asyncio.Future:  # type: ignore[override]
        """Future for ``[(item, events), ...]`` ready within ``timeout`` ms.

        ``None`` or a negative timeout waits until something is ready; the
        list is empty if the timeout passed first.
        """
        return _current_loop().create_task(self._poll(timeout))

    async def _poll(self, timeout: float | None) -> list:
        loop = asyncio.get_running_loop()
        deadline = None
        if timeout is not None and timeout >= 0:
            deadline = loop.time() + timeout / 1000
        while True:
            ready = self._ready_now()
            if ready:
                return ready
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return ready
            await self._wait_for_change(loop, remaining)
            if any(isinstance(item, Socket) and item.closed for item, _ in self.sockets):
                # As pyzmq: closing a socket cancels the polls waiting on it.
                raise asyncio.CancelledError()

    def _ready_now(self) -> list:
        """A zero-timeout poll.  It drains the sockets' fds, so kick ours."""
        ready = super().poll(0)
        for item, _ in self.sockets:
            if isinstance(item, Socket):
                item._kick()
        return ready

    async def _wait_for_change(self, loop: asyncio.AbstractEventLoop,
                               timeout: float | None) -> None:
        """Sleep until some registered item may be ready, or ``timeout`` s."""
        wakeups: list[asyncio.Future] = []
        raw = loop.create_future()  # shared by all plain fds
        readers: list[int] = []
        writers: list[int] = []

        def wake() -> None:
            if not raw.done():
                raw.set_result(None)

        try:
            for item, flags in self.sockets:
                if isinstance(item, Socket):
                    wakeups.append(item._wait_for_events(flags))
                elif isinstance(item, _core.Socket):
                    # A plain mqcore socket: its fd signals any change.
                    fd = _core_get(item, int(_zmq.FD))
                    loop.add_reader(fd, wake)
                    readers.append(fd)
                else:
                    fd = item if isinstance(item, int) else item.fileno()
                    if flags & (_POLLIN | int(_zmq.POLLERR)):
                        loop.add_reader(fd, wake)
                        readers.append(fd)
                    if flags & _POLLOUT:
                        loop.add_writer(fd, wake)
                        writers.append(fd)
            await asyncio.wait([*wakeups, raw], timeout=timeout,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for future in (*wakeups, raw):
                future.cancel()
            for fd in readers:
                loop.remove_reader(fd)
            for fd in writers:
                loop.remove_writer(fd)


class Context(_zmq.Context):
    """A Context whose sockets are asyncio ``Socket`` objects."""

    _socket_class = Socket
    _repr_cls = "mqcore.asyncio.Context"
    # A shared instance() of its own, apart from the plain Context's.
    _instance = None
    _instance_pid = None


# pyzmq's names from before any event loop could watch a socket's FD (pyzmq
# 17 made them unnecessary): kept so that programs calling them still run.
Future = asyncio.Future
SelectorEventLoop = asyncio.SelectorEventLoop


class ProactorSelectorThreadWarning(RuntimeWarning):
    """pyzmq warns with this on Windows' proactor loop; mqcore's sockets
    need only a loop that can watch a file descriptor, so it is never
    raised here."""


_warned = False


def _deprecated() -> None:
    global _warned
    if _warned:
        return          # once, as pyzmq
    _warned = True
    warnings.warn("ZMQEventLoop and zmq.asyncio.install are deprecated: any asyncio "
                  "event loop works with mqcore's sockets", DeprecationWarning, stacklevel=3)


class ZMQEventLoop(asyncio.SelectorEventLoop):
    """Deprecated: an ordinary selector event loop."""

    def __init__(self, selector: Any = None) -> None:
        _deprecated()
        super().__init__(selector)


def install() -> None:
    """Deprecated: nothing to install."""
    _deprecated()


__all__ = ["Context", "Poller", "Socket", "ZMQEventLoop", "install"]
