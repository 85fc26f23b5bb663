"""Helpers shared by the socket-pattern tests (REQ/REP, DEALER/ROUTER,
PUB/SUB, STREAM, poller, proxy, monitor, stats).

They take sockets of either implementation and use only option and flag
numbers (identical in pyzmq and mqcore), plain recv/send and RCVTIMEO, so a
missing Poller in the module under test cannot break an unrelated test.
"""

from __future__ import annotations

import errno
import importlib
import socket
import time

import pytest

RCVTIMEO = 27
EVENTS = 15
NOBLOCK = 1
ROUTER_MANDATORY = 33

# (index of the socket made by the module under test, index of the binder)
# for a pair of socket types (A, B): every direction, every side binding.
INTEROP_ROLES = [(0, 0), (0, 1), (1, 0), (1, 1)]


def interop_role_id(names):
    """pytest id maker for INTEROP_ROLES, e.g. ``mqREQ-REPbinds``."""
    def make(role):
        mq, binder = role
        return f"mq{names[mq]}-{names[binder]}binds"
    return make


def interop_pair(sock, psock, endpoint, transport, types, role, opts=({}, {})):
    """Two connected sockets of ``types`` (A, B), one from each library.

    ``role`` is an entry of INTEROP_ROLES; ``opts`` gives per-socket options.
    Returns the sockets in ``types`` order.
    """
    mq, binder = role
    made = []
    for i, (socket_type, o) in enumerate(zip(types, opts)):
        if i == mq:
            made.append(sock(socket_type, **o))
        else:
            made.append(psock(socket_type, **o))
    addr = endpoint.bind(made[binder], transport)
    made[1 - binder].connect(addr)
    return made[0], made[1]


def monitor_module(zmq):
    """``<module under test>.utils.monitor`` (recv_monitor_message, ...)."""
    return importlib.import_module(zmq.__name__ + ".utils.monitor")


def errno_of(exc):
    return getattr(exc, "errno", None)


def try_recv_multipart(sock, ms):
    """recv_multipart with a timeout of *ms* ms; None if nothing came."""
    old = sock.getsockopt(RCVTIMEO)
    sock.setsockopt(RCVTIMEO, int(ms))
    try:
        return sock.recv_multipart()
    except Exception as exc:  # noqa: BLE001 - either implementation's Again
        if errno_of(exc) == errno.EAGAIN:
            return None
        raise
    finally:
        sock.setsockopt(RCVTIMEO, old)


def recv_poking(sock, poke, timeout=5.0):
    """recv_multipart from *sock* while reading EVENTS on each of *poke*.

    libzmq attaches a bound socket's accepted connections, and so sends what
    it owes them (SUB/XSUB subscriptions, the XPUB welcome message, the
    PROBE_ROUTER probe), only when the application next uses that socket.
    A test that waits on the peer keeps the binder busy this way.
    """
    deadline = time.monotonic() + timeout
    while True:
        for s in poke:
            s.getsockopt(EVENTS)
        got = try_recv_multipart(sock, 10)
        if got is not None:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"no message on {sock!r} within {timeout} s")


def sync_pubsub(pub, sub, *probes, timeout=5.0):
    """For each topic in *probes*: publish ``[probe, n]`` until *sub* gets
    one, then drain every probe (the slow-joiner guard).

    Each probe must match one of *sub*'s subscriptions: when this returns,
    those subscriptions are active at *pub* and no probe is left queued at
    *sub*.  One probe proves only the subscription it matches (subscriptions
    can reach the publisher in separate reads), so probe every topic the
    test relies on, or subscribe a barrier topic after the changes to check.
    """
    for probe in probes:
        _sync_one(pub, sub, probe, timeout)


def _sync_one(pub, sub, probe, timeout):
    deadline = time.monotonic() + timeout
    sent = 0
    while True:
        sent += 1
        pub.send_multipart([probe, b"%d" % sent])
        got = try_recv_multipart(sub, 5)
        if got is not None:
            break
        if time.monotonic() > deadline:
            pytest.fail(f"subscription for {probe!r} never reached the publisher")
    while got != [probe, b"%d" % sent]:
        assert got[0] == probe, f"unexpected message while syncing: {got!r}"
        got = try_recv_multipart(sub, 5000)
        assert got is not None, "probe lost after the subscription was active"


def send_when_routable(router, ident, frames, timeout=5.0):
    """Send ``[ident] + frames`` from a ROUTER as soon as *ident* is known.

    Sets ROUTER_MANDATORY (so an unknown id raises EHOSTUNREACH instead of
    being dropped) and retries until the peer's handshake has finished.
    """
    router.setsockopt(ROUTER_MANDATORY, 1)
    deadline = time.monotonic() + timeout
    while True:
        try:
            router.send_multipart([ident] + list(frames))
            return
        except Exception as exc:  # noqa: BLE001
            if errno_of(exc) != errno.EHOSTUNREACH or time.monotonic() > deadline:
                raise
        time.sleep(0.002)


