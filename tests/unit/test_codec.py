"""ZMTP codec, sans I/O: frames and commands encode and decode to the bytes
ZMTP.md gives, round-trip for any split of the stream, and bad input is
refused before memory is reserved."""
import errno

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqcore import _core
from mqcore.error import ZMQError

MORE, COMMAND = 1, 2

# (body, more, command) -> the exact wire bytes (ZMTP.md sections 4-6)
WIRE_CASES = [
    (b"hello", False, False, bytes.fromhex("0005") + b"hello"),
    (b"", True, False, bytes.fromhex("0100")),
    (b"hi", False, False, bytes.fromhex("0002") + b"hi"),
    (b"x" * 300, False, False, bytes.fromhex("02000000000000012c") + b"x" * 300),
    (b"x" * 255, True, False, bytes.fromhex("01ff") + b"x" * 255),
    (b"x" * 256, True, False, bytes.fromhex("030000000000000100") + b"x" * 256),
    (b"\x04PING\x00\x00", False, True, bytes.fromhex("0407") + b"\x04PING\x00\x00"),
]


@pytest.mark.parametrize("body,more,command,wire", WIRE_CASES)
def test_frames_encode_to_the_spec_bytes(body, more, command, wire):
    assert _core._encode_frame(body, more=more, command=command) == wire


@pytest.mark.parametrize("body,more,command,wire", WIRE_CASES)
def test_frames_decode_from_the_spec_bytes(body, more, command, wire):
    flags = (MORE if more else 0) | (COMMAND if command else 0)
    assert _core._Decoder().feed(wire) == [(flags, body)]


def test_long_form_is_accepted_for_small_frames_and_reserved_bits_ignored():
    d = _core._Decoder()
    assert d.feed(bytes.fromhex("020000000000000003") + b"abc") == [(0, b"abc")]
    assert d.feed(bytes.fromhex("f803") + b"xyz") == [(0, b"xyz")]


frames = st.lists(st.tuples(st.binary(max_size=600), st.booleans(), st.booleans()), max_size=12)


@settings(max_examples=200, deadline=None)
@given(frames=frames, cuts=st.lists(st.integers(min_value=0, max_value=10000), max_size=8))
def test_any_split_of_the_stream_decodes_the_same_frames(frames, cuts):
    stream = b"".join(_core._encode_frame(b, more=m, command=c) for b, m, c in frames)
    points = sorted({c % (len(stream) + 1) for c in cuts})
    d = _core._Decoder()
    got, start = [], 0
    for p in points + [len(stream)]:
        got += d.feed(stream[start:p])
        start = p
    assert got == [((MORE if m else 0) | (COMMAND if c else 0), b) for b, m, c in frames]


def test_maxmsgsize_refuses_the_frame_from_its_header_alone():
    d = _core._Decoder(maxmsgsize=100)
    # Only the 9-byte header of a 2^40-byte frame: refused without reserving it.
    with pytest.raises(ZMQError) as e:
        d.feed(bytes.fromhex("020000010000000000"))
    assert e.value.errno == errno.EMSGSIZE


def test_maxmsgsize_allows_frames_up_to_the_limit():
    d = _core._Decoder(maxmsgsize=100)
    assert d.feed(_core._encode_frame(b"y" * 100)) == [(0, b"y" * 100)]


def test_absurd_sizes_are_a_protocol_error():
    with pytest.raises(ZMQError) as e:
        _core._Decoder().feed(bytes.fromhex("02ffffffffffffffff"))
    assert e.value.errno == errno.EPROTO


def test_greeting_bytes_are_what_libzmq_sends():
    g = _core._greeting()
    assert len(g) == 64
    assert g[:12] == bytes.fromhex("ff00000000000000017f0301")
    assert g[12:32] == b"NULL" + b"\0" * 16
    assert g[32:] == b"\0" * 32
    assert _core._greeting(3)[1:9] == bytes.fromhex("0000000000000004")


@pytest.mark.parametrize("greeting,expected", [
    (bytes.fromhex("ff00000000000000017f0301") + b"NULL" + b"\0" * 48, (0, 1)),
    (bytes.fromhex("ff00000000000000017f0300") + b"NULL" + b"\0" * 48, (0, 0)),
    # padding, major 2, odd minor and filler are not checked (ZMTP.md 2.3)
    (bytes.fromhex("ff55555555555555557f0207") + b"NULL" + b"\0" * 16 + b"\x01" + b"\xaa" * 31, (0, 7)),
    (b"GET / HTTP/1.1\r\n", (-1, -1)),
    (bytes.fromhex("ff00000000000000017e"), (-1, -1)),            # ZMTP 1.0 identity
    (bytes.fromhex("ff00000000000000017f01"), (-1, -1)),          # ZMTP 2.0
    (bytes.fromhex("ff00000000000000017f0301") + b"PLAIN" + b"\0" * 47, (-2, 1)),
])
def test_greeting_check(greeting, expected):
    assert _core._greeting_check(greeting) == expected


@pytest.mark.parametrize("stype,size", [(0, 26), (1, 25), (2, 25), (4, 25), (7, 26), (8, 26), (3, 38), (5, 41), (6, 41)])
def test_ready_sizes_match_libzmq(stype, size):
    # ZMTP.md section 7: NULL READY body sizes with an empty routing id.
    ready = _core._ready(stype)
    assert ready[0] == 0x04 and ready[1] == size
    assert ready[2:8] == b"\x05READY"


def test_ready_metadata_round_trips():
    ready = _core._ready(5, b"peer-7")
    assert _core._parse_metadata(ready[8:]) == (5, b"peer-7")


@pytest.mark.parametrize("props", [
    b"\x0bSocket-Type\x00\x00\x00\x09PUSH",        # value longer than the rest
    b"\x0bSocket-Type\x00\x00",                   # truncated length
    b"\x00\x00\x00\x00\x00",                        # empty name
])
def test_malformed_metadata_is_refused(props):
    with pytest.raises(ValueError):
        _core._parse_metadata(props)


def test_unknown_socket_type_name_is_flagged():
    assert _core._parse_metadata(b"\x0bSocket-Type\x00\x00\x00\x04PUSX")[0] == -2


@pytest.mark.parametrize("a,b,ok", [(8, 7, True), (7, 8, True), (0, 0, True), (8, 8, False),
                                    (7, 1, False), (0, 8, False), (5, 6, True), (3, 4, True)])
def test_socket_type_compatibility(a, b, ok):
    assert _core._socket_types_compatible(a, b) is ok
