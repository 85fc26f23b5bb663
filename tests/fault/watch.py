"""Monitor events of a socket of the implementation under test, read the
same way for mqcore and pyzmq (libzmq's two-frame format, parsed here)."""

from __future__ import annotations

import collections
import struct
import time

import pytest

# libzmq event numbers (the same in pyzmq and mqcore)
CONNECTED = 0x0001
CONNECT_DELAYED = 0x0002
CONNECT_RETRIED = 0x0004
LISTENING = 0x0008
ACCEPTED = 0x0020
ACCEPT_FAILED = 0x0040
CLOSED = 0x0080
DISCONNECTED = 0x0200
HANDSHAKE_SUCCEEDED = 0x1000

NAMES = {v: k for k, v in dict(globals()).items() if k.isupper() and isinstance(v, int)}


class EventWatch:
    """Collects a socket's monitor events; ``wait(kind)`` consumes them in
    order up to the next event of that kind and returns when it was seen."""

    def __init__(self, zmq, sock):
        self.zmq = zmq
        self.mon = sock.get_monitor_socket()
        self.mon.setsockopt(zmq.LINGER, 0)
        self.pending = collections.deque()     # (kind, value, seen_at)
        self.seen = []

    def _read(self, timeout_ms):
        if not self.mon.poll(timeout_ms):
            return False
        while True:
            try:
                frames = self.mon.recv_multipart(self.zmq.NOBLOCK)
            except self.zmq.Again:
                return True
            kind, value = struct.unpack("<HI", frames[0][:6])
            item = (kind, value, time.monotonic())
            self.pending.append(item)
            self.seen.append(item)

    def poll_events(self):
        """Take in whatever has arrived, without waiting."""
        self._read(0)

    def wait(self, kind, timeout):
        """The monotonic time at which the next *kind* event was seen."""
        deadline = time.monotonic() + timeout
        while True:
            while self.pending:
                k, _, at = self.pending.popleft()
                if k == kind:
                    return at
            left = deadline - time.monotonic()
            if left <= 0:
                got = [NAMES.get(k, hex(k)) for k, _, _ in self.seen[-12:]]
                pytest.fail(f"no {NAMES.get(kind, hex(kind))} event within {timeout:.1f} s "
                            f"(last events: {got})")
            self._read(int(left * 1000) + 1)

    def count(self, kind):
        self.poll_events()
        return sum(1 for k, _, _ in self.seen if k == kind)

    def close(self):
        self.mon.close(linger=0)
