"""Poller and select(): pyzmq's polling interface over the core's ``zmq_poll``.

Both wait on any mix of mqcore sockets, integer file descriptors and objects
with a ``fileno()`` method.  The waiting itself (GIL released, level
triggered like libzmq's ``zmq_poll``) happens in ``mqcore._core.zmq_poll``;
this module only keeps the registrations and converts timeouts:

- ``Poller.poll(timeout)`` takes milliseconds, like ``select.poll``;
- ``select(rlist, wlist, xlist, timeout)`` takes seconds, like
  ``select.select``.

In both, ``None`` or a negative timeout means "wait until something is
ready".  As in pyzmq (and ``select.poll``), a ready mqcore socket is
reported as the socket object, anything else by its integer fd.
"""

from __future__ import annotations

from typing import Any

from mqcore import _core
from mqcore.constants import PollEvent

POLLIN = int(PollEvent.POLLIN)
POLLOUT = int(PollEvent.POLLOUT)
POLLERR = int(PollEvent.POLLERR)

# zmq_poll's "no timeout".
_FOREVER = -1


def _poll_ms(timeout: float | None) -> int:
    """A Poller.poll timeout (ms, None or negative: forever) as zmq_poll wants it.

    Fractions of a millisecond are dropped, as pyzmq drops them.
    """
    if timeout is None or timeout < 0:
        return _FOREVER
    return int(timeout)


def _select_ms(timeout: float | None) -> int:
    """A select() timeout (seconds, None or negative: forever) in milliseconds."""
    if timeout is None or timeout < 0:
        return _FOREVER
    return int(timeout * 1000)


def _reported(item: Any) -> Any:
    """How a ready item is reported: sockets as themselves, the rest as fds.

    pyzmq does this for ``select.poll`` compatibility, so programs test
    ``sock.fileno() in events``; the core may hand back either form.
    """
    if isinstance(item, (_core.Socket, int)):
        return item
    return item.fileno()


def _check_pollable(items: list[tuple[Any, int]]) -> None:
    """TypeError, as pyzmq raises, for the first item that cannot be polled."""
    for item, _events in items:
        if not isinstance(item, (_core.Socket, int)) and not hasattr(item, "fileno"):
            raise TypeError(
                "Socket must be a 0MQ socket, an integer fd or have "
                f"a fileno() method: {item!r}"
            )


def _zmq_poll(items: list[tuple[Any, int]], timeout_ms: int) -> list[tuple[Any, int]]:
    """The core's zmq_poll, with ready items reported the pyzmq way."""
    try:
        ready = _core.zmq_poll(items, timeout_ms)
    except AttributeError:
        # The core trips over an item without fileno(); say which, and
        # with pyzmq's exception type.  Checked only on failure, so that
        # a successful poll pays nothing for it.
        _check_pollable(items)
        raise
    return [(_reported(item), events) for item, events in ready]


class Poller:
    """Waits for events on a set of sockets and file descriptors.

    The interface mirrors ``select.poll``: register what to watch, then call
    ``poll()``, which returns ``[(socket_or_fd, events), ...]`` for the items
    that are ready: an mqcore socket as the registered object (so
    ``dict(poller.poll())`` can be indexed with it), anything else by its fd.
    """

    sockets: list[tuple[Any, int]]

    def __init__(self) -> None:
        # Registration order is kept: zmq_poll reports ready items in it.
        self.sockets = []
        # item -> its index in self.sockets
        self._index: dict[Any, int] = {}

    def __contains__(self, socket: Any) -> bool:
        return socket in self._index

    def register(self, socket: Any, flags: int = POLLIN | POLLOUT) -> None:
        """Watch ``socket`` for ``flags`` (POLLIN, POLLOUT, POLLERR, or a mix).

        ``socket`` is an mqcore Socket, an integer fd, or anything with a
        ``fileno()`` method.  Registering an item again replaces its flags;
        ``flags=0`` unregisters it (and is ignored for an unknown item).
        """
        if not flags:
            if socket in self._index:
                self.unregister(socket)
            return
        index = self._index.get(socket)
        if index is None:
            self._index[socket] = len(self.sockets)
            self.sockets.append((socket, flags))
        else:
            self.sockets[index] = (socket, flags)

    def modify(self, socket: Any, flags: int = POLLIN | POLLOUT) -> None:
        """Change the events watched for an item (same as ``register``)."""
        self.register(socket, flags)

    def unregister(self, socket: Any) -> None:
        """Stop watching ``socket``; KeyError if it is not registered."""
        index = self._index.pop(socket)
        del self.sockets[index]
        self._renumber_from(index)

    def _renumber_from(self, start: int) -> None:
        """Refresh the stored indexes of the items that moved up a slot."""
        for index in range(start, len(self.sockets)):
            self._index[self.sockets[index][0]] = index

    def poll(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        """Wait up to ``timeout`` ms (None: forever) for a registered event.

        Returns at once if something is already ready.  The result lists
        ``(item, events)`` for every ready item; it is empty on timeout.
        """
        return _zmq_poll(self.sockets, _poll_ms(timeout))


def _select_items(rlist: list, wlist: list, xlist: list) -> list[tuple[Any, int]]:
    """(item, flags) pairs for select(): one per distinct item, first-seen order."""
    items = []
    for item in dict.fromkeys([*rlist, *wlist, *xlist]):
        flags = 0
        if item in rlist:
            flags |= POLLIN
        if item in wlist:
            flags |= POLLOUT
        if item in xlist:
            flags |= POLLERR
        items.append((item, flags))
    return items


def select(
    rlist: list, wlist: list, xlist: list, timeout: float | None = None
) -> tuple[list, list, list]:
    """Like ``select.select``, over mqcore sockets as well as file descriptors.

    Waits up to ``timeout`` seconds (None: forever) and returns the lists of
    items that are readable, writable, and in error (mqcore sockets as
    themselves, other items as their fds).
    """
    ready = _zmq_poll(_select_items(rlist, wlist, xlist), _select_ms(timeout))
    readable, writable, errored = [], [], []
    for item, events in ready:
        if events & POLLIN:
            readable.append(item)
        if events & POLLOUT:
            writable.append(item)
        if events & POLLERR:
            errored.append(item)
    return readable, writable, errored


__all__ = ["Poller", "select"]
