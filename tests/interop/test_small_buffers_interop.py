"""Small kernel buffers between mqcore and pyzmq (libzmq), each side the
receiver with a 4 KiB RCVBUF (and the sender with a 1 KiB SNDBUF) in turn,
whichever side binds: every message, 1 B to 1 MiB, arrives intact and in
order (see tests/behaviour/test_small_kernel_buffers.py for why)."""
import pytest

from pattern_helpers import assert_all_arrive_in_order

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("sndbuf", [-1, 1024], ids=["snd-default", "snd1024"])
@pytest.mark.parametrize("pull_binds", [True, False], ids=["pull-binds", "push-binds"])
@pytest.mark.parametrize("receiver", ["ours", "pyzmq"])
def test_all_messages_arrive(zmq, pyzmq, sock, psock, endpoint, transport, receiver,
                             pull_binds, sndbuf):
    if receiver == "ours":
        pull, push = sock(zmq.PULL, rcvbuf=4096), psock(pyzmq.PUSH, sndbuf=sndbuf)
    else:
        pull, push = psock(pyzmq.PULL, rcvbuf=4096), sock(zmq.PUSH, sndbuf=sndbuf)
    binder, connecter = (pull, push) if pull_binds else (push, pull)
    connecter.connect(endpoint.bind(binder, transport))
    assert_all_arrive_in_order(push, pull)
