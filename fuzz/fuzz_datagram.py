"""Target: udp datagrams as a DISH reads them (libzmq's layout: one byte of
group length, the group, the body; engine/udp_engine.pxi's udp_decode).

Input: the datagram itself. The decoder must agree with the model: empty
datagrams and ones whose group length runs past the end are dropped
(None), anything else is exactly (group, rest); what it keeps re-encodes
(udp_encode, RADIO's side) to the same bytes, and the encoder refuses what
does not fit libzmq's 8192-byte datagram."""
import fuzzlib
from fuzzlib import _core

TARGET = "datagram"
UDP_MAX = 8192


def model_decode(d):
    if len(d) < 1 or d[0] + 1 > len(d):
        return None
    return d[1:1 + d[0]], d[1 + d[0]:]


def TestOneInput(data):
    d = bytes(data)
    want = model_decode(d)
    got = _core._udp_decode(d)
    assert got == want, (d[:64], got, want)
    if got is None:
        return
    group, body = got
    assert _core._udp_encode(group, body) == d
    # The same message with a body that no longer fits is refused whole.
    pad = body + bytes(UDP_MAX - len(d) + 1)
    assert _core._udp_encode(group, pad) is None


if __name__ == "__main__":
    fuzzlib.main(TestOneInput, TARGET)
