"""PUSH/PULL interop between the implementation under test and real pyzmq.

Every scenario runs in both directions (the module under test as PUSH and
as PULL), with each side binding and each side connecting, over tcp and ipc
(inproc cannot cross libraries).
"""

import itertools

import pytest

pytestmark = pytest.mark.interop

NET = ["tcp", "ipc"]

# (pusher, binder): who is the PUSH side, and which side binds
ROLES = [
    ("mq", "push"),   # mq PUSH binds,     pyzmq PULL connects
    ("mq", "pull"),   # pyzmq PULL binds,  mq PUSH connects
    ("py", "push"),   # pyzmq PUSH binds,  mq PULL connects
    ("py", "pull"),   # mq PULL binds,     pyzmq PUSH connects
]


def _role_id(role):
    pusher, binder = role
    return f"{pusher}PUSH-{binder}binds"


def pattern(size, seed=0):
    """Deterministic, non-periodic-at-powers-of-two payload of *size* bytes."""
    block = bytes((i * 7 + seed) % 251 for i in range(251))
    reps = size // len(block) + 1
    return (block * reps)[:size]


@pytest.fixture(params=ROLES, ids=_role_id)
def role(request):
    return request.param


def make_pair(zmq, pyzmq, sock, psock, endpoint, transport, role, **opts):
    """Return (push, pull) connected according to *role*."""
    pusher, binder = role
    if pusher == "mq":
        push, pull = sock(zmq.PUSH, **opts), psock(pyzmq.PULL, **opts)
    else:
        push, pull = psock(pyzmq.PUSH, **opts), sock(zmq.PULL, **opts)
    if binder == "push":
        addr = endpoint.bind(push, transport)
        pull.connect(addr)
    else:
        addr = endpoint.bind(pull, transport)
        push.connect(addr)
    return push, pull


@pytest.fixture
def pushpull(zmq, pyzmq, sock, psock, endpoint, transport, role):
    return make_pair(zmq, pyzmq, sock, psock, endpoint, transport, role)


def test_single_message(pushpull, recv_timeout):
    push, pull = pushpull
    push.send(b"hello")
    assert recv_timeout(pull) == b"hello"


def test_many_messages_keep_order(pushpull, recv_timeout):
    push, pull = pushpull
    n = 2000
    for i in range(n):
        push.send(b"%d" % i)
    got = [recv_timeout(pull) for _ in range(n)]
    assert got == [b"%d" % i for i in range(n)]


@pytest.mark.parametrize("frames", [
    [b""],
    [b"", b""],
    [b"", b"a", b"", b""],
    [b"head", b"", b"tail"],
    [b"x"] * 20,
    [b""] * 10,
], ids=["empty", "2empty", "mixed-empty", "empty-middle", "20frames", "10empty"])
def test_multipart_with_empty_frames(pushpull, recv_multipart_timeout, frames):
    push, pull = pushpull
    push.send_multipart(frames)
    push.send_multipart([b"sentinel"])
    assert recv_multipart_timeout(pull) == frames
    assert recv_multipart_timeout(pull) == [b"sentinel"]


SIZES = [0, 1, 254, 255, 256, 257, 1000, 65535, 65536, 65537, 1 << 20]


def test_frame_size_boundaries_single_part(pushpull, recv_timeout):
    """Sizes around the 1-byte/8-byte size-field switch (255/256) and larger."""
    push, pull = pushpull
    for i, size in enumerate(SIZES):
        push.send(pattern(size, i))
    for i, size in enumerate(SIZES):
        got = recv_timeout(pull)
        assert len(got) == size, f"message {i}: size {len(got)} != {size}"
        assert got == pattern(size, i)


def test_frame_size_boundaries_multipart(pushpull, recv_multipart_timeout):
    push, pull = pushpull
    frames = [pattern(size, i) for i, size in enumerate(SIZES)]
    push.send_multipart(frames)
    got = recv_multipart_timeout(pull)
    assert [len(f) for f in got] == SIZES
    assert got == frames


def test_rcvmore_across_libraries(zmq, pushpull, recv_timeout):
    push, pull = pushpull
    push.send_multipart([b"a", b"", b"c"])
    RCVMORE = zmq.RCVMORE  # same number in both libraries
    assert recv_timeout(pull) == b"a"
    assert pull.getsockopt(RCVMORE) == 1
    assert recv_timeout(pull) == b""
    assert pull.getsockopt(RCVMORE) == 1
    assert recv_timeout(pull) == b"c"
    assert pull.getsockopt(RCVMORE) == 0


