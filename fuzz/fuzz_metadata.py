"""Target: READY metadata (the property list of RFC 23): name lengths of
0..255, value lengths that overrun, repeated and unknown properties,
Socket-Type values that are near-misses of real names, identities around
255 bytes.

Input: [socket type] then the properties. metadata_parse must agree with
the model on malformed/accepted and on the socket type and identity it
extracts; the NULL mechanism must accept READY with them exactly when the
model does."""
import fuzzlib
from fuzzlib import _core, model

TARGET = "metadata"


def TestOneInput(data):
    if len(data) < 1:
        return
    local = fuzzlib.SOCKET_TYPES[data[0] % len(fuzzlib.SOCKET_TYPES)]
    props = bytes(data[1:])
    want = model.parse_metadata(props)
    try:
        got = _core._parse_metadata(props)
    except ValueError:
        got = None
    assert got == want, (props[:200], got, want)
    ok, _ = model.null_accepts(local, b"\x05READY" + props)
    m = _core._NullMechanism(local)
    assert m.process(b"\x05READY" + props) == (0 if ok else -1), (local, props[:200])


if __name__ == "__main__":
    fuzzlib.main(TestOneInput, TARGET)
