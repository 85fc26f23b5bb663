"""Peers that die (SIGKILL) or freeze (SIGSTOP) and come back, on loopback
and on the other side of a veth link (a network namespace).  The peers are
pyzmq processes; the implementation under test stays in this process.

What libzmq does, and what is checked:
* a killed peer's connection is closed by its kernel: DISCONNECTED at once;
* the connecting side reconnects to the restarted peer, and the messages it
  queued meanwhile reach the new peer, in order;
* the bound side forgets the dead peer (ROUTER_MANDATORY: EHOSTUNREACH) and
  serves the new one;
* a frozen peer (its kernel still ACKs) is found dead by heartbeats only;
* none of this leaks descriptors or memory over many cycles.
"""

import errno
import signal
import time

import pytest

from . import watch
from .procs import needs_proc, open_fds, proc_rss_bytes

ECHO_ROUTER = r"""
import sys, zmq
ctx = zmq.Context()
r = ctx.socket(zmq.ROUTER)
r.linger = 0
r.bind(sys.argv[1])
print("ready", flush=True)
while True:
    r.send_multipart(r.recv_multipart())
"""

# Connects, says hello, prints the reply, then waits to be killed.
HELLO_DEALER = r"""
import sys, zmq
ctx = zmq.Context()
d = ctx.socket(zmq.DEALER)
d.linger = 0
d.rcvtimeo = 10000
d.routing_id = sys.argv[2].encode()
d.connect(sys.argv[1])
d.send(b"hello from " + d.routing_id)
print("reply", d.recv().decode(), flush=True)
sys.stdin.readline()
"""

HB_IVL = 200
HB_TIMEOUT = 1000
MARGIN = 3.0


class Place:
    """Where the peer lives: ``start(code, args)`` runs it there,
    ``peer_addr`` is an address it can bind (we connect), ``our_addr`` one
    we can bind (it connects)."""

    def __init__(self, start, peer_addr, our_addr):
        self.start = start
        self.peer_addr = peer_addr
        self.our_addr = our_addr


@pytest.fixture(params=["loopback-tcp", "loopback-ipc", "netns-tcp"])
def place(request, procs, endpoint, free_tcp_port):
    if request.param == "netns-tcp":
        host = request.getfixturevalue("netns_host")
        return Place(host.start, host.tcp(5555),
                     f"tcp://{host.local_addr}:{free_tcp_port(host.local_addr)}")
    transport = request.param.split("-")[1]
    return Place(procs.start, endpoint.fixed(transport), endpoint.fixed(transport))


def start_echo(start, addr):
    peer = start(ECHO_ROUTER, [addr])
    peer.expect("ready")
    return peer


def test_killed_peer_restarts_and_gets_the_queue(zmq, sock, place, recv_timeout):
    start, addr = place.start, place.peer_addr
    peer = start_echo(start, addr)
    dealer = sock(zmq.DEALER, reconnect_ivl=50)
    events = watch.EventWatch(zmq, dealer)
    dealer.connect(addr)
    for i in range(5):
        dealer.send(b"first-%d" % i)
        assert recv_timeout(dealer) == b"first-%d" % i
    peer.kill()
    peer.wait()
    events.wait(watch.DISCONNECTED, 5)
    queued = [b"queued-%d" % i for i in range(50)]
    for m in queued:
        dealer.send(m)
    start_echo(start, addr)
    events.wait(watch.HANDSHAKE_SUCCEEDED, 10)
    assert [recv_timeout(dealer) for _ in queued] == queued


def test_bound_side_forgets_a_killed_peer_and_serves_the_next(zmq, sock, place, recv_timeout,
                                                             recv_multipart_timeout):
    start, addr = place.start, place.our_addr
    router = sock(zmq.ROUTER, router_mandatory=1)
    router.bind(addr)
    events = watch.EventWatch(zmq, router)
    for n in range(3):
        name = b"peer-%d" % n
        peer = start(HELLO_DEALER, [addr, name.decode()], reads_stdin=True)
        rid, body = recv_multipart_timeout(router)
        assert (rid, body) == (name, b"hello from " + name)
        router.send_multipart([rid, b"welcome " + name])
        assert peer.expect("reply") == "reply welcome " + name.decode()
        peer.kill()
        peer.wait()
        events.wait(watch.DISCONNECTED, 5)
        deadline = time.monotonic() + 5
        while True:
            try:
                router.send_multipart([name, b"to the dead"])
            except zmq.ZMQError as exc:
                assert exc.errno == errno.EHOSTUNREACH
                break
            assert time.monotonic() < deadline, "the killed peer is still routable"
            time.sleep(0.02)


def test_frozen_peer_is_found_dead_by_heartbeats(zmq, sock, procs, endpoint, recv_timeout):
    addr = endpoint.fixed("tcp")
    peer = start_echo(procs.start, addr)
    dealer = sock(zmq.DEALER, heartbeat_ivl=HB_IVL, heartbeat_timeout=HB_TIMEOUT,
                  handshake_ivl=1000, reconnect_ivl=100)
    events = watch.EventWatch(zmq, dealer)
    dealer.connect(addr)
    dealer.send(b"ping")
    assert recv_timeout(dealer) == b"ping"
    peer.kill(signal.SIGSTOP)
    stopped = time.monotonic()
    try:
        seen = events.wait(watch.DISCONNECTED, HB_TIMEOUT / 1000 + HB_IVL / 1000 + MARGIN)
        assert seen - stopped <= HB_TIMEOUT / 1000 + HB_IVL / 1000 + MARGIN
        for i in range(10):
            dealer.send(b"queued-%d" % i)
    finally:
        peer.kill(signal.SIGCONT)
    events.wait(watch.HANDSHAKE_SUCCEEDED, 10)
    assert [recv_timeout(dealer) for _ in range(10)] == [b"queued-%d" % i for i in range(10)]


