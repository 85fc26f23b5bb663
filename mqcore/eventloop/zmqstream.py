"""ZMQStream: callbacks for a socket's messages on a tornado IOLoop.

``stream.on_recv(callback)`` calls ``callback(frames)`` for every message
that arrives; ``stream.send_multipart(frames)`` queues a message that is
sent when the socket can take it, then ``on_send``'s callback hears of it.

How it watches the socket
-------------------------
The socket's FD becomes readable when its state *may* have changed, and
reading EVENTS drains it (edge-triggered, as libzmq's).  The stream
registers the FD with the IOLoop once, for READ.  Whenever it fires, or
whenever the stream starts wanting something (a callback set, a message
queued), ``_handle_events`` reads EVENTS and handles one receive and one
send.  If, after that, EVENTS still shows work the stream wants, it
schedules itself again with ``add_callback``: an FD that was just drained
would not fire for work that is already waiting.  One message per pass
keeps a busy socket from starving the rest of the loop.

The stream does its own I/O through the core's non-blocking send and recv,
so it behaves the same whatever Socket subclass it was given.
"""

from __future__ import annotations

import asyncio
import pickle
import warnings
from collections import deque
from collections.abc import Awaitable
from typing import Any, Callable

from tornado.ioloop import IOLoop
from tornado.log import gen_log

import mqcore as _zmq
from mqcore import _core
from mqcore.error import Again, ContextTerminated, ZMQError

_POLLIN = int(_zmq.POLLIN)
_POLLOUT = int(_zmq.POLLOUT)
_NOBLOCK = int(_zmq.NOBLOCK)
_SNDMORE = int(_zmq.SNDMORE)
_RCVMORE = int(_zmq.RCVMORE)
_EVENTS = int(_zmq.EVENTS)

_core_send = _core.Socket.send
_core_recv = _core.Socket.recv
_core_get = _core.Socket.get


def _is_async_socket(socket: Any) -> bool:
    # Imported late: mqcore.asyncio is not needed by plain streams.
    from mqcore.asyncio import Socket as AsyncSocket

    return isinstance(socket, AsyncSocket)


def _recv_message(socket: Any, copy: bool) -> list:
    """One whole message, without blocking (Again if there is none)."""
    parts = [_core_recv(socket, _NOBLOCK, copy=copy)]
    while _core_get(socket, _RCVMORE):
        parts.append(_core_recv(socket, _NOBLOCK, copy=copy))
    return parts


def _send_message(socket: Any, msg: Any, flags: int = 0, copy: bool = True,
                  track: bool = False, **kwargs: Any) -> Any:
    """Send ``msg`` (a list of frames) without blocking; the last send's result."""
    parts = list(msg)
    if not parts:
        raise IndexError("cannot send a multipart message with no parts")
    flags |= _NOBLOCK
    for part in parts[:-1]:
        _core_send(socket, part, flags | _SNDMORE, copy=copy, track=track, **kwargs)
    return _core_send(socket, parts[-1], flags, copy=copy, track=track, **kwargs)


def _ignore(*args: Any) -> None:
    return None


