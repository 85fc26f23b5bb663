"""Small kernel socket buffers (SNDBUF/RCVBUF of 1..64 KiB, set before
bind/connect) must not slow a connection to a crawl: every message, 1 B to
1 MiB, across the engine's buffer and large-body thresholds, arrives intact
and in order, over tcp and ipc, whichever side binds, with NULL and CURVE.

The bug these catch: buffers set on a connection after the TCP handshake
(instead of on the listening socket / before connect) leave a window the
buffer cannot hold, and the sender then advances one persist-timer probe at
a time (~200 ms each). The interop variant (pyzmq on one side) is in
tests/interop/test_small_buffers_interop.py.
"""
import pytest

from pattern_helpers import assert_all_arrive_in_order

# (RCVBUF on the PULL, SNDBUF on the PUSH); -1: the system's default.
BUFFERS = [
    (1024, -1),
    (4096, -1),
    (65536, -1),
    (-1, 1024),
    (4096, 4096),
    (1024, 65536),
]


def ids(b):
    return "rcv%s-snd%s" % b


@pytest.mark.parametrize("pull_binds", [True, False], ids=["pull-binds", "push-binds"])
@pytest.mark.parametrize("bufs", BUFFERS, ids=[ids(b) for b in BUFFERS])
@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_all_messages_arrive(zmq, sock, endpoint, transport, bufs, pull_binds):
    rcvbuf, sndbuf = bufs
    pull = sock(zmq.PULL, rcvbuf=rcvbuf)
    push = sock(zmq.PUSH, sndbuf=sndbuf)
    binder, connecter = (pull, push) if pull_binds else (push, pull)
    connecter.connect(endpoint.bind(binder, transport))
    assert_all_arrive_in_order(push, pull)


@pytest.mark.parametrize("pull_binds", [True, False], ids=["pull-binds", "push-binds"])
def test_all_messages_arrive_with_curve(zmq, sock, endpoint, pull_binds):
    (sp, ss), (cp, cs) = zmq.curve_keypair(), zmq.curve_keypair()
    pull = sock(zmq.PULL, rcvbuf=4096, curve_server=1, curve_secretkey=ss, curve_publickey=sp)
    push = sock(zmq.PUSH, sndbuf=1024, curve_serverkey=sp, curve_secretkey=cs, curve_publickey=cp)
    binder, connecter = (pull, push) if pull_binds else (push, pull)
    connecter.connect(endpoint.bind(binder, "tcp"))
    assert_all_arrive_in_order(push, pull)
