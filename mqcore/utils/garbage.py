"""``zmq.utils.garbage``: hold Python objects while a zero-copy send uses them.

pyzmq keeps a buffer alive while libzmq still reads it: the buffer is
stored here under a key, and when libzmq frees the message its callback
pushes the key (a packed size_t) to an inproc PULL socket; a thread
receiving it drops the reference and sets the tracker event.  mqcore's core
keeps its own references, so nothing in mqcore needs this, but programs
and libraries that drive the protocol themselves (store, then push the key)
get the same behaviour.
"""

from __future__ import annotations

import atexit
import struct
from os import getpid
from threading import Event, Lock, Thread
from typing import Final, NamedTuple

from mqcore.constants import SocketType
from mqcore.context import Context
from mqcore.socket import Socket

# Keys arrive as native size_t: 4 bytes on 32-bit builds, 8 on 64-bit.
_KEY_FORMATS = {4: "L", 8: "Q"}
_DIE = b"DIE"


class gcref(NamedTuple):
    """One held object and the event to set when it is released."""

    obj: object
    event: Event | None


class GarbageCollectorThread(Thread):
    """Receives released keys and drops the references they name."""

    def __init__(self, gc: GarbageCollector) -> None:
        super().__init__(daemon=True)
        self.gc = gc
        self.pid = getpid()
        self.ready = Event()

    def run(self) -> None:
        try:
            pull = self.gc.context.socket(SocketType.PULL)
            pull.linger = 0
            pull.bind(self.gc.url)
        finally:
            self.ready.set()
        with pull:
            while getpid() == self.pid:  # a forked child must not run this
                msg = pull.recv()
                if msg == _DIE:
                    return
                self.gc.release(struct.unpack(_KEY_FORMATS[len(msg)], msg)[0])


class GarbageCollector:
    """Keys Python objects in use by messaging until their key is pushed back.

    ``store(obj, event)`` starts the thread on first use and returns the key;
    sending the packed key to ``url`` (``_push_socket`` is a ready PUSH)
    releases the object and sets ``event``.
    """

    url = "inproc://pyzmq.gc.01"

    def __init__(self, context: Context | None = None) -> None:
        self.refs: dict[int, gcref] = {}
        self.pid: int | None = None
        self.thread: GarbageCollectorThread | None = None
        self._context = context
        self._lock = Lock()
        self._stay_down = False
        self._push: Socket | None = None
        atexit.register(self._atexit)

    @property
    def context(self) -> Context:
        if self._context is None:
            self._context = Context()
        return self._context

    @context.setter
    def context(self, ctx: Context | None) -> None:
        if self.is_alive():
            self.stop()
        self._context = ctx

    def is_alive(self) -> bool:
        """True if this process's collector thread is running."""
        return (
            self.thread is not None
            and self.pid == getpid()
            and self.thread.is_alive()
        )

    def start(self) -> None:
        """Start the collector thread and wait until its socket is bound."""
        if self.thread is not None and self.pid != getpid():
            self._clear()  # after fork: the parent's context is not ours
        self.pid = getpid()
        self.refs = {}
        self.thread = GarbageCollectorThread(self)
        self.thread.start()
        self.thread.ready.wait()

    def store(self, obj: object, event: Event | None = None) -> int:
        """Hold ``obj`` until its key comes back; returns the key."""
        if not self.is_alive():
            if self._stay_down:
                return 0
            with self._lock:
                if not self.is_alive():
                    self.start()
        ref = gcref(obj, event)
        key = id(ref)
        self.refs[key] = ref
        return key

    def release(self, key: int) -> None:
        """Drop the object held under ``key`` and set its event."""
        ref = self.refs.pop(key, None)
        if ref is not None and ref.event is not None:
            ref.event.set()

    @property
    def _push_socket(self) -> Socket:
        """A PUSH socket connected to the collector, for sending keys."""
        if self._stay_down:
            raise RuntimeError("zmq gc socket requested during shutdown")
        if self._push is None:
            self._push = self.context.socket(SocketType.PUSH)
            self._push.connect(self.url)
        return self._push

    def stop(self) -> None:
        """Stop the thread and forget every held object."""
        if not self.is_alive():
            return
        with self.context.socket(SocketType.PUSH) as push:
            push.connect(self.url)
            push.send(_DIE)
        if self._push is not None:
            self._push.close(linger=0)
        self.thread.join()  # type: ignore[union-attr]
        self.context.term()
        self._clear()

    def _clear(self) -> None:
        self._push = None
        self.thread = None
        self.refs.clear()
        self._context = None

    def _atexit(self) -> None:
        # Other atexit handlers must not restart the collector.
        self._stay_down = True
        self.stop()


gc: Final[GarbageCollector] = GarbageCollector()
