"""1,000 connect / exchange / disconnect cycles, in each role, must leave no
descriptor and no memory behind.

Descriptors are counted in /proc/self/fd; closing a connection finishes
asynchronously (on an io thread, in libzmq and mqcore alike), so the count
is awaited, not sampled.  Memory is RSS against a generous bound: a leak of
a session (tens of KiB) or of a socket per cycle exceeds it many times.
"""

import socket
import struct

import pytest

from .procs import needs_proc, open_fds, proc_rss_bytes
from .zmtp import frame, greeting, read_exact, read_frame, ready

pytestmark = needs_proc

CYCLES = 1000
WARMUP = 50
RSS_BOUND = 32 << 20


class Baseline:
    def __init__(self):
        self.fds = None
        self.rss = None

    def take(self):
        self.fds, self.rss = open_fds(), proc_rss_bytes()

    def check(self, wait_until, what, peer=None):
        def settled():
            if peer is not None:
                # libzmq reaps a closed socket's inproc pipes only once the
                # peer has processed its commands, which any call on it does.
                peer.getsockopt(15)     # EVENTS
            return open_fds() <= self.fds

        wait_until(settled, timeout=10,
                   msg=f"descriptors back to {self.fds} after {what} (now {open_fds()})")
        grown = proc_rss_bytes() - self.rss
        assert grown < RSS_BOUND, f"RSS grew by {grown >> 20} MiB over {what}"


def peer_context(transport, ctx, pctx):
    """inproc peers must share the context; tcp and ipc peers are pyzmq."""
    return ctx if transport == "inproc" else pctx


@pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
def test_new_socket_per_cycle(zmq, ctx, pctx, make_socket, endpoint, recv_timeout,
                              wait_until, transport):
    peer = make_socket(peer_context(transport, ctx, pctx), zmq.ROUTER)
    addr = endpoint.bind(peer, transport)
    base = Baseline()
    for cycle in range(CYCLES):
        if cycle == WARMUP:
            base.take()
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.RCVTIMEO, 5000)
        s.connect(addr)
        s.send(b"c%d" % cycle)
        rid, body = peer.recv_multipart()
        peer.send_multipart([rid, body])
        assert recv_timeout(s) == b"c%d" % cycle
        s.close()
    base.check(wait_until, f"{CYCLES - WARMUP} sockets made and closed", peer)


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_accepted_connection_per_cycle(zmq, sock, psock, pyzmq, endpoint, recv_multipart_timeout,
                                       wait_until, transport):
    router = sock(zmq.ROUTER)
    addr = endpoint.bind(router, transport)
    base = Baseline()
    for cycle in range(CYCLES):
        if cycle == WARMUP:
            base.take()
        d = psock(pyzmq.DEALER)
        d.connect(addr)
        d.send(b"a%d" % cycle)
        rid, body = recv_multipart_timeout(router)
        assert body == b"a%d" % cycle
        router.send_multipart([rid, body])
        assert d.recv() == body
        d.close(linger=0)
    base.check(wait_until, f"{CYCLES - WARMUP} accepted connections", router)


@pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
def test_connect_disconnect_one_socket(zmq, ctx, pctx, sock, make_socket, endpoint,
                                       recv_timeout, wait_until, transport):
    peer = make_socket(peer_context(transport, ctx, pctx), zmq.ROUTER)
    addr = endpoint.bind(peer, transport)
    d = sock(zmq.DEALER)
    base = Baseline()
    for cycle in range(CYCLES):
        if cycle == WARMUP:
            base.take()
        d.connect(addr)
        d.send(b"d%d" % cycle)
        rid, body = peer.recv_multipart()
        peer.send_multipart([rid, body])
        assert recv_timeout(d) == b"d%d" % cycle
        d.disconnect(addr)
    base.check(wait_until, f"{CYCLES - WARMUP} connect/disconnect cycles", peer)


@pytest.mark.parametrize("how", ["reset", "close", "mid-message"])
def test_reconnect_cycles_of_one_session(zmq, sock, recv_timeout, wait_until, how):
    """One connecting DEALER, a raw ZMTP server that ends every connection
    after one exchange (RST, FIN, or RST with half a message sent to us):
    1,000 reconnects, no growth.  The connecting side's session lives on
    and reconnects each time, resetting its codec; nothing of the cut
    message may be delivered."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(5)
    d = sock(zmq.DEALER, reconnect_ivl=1)
    d.connect("tcp://127.0.0.1:%d" % listener.getsockname()[1])
    base = Baseline()
    try:
        for cycle in range(CYCLES):
            if cycle == WARMUP:
                base.take()
            c, _ = listener.accept()
            c.settimeout(5)
            c.sendall(greeting() + ready(b"ROUTER"))
            read_exact(c, 64)
            read_frame(c)                        # its READY
            body = b"r%d" % cycle
            d.send(body)
            assert read_frame(c)[1] == body
            c.sendall(frame(body))
            assert recv_timeout(d) == body
            if how == "mid-message":
                c.sendall(b"\x01\x04half" + b"\x02" + struct.pack(">Q", 1000) + b"x" * 10)
            if how in ("reset", "mid-message"):
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
    finally:
        listener.close()
    with pytest.raises(zmq.Again):
        d.recv(zmq.NOBLOCK)
    base.check(wait_until, f"{CYCLES - WARMUP} reconnects")
