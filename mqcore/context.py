"""The Context class users see: pyzmq's conveniences over ``mqcore._core.Context``.

The core owns the I/O threads, the socket table and termination.  This
layer adds, as pyzmq does:

- ``socket(type, **options)`` building ``_socket_class`` sockets;
- default socket options (``ctx.linger = 0`` or ``ctx.setsockopt(LINGER, 0)``)
  applied to every socket created afterwards;
- context options as attributes (``ctx.io_threads``, ``ctx.max_sockets``);
- ``instance()``, the process-wide shared context, and ``destroy()``.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import warnings
from typing import Any, Generic, TypeVar

from mqcore import _core
from mqcore.constants import ContextOption, Errno, SocketOption
from mqcore.error import ZMQError
from mqcore.socket import Socket, _is_declared_attribute, describe

# At interpreter exit a dropped context is not destroyed (nor warned
# about), as in pyzmq: lingering messages must not hold the process.
_exiting = False


def _notice_exit() -> None:
    global _exiting
    _exiting = True


atexit.register(_notice_exit)

# Socket options that libzmq also accepts on the context, where they mean
# "default for new sockets" (BLOCKY exists only there).  As attributes they
# go to ctx.set/get, so ``ctx.blocky = False`` does what libzmq documents.
_CONTEXT_LEVEL_SOCKET_OPTIONS = frozenset({"BLOCKY"})


def _context_option(name: str) -> int | None:
    """The context-option number an attribute name stands for, or None."""
    key = name.upper()
    if key in ContextOption.__members__:
        return ContextOption[key]
    if key in _CONTEXT_LEVEL_SOCKET_OPTIONS:
        return SocketOption[key]
    return None


def _socket_option_number(name: str) -> int | None:
    option = SocketOption.__members__.get(name.upper())
    return None if option is None else int(option)


# The class of the sockets a context makes, for type checkers:
# Context[Socket[bytes]] (pyzmq's spelling).
_SocketT = TypeVar("_SocketT", bound=Socket[Any])


class Context(_core.Context, Generic[_SocketT]):
    """A ZeroMQ context: I/O threads plus the sockets created from it."""

    _socket_class: type[Socket] = Socket

    # The shared instance() context and the process that made it.
    _instance: Context | None = None
    _instance_pid: int | None = None
    _instance_lock = threading.Lock()

    # Default socket options, {option number: value}; set in __init__.
    sockopts: dict[int, Any]
    _shadow: bool = False
    _repr_cls = "mqcore.Context"

    def __init__(self: Context[Socket[bytes]], io_threads: Any = 1, shadow: Any = 0) -> None:
        """``shadow`` (or a Context as the first argument): share that
        context (a Context or its ``underlying``) instead of making one."""
        super().__init__(io_threads, shadow)
        object.__setattr__(self, "_shadow", bool(shadow) or isinstance(io_threads, _core.Context))
        object.__setattr__(self, "sockopts", {})

    @classmethod
    def shadow(cls, address: Any) -> Context:
        """Another object of this class for the context ``address`` (a
        Context or its ``underlying``), sharing and keeping it alive."""
        return cls(shadow=address)

    def __copy__(self, memo: Any = None) -> Context:
        # As pyzmq: a copy of a context is a shadow of it.
        return self.__class__.shadow(self.underlying)

    __deepcopy__ = __copy__

    def __del__(
        self, _finalizing: Any = sys.is_finalizing, _warn: Any = warnings.warn
    ) -> None:
        # Dropped while open: destroyed, with a ResourceWarning, as pyzmq;
        # not at interpreter exit (module globals may be gone by then, so
        # what is needed is bound as default arguments).
        if not self._shadow and not self.closed and not _finalizing() and not _exiting:
            _warn(f"Unclosed context {self}", ResourceWarning, stacklevel=2, source=self)
            # Close the sockets it can still see, not term(): in a collected
            # cycle the weak socket set is already emptied while sockets in
            # the cycle are still open, and term() would wait for them.  The
            # core finishes the job once the last one is closed.
            for sock in self._open_sockets():
                sock.close()
        super().__del__()

    @classmethod
    def instance(cls, io_threads: int = 1) -> Context:
        """The process-wide shared context, created on first use.

        A new one is made if the old one was terminated, or if this process
        is a fork of the one that made it (a context does not survive fork).
        """
        if not cls._instance_is_usable():
            with cls._instance_lock:
                if not cls._instance_is_usable():
                    cls._instance = cls(io_threads=io_threads)
                    cls._instance_pid = os.getpid()
        return cls._instance

    @classmethod
    def _instance_is_usable(cls) -> bool:
        # A subclass (an asyncio Context, say) inherits the base class's
        # _instance until it makes its own; the isinstance test stops it
        # from handing out the base class's context.
        shared = cls._instance
        return (
            shared is not None
            and isinstance(shared, cls)
            and cls._instance_pid == os.getpid()
            and not shared.closed
        )

    # ------------------------------------------------------------------
    # with-statement, display
    # ------------------------------------------------------------------

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # destroy, not bare term: term would wait forever on a socket left
        # open inside the block.  Leftover sockets are reported, as in pyzmq.
        self._destroy(linger=None, warn_unclosed=True)

    def __repr__(self) -> str:
        return describe(self, self._socket_count_text())

    def _socket_count_text(self) -> str:
        count = 0 if self.closed else len(self._open_sockets())
        if count == 0:
            return ""
        return f"{count} socket{'s' if count > 1 else ''}"

    def __dir__(self) -> list[str]:
        names = list(super().__dir__())
        names.extend(ContextOption.__members__)
        names.extend(name.lower() for name in ContextOption.__members__)
        return names

    # ------------------------------------------------------------------
    # Sockets
    # ------------------------------------------------------------------

    def socket(
        self, socket_type: int, socket_class: Any = None, **kwargs: Any
    ) -> _SocketT:
        """Create a socket of ``socket_type``.

        The context's default options are applied first, then ``kwargs``
        as options by attribute name: ``ctx.socket(SUB, subscribe=b"")``.
        """
        if self.closed:
            raise ZMQError(Errno.ENOTSUP)
        if socket_class is None:
            socket_class = self._socket_class
        # As pyzmq: keyword arguments go to the socket class; mqcore's
        # Socket takes option names among them (ctx.socket(SUB, subscribe=b"")).
        sock = socket_class(self, socket_type, **kwargs)
        given = {_socket_option_number(name) for name in kwargs}
        try:
            self._apply_default_options(sock, given)
        except BaseException:
            # The caller never gets the socket, so nobody else can close it.
            sock.close(linger=0)
            raise
        return sock

    def _apply_default_options(self, sock: Socket, given: set) -> None:
        for option, value in self.sockopts.items():
            if option in given:
                continue    # set explicitly for this socket
            try:
                sock.set(option, value)
            except ZMQError:
                # A default may not apply to every type (SUBSCRIBE on PUSH);
                # pyzmq skips those silently too.
                pass

    def _open_sockets(self) -> list[Socket]:
        return [sock for sock in self._sockets() if not sock.closed]

    def destroy(self, linger: int | None = None) -> None:
        """Close every open socket of this context, then terminate it.

        ``linger``, when given, replaces each socket's LINGER for the close.
        Like pyzmq's, this is not thread-safe: sockets in use by other
        threads must not be destroyed from under them.
        """
        self._destroy(linger, warn_unclosed=False)

    def _destroy(self, linger: int | None, warn_unclosed: bool) -> None:
        if self.closed:
            return
        for sock in self._open_sockets():
            if warn_unclosed:
                warnings.warn(
                    f"Destroying context with unclosed socket {sock}",
                    ResourceWarning,
                    stacklevel=3,
                    source=sock,
                )
            sock.close(linger=linger)
        self.term()

    # ------------------------------------------------------------------
    # Default socket options and context options
    # ------------------------------------------------------------------

    def setsockopt(self, opt: int, value: Any) -> None:
        """Set a default option for sockets created from now on."""
        self.sockopts[opt] = value

    def getsockopt(self, opt: int) -> Any:
        """A default socket option set earlier (KeyError if none)."""
        return self.sockopts[opt]

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup failed.
        context_option = _context_option(name)
        if context_option is not None:
            try:
                return self.get(context_option)
            except ZMQError as exc:
                # Write-only (THREAD_PRIORITY, ...): missing as an attribute,
                # so hasattr() and Mock(spec=ctx) work.
                if exc.errno == Errno.EINVAL:
                    raise AttributeError(f"{name} attribute is write-only") from None
                raise
        socket_option = SocketOption.__members__.get(name.upper())
        if socket_option is None:
            raise AttributeError(
                f"{type(self).__name__} has no such option: {name.upper()}"
            )
        try:
            return self.sockopts[socket_option]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if _is_declared_attribute(self, name):
            object.__setattr__(self, name, value)
            return
        context_option = _context_option(name)
        if context_option is not None:
            self.set(context_option, value)
            return
        socket_option = SocketOption.__members__.get(name.upper())
        if socket_option is None:
            raise AttributeError(
                f"No such context or socket option: {name.upper()}"
            )
        self.sockopts[socket_option] = value

    def __delattr__(self, name: str) -> None:
        if name in self.__dict__:
            object.__delattr__(self, name)
            return
        socket_option = SocketOption.__members__.get(name.upper())
        if socket_option is None:
            raise AttributeError(f"No such socket option: {name.upper()!r}")
        try:
            del self.sockopts[socket_option]
        except KeyError:
            raise AttributeError(name) from None


__all__ = ["Context"]
