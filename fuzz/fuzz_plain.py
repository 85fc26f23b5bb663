"""Target: the PLAIN mechanism (RFC 24) in a real session, server and
client side.

Input: [socket type][role, credentials, ZAP][split] then the frames the peer
sends after a valid PLAIN greeting (with the as-server byte its role
needs): HELLO (server side) or WELCOME then READY (client side), mutated:
malformed name/password lengths, trailing bytes, ERROR, data first,
repeated or unknown commands, bad metadata, then traffic.

Checks: plain_hello_parse agrees with the model on every HELLO body (and
on the raw input); the session completes the handshake exactly when the
model says (a client after a WELCOME and an acceptable READY; a server
after a well-formed HELLO, a ZAP 200 from the handler the harness plays and
an acceptable INITIATE: without a handler it refuses every HELLO, on 300,
400 or 500 it sends ERROR with that code, on a malformed reply it closes);
the handler gets exactly the request the model expects (mechanism, user
name, password); otherwise it stays waiting or closes with
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
    zap = model.ZAP_REPLIES[(data[1] >> 3) % len(model.ZAP_REPLIES)] if as_server else None
    stream = model.greeting_for(b"PLAIN", not as_server) + stream
    requests = []
    if as_server and frames:
        # A client waits for WELCOME after its HELLO: the rest comes once
        # the session had time to hear from ZAP.
        expect, head, requests = model.plain_server_session(socket_type, zap, bytes(data[3:]))
        first = 64 + model.frame_length(bytes(data[3:]))
        parts = [stream[:first], stream[first:]]
    else:
        expect, head = model.plain_session(socket_type, as_server, user, password, bytes(data[3:]))
        parts = [stream]
    e = _core._Engine(socket_type, mechanism="PLAIN", as_server=as_server,
                      plain_username=user, plain_password=password,
                      zap_handler=zap is not None, zap_reply=model.zap_reply_frames(zap))
    try:
        fed = True
        for part in parts:
            for piece in fuzzlib.chunks(part, data[2]):
                fed = fed and e.feed(piece)
            e.pump()
        ctx = (f"PLAIN type={socket_type} server={as_server} zap={zap} user={user[:8]!r} "
               f"stream={stream[64:364]!r} ctl={data[2]}")
        assert e.zap_requests == requests, ctx + f" ZAP requests {e.zap_requests!r}"
        fuzzlib.check_mech_outcome(e, expect, head, ctx)
    finally:
        e.close()


if __name__ == "__main__":
    fuzzlib.main(TestOneInput, TARGET)
