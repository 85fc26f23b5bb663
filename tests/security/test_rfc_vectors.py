"""Test vectors from the RFCs, checked on ours and on libzmq (pyzmq):
RFC 32/Z85's one example; RFC 26/CurveZMQ's example key pairs (the ones
libzmq's own tests use) through curve_public; and RFC 26's HELLO and
WELCOME boxes as both libraries put them on the wire, opened here with
PyNaCl from the RFC's nonce prefixes and the server's long-term key."""

import importlib

import nacl.bindings
import pytest

from .test_wire_vs_libzmq import curve_capture
from ._wire import frames

pytestmark = pytest.mark.interop

Z85_RAW = bytes([0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B])
Z85_TEXT = b"HelloWorld"
# RFC 26's example certificates (secret, public), as libzmq's tests use them.
CURVE_PAIRS = {
    "client": (b"D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs", b"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"),
    "server": (b"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6", b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"),
}


def z85_of(mod):
    return importlib.import_module(mod.__name__ + ".utils.z85")


@pytest.mark.parametrize("lib", ["ours", "pyzmq"])
def test_z85_hello_world(zmq, pyzmq, lib):
    z85 = z85_of(zmq if lib == "ours" else pyzmq)
    assert z85.encode(Z85_RAW) == Z85_TEXT
    assert z85.decode(Z85_TEXT) == Z85_RAW


def test_z85_agrees_with_pyzmq_on_lengths_and_keys(zmq, pyzmq):
    ours, theirs = z85_of(zmq), z85_of(pyzmq)
    for raw in (b"", bytes(4), bytes(range(32)), bytes(range(256)) * 4):
        assert ours.encode(raw) == theirs.encode(raw)
        assert ours.decode(theirs.encode(raw)) == raw
    for secret, public in CURVE_PAIRS.values():
        assert ours.encode(theirs.decode(public)) == public
    for bad_raw, bad_text in ((b"abc", b"abcd"), (bytes(5), b"HelloWorl")):
        with pytest.raises(ValueError):
            theirs.encode(bad_raw)
        with pytest.raises(ValueError):
            ours.encode(bad_raw)
        with pytest.raises(ValueError):
            theirs.decode(bad_text)
        with pytest.raises(ValueError):
            ours.decode(bad_text)


@pytest.mark.parametrize("who", CURVE_PAIRS)
def test_curve_public_of_rfc_example_keys(zmq, pyzmq, who):
    secret, public = CURVE_PAIRS[who]
    assert pyzmq.curve_public(secret) == public         # libzmq's zmq_curve_public
    assert zmq.curve_public(secret) == public


@pytest.mark.parametrize("ours_side", ["client", "server"])
def test_hello_and_welcome_boxes_open_as_rfc26_says(zmq, pyzmq, ours_side):
    """HELLO: C' in clear, then Box[64 zero bytes](C'->S) under the nonce
    "CurveZMQHELLO---" + short nonce. WELCOME: Box[S' + cookie(96)](S->C')
    under "WELCOME-" + 16-byte long nonce. Both open with the server's
    long-term secret key, whichever library built them."""
    up, down, server_secret = curve_capture(zmq, pyzmq, ours_side)
    sk = z85_of(pyzmq).decode(server_secret)
    hello = frames(up)[0][1]
    client_short_pk, short_nonce, box = hello[80:112], hello[112:120], hello[120:200]
    opened = nacl.bindings.crypto_box_open_easy(box, b"CurveZMQHELLO---" + short_nonce,
                                                client_short_pk, sk)
    assert opened == bytes(64)
    welcome = frames(down)[0][1]
    assert welcome[:8] == b"\x07WELCOME"
    opened = nacl.bindings.crypto_box_open_easy(welcome[24:], b"WELCOME-" + welcome[8:24],
                                                client_short_pk, sk)
    assert len(opened) == 32 + 96
    assert opened[:32] != bytes(32)
