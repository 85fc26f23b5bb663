"""``zmq.utils.strtypes``: Python 2 era str/bytes helpers, deprecated in pyzmq.

Kept so that old programs importing them run; each use warns, as pyzmq's do.
"""

from __future__ import annotations

import warnings
from typing import Any

bytes = bytes  # noqa: PLW0127 - re-exported names pyzmq has
unicode = str
basestring = (str, bytes)


def _deprecated(name: str) -> None:
    warnings.warn(
        f"zmq.utils.strtypes.{name} is deprecated", DeprecationWarning, stacklevel=3
    )


def cast_bytes(s: Any, encoding: str = "utf8", errors: str = "strict") -> bytes:
    """``s`` as bytes: str is encoded, bytes pass through."""
    _deprecated("cast_bytes")
    if isinstance(s, bytes):
        return s
    if isinstance(s, str):
        return s.encode(encoding, errors)
    raise TypeError(f"Expected unicode or bytes, got {s!r}")


def cast_unicode(s: Any, encoding: str = "utf8", errors: str = "strict") -> str:
    """``s`` as str: bytes are decoded, str passes through."""
    _deprecated("cast_unicode")
    if isinstance(s, bytes):
        return s.decode(encoding, errors)
    if isinstance(s, str):
        return s
    raise TypeError(f"Expected unicode or bytes, got {s!r}")


# The short aliases old code used.
b = asbytes = cast_bytes
u = cast_unicode

__all__ = [
    "asbytes",
    "bytes",
    "unicode",
    "basestring",
    "b",
    "u",
    "cast_bytes",
    "cast_unicode",
]