@needs_proc
def test_kill_restart_cycles_do_not_leak(zmq, sock, procs, endpoint, recv_timeout):
    cycles = 100
    addr = endpoint.fixed("tcp")
    dealer = sock(zmq.DEALER, reconnect_ivl=20)
    events = watch.EventWatch(zmq, dealer)
    dealer.connect(addr)
    for cycle in range(cycles):
        if cycle == 5:
            fds_before, rss_before = open_fds(), proc_rss_bytes()
        peer = start_echo(procs.start, addr)
        msg = b"cycle-%d" % cycle
        dealer.send(msg)
        assert recv_timeout(dealer) == msg
        peer.kill()
        peer.wait()
        events.wait(watch.DISCONNECTED, 5)
        procs.procs.remove(peer)
        peer.close()
    assert open_fds() <= fds_before
    assert proc_rss_bytes() - rss_before < 16 << 20


# Checks every message it gets: three parts of one id, the middle one big.
CHECKING_PULL = r"""
import sys, zmq
ctx = zmq.Context()
p = ctx.socket(zmq.PULL)
p.linger = 0
p.rcvhwm = 5
p.bind(sys.argv[1])
print("ready", flush=True)
while True:
    parts = p.recv_multipart()
    n = parts[0].split(b"-")[0]
    ok = (len(parts) == 3 and parts[0] == n + b"-a" and parts[2] == n + b"-c"
          and parts[1] == n * (200000 // len(n)))
    print("m", n.decode(), int(ok), len(parts), flush=True)
"""


def test_peer_killed_mid_multipart_stream(zmq, sock, procs, endpoint):
    """Large three-part messages stream to a peer that is SIGKILLed with a
    message half-sent: after the restart only whole messages arrive, in
    order, and the queue kept on the connecting side is among them."""
    addr = endpoint.fixed("tcp")
    peer = procs.start(CHECKING_PULL, [addr])
    peer.expect("ready")
    push = sock(zmq.PUSH, sndhwm=10, reconnect_ivl=50)
    events = watch.EventWatch(zmq, push)
    push.connect(addr)
    events.wait(watch.HANDSHAKE_SUCCEEDED, 10)
    sent = 0

    def send_one():
        n = b"%d" % sent
        push.send_multipart([n + b"-a", n * (200000 // len(n)), n + b"-c"], zmq.NOBLOCK)

    def line_of(p, timeout=10):
        _, n, ok, nparts = p.expect("m ", timeout).split()
        assert ok == "1", f"message {n} arrived broken ({nparts} parts)"
        return int(n)

    for cycle in range(5):
        got = []
        while len(got) < 30:
            try:
                send_one()
                sent += 1
            except zmq.Again:
                time.sleep(0.001)
            while not peer.lines.empty() and len(got) < 30:
                got.append(line_of(peer))
        assert all(a < b for a, b in zip(got, got[1:])), got
        peer.kill()                     # most likely with a message half-sent
        peer.wait()
        events.wait(watch.DISCONNECTED, 5)
        # Queue up to SNDHWM (the queue may already be full of the
        # messages the dead connection had not taken).
        while True:
            try:
                send_one()
            except zmq.Again:
                break
            sent += 1
        peer = procs.start(CHECKING_PULL, [addr])
        peer.expect("ready")
        after = []
        while not after or after[-1] != sent - 1:
            after.append(line_of(peer, 15))
        # What the new peer gets is the kept queue: whole messages, the
        # newest ones, none missing between them.
        assert after == list(range(after[0], sent)), f"cycle {cycle}: {after}"
        assert len(after) <= 10, f"cycle {cycle}: more than SNDHWM kept: {after}"


def test_immediate_queues_nothing_for_a_dead_peer(zmq, sock, procs, endpoint, recv_timeout):
    """With IMMEDIATE the queue exists only while connected: with the peer
    killed a send is refused (EAGAIN), and it works again once the
    restarted peer is connected."""
    addr = endpoint.fixed("tcp")
    peer = start_echo(procs.start, addr)
    dealer = sock(zmq.DEALER, immediate=1, reconnect_ivl=50)
    events = watch.EventWatch(zmq, dealer)
    dealer.connect(addr)
    dealer.send(b"one")
    assert recv_timeout(dealer) == b"one"
    peer.kill()
    peer.wait()
    events.wait(watch.DISCONNECTED, 5)
    with pytest.raises(zmq.Again):
        dealer.send(b"nobody to take it", zmq.NOBLOCK)
    start_echo(procs.start, addr)
    events.wait(watch.HANDSHAKE_SUCCEEDED, 10)
    dealer.send(b"two")                 # blocks (SNDTIMEO) until the pipe is there
    assert recv_timeout(dealer) == b"two"
