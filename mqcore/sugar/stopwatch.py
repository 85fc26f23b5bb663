"""``zmq.sugar.stopwatch``: the deprecated Stopwatch (microsecond timer)."""

from __future__ import annotations

import time
import warnings


class Stopwatch:
    """Measures elapsed time in microseconds; deprecated as in pyzmq.

    ``time.monotonic`` does the same job; this exists for old programs.
    """

    def __init__(self) -> None:
        warnings.warn(
            "zmq.Stopwatch is deprecated. Use stdlib time.monotonic and friends instead",
            DeprecationWarning,
            stacklevel=2,
        )
        self._start = 0.0

    def start(self) -> None:
        """Start (or restart) timing."""
        self._start = time.monotonic()

    def stop(self) -> int:
        """Microseconds since ``start()``."""
        return int((time.monotonic() - self._start) * 1e6)


__all__ = ["Stopwatch"]
