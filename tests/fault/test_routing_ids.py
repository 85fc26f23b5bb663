"""Routing ids a ROUTER makes up for anonymous peers must be neither
predictable nor claimable: a peer that announces the id the next anonymous
peer would get must not silence that peer. Raw ZMTP peers (plain TCP
sockets) play both the claimer and the anonymous peers.
"""

import os
import socket
import struct
import subprocess
import tempfile
import sys
import textwrap

import pytest

from .procs import child_env

IMPL = os.environ.get("MQCORE_TEST_IMPL", "mqcore").strip() or "mqcore"
mqcore_only = pytest.mark.skipif(IMPL == "zmq", reason="mqcore's own rule (libzmq differs)")

GREETING = (b"\xff" + b"\x00" * 7 + b"\x01\x7f\x03\x01"
            + b"NULL".ljust(20, b"\x00") + b"\x00" * 32)


def command(name, data=b""):
    body = bytes([len(name)]) + name + data
    return b"\x04" + bytes([len(body)]) + body


def ready(identity):
    md = b""
    for k, v in ((b"Socket-Type", b"DEALER"), (b"Identity", identity)):
        md += bytes([len(k)]) + k + struct.pack(">I", len(v)) + v
    return command(b"READY", md)


class RawDealer:
    """A DEALER spoken by hand: announces `identity` (b"": anonymous)."""

    def __init__(self, port, identity=b""):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.sendall(GREETING + ready(identity))
        got = b""
        while len(got) < 66 or len(got) < 66 + got[65]:   # greeting + READY
            chunk = self.sock.recv(4096)
            assert chunk, "the ROUTER closed the connection during the handshake"
            got += chunk

    def send(self, data):
        self.sock.sendall(bytes([0, len(data)]) + data)

    def close(self):
        self.sock.close()


@pytest.fixture
def router(sock, zmq):
    r = sock(zmq.ROUTER)
    port = r.bind_to_random_port("tcp://127.0.0.1")
    yield r, port


def recv_from_each(r, recv_multipart_timeout, payloads):
    """Receives one message per payload; returns {payload: routing id}."""
    ids = {}
    for _ in payloads:
        rid, body = recv_multipart_timeout(r)
        ids[body] = rid
    assert set(ids) == set(payloads), ids
    return ids


def next_generated(rid, step=1):
    assert len(rid) == 5 and rid[0] == 0, rid
    return b"\x00" + struct.pack(">I", (struct.unpack(">I", rid[1:])[0] + step) & 0xFFFFFFFF)


@mqcore_only      # libzmq 4.3 asserts when its counter reaches an announced id
def test_announcing_the_next_made_up_id_does_not_silence_the_next_peer(router, recv_multipart_timeout):
    r, port = router
    first = RawDealer(port)
    first.send(b"first")
    (rid_first,) = recv_from_each(r, recv_multipart_timeout, [b"first"]).values()
    # Claim the next few ids the counter could hand out.
    claimers = [RawDealer(port, next_generated(rid_first, k)) for k in (1, 2, 3)]
    for k, c in enumerate(claimers):
        c.send(b"claimer-%d" % k)
    anon = RawDealer(port)
    anon.send(b"anonymous")
    ids = recv_from_each(r, recv_multipart_timeout,
                         [b"claimer-0", b"claimer-1", b"claimer-2", b"anonymous"])
    assert len(set(ids.values())) == 4
    assert ids[b"anonymous"] not in [next_generated(rid_first, k) for k in (1, 2, 3)]
    # Both directions still work for the anonymous peer.
    r.send_multipart([ids[b"anonymous"], b"hello"])
    assert anon.sock.recv(64).endswith(b"hello")
    for p in [first, anon, *claimers]:
        p.close()


def test_a_duplicate_announced_id_does_not_silence_the_first_peer(router, recv_multipart_timeout):
    r, port = router
    honest = RawDealer(port, b"name")
    honest.send(b"one")
    recv_from_each(r, recv_multipart_timeout, [b"one"])
    impostor = RawDealer(port, b"name")
    impostor.send(b"impostor")
    honest.send(b"two")
    rid, body = recv_multipart_timeout(r)
    assert (rid, body) == (b"name", b"two")
    impostor.close()
    honest.close()


