"""``zmq.utils.win32``: let Ctrl-C interrupt a blocking call on Windows.

On Windows a blocking libzmq call cannot be interrupted by Ctrl-C, so pyzmq
offers ``allow_interrupt(action)`` to run ``action`` on the console event.
mqcore's blocking calls wait in short slices and check for signals, so
Ctrl-C already interrupts them everywhere; ``allow_interrupt`` is then a
context manager that installs nothing and exists so programs using it run
unchanged (on Windows too, ``action`` is not needed for interruption).
"""

from __future__ import annotations

from typing import Any, Callable


class allow_interrupt:
    """Context manager: Ctrl-C may interrupt blocking calls inside it.

    ``action`` is kept for compatibility with pyzmq's signature.
    """

    def __init__(self, action: Callable[[], Any] | None = None) -> None:
        self.action = action

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: Any) -> None:
        return None
