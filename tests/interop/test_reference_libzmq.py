"""The reference peer itself (tests/libzmq_ref.py): the library the draft
and multicast tests rely on is the one they claim, and the wrapper moves
bytes, groups and routing ids to and from mqcore unchanged."""

import pytest


def test_reference_is_libzmq_434_with_drafts_pgm_and_curve(ref):
    assert ref.version() == (4, 3, 4)
    for capability in ("draft", "pgm", "curve", "ipc"):
        assert ref.has(capability), capability


@pytest.mark.parametrize("endpoint", ["tcp", "ipc"], indirect=True)
def test_pair_round_trip_with_mqcore(zmq, ref, sock, refctx, endpoint):
    theirs = refctx.socket(ref.PAIR)
    addr = endpoint()
    theirs.bind(addr)
    ours = sock(zmq.PAIR)
    ours.connect(theirs.last_endpoint)
    ours.send_multipart([b"", b"x" * 70000, b"end"])
    assert theirs.recv_multipart() == [b"", b"x" * 70000, b"end"]
    theirs.send_multipart([b"back", b""])
    assert ours.recv_multipart() == [b"back", b""]


def test_wrapper_reports_errors_with_errno(ref, refctx):
    s = refctx.socket(ref.PAIR)
    with pytest.raises(ref.RefError) as info:
        s.connect("nonsense://x")
    assert info.value.errno != 0
    with pytest.raises(ref.RefError) as info:
        s.recv(flags=ref.DONTWAIT)
    assert ref.is_again(info.value)
