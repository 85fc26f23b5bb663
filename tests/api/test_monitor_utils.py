"""The helpers under ``utils``: monitor-event decoding, Z85, jsonapi.

``mqcore.utils.{monitor,z85,jsonapi}`` must behave like pyzmq's
``zmq.utils.*``: a pyzmq program reaches them by module path.  The module
under test follows MQCORE_TEST_IMPL (see conftest), so with ``zmq`` these
tests check pyzmq, the reference.  Where pyzmq's behaviour is an accident
(which exception a malformed input raises, a signed event value) mqcore's
stricter behaviour is checked only on mqcore.

Monitor frames are built by hand here; one test also runs a real socket
monitor end to end.  Every receive has a timeout (RCVTIMEO or NOBLOCK).
"""

import importlib
import random
import struct
import sys

import pytest

RCVTIMEO_MS = 5000

SINGLE_EVENTS = [
    "CONNECTED", "CONNECT_DELAYED", "CONNECT_RETRIED", "LISTENING", "BIND_FAILED",
    "ACCEPTED", "ACCEPT_FAILED", "CLOSED", "CLOSE_FAILED", "DISCONNECTED",
    "MONITOR_STOPPED", "HANDSHAKE_FAILED_NO_DETAIL", "HANDSHAKE_SUCCEEDED",
    "HANDSHAKE_FAILED_PROTOCOL", "HANDSHAKE_FAILED_AUTH",
]

HELLO_BYTES = bytes([0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B])
HELLO_TEXT = b"HelloWorld"


def utils_module(zmq, name):
    return importlib.import_module(f"{zmq.__name__}.utils.{name}")


@pytest.fixture
def monitor(zmq):
    return utils_module(zmq, "monitor")


@pytest.fixture
def z85(zmq):
    return utils_module(zmq, "z85")


@pytest.fixture
def jsonapi(zmq):
    return utils_module(zmq, "jsonapi")


def is_mqcore(zmq):
    return zmq.__name__ == "mqcore"


def event_frame(event, value):
    """The 6-byte first frame of a monitor message, as libzmq writes it."""
    return int(event).to_bytes(2, sys.byteorder) + int(value).to_bytes(4, sys.byteorder)


# --------------------------------------------------------------------------
# parse_monitor_message
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name", SINGLE_EVENTS)
@pytest.mark.parametrize("value", [0, 1, 17, 2**31 - 1])
def test_parse_decodes_event_and_value(zmq, monitor, name, value):
    event = getattr(zmq.Event, name)
    parsed = monitor.parse_monitor_message([event_frame(event, value), b"tcp://127.0.0.1:5555"])
    assert parsed["event"] == event
    assert isinstance(parsed["event"], zmq.Event)
    assert parsed["value"] == value
    assert parsed["endpoint"] == b"tcp://127.0.0.1:5555"


def test_parse_returns_exactly_three_keys(monitor):
    parsed = monitor.parse_monitor_message([event_frame(8, 3), b"ipc:///tmp/x"])
    assert sorted(parsed) == ["endpoint", "event", "value"]


def test_parse_reads_native_byte_order(zmq, monitor):
    """u16 event and u32 value are in the machine's byte order, unpadded."""
    frame = struct.pack("=HI", int(zmq.EVENT_ACCEPTED), 0x01020304)
    parsed = monitor.parse_monitor_message([frame, b""])
    assert parsed["event"] == zmq.EVENT_ACCEPTED
    assert parsed["value"] == 0x01020304


def test_parse_keeps_empty_endpoint(monitor):
    assert monitor.parse_monitor_message([event_frame(0x400, 0), b""])["endpoint"] == b""


def test_parse_value_is_unsigned_32_bits(zmq, monitor):
    if not is_mqcore(zmq):
        pytest.skip("pyzmq unpacks the value as a signed int")
    parsed = monitor.parse_monitor_message([event_frame(zmq.EVENT_CLOSED, 0xFFFFFFFF), b"x"])
    assert parsed["value"] == 0xFFFFFFFF
    assert type(parsed["value"]) is int


