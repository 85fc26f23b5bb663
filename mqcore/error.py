"""Exception classes of mqcore, compatible with pyzmq's ``zmq.error``.

The core never builds exception objects itself: every failing call ends in
``raise error_for(errno)``, so the errno -> exception-class rule lives here
and nowhere else.  The module must import without ``mqcore._core`` because
the core imports it.
"""

from __future__ import annotations

import errno as _errno
import os

from mqcore.constants import Errno

# The libzmq version whose behaviour mqcore implements (zmq_version_info()).
LIBZMQ_VERSION_INFO = (4, 3, 5)

# zmq_strerror's own texts (libzmq src/err.cpp): the numbers only ZeroMQ
# defines, plus EHOSTUNREACH, which libzmq words differently from the C
# library on every platform.  Every other number gets strerror()'s text.
_ZMQ_ERROR_TEXT = {
    Errno.EFSM: "Operation cannot be accomplished in current state",
    Errno.ENOCOMPATPROTO: "The protocol is not compatible with the socket type",
    Errno.ETERM: "Context was terminated",
    Errno.EMTHREAD: "No thread available",
    Errno.EHOSTUNREACH: "Host unreachable",
}


def strerror(errno: int) -> str:
    """Text for an error number, as zmq_strerror gives it."""
    text = _ZMQ_ERROR_TEXT.get(errno)
    if text is None:
        text = os.strerror(errno)
    return text


class ZMQBaseError(Exception):
    """Base class of every mqcore exception."""


class ZMQError(ZMQBaseError):
    """A failed ZeroMQ call, carrying the error number.

    ``errno`` is the number (None when unknown) and ``strerror`` the text;
    ``msg`` replaces the text when given.  A non-integer ``errno`` is taken
    as the message itself, as pyzmq does.
    """

    errno: int | None = None
    strerror: str

    def __init__(self, errno: int | None = None, msg: str | None = None) -> None:
        super().__init__(errno, msg)
        if isinstance(errno, int):
            self.errno = errno
            self.strerror = strerror(errno) if msg is None else msg
        elif msg is not None:
            self.strerror = msg
        elif errno is not None:
            self.strerror = str(errno)
        else:
            # No zmq_errno() to fall back on: there is no thread-local errno
            # outside the core, so say plainly that the cause is unknown.
            self.strerror = "Unknown error"

    def __str__(self) -> str:
        return self.strerror

    def __repr__(self) -> str:
        return f"{type(self).__name__}('{self}')"


class Again(ZMQError):
    """EAGAIN: the call would block (DONTWAIT, a timeout, or a full queue)."""

    def __init__(self, errno: object = None, msg: str | None = None) -> None:
        # The number is fixed by the class; the argument exists for pyzmq's
        # signature only.
        super().__init__(Errno.EAGAIN, msg)


class ContextTerminated(ZMQError):
    """ETERM: the socket's context was terminated; close the socket."""

    def __init__(self, errno: object = None, msg: str | None = None) -> None:
        super().__init__(Errno.ETERM, msg)


class InterruptedSystemCall(ZMQError, InterruptedError):
    """EINTR.  The core retries interrupted calls, so seeing this is a bug."""

    def __init__(self, errno: object = None, msg: str | None = None) -> None:
        super().__init__(_errno.EINTR, msg)

    def __str__(self) -> str:
        return (
            f"{self.strerror}: this call should have been retried;"
            " please report it to mqcore"
        )


class ZMQBindError(ZMQBaseError):
    """``Socket.bind_to_random_port`` ran out of tries."""


class NotDone(ZMQBaseError):
    """A ``MessageTracker.wait`` timed out before ZeroMQ released the message."""


class ZMQVersionError(NotImplementedError):
    """A feature needs a newer libzmq than the one mqcore implements."""

    def __init__(self, min_version: str, msg: str = "Feature") -> None:
        super().__init__(min_version, msg)
        self.min_version = min_version
        self.msg = msg
        self.version = ".".join(str(part) for part in LIBZMQ_VERSION_INFO)

    def __str__(self) -> str:
        return f"{self.msg} requires libzmq >= {self.min_version}, have {self.version}"

    def __repr__(self) -> str:
        return f"ZMQVersionError('{self}')"


# errno -> the subclass pyzmq raises for it; everything else is ZMQError.
_ERROR_CLASSES = {
    Errno.EAGAIN: Again,
    Errno.ETERM: ContextTerminated,
    _errno.EINTR: InterruptedSystemCall,
}


def error_for(errno: int, msg: str | None = None) -> ZMQError:
    """The exception instance to raise for a failed call with ``errno``.

    Called by the core as ``raise error_for(errno)``.
    """
    error_class = _ERROR_CLASSES.get(errno, ZMQError)
    return error_class(errno, msg)


def _check_version(min_version_info: tuple, msg: str = "Feature") -> None:
    """Raise ZMQVersionError if mqcore's libzmq level is below ``min_version_info``."""
    if LIBZMQ_VERSION_INFO < tuple(min_version_info):
        min_version = ".".join(str(part) for part in min_version_info)
        raise ZMQVersionError(min_version, msg)


class DraftFDWarning(RuntimeWarning):
    """Warned when a thread-safe (draft) socket's FD is used, as pyzmq warns.

    mqcore gives those sockets an FD like any other; the class exists so that
    programs filtering the warning by class keep working.
    """

    def __init__(self, msg: str = "") -> None:
        super().__init__(msg or "FD on thread-safe (draft) sockets is experimental")


__all__ = [
    "DraftFDWarning",
    "ZMQBaseError",
    "ZMQError",
    "Again",
    "ContextTerminated",
    "InterruptedSystemCall",
    "ZMQBindError",
    "NotDone",
    "ZMQVersionError",
    "strerror",
    "error_for",
]
