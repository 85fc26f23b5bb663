"""Frames, trackers, recv_into and copy_threshold as pyzmq has them.

Run against mqcore and (MQCORE_TEST_IMPL=zmq) pyzmq: pyzmq's answers are
the expectation.
"""

import threading

import pytest

BIG = 200_000  # above any copy threshold in these tests


# ---------------------------------------------------------------- recv_into

def test_recv_into_whole_and_truncated(zmq, pair):
    a, b = pair
    a.send(b"hello world")
    buf = bytearray(32)
    assert b.recv_into(buf) == 11
    assert bytes(buf[:11]) == b"hello world"
    a.send(b"hello world")
    small = bytearray(5)
    # The full size is returned; what did not fit is dropped.
    assert b.recv_into(small) == 11
    assert small == bytearray(b"hello")
    a.send(b"abcdef")
    buf = bytearray(10)
    assert b.recv_into(buf, nbytes=3) == 6
    assert bytes(buf[:4]) == b"abc\x00"


def test_recv_into_discard_and_multipart(zmq, pair):
    a, b = pair
    a.send_multipart([b"one", b"two"])
    assert b.recv_into(bytearray()) == 3
    assert b.rcvmore
    view = memoryview(bytearray(8))
    assert b.recv_into(view) == 3
    assert bytes(view[:3]) == b"two"
    assert not b.rcvmore


def test_recv_into_rejects_bad_buffers(zmq, pair):
    a, b = pair
    with pytest.raises((BufferError, TypeError)):
        b.recv_into(b"read-only bytes")
    with pytest.raises(ValueError):
        b.recv_into(bytearray(4), nbytes=10)
    with pytest.raises(zmq.Again):
        b.recv_into(bytearray(4), flags=zmq.NOBLOCK)


def test_recv_into_on_closed_socket(zmq, ctx):
    s = ctx.socket(zmq.PULL)
    s.close()
    with pytest.raises(zmq.ZMQError) as info:
        s.recv_into(bytearray(4))
    assert info.value.errno == zmq.ENOTSOCK


# ---------------------------------------------------------------- copy_threshold

def test_copy_threshold_default_follows_module_constant(zmq, ctx, monkeypatch):
    assert zmq.COPY_THRESHOLD == 65536
    monkeypatch.setattr(zmq, "COPY_THRESHOLD", 10)
    s = ctx.socket(zmq.PUSH)
    try:
        assert s.copy_threshold == 10
    finally:
        s.close()


def test_copy_threshold_decides_tracking(zmq, pair):
    a, b = pair
    a.copy_threshold = 4
    big = bytearray(b"x" * 100)
    tracker = a.send(big, copy=False, track=True)
    assert tracker is not zmq._FINISHED_TRACKER
    assert b.recv() == bytes(big)
    tracker.wait(5)
    assert tracker.done
    # Below the threshold the message is copied: finished at once.
    assert a.send(b"abc", copy=False, track=True) is zmq._FINISHED_TRACKER
    assert b.recv() == b"abc"


def test_send_tracking_rules(zmq, pair):
    a, b = pair
    # Copying sends give no tracker.
    assert a.send(b"x", copy=True, track=True) is None
    # A small zero-copy send is a copy after all.
    assert a.send(b"x", copy=False, track=True) is zmq._FINISHED_TRACKER
    assert a.send(b"x" * BIG, copy=False, track=False) is None
    # An untracked Frame cannot be sent with track=True.
    with pytest.raises(ValueError):
        a.send(zmq.Frame(b"y"), track=True)
    for _ in range(3):
        b.recv()


def test_tracker_fires_when_the_message_is_gone(zmq, pair):
    a, b = pair
    payload = bytearray(b"z" * BIG)
    tracker = a.send(payload, copy=False, track=True)
    assert isinstance(tracker, zmq.MessageTracker)
    received = b.recv(copy=False)
    assert received.bytes == bytes(payload)
    # On inproc the received Frame may be the sent message itself.
    del received
    tracker.wait(5)
    assert tracker.done


# ---------------------------------------------------------------- Frames

def test_frame_track(zmq):
    assert zmq.Frame(b"x").tracker is None
    assert zmq.Frame(b"x", track=True).tracker is zmq._FINISHED_TRACKER
    assert zmq._FINISHED_TRACKER.done
    big = zmq.Frame(bytearray(BIG), track=True)
    assert isinstance(big.tracker, zmq.MessageTracker)
    assert not big.tracker.done  # not sent yet


def test_tracked_frame_send(zmq, pair):
    a, b = pair
    frame = zmq.Frame(bytearray(b"q" * BIG), track=True)
    tracker = a.send(frame, copy=False, track=True)
    assert tracker is frame.tracker
    assert b.recv() == b"q" * BIG
    del frame  # a Frame holds its message until it goes
    tracker.wait(5)
    assert tracker.done


def test_message_tracker_of_several(zmq):
    event = threading.Event()
    done_frame = zmq.Frame(b"a", track=True)
    tracker = zmq.MessageTracker(done_frame, event)
    assert not tracker.done
    event.set()
    assert tracker.done
    with pytest.raises(ValueError):
        zmq.MessageTracker(zmq.Frame(b"untracked"))
    with pytest.raises(TypeError):
        zmq.MessageTracker("nonsense")
    with pytest.raises(zmq.NotDone):
        zmq.MessageTracker(threading.Event()).wait(0.01)


def test_received_frame_buffer_is_writable_and_stable(zmq, pair):
    a, b = pair
    a.send(b"abc")
    frame = b.recv(copy=False)
    assert frame.buffer is frame.buffer
    assert not frame.buffer.readonly
    frame.buffer[0] = ord("x")
    assert bytes(frame.buffer) == b"xbc"


def test_frame_from_mutable_buffer_is_a_copy(zmq):
    data = bytearray(b"hello")
    frame = zmq.Frame(data)
    data[0] = ord("j")
    assert frame.bytes == b"hello"
    assert bytes(frame) == b"hello"
    assert zmq.Frame(b"hello").bytes == b"hello"


def test_non_contiguous_buffers_rejected_at_once(zmq, pair):
    a, b = pair
    strided = memoryview(b"abcdef")[::2]
    with pytest.raises((BufferError, TypeError, ValueError)):
        zmq.Frame(strided)
    with pytest.raises((BufferError, TypeError, ValueError)):
        a.send(strided)
    with pytest.raises((BufferError, TypeError, ValueError)):
        a.send(strided, copy=False)
    a.send(b"still fine")
    assert b.recv() == b"still fine"


def test_frame_repr_of_long_frame(zmq):
    r = repr(zmq.Frame(b"a" * 2000))
    assert r == f"<{zmq.__name__}.Frame({b'a' * 12!r}...2kB)>"
