"""``send_many`` / ``recv_many``: mqcore's batch API (pyzmq has none, so this
module is skipped when pyzmq stands in for mqcore). One call moves many
messages with one release of the GIL and one wake-up of the peer; each
message is delivered exactly as the per-message calls would deliver it."""

import asyncio
import os
import threading

import pytest

pytestmark = pytest.mark.skipif(
    (os.environ.get("MQCORE_TEST_IMPL", "mqcore").strip() or "mqcore") == "zmq",
    reason="send_many/recv_many are mqcore's own")

TRANSPORTS = ["tcp", "ipc", "inproc"]


def pair(zmq, sock, endpoint, transport, a=None, b=None, **opts):
    pull = sock(b or zmq.PULL, **opts)
    addr = endpoint.bind(pull, transport)
    push = sock(a or zmq.PUSH, **opts)
    push.connect(addr)
    return push, pull


def recv_all(sock, n, multipart=False):
    got = []
    while len(got) < n:
        got += sock.recv_many(n - len(got), multipart=multipart)
    return got


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_single_parts_round_trip_in_order(zmq, sock, endpoint, transport):
    push, pull = pair(zmq, sock, endpoint, transport)
    messages = [b"%d" % i * (i % 50) for i in range(1000)]
    assert push.send_many(messages) == 1000
    assert recv_all(pull, 1000) == messages


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_multipart_messages_stay_whole(zmq, sock, endpoint, transport):
    push, pull = pair(zmq, sock, endpoint, transport)
    messages = [[b"head%d" % i] + [b"p" * k for k in range(i % 4)] for i in range(300)]
    messages.append((b"tuple", bytearray(b"ba"), memoryview(b"mv")))
    assert push.send_many(messages) == len(messages)
    got = recv_all(pull, len(messages), multipart=True)
    assert got == [[bytes(p) for p in m] for m in messages]


def test_any_iterable_of_single_and_multipart_items(zmq, sock, endpoint):
    """Items are taken from a generator as they come; bytes are one part
    each, lists and tuples whole messages; sizes on both sides of the
    inline-body limit (64 B) arrive intact."""
    push, pull = pair(zmq, sock, endpoint, "tcp")
    sizes = [0, 1, 31, 32, 33, 63, 64, 65, 100, 8192]
    items = [bytes([n % 251]) * n if n % 2 else [b"h", bytes([7]) * n] for n in sizes]
    assert push.send_many(item for item in items) == len(items)
    got = recv_all(pull, len(items), multipart=True)
    assert got == [m if isinstance(m, list) else [m] for m in items]


def test_recv_many_single_parts_of_multipart_messages(zmq, sock, endpoint):
    """Without multipart, every part is an item, and the socket's RCVMORE
    says whether the last one taken has more after it."""
    push, pull = pair(zmq, sock, endpoint, "tcp")
    push.send_multipart([b"a", b"b", b"c"])
    first = pull.recv_many(2)
    assert first == [b"a", b"b"]
    assert pull.get(zmq.RCVMORE) == 1
    assert pull.recv_many(5) == [b"c"]
    assert pull.get(zmq.RCVMORE) == 0


def test_recv_many_waits_only_for_the_first(zmq, sock, endpoint):
    push, pull = pair(zmq, sock, endpoint, "tcp", rcvtimeo=5000)
    t = threading.Timer(0.2, lambda: push.send(b"late"))
    t.start()
    try:
        assert pull.recv_many(10) == [b"late"]      # does not wait for 10
    finally:
        t.join()
    with pytest.raises(zmq.Again):
        pull.recv_many(10, zmq.NOBLOCK)
    pull.rcvtimeo = 50
    with pytest.raises(zmq.Again):
        pull.recv_many(10)


def test_large_and_zero_length_messages(zmq, sock, endpoint):
    push, pull = pair(zmq, sock, endpoint, "tcp")
    big = os.urandom(1 << 20)
    messages = [b"", big, b"x", bytearray(big[:100_000]), big[:65536]]
    assert push.send_many(messages) == 5
    assert recv_all(pull, 5) == [bytes(m) for m in messages]
    assert push.send_many([memoryview(big)], copy=False) == 1
    assert pull.recv_many(1) == [big]


def test_send_many_stops_at_the_high_water_mark(zmq, sock, endpoint):
    """NOBLOCK: as many whole messages as fit; none fitting is Again."""
    push = sock(zmq.PUSH, sndhwm=10, sndtimeo=0)
    push.connect(endpoint.fixed("tcp"))     # no peer: only the pipe's HWM
    sent = push.send_many([b"m"] * 100, zmq.NOBLOCK)
    assert 1 <= sent < 100
    with pytest.raises(zmq.Again):
        push.send_many([b"m"] * 5, zmq.NOBLOCK)
    push.sndtimeo = 50
    with pytest.raises(zmq.Again):
        push.send_many([[b"a", b"b"]])


def test_send_many_blocks_until_the_reader_catches_up(zmq, sock, endpoint):
    push, pull = pair(zmq, sock, endpoint, "tcp", sndhwm=5, rcvhwm=5)
    push.sndtimeo = 10000
    messages = [b"%d" % i for i in range(2000)]
    got = []
    reader = threading.Thread(target=lambda: got.extend(recv_all(pull, 2000)))
    reader.start()
    try:
        assert push.send_many(messages) == 2000
    finally:
        reader.join(20)
    assert got == messages


def test_bad_items_are_refused_before_anything_is_sent(zmq, sock, endpoint):
    push, pull = pair(zmq, sock, endpoint, "tcp")
    with pytest.raises(TypeError):
        push.send_many([b"ok", "text"])
    with pytest.raises(ValueError):
        push.send_many([b"ok", []])
    with pytest.raises(ValueError):
        pull.recv_many(0)
    push.send(b"after")
    assert pull.recv_many(10) == [b"after"]


def test_req_rep_state_stops_the_batch(zmq, sock, endpoint):
    """REQ takes one request before its reply: the batch stops there."""
    req, rep = pair(zmq, sock, endpoint, "tcp", a=zmq.REQ, b=zmq.REP)
    assert req.send_many([b"q1", b"q2"]) == 1
    assert rep.recv_many(5) == [b"q1"]


def test_closed_socket(zmq, sock):
    s = sock(zmq.PUSH)
    s.close()
    with pytest.raises(zmq.ZMQError):
        s.send_many([b"x"])
    with pytest.raises(zmq.ZMQError):
        s.recv_many(1)


@pytest.mark.parametrize("transport", ["tcp", "inproc"])
def test_asyncio_forms(zmq, endpoint, transport):
    import mqcore.asyncio as zaio

    async def main():
        ctx = zaio.Context()
        try:
            pull = ctx.socket(zmq.PULL)
            addr = endpoint.bind(pull, transport)
            push = ctx.socket(zmq.PUSH)
            push.connect(addr)
            receiving = asyncio.ensure_future(pull.recv_many(100, multipart=True))
            await asyncio.sleep(0.05)
            assert not receiving.done()             # waits for the first
            assert await push.send_many([[b"a", b"b"], b"c"]) == 2
            got = await asyncio.wait_for(receiving, 5)
            while len(got) < 2:
                got += await asyncio.wait_for(pull.recv_many(100, multipart=True), 5)
            assert got == [[b"a", b"b"], [b"c"]]
        finally:
            ctx.destroy(linger=0)

    asyncio.run(main())
