"""1,000 connect / exchange / disconnect cycles, in each role, must leave no
descriptor and no memory behind.

Descriptors are counted in /proc/self/fd; closing a connection finishes
asynchronously (on an io thread, in libzmq and mqcore alike), so the count
is awaited, not sampled.  Memory is RSS against a generous bound: a leak of
a session (tens of KiB) or of a socket per cycle exceeds it many times.
"""

import pytest

from .procs import open_fds, proc_rss_bytes

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