def fill_until_again(sock, frames=(b"x",), limit=200_000):
    """send_multipart(NOBLOCK) until Again; return how many messages went."""
    n = 0
    while n < limit:
        try:
            sock.send_multipart(list(frames), NOBLOCK)
        except Exception as exc:  # noqa: BLE001
            if errno_of(exc) == errno.EAGAIN:
                return n
            raise
        n += 1
    pytest.fail(f"send(NOBLOCK) never raised Again after {limit} messages")


def raises_errno(func, expected):
    """Call *func*; assert it raises an error with errno *expected*."""
    with pytest.raises(Exception) as info:  # noqa: PT011 - either implementation
        func()
    assert errno_of(info.value) == expected, repr(info.value)
    return info.value


# --------------------------------------------------------------------------
# STREAM and raw TCP
# --------------------------------------------------------------------------

def recv_stream_bytes(s, ident, n, timeout_ms=5000):
    """Collect *n* bytes from STREAM socket *s*, all from connection *ident*
    (a byte stream has no message boundaries)."""
    data = b""
    while len(data) < n:
        got = try_recv_multipart(s, timeout_ms)
        assert got is not None, f"only {len(data)} of {n} bytes arrived"
        rid, chunk = got
        assert rid == ident
        assert chunk, "connection closed early"
        data += chunk
    return data


def recv_raw_bytes(conn, n):
    """Read exactly *n* bytes from a plain socket (which has a timeout set)."""
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        assert chunk, "connection closed early"
        data += chunk
    return data


def wait_raw_closed(conn, stream, timeout=5.0):
    """Wait until the peer closes plain socket *conn*, reading EVENTS on
    STREAM socket *stream* meanwhile.

    libzmq finishes closing a connection (after an empty data frame) only
    when the STREAM socket's own thread next processes its commands.
    """
    conn.settimeout(0.01)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stream.getsockopt(EVENTS)
        try:
            assert conn.recv(1) == b"", "unexpected data instead of a close"
            return
        except socket.timeout:  # TimeoutError from Python 3.10 on
            continue
    pytest.fail("connection not closed")


# --------------------------------------------------------------------------
# Small kernel buffers (SNDBUF/RCVBUF): everything arrives, intact, in order.

# Sizes on both sides of the engine's thresholds (src/engine/stream_out.pxi:
# the 8 KiB copy limit, the 16 KiB direct-read limit, the 64 KiB batches) and
# of kernel buffers of 1..64 KiB, up to 1 MiB; there and back: ~2.9 MB.
_SIZES_UP = (1, 100, 1023, 1024, 1025, 4095, 4096, 4097, 8191, 8192, 8193,
             16383, 16384, 16385, 65535, 65536, 65537, 262144, 1 << 20)
BUFFER_TEST_SIZES = _SIZES_UP + tuple(reversed(_SIZES_UP))

# Generous: the whole sequence takes milliseconds on loopback. A connection
# whose TCP window does not fit its buffer moves ~40 KB/s (one segment per
# persist-timer probe, ~200 ms): about a minute for the sequence.
DELIVERY_TIMEOUT_S = 10.0


def numbered_payload(i, size):
    """Message i of `size` bytes: its number first, then a byte that
    changes with i (a lost, doubled or shifted chunk shows)."""
    head = b"%08d:" % i
    return (head + bytes([i % 251]) * size)[:size]


def assert_all_arrive_in_order(push, pull, sizes=BUFFER_TEST_SIZES,
                               timeout_s=DELIVERY_TIMEOUT_S):
    """Sends one message of each size in `sizes` on push, then receives on
    pull until all came (each intact and in order) or timeout_s passed."""
    for i, size in enumerate(sizes):
        push.send(numbered_payload(i, size))
    deadline = time.monotonic() + timeout_s
    for i, size in enumerate(sizes):
        left_ms = int((deadline - time.monotonic()) * 1000)
        if left_ms <= 0:
            pytest.fail(f"only {i} of {len(sizes)} messages in {timeout_s} s (a stall)")
        pull.setsockopt(RCVTIMEO, left_ms)
        try:
            got = pull.recv()
        except Exception as exc:  # noqa: BLE001 - EAGAIN of either library
            pytest.fail(f"only {i} of {len(sizes)} messages in {timeout_s} s ({exc!r})")
        if got != numbered_payload(i, size):
            pytest.fail(f"message {i}: {len(got)} bytes starting {got[:12]!r}, "
                        f"expected {size} bytes starting {numbered_payload(i, size)[:12]!r}")
