"""Green Socket and Context: blocking calls block only the calling greenlet.

How a green socket waits
------------------------
Every operation is tried with NOBLOCK.  If it would block, the greenlet
waits on a gevent Event until the socket's state changes, then tries again.

The socket's FD becomes readable when its state *may* have changed, and
reading EVENTS drains it (edge-triggered, as libzmq's).  A gevent io
watcher on the FD calls ``_state_changed`` in the hub: it reads EVENTS and
wakes the waiters whose events are now ready.  Anything that drains the FD
behind the watcher's back (a send or recv, a zmq_poll, a user reading
EVENTS) is followed by ``_state_changed`` too, so a change it consumed
still reaches the waiters.  A waiter registers itself and *then* reads
EVENTS, so a change between its failed attempt and its sleep is not lost.

Unlike pyzmq's green sockets, RCVTIMEO and SNDTIMEO are honoured: the
greenlet waits at most that long, then gets ``Again``, as a blocking call
would.  Any number of greenlets may wait on one socket.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

import gevent.event
from gevent.hub import get_hub

import mqcore as _zmq
from mqcore import _core
from mqcore.error import Again, ZMQError

_NOBLOCK = int(_zmq.NOBLOCK)
_POLLIN = int(_zmq.POLLIN)
_POLLOUT = int(_zmq.POLLOUT)
_EVENTS = int(_zmq.EVENTS)
_RCVTIMEO = int(_zmq.RCVTIMEO)
_SNDTIMEO = int(_zmq.SNDTIMEO)
_FD = int(_zmq.FD)

_core_get = _core.Socket.get
_core_send = _core.Socket.send
_core_recv = _core.Socket.recv

# mqcore's Socket may not take constructor arguments (its core takes them
# in __cinit__); pass them on only if it does.
_SOCKET_HAS_INIT = _zmq.Socket.__init__ is not object.__init__


class _Waiter:
    """A greenlet (or a green Poller) waiting for some of a socket's events."""

    __slots__ = ("event", "flags")

    def __init__(self, event: gevent.event.Event, flags: int) -> None:
        self.event = event
        self.flags = flags


