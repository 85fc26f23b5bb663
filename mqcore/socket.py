"""The Socket class users see: pyzmq's conveniences over ``mqcore._core.Socket``.

Everything that moves bytes stays in the core: ``send``, ``recv``, ``set``,
``get`` and ``close`` are the core's own methods, not wrapped, so the hot
path never runs Python code from this file.  This layer adds what pyzmq
adds in Python:

- options as attributes (``s.linger = 0``, ``s.rcvmore``), ``hwm``,
  string options (``set_string``/``get_string``);
- multipart, string, JSON, pickle and custom-serialised send/recv;
- ``bind()``/``connect()`` results usable as context managers, sockets
  themselves as context managers, ``bind_to_random_port``, ``poll``.
"""

from __future__ import annotations

import errno as _errno
import json
import pickle
import random
import sys
import warnings
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from mqcore import _core
from mqcore.constants import (
    Errno,
    Event,
    OptType,
    PollEvent,
    SocketOption,
    SocketType,
    option_type,
)
from mqcore.error import ZMQBindError, ZMQError

DEFAULT_PROTOCOL = pickle.DEFAULT_PROTOCOL

# Ports bind_to_random_port draws from when no range is given (IANA dynamic
# range); with exactly this range the OS picks the port instead of us.
_DYNAMIC_PORT_RANGE = (49152, 65536)


def _is_declared_attribute(obj: object, name: str) -> bool:
    """True if ``name`` is an ordinary attribute, not an option name.

    Instance-dict entries and anything defined on the class (methods,
    properties, class-level defaults) are set normally; every other name
    is looked up as an option.  This mirrors pyzmq, where ``s.foo = 1``
    raises AttributeError instead of creating an attribute.
    """
    if name in obj.__dict__:
        return True
    return any(name in klass.__dict__ for klass in type(obj).__mro__)


def _socket_option(name: str) -> SocketOption | None:
    """The SocketOption an attribute name stands for, or None."""
    return SocketOption.__members__.get(name.upper())


def _timeout_ms(timeout: float | None) -> int:
    """A poll timeout as libzmq wants it: milliseconds, -1 for forever."""
    if timeout is None or timeout < 0:
        return -1
    return int(timeout)


def _check_sendable(parts: list) -> None:
    """TypeError naming the first part that does not expose a buffer.

    Checked before anything is sent, so a bad part never leaves half a
    multipart message queued on the socket.
    """
    for index, part in enumerate(parts):
        if isinstance(part, (bytes, _core.Frame, memoryview)):
            continue
        try:
            memoryview(part)
        except Exception:  # noqa: BLE001 - any failure means "not a buffer"
            shown = repr(part)
            if len(shown) > 32:
                shown = shown[:32] + "..."
            raise TypeError(
                f"Frame {index} ({shown}) does not support the buffer interface."
            ) from None


class _EndpointContext:
    """What ``bind``/``connect`` return: unbinds or disconnects on ``with`` exit."""

    def __init__(self, socket: Socket, kind: str, addr: str) -> None:
        self.socket = socket
        self.kind = kind
        self.addr = addr

    def __repr__(self) -> str:
        return f"<EndpointContext({self.kind}={self.addr!r})>"

    def __enter__(self) -> Socket:
        return self.socket

    def __exit__(self, *exc_info: object) -> None:
        if self.socket.closed:
            return
        if self.kind == "bind":
            self.socket.unbind(self.addr)
        else:
            self.socket.disconnect(self.addr)


# What recv gives, for type checkers: Socket[bytes] (pyzmq's spelling);
# asyncio sockets give awaitables.
_RecvT = TypeVar("_RecvT")


