"""PUSH/PULL semantics (RFC 30, libzmq 4.3 behaviour; see SOCKETS.md).

* PUSH load-balances round-robin over its PULL peers, a whole message at a time;
* PULL fair-queues over its PUSH peers;
* HWM: a PUSH that cannot queue blocks; send(NOBLOCK) raises Again, and a
  blocking send honours SNDTIMEO;
* PULL.send and PUSH.recv raise ZMQError(ENOTSUP).
"""

import errno
import itertools
import threading
import time

import pytest

ALL = ["tcp", "ipc", "inproc"]
NET = ["tcp", "ipc"]


def fill_until_again(s, noblock, payload=b"x", limit=100_000):
    """send(NOBLOCK) until Again; return how many messages were queued."""
    n = 0
    while n < limit:
        try:
            s.send(payload, noblock)
        except Exception as exc:  # noqa: BLE001
            if getattr(exc, "errno", None) == errno.EAGAIN:
                return n
            raise
        n += 1
    pytest.fail(f"send(NOBLOCK) never raised Again after {limit} messages")


# --------------------------------------------------------------------------
# load balancing
# --------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ALL)
def test_connecting_push_round_robins_over_bound_pulls(zmq, sock, endpoint, transport,
                                                       recv_timeout, assert_no_message):
    """A connecting PUSH has a pipe per connect() at once, so round-robin is exact."""
    pulls = [sock(zmq.PULL) for _ in range(3)]
    push = sock(zmq.PUSH)
    for p in pulls:
        push.connect(endpoint.bind(p, transport))
    n = 10
    for i in range(3 * n):
        push.send(b"%d" % i)
    seen_residues = set()
    for p in pulls:
        got = [int(recv_timeout(p)) for _ in range(n)]
        assert got == sorted(got), "per-peer order not kept"
        residues = {g % 3 for g in got}
        assert len(residues) == 1, f"not round-robin: {got}"
        seen_residues |= residues
    assert seen_residues == {0, 1, 2}
    for p in pulls:
        assert_no_message(p, 50)


@pytest.mark.parametrize("transport", ALL)
def test_bound_push_round_robins_over_connected_pulls(zmq, sock, endpoint, transport,
                                                      recv_any, recv_timeout,
                                                      assert_no_message):
    push = sock(zmq.PUSH)
    addr = endpoint.bind(push, transport)
    pulls = [sock(zmq.PULL) for _ in range(3)]
    for p in pulls:
        p.connect(addr)
    # one message at a time until every PULL got one: all pipes attached
    seen = set()
    for i in itertools.count():
        push.send(b"warm%d" % i)
        seen.add(recv_any(pulls)[0])
        if len(seen) == len(pulls):
            break
    n = 20
    for i in range(3 * n):
        push.send(b"%d" % i)
    for p in pulls:
        got = [int(recv_timeout(p)) for _ in range(n)]
        assert len({g % 3 for g in got}) == 1, f"not round-robin: {got}"
    for p in pulls:
        assert_no_message(p, 50)


@pytest.mark.parametrize("transport", ALL)
def test_multipart_messages_are_not_split_between_pulls(zmq, sock, endpoint, transport,
                                                        recv_multipart_timeout):
    pulls = [sock(zmq.PULL) for _ in range(2)]
    push = sock(zmq.PUSH)
    for p in pulls:
        push.connect(endpoint.bind(p, transport))
    for i in range(10):
        push.send_multipart([b"%d" % i, b"", b"part2-%d" % i, b"part3-%d" % i])
    parities = []
    for p in pulls:
        got = []
        for _ in range(5):
            m = recv_multipart_timeout(p)
            i = int(m[0])
            assert m == [b"%d" % i, b"", b"part2-%d" % i, b"part3-%d" % i]
            got.append(i)
        assert len({i % 2 for i in got}) == 1, f"not round-robin per message: {got}"
        parities.append(got[0] % 2)
    assert sorted(parities) == [0, 1]


@pytest.mark.parametrize("transport", ALL)
def test_push_skips_a_full_pipe(zmq, sock, endpoint, transport, recv_timeout):
    """lb: a pipe at HWM is skipped; the message goes to a peer with room."""
    fast = sock(zmq.PULL)
    push = sock(zmq.PUSH, sndhwm=2)
    push.connect(endpoint.bind(fast, transport))
    push.send(b"warm")
    assert recv_timeout(fast) == b"warm"  # the 'fast' connection is up
    push.connect(endpoint.fixed(transport))  # nobody ever binds here
    # Blocking sends (SNDTIMEO 5 s): they only succeed if the full pipe
    # to the missing peer is skipped.
    for i in range(20):
        push.send(b"%d" % i)
    got = [int(recv_timeout(fast)) for _ in range(18)]
    assert got == sorted(got)
    missing = set(range(20)) - set(got)
    assert len(missing) == 2, missing  # the unconnected pipe holds SNDHWM=2


