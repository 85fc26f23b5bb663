"""Target: the greeting, and a whole connection from its first byte.

Input: [socket type][options][split] then what the peer sends, from the
greeting on. The greeting check runs on every prefix (as bytes trickle in)
against the model; then a real session takes the stream in pieces and must
do exactly what the model says (see fuzzlib.check_engine)."""
import fuzzlib
from fuzzlib import _core, model

TARGET = "greeting"


def TestOneInput(data):
    if len(data) < 3:
        return
    cfg = fuzzlib.Config(data[0], data[1])
    stream = data[3:]
    g = stream[:64]
    for n in range(len(g) + 1):
        rc, minor = _core._greeting_check(bytes(g[:n]))
        want = model.greeting_verdict(g[:n])
        assert rc == want, (g[:n], rc, want)
        if n >= 12 and rc == 0:
            assert minor == g[11], (g[:n], minor)
    fuzzlib.check_engine(cfg, stream, data[2])


if __name__ == "__main__":
    fuzzlib.main(TestOneInput, TARGET)
