"""Target: the NULL mechanism's handshake (RFC 37), through the mechanism
hooks alone and through a session.

Input: [socket type][options][split] then frames sent after a valid greeting:
READY with odd, missing, repeated, unknown or incompatible Socket-Type,
identities of every length, ERROR, other commands, data before READY.
The mechanism must accept exactly the first command the model accepts and
nothing after it; the session must go active or close as the model says.
PLAIN and CURVE have their own targets (fuzz_plain.py, fuzz_curve.py)."""
import fuzzlib
from fuzzlib import _core, model

TARGET = "handshake"


def check_mechanism(cfg, stream):
    m = _core._NullMechanism(cfg.socket_type, cfg.routing_id)
    assert m.next() == model.ready_body(cfg.socket_type, cfg.routing_id)
    assert m.next() is None
    frames, _ = model.decode_frames(stream, 65536)
    received = False
    for flags, body in frames[:4]:
        ok, meta = model.null_accepts(cfg.socket_type, body)
        ok = ok and not received
        rc = m.process(body)
        assert rc == (0 if ok else -1), (cfg, body, rc)
        if not ok:
            assert m.status == 2, (cfg, body)
            return
        received = True
        assert m.status == 1
        assert m.peer_socket_type == meta[0], (body, m.peer_socket_type, meta)
        assert m.peer_identity == meta[1], (body, m.peer_identity, meta)


def TestOneInput(data):
    if len(data) < 3:
        return
    cfg = fuzzlib.Config(data[0], data[1])
    if cfg.socket_type == model.STREAM:
        cfg.socket_type = 0
    stream = bytes(data[3:])
    check_mechanism(cfg, stream)
    fuzzlib.check_engine(cfg, model.greeting() + stream, data[2])


if __name__ == "__main__":
    fuzzlib.main(TestOneInput, TARGET)