# --------------------------------------------------------------------------
# fair queueing
# --------------------------------------------------------------------------

def test_pull_fair_queues_strictly_over_inproc(zmq, sock, endpoint, recv_timeout):
    """With every pipe holding messages, PULL takes one message from each in turn."""
    pull = sock(zmq.PULL)
    addr = endpoint.bind(pull, "inproc")
    pushes = [sock(zmq.PUSH) for _ in range(3)]
    for p in pushes:
        p.connect(addr)
    n = 50
    for k, p in enumerate(pushes):
        for i in range(n):
            p.send_multipart([b"%d" % k, b"%d" % i])
    got = [tuple(int(x) for x in pull.recv_multipart()) for _ in range(3 * n)]
    sources = [k for k, _ in got]
    for start in range(0, 3 * n, 3):
        assert sorted(sources[start:start + 3]) == [0, 1, 2], (
            f"not fair-queued at {start}: {sources[:30]}")
    for k in range(3):
        assert [i for s, i in got if s == k] == list(range(n))


@pytest.mark.parametrize("transport", NET)
def test_pull_fair_queues_over_network(zmq, sock, endpoint, transport, recv_timeout):
    """No PUSH is starved while others keep sending (weak form over tcp/ipc)."""
    pull = sock(zmq.PULL)
    addr = endpoint.bind(pull, transport)
    pushes = [sock(zmq.PUSH) for _ in range(3)]
    for p in pushes:
        p.connect(addr)
        p.send(b"hello")
    for _ in pushes:
        assert recv_timeout(pull) == b"hello"
    n = 1000
    for i in range(n):
        for k, p in enumerate(pushes):
            p.send(b"%d:%d" % (k, i))
    got = [tuple(int(x) for x in recv_timeout(pull).split(b":")) for _ in range(3 * n)]
    for k in range(3):
        assert [i for s, i in got if s == k] == list(range(n)), "per-peer order broken"
    first_half = [s for s, _ in got[: 3 * n // 2]]
    for k in range(3):
        assert first_half.count(k) >= n // 4, (
            f"peer {k} starved: {first_half.count(k)} of the first {3 * n // 2}")


# --------------------------------------------------------------------------
# high-water marks
# --------------------------------------------------------------------------

def test_send_without_any_peer_raises_again(zmq, sock):
    push = sock(zmq.PUSH)
    with pytest.raises(zmq.Again):
        push.send(b"x", zmq.NOBLOCK)


@pytest.mark.parametrize("transport", ALL)
@pytest.mark.parametrize("hwm", [1, 5, 10])
def test_noblock_send_raises_again_at_sndhwm(zmq, sock, endpoint, transport, hwm):
    """A connecting PUSH whose peer is not there queues exactly SNDHWM messages."""
    push = sock(zmq.PUSH, sndhwm=hwm)
    push.connect(endpoint.fixed(transport))
    assert fill_until_again(push, zmq.NOBLOCK) == hwm
    with pytest.raises(zmq.Again):
        push.send(b"x", zmq.NOBLOCK)


def test_inproc_hwm_is_sndhwm_plus_rcvhwm(zmq, sock, endpoint, recv_timeout):
    pull = sock(zmq.PULL, rcvhwm=3)
    addr = endpoint.bind(pull, "inproc")
    push = sock(zmq.PUSH, sndhwm=5)
    push.connect(addr)
    assert fill_until_again(push, zmq.NOBLOCK) == 8
    for _ in range(8):
        assert recv_timeout(pull) == b"x"
    # room again once the reader has drained the pipe (blocking send with
    # SNDTIMEO 5 s: libzmq may need a moment to process the reader's credit)
    push.send(b"again")
    assert recv_timeout(pull) == b"again"


@pytest.mark.parametrize("transport", NET)
def test_backpressure_over_network(zmq, sock, endpoint, transport, recv_timeout):
    """A PUSH to a PULL that does not read eventually refuses more (bounded buffering)."""
    pull = sock(zmq.PULL, rcvhwm=5)
    addr = endpoint.bind(pull, transport)
    push = sock(zmq.PUSH, sndhwm=5)
    push.connect(addr)
    push.send(b"hello")
    assert recv_timeout(pull) == b"hello"
    payload = b"p" * (256 * 1024)
    sent = 0
    stuck_since = None
    deadline = time.monotonic() + 20
    # keep sending until send(NOBLOCK) has refused for 300 ms in a row
    while True:
        try:
            push.send(payload, zmq.NOBLOCK)
            sent += 1
            stuck_since = None
            assert sent < 2000, "PUSH buffered > 500 MB: no backpressure"
        except zmq.Again:
            now = time.monotonic()
            stuck_since = stuck_since or now
            if now - stuck_since > 0.3:
                break
            assert now < deadline
            time.sleep(0.01)
    assert sent > 0
    for _ in range(sent):
        assert recv_timeout(pull) == payload
    push.send(b"done")  # blocking, SNDTIMEO 5 s: there is room again
    assert recv_timeout(pull) == b"done"


def test_sndtimeo_is_honoured(zmq, sock):
    push = sock(zmq.PUSH, sndtimeo=200)
    t0 = time.monotonic()
    with pytest.raises(zmq.Again):
        push.send(b"x")
    elapsed = time.monotonic() - t0
    assert 0.15 <= elapsed < 3.0, elapsed


@pytest.mark.parametrize("transport", ALL)
def test_sndtimeo_at_hwm(zmq, sock, endpoint, transport):
    push = sock(zmq.PUSH, sndhwm=1, sndtimeo=200)
    push.connect(endpoint.fixed(transport))
    push.send(b"first")  # fills the pipe
    t0 = time.monotonic()
    with pytest.raises(zmq.Again):
        push.send(b"second")
    elapsed = time.monotonic() - t0
    assert 0.15 <= elapsed < 3.0, elapsed


def test_sndtimeo_zero_is_nonblocking(zmq, sock):
    push = sock(zmq.PUSH, sndtimeo=0)
    t0 = time.monotonic()
    with pytest.raises(zmq.Again):
        push.send(b"x")
    assert time.monotonic() - t0 < 1.0


def test_blocked_send_resumes_when_reader_makes_room(zmq, sock, endpoint, recv_timeout):
    pull = sock(zmq.PULL, rcvhwm=1)
    addr = endpoint.bind(pull, "inproc")
    push = sock(zmq.PUSH, sndhwm=1, sndtimeo=5000)
    push.connect(addr)
    queued = fill_until_again(push, zmq.NOBLOCK)
    result = {}

    def blocked_send():
        t0 = time.monotonic()
        try:
            push.send(b"late")
            result["ok"] = time.monotonic() - t0
        except Exception as exc:  # noqa: BLE001
            result["err"] = exc

    t = threading.Thread(target=blocked_send)
    t.start()
    time.sleep(0.2)
    assert t.is_alive(), f"send did not block at HWM: {result}"
    got = [recv_timeout(pull) for _ in range(queued)]
    assert got == [b"x"] * queued
    t.join(5)
    assert not t.is_alive()
    assert "ok" in result, result
    assert recv_timeout(pull) == b"late"


# --------------------------------------------------------------------------
# unsupported directions
# --------------------------------------------------------------------------

def test_pull_send_is_enotsup(zmq, sock):
    pull = sock(zmq.PULL)
    for call in (lambda: pull.send(b"x"), lambda: pull.send(b"x", zmq.NOBLOCK),
                 lambda: pull.send_multipart([b"a", b"b"]), lambda: pull.send_string("s")):
        with pytest.raises(zmq.ZMQError) as info:
            call()
        assert info.value.errno == zmq.ENOTSUP
        assert not isinstance(info.value, zmq.Again)


def test_push_recv_is_enotsup(zmq, sock):
    push = sock(zmq.PUSH)
    for call in (lambda: push.recv(), lambda: push.recv(zmq.NOBLOCK),
                 lambda: push.recv_multipart(), lambda: push.recv(copy=False)):
        with pytest.raises(zmq.ZMQError) as info:
            call()
        assert info.value.errno == zmq.ENOTSUP


def test_enotsup_even_when_connected(zmq, sock, endpoint, recv_timeout):
    pull = sock(zmq.PULL)
    push = sock(zmq.PUSH)
    push.connect(endpoint.bind(pull, "tcp"))
    push.send(b"ok")
    assert recv_timeout(pull) == b"ok"
    with pytest.raises(zmq.ZMQError) as info:
        pull.send(b"back")
    assert info.value.errno == zmq.ENOTSUP
    with pytest.raises(zmq.ZMQError) as info:
        push.recv()
    assert info.value.errno == zmq.ENOTSUP
