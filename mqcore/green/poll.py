"""Green Poller: ``poll`` blocks only the calling greenlet.

Green sockets tell the Poller when their state changes (it joins their
waiters, see core.py), so a change drained from their FD by another
greenlet's send or recv still wakes it.  Plain mqcore sockets are watched
through their FD, other items through their fd, with gevent io watchers.
"""

from __future__ import annotations

import time
from typing import Any

import gevent.event
from gevent.hub import get_hub

import mqcore as _zmq
from mqcore import _core
from mqcore.green.core import _Socket, _Waiter

_POLLIN = int(_zmq.POLLIN)
_POLLOUT = int(_zmq.POLLOUT)
_POLLERR = int(_zmq.POLLERR)
_FD = int(_zmq.FD)

# libev's event bits for io watchers.
_EV_READ = 1
_EV_WRITE = 2


def _fd_of(item: Any) -> int:
    if isinstance(item, int):
        return item
    try:
        return int(item.fileno())
    except AttributeError:
        raise TypeError(
            "Socket must be a 0MQ socket, an integer fd or have "
            f"a fileno() method: {item!r}"
        ) from None


class _Poller(_zmq.Poller):
    """A Poller whose ``poll`` yields to gevent's hub while it waits."""

    def poll(self, timeout: float | None = -1) -> list[tuple[Any, int]]:
        """Wait up to ``timeout`` ms (None or negative: forever) for events."""
        deadline = None
        if timeout is not None and timeout >= 0:
            deadline = time.monotonic() + timeout / 1000
        while True:
            ready = self._ready_now()
            if ready or timeout == 0:
                return ready
            remaining = None
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return ready
            self._wait_for_change(remaining)

    def _ready_now(self) -> list[tuple[Any, int]]:
        """A zero-timeout poll.  It drains green sockets' FDs: pass that on."""
        ready = super().poll(0)
        for item, _ in self.sockets:
            if isinstance(item, _Socket) and not item.closed:
                item._state_changed()
        return ready

    def _wait_for_change(self, timeout: float | None) -> None:
        """Sleep until some registered item may be ready, or ``timeout`` s."""
        wake = gevent.event.Event()
        joined: list[tuple[_Socket, _Waiter]] = []
        watchers = []
        loop = get_hub().loop
        try:
            for item, flags in self.sockets:
                if isinstance(item, _Socket):
                    waiter = _Waiter(wake, flags)
                    item._waiters.append(waiter)
                    joined.append((item, waiter))
                    continue
                if isinstance(item, _core.Socket):
                    # Its FD signals any change of state.
                    fd, events = _core.Socket.get(item, _FD), _EV_READ
                else:
                    fd, events = _fd_of(item), 0
                    if flags & (_POLLIN | _POLLERR):
                        events |= _EV_READ
                    if flags & _POLLOUT:
                        events |= _EV_WRITE
                    if not events:
                        continue
                watcher = loop.io(fd, events)
                watcher.start(wake.set)
                watchers.append(watcher)
            wake.wait(timeout)
        finally:
            for item, waiter in joined:
                if item._waiters is not None and waiter in item._waiters:
                    item._waiters.remove(waiter)
            for watcher in watchers:
                watcher.stop()
                watcher.close()


__all__ = ["_Poller"]
