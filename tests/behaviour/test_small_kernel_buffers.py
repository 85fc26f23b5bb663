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
import os
import socket

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


def connection_fds(address):
    """This process's connected sockets whose local or peer address is
    `address` (("127.0.0.1", port) or an ipc path): both ends of each
    connection to it, not its listener."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            if not os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                continue
            s = socket.socket(fileno=os.dup(int(name)))
        except OSError:
            continue
        with s:
            try:
                ends = (s.getsockname(), s.getpeername())
            except OSError:
                continue        # a listener (or not connected)
            if address in ends:
                found.append((s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
                              s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)))
    return found


def kernel_size(family, size):
    """What the kernel makes of SO_RCVBUF = size (Linux doubles it)."""
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
        return s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc (Linux)")
@pytest.mark.parametrize("binder_is_pull", [True, False], ids=["pull-binds", "push-binds"])
@pytest.mark.parametrize("transport", [
    "tcp",
    # libzmq 4.3 leaves ipc connections at the system's buffers; mqcore
    # applies the options there too (and so must on both ends).
    pytest.param("ipc", marks=pytest.mark.skipif(
        (os.environ.get("MQCORE_TEST_IMPL", "mqcore").strip() or "mqcore") == "zmq",
        reason="libzmq does not apply SNDBUF/RCVBUF to ipc")),
])
def test_both_ends_have_the_buffers_asked(zmq, sock, endpoint, transport, binder_is_pull):
    # The accepted end too: a tcp one inherits the listener's buffers, a
    # unix one does not (each must get them its own way).
    pull = sock(zmq.PULL, rcvbuf=4096, sndbuf=4096)
    push = sock(zmq.PUSH, rcvbuf=4096, sndbuf=4096)
    binder, connecter = (pull, push) if binder_is_pull else (push, pull)
    addr = endpoint.bind(binder, transport)
    connecter.connect(addr)
    push.send(b"up")
    assert pull.recv() == b"up"
    if transport == "tcp":
        family, address = socket.AF_INET, ("127.0.0.1", int(addr.rsplit(":", 1)[1]))
    else:
        family, address = socket.AF_UNIX, addr[len("ipc://"):]
    want = kernel_size(family, 4096)
    assert connection_fds(address) == [(want, want)] * 2
