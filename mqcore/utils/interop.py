"""``zmq.utils.interop``: accept a raw address where pyzmq accepts one."""

from __future__ import annotations

from typing import Any


def cast_int_addr(n: Any) -> int:
    """An integer address from an int or a ctypes/cffi pointer.

    pyzmq uses this for ``Context(shadow=addr)``; mqcore's shadow addresses
    are plain ints, so an int (or anything with ``__index__``) is taken as is
    and a pointer object gives its numeric value.
    """
    if isinstance(n, int):
        return n
    try:
        import cffi  # noqa: F401 - only to recognise cffi pointers
    except ImportError:
        cffi = None
    else:
        ffi = cffi.FFI()
        if isinstance(n, ffi.CData):
            return int(ffi.cast("size_t", n))
    import ctypes

    if isinstance(n, ctypes.c_void_p):
        return n.value or 0
    if hasattr(n, "__index__"):
        return n.__index__()
    raise ValueError(f"Cannot cast {n!r} to int")