def test_parse_accepts_frames(zmq, monitor):
    """recv_multipart(copy=False) yields Frames; they parse like bytes."""
    msg = [zmq.Frame(event_frame(zmq.EVENT_CONNECTED, 9)), zmq.Frame(b"tcp://h:1")]
    parsed = monitor.parse_monitor_message(msg)
    assert parsed["event"] == zmq.EVENT_CONNECTED
    assert parsed["value"] == 9
    assert bytes(parsed["endpoint"]) == b"tcp://h:1"


@pytest.mark.parametrize("msg", [
    [],
    [event_frame(1, 0)],
    [event_frame(1, 0), b"ep", b"extra"],
    [event_frame(1, 0)[:5], b"ep"],
    [event_frame(1, 0) + b"\0\0", b"ep"],
    [b"", b"ep"],
], ids=["no-frames", "one-frame", "three-frames", "short-header", "long-header",
        "empty-header"])
def test_parse_rejects_malformed_messages(monitor, msg):
    with pytest.raises(RuntimeError):
        monitor.parse_monitor_message(msg)


# --------------------------------------------------------------------------
# recv_monitor_message
# --------------------------------------------------------------------------

@pytest.fixture
def pair(zmq, sock, endpoint):
    a = sock(zmq.PAIR)
    b = sock(zmq.PAIR)
    b.connect(endpoint.bind(a, "inproc"))
    return a, b


def test_recv_monitor_message_decodes_received_frames(zmq, monitor, pair):
    sender, receiver = pair
    sender.send_multipart([event_frame(zmq.EVENT_DISCONNECTED, 12), b"tcp://127.0.0.1:9"])
    parsed = monitor.recv_monitor_message(receiver)
    assert parsed == {"event": zmq.EVENT_DISCONNECTED, "value": 12,
                      "endpoint": b"tcp://127.0.0.1:9"}


def test_recv_monitor_message_passes_flags(zmq, monitor, pair):
    _, receiver = pair
    with pytest.raises(zmq.Again):
        monitor.recv_monitor_message(receiver, zmq.NOBLOCK)


def recv_events_until(monitor, mon_socket, last_event):
    """Monitor events up to and including ``last_event`` (RCVTIMEO bounded)."""
    events = []
    while not events or events[-1]["event"] != last_event:
        events.append(monitor.recv_monitor_message(mon_socket))
    return events


def test_real_monitor_reports_listen_accept_handshake(zmq, monitor, sock):
    """End to end: a socket's monitor reports its bind and an accepted peer."""
    server = sock(zmq.PULL)
    mon = server.get_monitor_socket()
    mon.rcvtimeo = RCVTIMEO_MS
    server.bind("tcp://127.0.0.1:*")
    addr = server.getsockopt(zmq.LAST_ENDPOINT)
    client = sock(zmq.PUSH)
    client.connect(addr.decode())

    events = recv_events_until(monitor, mon, zmq.EVENT_HANDSHAKE_SUCCEEDED)
    kinds = [e["event"] for e in events]
    assert kinds[0] == zmq.EVENT_LISTENING
    assert zmq.EVENT_ACCEPTED in kinds
    assert kinds.index(zmq.EVENT_ACCEPTED) < kinds.index(zmq.EVENT_HANDSHAKE_SUCCEEDED)
    assert all(e["endpoint"] == addr for e in events)

    server.disable_monitor()
    stopped = recv_events_until(monitor, mon, zmq.EVENT_MONITOR_STOPPED)
    assert stopped[-1]["event"] == zmq.EVENT_MONITOR_STOPPED


# --------------------------------------------------------------------------
# z85
# --------------------------------------------------------------------------

def z85_rejection(zmq):
    """What a malformed Z85 input raises: ValueError on mqcore.

    pyzmq lets lookup and packing errors escape (KeyError, struct.error).
    """
    if is_mqcore(zmq):
        return ValueError
    return (ValueError, KeyError, struct.error)


def test_z85_encodes_rfc32_vector(z85):
    assert z85.encode(HELLO_BYTES) == HELLO_TEXT


def test_z85_decodes_rfc32_vector(z85):
    assert z85.decode(HELLO_TEXT) == HELLO_BYTES


def test_z85_decode_accepts_str(z85):
    assert z85.decode(HELLO_TEXT.decode()) == HELLO_BYTES