class Socket(_core.Socket, Generic[_RecvT]):
    """A ZeroMQ socket; create it with ``Context.socket(socket_type)``.

    ``Socket(ctx, type)`` makes a socket; ``Socket(other)``,
    ``Socket(shadow=other_or_address)`` and ``Socket.shadow(...)`` another
    Python object for an existing socket (sharing it, as pyzmq's shadows
    share the libzmq socket).  Keyword options other than ``shadow`` and
    ``copy_threshold`` are set as socket options.
    """

    # Declared here so that _is_declared_attribute lets them be assigned.
    _monitor_socket: Socket | None = None
    _shadow: bool = False
    # repr's class name, looked up on the exact class (as pyzmq's _repr_cls).
    _repr_cls = "mqcore.Socket"

    def __init__(
        self: Socket[bytes],
        ctx_or_socket: Any = None,
        socket_type: int = -1,
        *,
        shadow: Any = 0,
        copy_threshold: int | None = None,
        **options: Any,
    ) -> None:
        if copy_threshold is None:
            # Read now, so that changing mqcore.COPY_THRESHOLD takes effect.
            copy_threshold = sys.modules["mqcore"].COPY_THRESHOLD
        super().__init__(
            ctx_or_socket, socket_type, shadow=shadow, copy_threshold=copy_threshold
        )
        self._shadow = bool(shadow) or isinstance(ctx_or_socket, _core.Socket)
        try:
            for name, value in options.items():
                setattr(self, name, value)
        except BaseException:
            # The caller never gets the socket, so nobody else can close it.
            self.close(linger=0)
            raise

    @classmethod
    def shadow(cls, address: Any) -> Socket:
        """Another object of this class for the socket ``address`` (a
        Socket or its ``underlying``); it shares, and keeps alive, that
        socket, and does not close it when dropped."""
        return cls(shadow=address)

    def __copy__(self, memo: Any = None) -> Socket:
        # As pyzmq: a copy of a socket is a shadow of it.
        return self.__class__.shadow(self.underlying)

    __deepcopy__ = __copy__

    # ------------------------------------------------------------------
    # Life cycle and display
    # ------------------------------------------------------------------

    def __enter__(self) -> Socket:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(
        self, _finalizing: Callable[[], bool] = sys.is_finalizing, _warn: Any = warnings.warn
    ) -> None:
        # Dropped while open: close with its LINGER, as pyzmq does, saying
        # so with a ResourceWarning.  Here, not only in the core's
        # __dealloc__: when a cycle is collected, every finaliser in it
        # runs before anything is cleared (PEP 442), so the socket still
        # knows its endpoints and its context, which it may no longer do
        # by __dealloc__ time.  A shadow leaves its socket to the owner.
        if self._shadow or self.closed:
            return
        # Module globals may be gone at interpreter exit: what is needed
        # here is bound as default arguments.
        if not _finalizing():
            _warn(f"Unclosed socket {self}", ResourceWarning, stacklevel=2, source=self)
        self.close()

    def __repr__(self) -> str:
        return describe(self, f"mqcore.{self._type_name()}")

    def _type_name(self) -> str:
        try:
            return SocketType(self.socket_type).name
        except ValueError:
            return str(self.socket_type)

    @property
    def type(self) -> SocketType | int:
        """The socket type, as a SocketType when it is a known one."""
        try:
            return SocketType(self.socket_type)
        except ValueError:
            return self.socket_type

    def __dir__(self) -> list[str]:
        # As pyzmq: the option names, upper-case, are attributes too.
        names = list(super().__dir__())
        names.extend(SocketOption.__members__)
        names.extend(name.lower() for name in SocketOption.__members__)
        return names

    # ------------------------------------------------------------------
    # bind / connect returning context managers
    # ------------------------------------------------------------------

    def bind(self, addr: str) -> _EndpointContext:
        """Bind to ``addr``; the result unbinds when used in a ``with``."""
        try:
            super().bind(addr)
        except ZMQError as exc:
            _explain_endpoint_error(exc, addr)
            raise
        return _EndpointContext(self, "bind", self._resolved_endpoint(addr))

    def connect(self, addr: str) -> _EndpointContext:
        """Connect to ``addr``; the result disconnects when used in a ``with``."""
        try:
            super().connect(addr)
        except ZMQError as exc:
            _explain_endpoint_error(exc, addr)
            raise
        return _EndpointContext(self, "connect", addr)

    def _resolved_endpoint(self, addr: str) -> str:
        """The endpoint just bound, with wildcards resolved.

        ``tcp://127.0.0.1:*`` must be unbound by its real port, which only
        LAST_ENDPOINT knows.
        """
        try:
            return self.get(SocketOption.LAST_ENDPOINT).decode("utf-8")
        except (ZMQError, AttributeError, UnicodeDecodeError):
            return addr

    def bind_to_random_port(
        self,
        addr: str,
        min_port: int = _DYNAMIC_PORT_RANGE[0],
        max_port: int = _DYNAMIC_PORT_RANGE[1],
        max_tries: int = 100,
    ) -> int:
        """Bind to ``addr`` on a free port in [min_port, max_port); return it.

        Raises ZMQBindError when ``max_tries`` random ports were all taken.
        """
        if (min_port, max_port) == _DYNAMIC_PORT_RANGE:
            # Let the OS pick: one bind, no collisions to retry.
            self.bind(f"{addr}:*")
            endpoint = self.get(SocketOption.LAST_ENDPOINT)
            return int(endpoint.decode("ascii", "replace").rsplit(":", 1)[1])
        for _ in range(max_tries):
            port = random.randrange(min_port, max_port)
            try:
                self.bind(f"{addr}:{port}")
            except ZMQError as exc:
                if not _is_port_taken(exc.errno):
                    raise
            else:
                return port
        raise ZMQBindError("Could not bind socket to random port.")

    # ------------------------------------------------------------------
    # Options
    # ------------------------------------------------------------------

    def set(self, option: int, optval: Any) -> None:
        """setsockopt: int options take int, binary ones bytes."""
        if (
            not isinstance(optval, int)
            and option not in _KNOWN_OPTIONS
            and not self.closed
        ):
            # As pyzmq, which takes an option it does not know for an int one.
            raise TypeError(f"expected int, got: {optval!r}")
        return _core.Socket.set(self, option, optval)

    setsockopt = set
    getsockopt = _core.Socket.get

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup failed: methods and core
        # attributes never come through here.
        option = _socket_option(name)
        if option is None:
            raise AttributeError(
                f"{type(self).__name__} has no such option: {name.upper()}"
            )
        try:
            return self.get(option)
        except ZMQError as exc:
            # A write-only option fails with EINVAL; report it as a missing
            # attribute so hasattr() and mocks behave.
            if exc.errno in (Errno.EINVAL, Errno.EFAULT):
                raise AttributeError(f"{name} attribute is write-only") from None
            raise

    def __setattr__(self, name: str, value: Any) -> None:
        lowered = name.lower()
        if lowered in ("subscribe", "unsubscribe"):
            # These names are methods too; assignment still sets the option.
            self.set(SocketOption[lowered.upper()], _as_bytes(value))
            return
        if _is_declared_attribute(self, name):
            object.__setattr__(self, name, value)
            return
        option = _socket_option(name)
        if option is None:
            raise AttributeError(
                f"{type(self).__name__} has no such option: {name.upper()}"
            )
        self.set(option, value)

    def set_string(self, option: int, optval: str, encoding: str = "utf-8") -> None:
        """Set a bytes option from a str, encoded with ``encoding``."""
        if not isinstance(optval, str):
            raise TypeError(f"strings only, not {type(optval)}: {optval!r}")
        self.set(option, optval.encode(encoding))

    def get_string(self, option: int, encoding: str = "utf-8") -> str:
        """Read a bytes option as a str, decoded with ``encoding``."""
        if option_type(option) is not OptType.bytes:
            raise TypeError(f"option {option} will not return a string to be decoded")
        return self.get(option).decode(encoding)

    setsockopt_string = setsockopt_unicode = set_string
    getsockopt_string = getsockopt_unicode = get_string

    def subscribe(self, topic: str | bytes) -> None:
        """Subscribe to messages starting with ``topic`` (SUB/XSUB)."""
        self.set(SocketOption.SUBSCRIBE, _as_bytes(topic))

    def unsubscribe(self, topic: str | bytes) -> None:
        """Undo one earlier ``subscribe(topic)``."""
        self.set(SocketOption.UNSUBSCRIBE, _as_bytes(topic))

    def get_hwm(self) -> int:
        """The high-water mark: SNDHWM, or RCVHWM if SNDHWM cannot be read."""
        try:
            return self.get(SocketOption.SNDHWM)
        except ZMQError:
            return self.get(SocketOption.RCVHWM)

    def set_hwm(self, value: int) -> None:
        """Set both SNDHWM and RCVHWM; both are tried even if one fails."""
        failure = None
        for option in (SocketOption.SNDHWM, SocketOption.RCVHWM):
            try:
                self.set(option, value)
            except Exception as exc:  # noqa: BLE001 - re-raised below
                failure = exc
        if failure is not None:
            raise failure

    hwm = property(get_hwm, set_hwm, doc="SNDHWM and RCVHWM together (reads SNDHWM).")

    def fileno(self) -> int:
        """The socket's edge-triggered notification fd (the FD option)."""
        return self.get(SocketOption.FD)

    # ------------------------------------------------------------------
    # Multipart and serialised messages (send/recv are the core's)
    # ------------------------------------------------------------------

    def send_multipart(
        self,
        msg_parts: Iterable[Any],
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
    ) -> Any:
        """Send ``msg_parts`` as one message, SNDMORE on all but the last.

        Returns what the core's ``send`` returns for the last part (a
        MessageTracker when tracking, else None).
        """
        parts = msg_parts if isinstance(msg_parts, list) else list(msg_parts)
        if not parts:
            raise IndexError("cannot send a multipart message with no parts")
        _check_sendable(parts)
        send = self.send
        more = flags | _SNDMORE
        for part in parts[:-1]:
            send(part, more, copy=copy, track=track)
        return send(parts[-1], flags, copy=copy, track=track)

    def recv_multipart(
        self, flags: int = 0, copy: bool = True, track: bool = False
    ) -> list:
        """Receive every part of one message: bytes, or Frames if not ``copy``."""
        recv = self.recv
        get = self.get
        parts = [recv(flags, copy=copy, track=track)]
        while get(_RCVMORE):
            parts.append(recv(flags, copy=copy, track=track))
        return parts

    def _deserialize(self, received: Any, load: Callable[[Any], Any]) -> Any:
        """Apply ``load`` to what recv returned.

        A hook for subclasses whose recv returns something else (a Future).
        """
        return load(received)

    def send_serialized(
        self,
        msg: Any,
        serialize: Callable[[Any], Iterable[Any]],
        flags: int = 0,
        copy: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Send ``serialize(msg)`` (a list of frames) as a multipart message."""
        return self.send_multipart(serialize(msg), flags=flags, copy=copy, **kwargs)

    def recv_serialized(
        self,
        deserialize: Callable[[list], Any],
        flags: int = 0,
        copy: bool = True,
    ) -> Any:
        """Receive a multipart message and return ``deserialize(frames)``."""
        frames = self.recv_multipart(flags=flags, copy=copy)
        return self._deserialize(frames, deserialize)

    def send_string(
        self,
        u: str,
        flags: int = 0,
        copy: bool = True,
        encoding: str = "utf-8",
        **kwargs: Any,
    ) -> Any:
        """Send a str encoded with ``encoding``."""
        if not isinstance(u, str):
            raise TypeError("str objects only")
        return self.send(u.encode(encoding), flags, copy=copy, **kwargs)

    def recv_string(self, flags: int = 0, encoding: str = "utf-8") -> str:
        """Receive one frame and decode it with ``encoding``."""
        received = self.recv(flags)
        return self._deserialize(received, lambda data: data.decode(encoding))

    send_unicode = send_string
    recv_unicode = recv_string

    def send_pyobj(
        self, obj: Any, flags: int = 0, protocol: int = DEFAULT_PROTOCOL, **kwargs: Any
    ) -> Any:
        """Send a pickled object.  Only unpickle messages from trusted peers."""
        return self.send(pickle.dumps(obj, protocol), flags, **kwargs)

    def recv_pyobj(self, flags: int = 0) -> Any:
        """Receive and unpickle an object.  Unpickling runs arbitrary code:
        use it only on authenticated connections."""
        return self._deserialize(self.recv(flags), pickle.loads)

    def send_json(self, obj: Any, flags: int = 0, **kwargs: Any) -> Any:
        """Send ``obj`` as UTF-8 JSON; ``kwargs`` go to ``json.dumps``."""
        return self.send(json.dumps(obj, **kwargs).encode("utf-8"), flags)

    def recv_json(self, flags: int = 0, **kwargs: Any) -> Any:
        """Receive UTF-8 JSON; ``kwargs`` go to ``json.loads``."""
        received = self.recv(flags)
        return self._deserialize(
            received, lambda data: json.loads(data.decode("utf-8"), **kwargs)
        )

    # ------------------------------------------------------------------
    # Polling and monitoring
    # ------------------------------------------------------------------

    def poll(self, timeout: float | None = None, flags: int = PollEvent.POLLIN) -> int:
        """Wait up to ``timeout`` ms (None: forever) for ``flags`` events.

        Returns the events that are ready (0 on timeout).
        """
        if self.closed:
            raise ZMQError(Errno.ENOTSUP)
        return self._poll(int(flags), _timeout_ms(timeout))

    def get_monitor_socket(
        self, events: int | None = None, addr: str | None = None
    ) -> Socket:
        """A PAIR socket connected to this socket's monitor; receives its events."""
        if self._monitor_socket is not None:
            if not self._monitor_socket.closed:
                return self._monitor_socket
            self._monitor_socket = None
        if addr is None:
            addr = f"inproc://monitor.s-{id(self):x}"
        if events is None:
            events = Event.ALL
        self.monitor(addr, int(events))
        monitor_socket = self.context.socket(SocketType.PAIR)
        monitor_socket.connect(addr)
        self._monitor_socket = monitor_socket
        return monitor_socket

    def disable_monitor(self) -> None:
        """Stop the monitor started by ``get_monitor_socket``."""
        self._monitor_socket = None
        self.monitor(None, 0)


def describe(obj: Any, inner: str) -> str:
    """repr for Socket and Context, in pyzmq's format: the class's own
    ``_repr_cls`` (not inherited) or its real name, what it holds, and
    whether it is closed."""
    cls = type(obj)
    cls_name = cls.__dict__.get("_repr_cls") or f"{cls.__module__}.{cls.__name__}"
    closed = " closed" if obj.closed else ""
    return f"<{cls_name}({inner}) at {hex(id(obj))}{closed}>"


_KNOWN_OPTIONS = frozenset(int(option) for option in SocketOption)

_SNDMORE = 2  # Flag.SNDMORE as a plain int, for the send_multipart loop
_RCVMORE = int(SocketOption.RCVMORE)


def _explain_endpoint_error(exc: ZMQError, addr: Any) -> None:
    """Add the address to a bind/connect error, and for an ipc path that
    is too long the limit, in pyzmq's words."""
    text = addr.decode("utf-8", "replace") if isinstance(addr, bytes) else str(addr)
    if exc.errno == _errno.ENAMETOOLONG and text.startswith("ipc://"):
        limit = sys.modules["mqcore"].IPC_PATH_MAX_LEN
        exc.strerror = (
            f'ipc path "{text[6:]}" is longer than {limit} characters'
            " (sizeof(sockaddr_un.sun_path)). mqcore.IPC_PATH_MAX_LEN constant"
            " can be used to check addr length (if it is defined)."
        )
    exc.strerror += f" (addr={addr!r})"


def _as_bytes(topic: str | bytes) -> bytes:
    """Topics may be given as str (UTF-8) or bytes."""
    if isinstance(topic, str):
        return topic.encode("utf-8")
    return topic


def _is_port_taken(errno: int | None) -> bool:
    """Whether a bind error means "try another port"."""
    if errno == Errno.EADDRINUSE:
        return True
    # Windows reports ports reserved by the system as EACCES.
    return sys.platform == "win32" and errno == 13


__all__ = ["Socket"]
