"""PAIR interop between the implementation under test and real pyzmq.

Each side binds and each side connects, over tcp and ipc.
"""

import threading

import pytest

pytestmark = pytest.mark.interop

NET = ["tcp", "ipc"]


@pytest.fixture(params=["mq-binds", "py-binds"])
def pair(request, zmq, pyzmq, sock, psock, endpoint, transport):
    """Return (mq_pair, py_pair), connected."""
    mq, py = sock(zmq.PAIR), psock(pyzmq.PAIR)
    if request.param == "mq-binds":
        py.connect(endpoint.bind(mq, transport))
    else:
        mq.connect(endpoint.bind(py, transport))
    return mq, py


def test_ping_pong_both_ways(pair, recv_timeout):
    mq, py = pair
    mq.send(b"ping-from-mq")
    assert recv_timeout(py) == b"ping-from-mq"
    py.send(b"pong-from-py")
    assert recv_timeout(mq) == b"pong-from-py"
    for i in range(50):
        mq.send(b"m%d" % i)
        assert recv_timeout(py) == b"m%d" % i
        py.send(b"p%d" % i)
        assert recv_timeout(mq) == b"p%d" % i


def test_multipart_with_empty_frames_both_ways(pair, recv_multipart_timeout):
    mq, py = pair
    frames = [b"", b"a", b"", b"x" * 300, b""]
    mq.send_multipart(frames)
    assert recv_multipart_timeout(py) == frames
    py.send_multipart(frames[::-1])
    assert recv_multipart_timeout(mq) == frames[::-1]
    mq.send(b"")
    assert recv_multipart_timeout(py) == [b""]
    py.send(b"")
    assert recv_multipart_timeout(mq) == [b""]


def test_simultaneous_streams_both_ways(pair, recv_timeout):
    """Both sides send at once (full duplex); nothing lost or reordered."""
    mq, py = pair
    n = 500  # below the default HWM (1000), so neither side needs the reader
    errors = []

    def pump(s, prefix):
        try:
            for i in range(n):
                s.send(prefix + b"%d" % i)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    # warm up so that both sides are connected before the threads start
    mq.send(b"hi")
    assert recv_timeout(py) == b"hi"
    t = threading.Thread(target=pump, args=(py, b"py"))
    t.start()
    try:
        pump(mq, b"mq")
        got_py = [recv_timeout(py) for _ in range(n)]
        got_mq = [recv_timeout(mq) for _ in range(n)]
    finally:
        t.join(10)
    assert not t.is_alive()
    assert errors == []
    assert got_py == [b"mq%d" % i for i in range(n)]
    assert got_mq == [b"py%d" % i for i in range(n)]


@pytest.mark.parametrize("binder", ["mq", "py"])
def test_connect_before_bind(zmq, pyzmq, sock, psock, endpoint, transport, binder,
                             recv_timeout):
    addr = endpoint.fixed(transport)
    if binder == "mq":
        connector, make_binder = psock(pyzmq.PAIR), lambda: sock(zmq.PAIR)  # noqa: E731
    else:
        connector, make_binder = sock(zmq.PAIR), lambda: psock(pyzmq.PAIR)  # noqa: E731
    connector.connect(addr)
    for i in range(10):
        connector.send(b"early%d" % i)
    b = make_binder()
    b.bind(addr)
    assert [recv_timeout(b) for _ in range(10)] == [b"early%d" % i for i in range(10)]
    b.send(b"back")
    assert recv_timeout(connector) == b"back"


@pytest.mark.parametrize("mq_type,py_type", [
    ("PAIR", "PUSH"),
    ("PAIR", "PULL"),
    ("PUSH", "PAIR"),
    ("PULL", "PAIR"),
])
@pytest.mark.parametrize("mq_binds", [True, False], ids=["mq-binds", "py-binds"])
def test_incompatible_socket_types_do_not_talk(zmq, pyzmq, sock, psock, endpoint, transport,
                                               mq_type, py_type, mq_binds,
                                               assert_no_message, is_again):
    """Socket-Type is checked in the handshake (PAIR only talks to PAIR)."""
    mq = sock(getattr(zmq, mq_type), sndtimeo=0)
    py = psock(getattr(pyzmq, py_type), sndtimeo=0)
    if mq_binds:
        py.connect(endpoint.bind(mq, transport))
    else:
        mq.connect(endpoint.bind(py, transport))
    sender, receiver = (mq, py) if mq_type in ("PAIR", "PUSH") and py_type != "PUSH" else (py, mq)
    try:
        sender.send(b"must-not-arrive")
    except Exception as exc:  # noqa: BLE001 - no usable pipe is fine too
        assert is_again(exc), exc
    assert_no_message(receiver, 300)