class ZMQStream:
    """Register callbacks run on a tornado IOLoop when a socket sends or receives.

    ``on_recv(callback, copy=True)`` / ``on_recv_stream``: called with each
    message (a list of bytes, or of Frames when ``copy`` is False).
    ``send`` / ``send_multipart`` / ``send_string`` / ``send_json`` /
    ``send_pyobj``: queue a message; ``on_send(callback)`` /
    ``on_send_stream`` hear ``(msg, status)`` once it is sent.
    ``flush()`` handles what is pending right now, ``close()`` ends it all.
    The socket's bind/connect/option methods are available on the stream.
    Callbacks may be coroutines.
    """

    def __init__(self, socket: Any, io_loop: IOLoop | None = None) -> None:
        if _is_async_socket(socket):
            # Its own recv/send return futures; the stream only ever uses
            # the synchronous core operations, but the socket's asyncio
            # machinery must not be used alongside.
            warnings.warn(
                "ZMQStream only supports the base zmq.Socket class.\n\n"
                "Use zmq.Socket(shadow=other_socket)\n"
                f"or `ctx.socket(zmq.{socket._type_name()}, socket_class=zmq.Socket)`\n"
                "to create a base zmq.Socket object,\n"
                "no matter what other kind of socket your Context creates.",
                RuntimeWarning,
                stacklevel=2,
            )
        self.socket = socket
        self.io_loop = io_loop or IOLoop.current()
        self.poller = _zmq.Poller()
        self._fd = socket.FD
        self._send_queue: deque = deque()
        self._recv_callback: Callable | None = None
        self._send_callback: Callable | None = None
        self._close_callback: Callable | None = None
        self._recv_copy = False
        self._flushed = False
        self._state = 0
        self.io_loop.add_handler(self.socket, self._handle_events, self.io_loop.READ)

        self.bind = socket.bind
        self.bind_to_random_port = socket.bind_to_random_port
        self.connect = socket.connect
        self.setsockopt = socket.setsockopt
        self.getsockopt = socket.getsockopt
        self.setsockopt_string = socket.setsockopt_string
        self.getsockopt_string = socket.getsockopt_string
        self.setsockopt_unicode = socket.setsockopt_unicode
        self.getsockopt_unicode = socket.getsockopt_unicode

    # ------------------------------------------------------------------
    # Callbacks
    # ------------------------------------------------------------------

    def on_recv(self, callback: Callable | None, copy: bool = True) -> None:
        """Call ``callback(msg)`` for every message received; None stops it.

        ``msg`` is the list ``recv_multipart(copy=copy)`` would return.
        """
        self._check_closed()
        assert callback is None or callable(callback)
        self._recv_callback = callback
        self._recv_copy = copy
        if callback is None:
            self._drop_io_state(_POLLIN)
        else:
            self._add_io_state(_POLLIN)

    def on_recv_stream(self, callback: Callable | None, copy: bool = True) -> None:
        """As ``on_recv``, with the stream as first argument: ``callback(stream, msg)``."""
        if callback is None:
            self.stop_on_recv()
            return

        def stream_callback(msg: list) -> Any:
            return callback(self, msg)

        self.on_recv(stream_callback, copy=copy)

    def on_send(self, callback: Callable | None) -> None:
        """Call ``callback(msg, status)`` after each queued message is sent.

        ``status`` is what send_multipart returned (a MessageTracker or
        None), or the ZMQError if sending failed.
        """
        self._check_closed()
        assert callback is None or callable(callback)
        self._send_callback = callback

    def on_send_stream(self, callback: Callable | None) -> None:
        """As ``on_send``, with the stream first: ``callback(stream, msg, status)``."""
        if callback is None:
            self.stop_on_send()
            return
        self.on_send(lambda msg, status: callback(self, msg, status))

    def stop_on_recv(self) -> None:
        """Stop receiving: no callback, and messages stay in the socket."""
        return self.on_recv(None)

    def stop_on_send(self) -> None:
        """Stop the send callback."""
        return self.on_send(None)

    def on_err(self, callback: Callable) -> None:
        """DEPRECATED in pyzmq, does nothing."""
        gen_log.warning("on_err does nothing, and will be removed")

    def stop_on_err(self) -> None:
        """DEPRECATED in pyzmq, does nothing."""
        gen_log.warning("on_err does nothing, and will be removed")

    def set_close_callback(self, callback: Callable | None) -> None:
        """Call ``callback()`` when the stream is closed."""
        self._close_callback = callback

    # ------------------------------------------------------------------
    # Sending (queued, done from the loop)
    # ------------------------------------------------------------------

    def send(self, msg: Any, flags: int = 0, copy: bool = True, track: bool = False,
             callback: Callable | None = None, **kwargs: Any) -> None:
        """Queue a single-frame message; ``callback`` replaces the on_send one."""
        return self.send_multipart([msg], flags=flags, copy=copy, track=track,
                                   callback=callback, **kwargs)

    def send_multipart(self, msg: Any, flags: int = 0, copy: bool = True,
                       track: bool = False, callback: Callable | None = None,
                       **kwargs: Any) -> None:
        """Queue a multipart message; ``callback`` replaces the on_send one."""
        kwargs.update(flags=flags, copy=copy, track=track)
        self._send_queue.append((msg, kwargs))
        # pyzmq always leaves a send callback in place once something is
        # queued (a no-op one if none was given).
        self.on_send(callback or self._send_callback or _ignore)
        self._add_io_state(_POLLOUT)

    def send_string(self, u: str, flags: int = 0, encoding: str = "utf-8",
                    callback: Callable | None = None, **kwargs: Any) -> None:
        """Queue ``u`` encoded with ``encoding``."""
        if not isinstance(u, str):
            raise TypeError("unicode/str objects only")
        return self.send(u.encode(encoding), flags=flags, callback=callback, **kwargs)

    send_unicode = send_string

    def send_json(self, obj: Any, flags: int = 0, callback: Callable | None = None,
                  **kwargs: Any) -> None:
        """Queue ``obj`` as JSON."""
        from mqcore.utils import jsonapi

        return self.send(jsonapi.dumps(obj), flags=flags, callback=callback, **kwargs)

    def send_pyobj(self, obj: Any, flags: int = 0, protocol: int = -1,
                   callback: Callable | None = None, **kwargs: Any) -> None:
        """Queue ``obj`` pickled with ``protocol``."""
        return self.send(pickle.dumps(obj, protocol), flags, callback=callback, **kwargs)

    # ------------------------------------------------------------------
    # State
    # ------------------------------------------------------------------

    def receiving(self) -> bool:
        """True while a receive callback is set."""
        return self._recv_callback is not None

    def sending(self) -> bool:
        """True while messages wait in the send queue."""
        return bool(self._send_queue)

    def closed(self) -> bool:
        """True once the stream, or its socket, is closed (closing the stream then)."""
        if self.socket is None:
            return True
        if self.socket.closed:
            self.close()
            return True
        return False

    def close(self, linger: int | None = None) -> None:
        """Stop watching the socket, close it with ``linger``, run the close callback."""
        if self.socket is None:
            return
        if self.socket.closed:
            # Its FD number may already belong to someone else.
            warnings.warn(
                f"Unregistering FD {self._fd} after closing socket. "
                "This could result in unregistering handlers for the wrong socket. "
                "Please use stream.close() instead of closing the socket directly.",
                stacklevel=2,
            )
            self.io_loop.remove_handler(self._fd)
        else:
            self.io_loop.remove_handler(self.socket)
            self.socket.close(linger)
        self.socket = None
        if self._close_callback:
            self._run_callback(self._close_callback)

    # ------------------------------------------------------------------
    # Flushing: handle pending events now, outside the loop
    # ------------------------------------------------------------------

    def flush(self, flag: int = _POLLIN | _POLLOUT, limit: int | None = None) -> int:
        """Handle pending receives and/or sends now; return how many.

        Stops when nothing matching ``flag`` is pending or after ``limit``
        events.  With POLLIN in ``flag`` messages are received (and dropped
        if there is no callback).  The loop's own handling is then skipped
        until its next pass, so nothing is handled twice.
        """
        self._check_closed()
        already_flushed = self._flushed
        self._flushed = False
        count = 0
        wanted = self._flush_flags(flag)
        while wanted and (not limit or count < limit):
            events = self._poll_now(wanted)
            if not events:
                break
            if events & _POLLIN:
                self._handle_recv()
                count += 1
                if self.socket is None:
                    break
            if events & _POLLOUT and self.sending():
                self._handle_send()
                count += 1
                if self.socket is None:
                    break
            wanted = self._flush_flags(flag)
        if count:
            self._flushed = True
            if not already_flushed:
                self.io_loop.add_callback(self._finish_flush)
        elif already_flushed:
            self._flushed = True
        self._rebuild_io_state()
        return count

    def _flush_flags(self, flag: int) -> int:
        # POLLOUT only while something waits to be sent.
        return (flag & _POLLIN) | (flag & _POLLOUT if self.sending() else 0)

    def _poll_now(self, flags: int) -> int:
        self.poller.register(self.socket, flags)
        return dict(self.poller.poll(0)).get(self.socket, 0)

    def _finish_flush(self) -> None:
        self._flushed = False

    # ------------------------------------------------------------------
    # Event handling
    # ------------------------------------------------------------------

    def _run_callback(self, callback: Callable, *args: Any, **kwargs: Any) -> None:
        """Run a user callback; a coroutine it returns runs as a task."""
        try:
            result = callback(*args, **kwargs)
        except Exception:
            gen_log.error("Uncaught exception in ZMQStream callback", exc_info=True)
            raise
        if isinstance(result, Awaitable):
            asyncio.ensure_future(result).add_done_callback(_log_failure)

    def _handle_events(self, fd: Any, events: int) -> None:
        """The IOLoop handler: one receive and one send if the socket allows."""
        if not self.socket:
            gen_log.warning("Got events for closed stream %s", self)
            return
        try:
            zmq_events = _core_get(self.socket, _EVENTS)
        except ContextTerminated:
            gen_log.warning("Got events for stream %s after terminating context", self)
            self.closed()
            return
        except ZMQError as exc:
            if self.closed():
                gen_log.warning("Got events for stream %s attached to closed socket: %s",
                                self, exc)
            else:
                gen_log.error("Error getting events for %s: %s", self, exc)
            return
        try:
            if zmq_events & _POLLIN and self.receiving():
                self._handle_recv()
                if not self.socket:
                    return
            if zmq_events & _POLLOUT and self.sending():
                self._handle_send()
                if not self.socket:
                    return
            self._rebuild_io_state()
        except Exception:
            gen_log.error("Uncaught exception in zmqstream callback", exc_info=True)
            raise

    def _handle_recv(self) -> None:
        if self._flushed:
            return
        try:
            msg = _recv_message(self.socket, self._recv_copy)
        except Again:
            return
        if self._recv_callback:
            self._run_callback(self._recv_callback, msg)

    def _handle_send(self) -> None:
        if self._flushed:
            return
        if not self.sending():
            gen_log.error("Shouldn't have handled a send event")
            return
        msg, kwargs = self._send_queue.popleft()
        try:
            status = _send_message(self.socket, msg, **kwargs)
        except ZMQError as exc:
            gen_log.error("SEND Error: %s", exc)
            status = exc
        if self._send_callback:
            self._run_callback(self._send_callback, msg, status)

    def _check_closed(self) -> None:
        if not self.socket:
            raise OSError("Stream is closed")

    def _rebuild_io_state(self) -> None:
        """Want POLLIN while receiving, POLLOUT while messages are queued."""
        if self.socket is None:
            return
        state = 0
        if self.receiving():
            state |= _POLLIN
        if self.sending():
            state |= _POLLOUT
        self._state = state
        self._update_handler(state)

    def _add_io_state(self, state: int) -> None:
        self._state |= state
        self._update_handler(self._state)

    def _drop_io_state(self, state: int) -> None:
        self._state &= ~state
        self._update_handler(self._state)

    def _update_handler(self, state: int) -> None:
        """Run the handler soon if wanted work is already possible.

        Reading EVENTS drained the FD, so the loop would not call us for
        it: schedule the pass ourselves.
        """
        if self.socket is None:
            return
        if state & _core_get(self.socket, _EVENTS):
            self.io_loop.add_callback(lambda: self._handle_events(self.socket, 0))


def _log_failure(task: asyncio.Future) -> None:
    """Done-callback of a coroutine callback: log what it raised."""
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        gen_log.error("Uncaught exception in ZMQStream callback",
                      exc_info=(type(exc), exc, exc.__traceback__))


__all__ = ["ZMQStream"]