@mqcore_only      # libzmq hands a made-up id over too
def test_handover_does_not_take_a_made_up_id(sock, zmq, recv_multipart_timeout, assert_no_message):
    r = sock(zmq.ROUTER, router_handover=1)
    port = r.bind_to_random_port("tcp://127.0.0.1")
    anon = RawDealer(port)
    anon.send(b"anon-1")
    (rid_anon,) = recv_from_each(r, recv_multipart_timeout, [b"anon-1"]).values()
    thief = RawDealer(port, rid_anon)
    thief.send(b"thief")
    anon.send(b"anon-2")
    assert recv_multipart_timeout(r) == [rid_anon, b"anon-2"]
    assert_no_message(r)        # the thief, turned away like any duplicate
    r.send_multipart([rid_anon, b"to-anon"])
    assert anon.sock.recv(64).endswith(b"to-anon")
    thief.close()
    anon.close()


def test_handover_still_moves_an_announced_id(sock, zmq, recv_multipart_timeout):
    r = sock(zmq.ROUTER, router_handover=1)
    port = r.bind_to_random_port("tcp://127.0.0.1")
    old = RawDealer(port, b"worker")
    old.send(b"old")
    assert recv_multipart_timeout(r) == [b"worker", b"old"]
    new = RawDealer(port, b"worker")
    new.send(b"new")
    assert recv_multipart_timeout(r) == [b"worker", b"new"]
    r.send_multipart([b"worker", b"to-new"])
    assert new.sock.recv(64).endswith(b"to-new")
    old.close()
    new.close()


FIRST_ID_CHILD = textwrap.dedent(r'''
    import os, sys
    impl = os.environ.get("MQCORE_TEST_IMPL", "mqcore").strip() or "mqcore"
    zmq = __import__("zmq" if impl == "zmq" else "mqcore")
    ctx = zmq.Context()
    r = ctx.socket(zmq.ROUTER); r.linger = 0; r.rcvtimeo = 5000
    port = r.bind_to_random_port("tcp://127.0.0.1")
    d = ctx.socket(zmq.DEALER); d.linger = 0
    d.connect("tcp://127.0.0.1:%d" % port)
    d.send(b"x")
    out = [r.recv_multipart()[0].hex()]
    d.close(); r.close()
    if impl == "mqcore":
        # SERVER's u32 ids, likewise.
        srv = ctx.socket(zmq.SERVER); srv.linger = 0; srv.rcvtimeo = 5000
        port = srv.bind_to_random_port("tcp://127.0.0.1")
        cl = ctx.socket(zmq.CLIENT); cl.linger = 0
        cl.connect("tcp://127.0.0.1:%d" % port)
        cl.send(b"x")
        out.append(str(srv.recv(copy=False).routing_id))
        cl.close(); srv.close()
    print(" ".join(out))
    ctx.term()
''')


@mqcore_only      # libzmq 4.3 seeds its counter from an unseeded rand()
def test_made_up_ids_differ_from_run_to_run(zmq):
    """The first anonymous peer of a fresh process must not get the same id
    every time (an unseeded rand() gives the same sequence in every run)."""
    env = child_env()      # the very build this run imports
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", FIRST_ID_CHILD], env=env, cwd=tempfile.gettempdir(),
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        runs.append(out.stdout.split())
    for column in zip(*runs):           # ROUTER's first id, SERVER's first id
        assert len(set(column)) == 3, runs


@mqcore_only      # libzmq 4.3 asserts on the clash
@pytest.mark.parametrize("handover", [0, 1])
def test_an_announced_id_cannot_pass_for_a_connection_the_user_named(
        handover, sock, psock, pyzmq, zmq, recv_multipart_timeout, assert_no_message):
    r = sock(zmq.ROUTER, router_handover=handover)
    port = r.bind_to_random_port("tcp://127.0.0.1")
    impostor = RawDealer(port, b"server")
    impostor.send(b"early")
    assert recv_multipart_timeout(r) == [b"server", b"early"]
    d = psock(pyzmq.DEALER)
    dport = d.bind_to_random_port("tcp://127.0.0.1")
    r.setsockopt(zmq.CONNECT_ROUTING_ID, b"server")
    r.connect("tcp://127.0.0.1:%d" % dport)
    d.send(b"real")
    assert recv_multipart_timeout(r) == [b"server", b"real"]
    try:
        impostor.send(b"spoof")
    except OSError:
        pass                    # turned away already
    late = RawDealer(port, b"server")   # after the named connection
    late.send(b"late")
    assert_no_message(r)
    r.send_multipart([b"server", b"to-real"])
    assert d.recv() == b"to-real"
    d.send(b"real-2")
    assert recv_multipart_timeout(r) == [b"server", b"real-2"]
    impostor.close()
    late.close()
