"""Target: the PLAIN mechanism (RFC 24) in a real session, server and
client side.

Input: [socket type][role and credentials][split] then the frames the peer
sends after a valid PLAIN greeting (with the as-server byte its role
needs): HELLO (server side) or WELCOME then READY (client side), mutated:
malformed name/password lengths, trailing bytes, ERROR, data first,
repeated or unknown commands, bad metadata, then traffic.

Checks: plain_hello_parse agrees with the model on every HELLO body (and
on the raw input); the session completes the handshake exactly when the
model says (a client after a WELCOME and an acceptable READY; a server
never, as no ZAP handler is reachable from the harness and a PLAIN server
without one refuses every HELLO); otherwise it stays waiting or closes with
a protocol error; it never delivers a message before the handshake is
done; its output is the greeting, HELLO and INITIATE as the model says
then the model's answers; a hang-up ends it cleanly."""
import fuzzlib
from fuzzlib import _core, model

TARGET = "plain"

# Client credentials: ordinary, empty, longest.
CREDENTIALS = ((b"admin", b"secret"), (b"", b""), (b"u" * 255, b"p" * 255), (b"x", b""))


def check_hello_parse(body):
    got = _core._plain_hello_parse(body)
    want = model.plain_hello_parse(body)
    assert got == want, (body[:300], got, want)


def TestOneInput(data):
    if len(data) < 3:
        return
    socket_type = fuzzlib.SOCKET_TYPES[data[0] % len(fuzzlib.SOCKET_TYPES)]
    if socket_type == model.STREAM:
        socket_type = 0
    as_server = bool(data[1] & 1)
    user, password = CREDENTIALS[(data[1] >> 1) % len(CREDENTIALS)]
    stream = bytes(data[3:])
    check_hello_parse(stream)
    frames, _ = model.decode_frames(stream, 65536)
    for _flags, body in frames[:4]:
        if model.command_is(body, b"HELLO"):
            check_hello_parse(body[6:])
    expect, head = model.plain_session(socket_type, as_server, user, password, stream)
    e = _core._Engine(socket_type, mechanism="PLAIN", as_server=as_server,
                      plain_username=user, plain_password=password)
    try:
        for piece in fuzzlib.chunks(model.greeting_for(b"PLAIN", not as_server) + stream, data[2]):
            if not e.feed(piece):
                break
        e.pump()
        ctx = f"PLAIN type={socket_type} server={as_server} user={user[:8]!r} stream={stream[:300]!r} ctl={data[2]}"
        fuzzlib.check_mech_outcome(e, expect, head, ctx)
    finally:
        e.close()


if __name__ == "__main__":
    fuzzlib.main(TestOneInput, TARGET)