def test_z85_zero_key(z85):
    assert z85.encode(bytes(32)) == b"0" * 40
    assert z85.decode(b"0" * 40) == bytes(32)


def test_z85_empty(z85):
    assert z85.encode(b"") == b""
    assert z85.decode(b"") == b""


def test_z85_extremes(z85):
    assert z85.encode(b"\xff\xff\xff\xff") == b"%nSc0"
    assert z85.decode(b"%nSc0") == b"\xff\xff\xff\xff"


def test_z85_accepts_buffers(z85):
    assert z85.encode(bytearray(HELLO_BYTES)) == HELLO_TEXT
    assert z85.encode(memoryview(HELLO_BYTES)) == HELLO_TEXT


@pytest.mark.parametrize("size", range(0, 68, 4))
def test_z85_round_trip(z85, size):
    data = random.Random(size).randbytes(size)
    text = z85.encode(data)
    assert len(text) == size // 4 * 5
    assert z85.decode(text) == data


def test_z85_curve_key_round_trip(z85):
    # A CURVE public key as it appears in libzmq's tests: 40 characters.
    key = b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
    raw = z85.decode(key)
    assert len(raw) == 32
    assert z85.encode(raw) == key


def test_z85_matches_pyzmq(z85, pyzmq):
    import zmq.utils.z85 as reference

    rng = random.Random(85)
    for _ in range(50):
        data = rng.randbytes(4 * rng.randrange(0, 16))
        assert z85.encode(data) == reference.encode(data)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 31])
def test_z85_encode_rejects_length_not_multiple_of_4(z85, size):
    with pytest.raises(ValueError):
        z85.encode(bytes(size))


@pytest.mark.parametrize("text", [b"0", b"0000", b"000000", b"HelloWorl"])
def test_z85_decode_rejects_length_not_multiple_of_5(z85, text):
    with pytest.raises(ValueError):
        z85.decode(text)


@pytest.mark.parametrize("text", [b"Hello Worl", b'"0000', b"0000\\", b"\xff0000"])
def test_z85_decode_rejects_characters_outside_alphabet(zmq, z85, text):
    with pytest.raises(z85_rejection(zmq)):
        z85.decode(text)


def test_z85_decode_rejects_non_ascii_str(z85):
    with pytest.raises(ValueError):
        z85.decode("Hellö0000")


def test_z85_decode_rejects_group_above_32_bits(zmq, z85):
    # "%nSc0" is 0xFFFFFFFF; "%nSc1" is one more and fits no u32.
    with pytest.raises(z85_rejection(zmq)):
        z85.decode(b"%nSc1")


# --------------------------------------------------------------------------
# jsonapi
# --------------------------------------------------------------------------

def test_jsonapi_dumps_gives_bytes(jsonapi):
    assert jsonapi.dumps({"a": [1, 2.5, None, True]}) == b'{"a": [1, 2.5, null, true]}'


def test_jsonapi_dumps_encodes_utf8(jsonapi):
    assert jsonapi.dumps("é", ensure_ascii=False) == "\"é\"".encode("utf-8")


def test_jsonapi_dumps_passes_keyword_arguments(jsonapi):
    assert jsonapi.dumps({"b": 1, "a": 2}, sort_keys=True, separators=(",", ":")) == \
        b'{"a":2,"b":1}'


@pytest.mark.parametrize("text", [b'{"k": ["v", 1]}', '{"k": ["v", 1]}'])
def test_jsonapi_loads_bytes_and_str(jsonapi, text):
    assert jsonapi.loads(text) == {"k": ["v", 1]}


def test_jsonapi_loads_utf8_bytes(jsonapi):
    assert jsonapi.loads("[\"ünï\"]".encode("utf-8")) == ["ünï"]


def test_jsonapi_loads_passes_keyword_arguments(jsonapi):
    assert jsonapi.loads(b'{"x": 1.5}', parse_float=str) == {"x": "1.5"}


def test_jsonapi_round_trip(jsonapi):
    obj = {"name": "ø", "values": [1, -2, 3.25], "nested": {"ok": False}}
    assert jsonapi.loads(jsonapi.dumps(obj)) == obj


def test_jsonapi_exposes_json_module(jsonapi):
    import json

    assert jsonapi.jsonmod is json