class _Socket(_zmq.Socket):
    """A Socket whose blocking calls yield to gevent's hub."""

    # Declared at class level so Socket.__setattr__ treats them as
    # attributes, not socket options.
    _state_event: Any = None
    _waiters: list | None = None
    _in_multipart: bool = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if _SOCKET_HAS_INIT:
            super().__init__(*args, **kwargs)
        else:
            super().__init__()
        self._waiters = []
        self._in_multipart = False
        self._watch()

    def __repr__(self) -> str:
        text = super().__repr__()
        if type(self) is _Socket:
            text = text.replace(f"{type(self).__module__}._Socket", "mqcore.green.Socket", 1)
        return text

    # ------------------------------------------------------------------
    # Watching the FD
    # ------------------------------------------------------------------

    def _watch(self) -> None:
        # A libev io watcher for READ; it keeps firing while the FD is
        # readable, and _state_changed's EVENTS read drains it.
        # Through a weak reference: the hub must not keep alive a socket the
        # program dropped (collected, it closes itself and stops this).
        self._state_event = get_hub().loop.io(_core_get(self, _FD), 1)
        self._state_event.start(_state_changed_if_alive, weakref.ref(self))

    def _unwatch(self) -> None:
        watcher, self._state_event = self._state_event, None
        if watcher is not None:
            watcher.stop()
            watcher.close()
        # Waiters retry and meet the closed socket's error.
        for waiter in self._waiters or ():
            waiter.event.set()

    def _state_changed(self, *_: Any) -> None:
        """Read EVENTS (draining the FD) and wake the waiters now served."""
        if self.closed:
            self._unwatch()
            return
        try:
            events = _core_get(self, _EVENTS)
        except ZMQError:
            events = _POLLIN | _POLLOUT  # let the waiters meet the error
        for waiter in self._waiters:
            if events & waiter.flags:
                waiter.event.set()

    def _wait(self, flags: int, timeout: float | None) -> bool:
        """Sleep this greenlet until ``flags`` may be ready; False on timeout (s)."""
        waiter = _Waiter(gevent.event.Event(), flags)
        self._waiters.append(waiter)
        try:
            self._state_changed()  # registered first: no change can slip by
            return waiter.event.wait(timeout)
        finally:
            self._waiters.remove(waiter)

    def _retry(self, attempt: Any, flags: int, timeout_option: int) -> Any:
        """Run ``attempt`` until it stops raising Again, waiting in between."""
        timeout_ms = _core_get(self, timeout_option)
        deadline = None if timeout_ms < 0 else time.monotonic() + timeout_ms / 1000
        while True:
            try:
                return attempt()
            except Again:
                pass
            remaining = None
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise Again()
            self._wait(flags, remaining)

    def _after_io(self) -> None:
        # The operation may have drained the FD: pass on what it consumed
        # (not between the frames of one multipart message).
        if not self._in_multipart and not self.closed:
            self._state_changed()

    # ------------------------------------------------------------------
    # Operations
    # ------------------------------------------------------------------

    def send(self, data: Any, flags: int = 0, copy: bool = True, track: bool = False,
             **kwargs: Any) -> Any:
        """Send a frame; only this greenlet waits for room (up to SNDTIMEO)."""
        def attempt() -> Any:
            return _core_send(self, data, flags | _NOBLOCK, copy=copy, track=track, **kwargs)
        try:
            if flags & _NOBLOCK:
                return attempt()
            return self._retry(attempt, _POLLOUT, _SNDTIMEO)
        finally:
            self._after_io()

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        """Receive a frame; only this greenlet waits for it (up to RCVTIMEO)."""
        def attempt() -> Any:
            return _core_recv(self, flags | _NOBLOCK, copy=copy, track=track)
        try:
            if flags & _NOBLOCK:
                return attempt()
            return self._retry(attempt, _POLLIN, _RCVTIMEO)
        finally:
            self._after_io()

    def send_multipart(self, *args: Any, **kwargs: Any) -> Any:
        self._in_multipart = True
        try:
            return super().send_multipart(*args, **kwargs)
        finally:
            self._in_multipart = False
            self._after_io()

    def recv_multipart(self, *args: Any, **kwargs: Any) -> Any:
        self._in_multipart = True
        try:
            return super().recv_multipart(*args, **kwargs)
        finally:
            self._in_multipart = False
            self._after_io()

    def recv_into(self, buffer: Any, /, *, nbytes: int = 0, flags: int = 0) -> int:
        """recv_into that blocks only this greenlet (up to RCVTIMEO)."""
        base = super().recv_into

        def attempt() -> int:
            return base(buffer, nbytes=nbytes, flags=flags | _NOBLOCK)
        try:
            if flags & _NOBLOCK:
                return attempt()
            return self._retry(attempt, _POLLIN, _RCVTIMEO)
        finally:
            self._after_io()

    def poll(self, timeout: float | None = None, flags: int = _POLLIN) -> int:
        """Wait (this greenlet only) up to ``timeout`` ms for ``flags``."""
        if self.closed:
            raise ZMQError(int(_zmq.ENOTSUP))
        from mqcore.green.poll import _Poller

        poller = _Poller()
        poller.register(self, flags)
        return dict(poller.poll(timeout)).get(self, 0)

    def get(self, option: int) -> Any:
        value = super().get(option)
        if option == _EVENTS:
            # The caller just drained the FD under our waiters.
            self._state_changed()
        return value

    getsockopt = get

    def close(self, linger: int | None = None) -> None:
        super().close(linger)
        self._unwatch()


def _state_changed_if_alive(socket_ref: weakref.ref) -> None:
    socket = socket_ref()
    if socket is not None:
        socket._state_changed()


class _Context(_zmq.Context):
    """A Context whose sockets are green ``_Socket`` objects."""

    _socket_class = _Socket
    # A shared instance() apart from the plain Context's.
    _instance = None
    _instance_pid = None

    def __repr__(self) -> str:
        text = super().__repr__()
        if type(self) is _Context:
            text = text.replace(f"{type(self).__module__}._Context", "mqcore.green.Context", 1)
        return text


__all__ = ["_Context", "_Socket"]