def test_string_and_json_across_libraries(pushpull, recv_timeout):
    push, pull = pushpull
    push.send_string("h\u00e9llo \u2603")
    push.send_json({"a": [1, 2, {"b": None}], "c": "\u00e9"})
    assert pull.recv_string() == "h\u00e9llo \u2603"
    assert pull.recv_json() == {"a": [1, 2, {"b": None}], "c": "\u00e9"}


@pytest.mark.parametrize("pusher", ["mq", "py"])
def test_connect_before_bind(zmq, pyzmq, sock, psock, endpoint, transport, pusher,
                             recv_multipart_timeout):
    """The connecting PUSH queues messages until the other library binds."""
    addr = endpoint.fixed(transport)
    if pusher == "mq":
        push = sock(zmq.PUSH)
        make_pull = lambda: psock(pyzmq.PULL)  # noqa: E731
    else:
        push = psock(pyzmq.PUSH)
        make_pull = lambda: sock(zmq.PULL)  # noqa: E731
    push.connect(addr)
    msgs = [[b"m%d" % i, b"", b"x" * i] for i in range(20)]
    for m in msgs:
        push.send_multipart(m)
    pull = make_pull()
    pull.bind(addr)
    assert [recv_multipart_timeout(pull) for _ in msgs] == msgs


@pytest.mark.parametrize("pull_side", ["mq", "py"])
def test_pull_serves_pushers_from_both_libraries(zmq, pyzmq, sock, psock, endpoint,
                                                      transport, pull_side, recv_timeout):
    pull = sock(zmq.PULL) if pull_side == "mq" else psock(pyzmq.PULL)
    addr = endpoint.bind(pull, transport)
    mq_push, py_push = sock(zmq.PUSH), psock(pyzmq.PUSH)
    mq_push.connect(addr)
    py_push.connect(addr)
    n = 200
    for i in range(n):
        mq_push.send(b"mq%d" % i)
        py_push.send(b"py%d" % i)
    got = [recv_timeout(pull) for _ in range(2 * n)]
    mq_got = [m for m in got if m.startswith(b"mq")]
    py_got = [m for m in got if m.startswith(b"py")]
    assert mq_got == [b"mq%d" % i for i in range(n)]
    assert py_got == [b"py%d" % i for i in range(n)]


@pytest.mark.parametrize("push_side", ["mq", "py"])
def test_push_round_robins_over_pulls_from_both_libraries(zmq, pyzmq, sock, psock, endpoint,
                                                         transport, push_side, recv_any,
                                                         recv_timeout, assert_no_message):
    push = sock(zmq.PUSH) if push_side == "mq" else psock(pyzmq.PUSH)
    addr = endpoint.bind(push, transport)
    pulls = [sock(zmq.PULL), psock(pyzmq.PULL), sock(zmq.PULL), psock(pyzmq.PULL)]
    for p in pulls:
        p.connect(addr)
    # Warm up one message at a time until every PULL has been served once:
    # then all pipes are attached on the PUSH side.
    seen = set()
    for i in itertools.count():
        push.send(b"warm%d" % i)
        idx, _ = recv_any(pulls)
        seen.add(idx)
        if len(seen) == len(pulls):
            break
    rounds = 25
    total = rounds * len(pulls)
    for i in range(total):
        push.send(b"%d" % i)
    for p in pulls:
        got = [int(recv_timeout(p)) for _ in range(rounds)]
        assert got == sorted(got)
        residues = {g % len(pulls) for g in got}
        assert len(residues) == 1, f"not round-robin: {got}"
    for p in pulls:
        assert_no_message(p, 50)


@pytest.mark.slow
@pytest.mark.parametrize("pusher,binder", [("mq", "pull"), ("py", "pull")],
                         ids=["mqPUSH-to-pyPULL", "pyPUSH-to-mqPULL"])
def test_64mb_part_with_empty_frames(zmq, pyzmq, sock, psock, endpoint, pusher, binder,
                                     recv_multipart_timeout):
    push, pull = make_pair(zmq, pyzmq, sock, psock, endpoint, "tcp", (pusher, binder),
                           sndtimeo=30000)
    big = pattern(64 * 1024 * 1024, 3)
    push.send_multipart([b"", big, b"", b"end"])
    push.send(b"after")
    got = recv_multipart_timeout(pull, 30000)
    assert len(got) == 4
    assert got[0] == b"" and got[2] == b"" and got[3] == b"end"
    assert len(got[1]) == len(big)
    assert got[1] == big
    assert recv_multipart_timeout(pull) == [b"after"]
