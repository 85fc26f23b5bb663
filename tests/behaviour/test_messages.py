"""Message content and the pyzmq message API.

Multipart with empty frames, zero-length messages, a 64 MB part,
copy=False receive (Frame, buffer protocol), copy=False send of
bytearray/memoryview, send_string/json/pyobj, RCVMORE and SNDMORE.
"""

import pytest

ALL = ["tcp", "ipc", "inproc"]


def pattern(size, seed=0):
    block = bytes((i * 13 + seed) % 251 for i in range(251))
    return (block * (size // 251 + 1))[:size]


@pytest.fixture(params=ALL)
def transport(request):
    return request.param


@pytest.fixture
def pipe(zmq, sock, endpoint, transport):
    """(push, pull) connected over *transport*."""
    pull = sock(zmq.PULL)
    push = sock(zmq.PUSH)
    push.connect(endpoint.bind(pull, transport))
    return push, pull


@pytest.fixture
def pair(zmq, sock, endpoint, transport):
    a, b = sock(zmq.PAIR), sock(zmq.PAIR)
    b.connect(endpoint.bind(a, transport))
    return a, b


# --------------------------------------------------------------------------
# shapes and sizes
# --------------------------------------------------------------------------

def test_zero_length_message(pipe, recv_timeout, zmq):
    push, pull = pipe
    push.send(b"")
    push.send(b"after")
    assert recv_timeout(pull) == b""
    assert pull.getsockopt(zmq.RCVMORE) == 0
    assert recv_timeout(pull) == b"after"


@pytest.mark.parametrize("frames", [
    [b"", b""],
    [b"", b"body"],
    [b"body", b""],
    [b"a", b"", b"", b"b"],
    [b""] * 100,
    [b"%d" % i for i in range(1000)],
], ids=["2empty", "empty-first", "empty-last", "empties-inside", "100empty", "1000frames"])
def test_multipart_shapes(pipe, recv_multipart_timeout, frames):
    push, pull = pipe
    push.send_multipart(frames)
    push.send_multipart([b"next"])
    assert recv_multipart_timeout(pull) == frames
    assert recv_multipart_timeout(pull) == [b"next"]


def test_multipart_on_pair_both_ways(pair, recv_multipart_timeout):
    a, b = pair
    a.send_multipart([b"", b"x", b""])
    b.send_multipart([b"y", b"", b""])
    assert recv_multipart_timeout(b) == [b"", b"x", b""]
    assert recv_multipart_timeout(a) == [b"y", b"", b""]


def test_sizes_around_short_long_boundary(pipe, recv_timeout):
    push, pull = pipe
    sizes = [0, 1, 127, 128, 254, 255, 256, 257, 511, 512, 8191, 8192, 8193, 100_000]
    for i, n in enumerate(sizes):
        push.send(pattern(n, i))
    for i, n in enumerate(sizes):
        assert recv_timeout(pull) == pattern(n, i), f"size {n}"


def test_large_bodies_of_repeated_and_mixed_sizes(pipe, recv_timeout, zmq):
    """Large bytes are sent without a copy and large bodies received into
    blank bytes objects that recv() returns (when a body has the size of
    one): each message must still come out whole, as its own immutable
    bytes, whatever the mix of sizes, copy modes and buffer types."""
    push, pull = pipe
    MiB = 1 << 20
    sizes = [MiB] * 12 + [65536, 65537, 3 * MiB, MiB, 100_000, MiB, 65536] * 3
    sent = [pattern(n, i) for i, n in enumerate(sizes)]
    got = []
    for i, body in enumerate(sent):
        push.send(body if i % 5 else bytearray(body))
        if i % 4 == 3:      # some received while later ones are in flight
            got.append(recv_timeout(pull, copy=(i % 8 != 7)))
    while len(got) < len(sent):
        got.append(recv_timeout(pull))
    for i, (g, body) in enumerate(zip(got, sent)):
        data = g if type(g) is bytes else g.bytes
        assert type(data) is bytes and len(data) == len(body) and data == body, f"message {i}"
    assert len({id(g) for g in got}) == len(got)
    assert got[0] is not got[1] and hash(got[0]) == hash(sent[0])


@pytest.mark.slow
@pytest.mark.parametrize("transport", ["ipc", "inproc"])
def test_64mb_part(pipe, recv_multipart_timeout, zmq):
    push, pull = pipe
    push.setsockopt(zmq.SNDTIMEO, 30000)
    big = pattern(64 * 1024 * 1024, 5)
    push.send_multipart([b"head", big, b""])
    push.send(b"small-after")
    got = recv_multipart_timeout(pull, 30000)
    assert [len(f) for f in got] == [4, len(big), 0]
    assert got[0] == b"head" and got[2] == b""
    assert got[1] == big
    assert recv_multipart_timeout(pull) == [b"small-after"]


# --------------------------------------------------------------------------
# RCVMORE / SNDMORE
# --------------------------------------------------------------------------

def test_rcvmore(pipe, recv_timeout, zmq):
    push, pull = pipe
    push.send_multipart([b"1", b"", b"3"])
    expected_more = [1, 1, 0]
    for body, more in zip([b"1", b"", b"3"], expected_more):
        assert recv_timeout(pull) == body
        assert pull.getsockopt(zmq.RCVMORE) == more


def test_rcvmore_attribute(pipe, recv_timeout):
    """pyzmq also exposes options as attributes (sock.rcvmore)."""
    push, pull = pipe
    push.send_multipart([b"a", b"b"])
    recv_timeout(pull)
    assert pull.rcvmore == 1
    recv_timeout(pull)
    assert pull.rcvmore == 0


def test_sndmore_builds_one_message(pipe, recv_multipart_timeout, zmq):
    push, pull = pipe
    push.send(b"a", zmq.SNDMORE)
    push.send(b"", zmq.SNDMORE)
    push.send(b"c")
    assert recv_multipart_timeout(pull) == [b"a", b"", b"c"]


def test_partial_multipart_is_not_visible(pipe, recv_multipart_timeout, assert_no_message, zmq):
    push, pull = pipe
    push.send(b"ready")
    assert recv_multipart_timeout(pull) == [b"ready"]  # connection is up
    push.send(b"part1", zmq.SNDMORE)
    push.send(b"part2", zmq.SNDMORE)
    assert_no_message(pull, 200)
    push.send(b"last")
    assert recv_multipart_timeout(pull) == [b"part1", b"part2", b"last"]


# --------------------------------------------------------------------------
# copy=False and buffers
# --------------------------------------------------------------------------

@pytest.mark.parametrize("size", [0, 5, 300, 1 << 20])
def test_recv_copy_false_gives_frame_with_buffer(pipe, zmq, size):
    push, pull = pipe
    data = pattern(size, 1)
    push.send(data)
    frame = pull.recv(copy=False)
    assert isinstance(frame, zmq.Frame)
    assert frame.more is False or frame.more == 0
    assert frame.bytes == data
    assert bytes(frame) == data
    assert len(frame) == size
    buf = frame.buffer
    assert isinstance(buf, memoryview)
    assert buf.nbytes == size
    assert buf.tobytes() == data
    view = memoryview(frame)  # Frame supports the buffer protocol
    assert view.tobytes() == data
    if size:
        assert view[0] == data[0] and view[-1] == data[-1]


def test_recv_multipart_copy_false(pipe, zmq):
    push, pull = pipe
    push.send_multipart([b"one", b"", b"three"])
    frames = pull.recv_multipart(copy=False)
    assert [type(f) for f in frames] == [zmq.Frame] * 3
    assert [f.bytes for f in frames] == [b"one", b"", b"three"]
    assert [bool(f.more) for f in frames] == [True, True, False]


def test_send_copy_false_bytearray_and_memoryview(pipe, recv_timeout):
    push, pull = pipe
    big = bytearray(pattern(1 << 20, 2))
    base = b"0123456789"
    push.send(bytearray(b"small-bytearray"), copy=False)
    push.send(big, copy=False)
    push.send(memoryview(base), copy=False)
    push.send(memoryview(base)[2:7], copy=False)
    push.send(memoryview(bytes(big))[1000:200_000], copy=False)
    assert recv_timeout(pull) == b"small-bytearray"
    assert recv_timeout(pull) == bytes(big)
    assert recv_timeout(pull) == base
    assert recv_timeout(pull) == b"23456"
    assert recv_timeout(pull) == bytes(big)[1000:200_000]


def test_send_copy_true_takes_a_copy(pipe, recv_timeout):
    push, pull = pipe
    buf = bytearray(b"original")
    push.send(buf)  # copy=True (default): later changes must not leak
    buf[:] = b"mutated!"
    assert recv_timeout(pull) == b"original"


def test_send_multipart_mixed_buffers(pipe, recv_multipart_timeout, zmq):
    push, pull = pipe
    parts = [b"bytes", bytearray(b"bytearray"), memoryview(b"memoryview"), zmq.Frame(b"frame")]
    push.send_multipart(parts)
    assert recv_multipart_timeout(pull) == [b"bytes", b"bytearray", b"memoryview", b"frame"]
    push.send_multipart([bytearray(b"x" * 100_000), memoryview(b"y" * 70_000)], copy=False)
    assert recv_multipart_timeout(pull) == [b"x" * 100_000, b"y" * 70_000]


def test_send_frame_object(pipe, recv_timeout, zmq):
    push, pull = pipe
    push.send(zmq.Frame(b"in-a-frame"))
    push.send(zmq.Frame(pattern(200_000)), copy=False)
    assert recv_timeout(pull) == b"in-a-frame"
    assert recv_timeout(pull) == pattern(200_000)


def test_send_numpy_array_copy_false(pipe, recv_timeout):
    np = pytest.importorskip("numpy")
    push, pull = pipe
    arr = np.arange(100_000, dtype=np.int32)
    push.send(arr, copy=False)
    got = recv_timeout(pull)
    assert np.frombuffer(got, dtype=np.int32).tolist() == arr.tolist()


def test_send_str_is_a_type_error(pipe):
    push, _ = pipe
    with pytest.raises(TypeError):
        push.send("text is not bytes")


# --------------------------------------------------------------------------
# serialising helpers
# --------------------------------------------------------------------------

def test_send_recv_string(pipe):
    push, pull = pipe
    text = "h\u00e9llo w\u00f6rld \u2603 \U0001f600"
    push.send_string(text)
    push.send_string("")
    push.send_string("caf\u00e9", encoding="latin-1")
    assert pull.recv_string() == text
    assert pull.recv_string() == ""
    raw = pull.recv()
    assert raw == "caf\u00e9".encode("latin-1")


def test_send_string_rejects_bytes(pipe):
    push, _ = pipe
    with pytest.raises(TypeError):
        push.send_string(b"bytes are not str")


def test_send_recv_json(pipe):
    push, pull = pipe
    obj = {"int": 1, "float": 2.5, "list": [1, "two", None, True], "nested": {"k": "\u00e9"}}
    push.send_json(obj)
    push.send_json([])
    assert pull.recv_json() == obj
    assert pull.recv_json() == []


def test_send_recv_pyobj(pipe):
    push, pull = pipe
    obj = {"tuple": (1, 2), "set": {3, 4}, "bytes": b"\x00\xff", "none": None,
           "big": list(range(10_000))}
    push.send_pyobj(obj)
    assert pull.recv_pyobj() == obj


def test_send_recv_string_multipart(pipe, recv_multipart_timeout, zmq):
    push, pull = pipe
    push.send_string("first", zmq.SNDMORE)
    push.send_string("second")
    assert recv_multipart_timeout(pull) == [b"first", b"second"]
