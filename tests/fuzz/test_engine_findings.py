"""Defects the fuzzers found in the engine, each pinned by a test that
failed before its fix."""
import os
import socket
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(
    (os.environ.get("MQCORE_TEST_IMPL", "mqcore").strip() or "mqcore") != "mqcore",
    reason="drives mqcore's core through its test-only entry points")

FUZZ = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "fuzz")
sys.path.insert(0, FUZZ)
import zmtp_model as m  # noqa: E402

from mqcore import _core  # noqa: E402

BIG = bytes(range(256)) * 12000     # 3 MB: the peer's socket fills mid-body


def sent_frames(e, local_type):
    """The frames the session wrote after its greeting and READY."""
    out = bytes(e.output)
    pre = m.greeting() + m.ready_frame(local_type)
    assert out.startswith(pre)
    frames, err = m.decode_frames(out[len(pre):])
    assert err is None, "the stream the session wrote does not decode"
    return frames


@pytest.mark.parametrize("trigger", ["pong", "ping"])
def test_a_command_never_lands_inside_a_large_body_being_written(trigger):
    # Found by fuzz_socket (a PUB streaming 70 kB messages to an XSUB that
    # sends heartbeats: corrupted bodies, then a dropped connection). A PONG
    # (or our own heartbeat PING) queued while a large body was half
    # written went out before the body's rest.
    e = _core._Engine(8, heartbeat_ivl=1 if trigger == "ping" else 0)      # PUSH
    try:
        e.feed(m.greeting() + m.ready_frame(7))
        assert e.active
        e.peer_reads = False
        e.send([(0, BIG)])
        if trigger == "pong":
            e.feed(m.encode_frame(b"\x04PING\x00\x00ctx", command=True))
        else:
            time.sleep(0.01)
            e.run_timers()
        e.peer_reads = True
        e.pump()
        frames = sent_frames(e, 8)
        data = [b for f, b in frames if not f & m.MSG_COMMAND]
        assert data == [BIG]
    finally:
        e.close()


def test_stream_sockets_send_no_heartbeats_into_the_raw_stream(zmq, sock):
    # Found by fuzz_socket: a STREAM socket with HEARTBEAT_IVL wrote ZMTP
    # PING frames into its raw TCP connections.
    s = sock(zmq.STREAM, heartbeat_ivl=20)
    s.bind("tcp://127.0.0.1:0")
    port = int(s.getsockopt_string(zmq.LAST_ENDPOINT).rsplit(":", 1)[1])
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        rid, first = s.recv_multipart()          # the connect notification
        raw.sendall(b"hello")
        assert s.recv_multipart() == [rid, b"hello"]
        time.sleep(0.3)                          # many heartbeat intervals
        raw.settimeout(0.2)
        try:
            got = raw.recv(100)
        except socket.timeout:
            got = b""
        assert got == b""
        s.send_multipart([rid, b"world"])
        raw.settimeout(5)
        assert raw.recv(100) == b"world"
    finally:
        raw.close()
