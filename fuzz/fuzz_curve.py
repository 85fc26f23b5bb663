"""Target: the CURVE mechanism (RFC 26) in a real session, server and
client side, with real crypto on the peer's side (curve_peer.py, PyNaCl).

Input: [socket type][role: bit 0 server, then the ZAP handler's answer
(zmtp_model.ZAP_REPLIES)][split] then, read as needed, one op byte (and
its parameters) per handshake command the peer sends -- HELLO and INITIATE
to a server, WELCOME and READY to a client -- choosing a mutation of its
plaintext (metadata, vouch, cookie, padding), its nonce, its keys, its
body (bit flip, truncation, trailing bytes, another name, ERROR instead)
or its frame (data instead of a command, 8-byte size, cut short); then
messages [ctl][mutation][len][body] sent as MESSAGE commands.

Each command is built valid (the peer opens and checks what the session
sent: WELCOME, INITIATE with its vouch, READY) so that the session's
parsers are reached behind every box. Checks: the session completes the
handshake exactly when every command was valid and ZAP (if a handler
is bound) said 200, stays waiting on a cut command or an unanswered ZAP
request, sends ERROR with the code on a 300/400/500, otherwise closes with
a protocol error; the handler is asked exactly once, about the client's
long-term key, and only for a valid INITIATE; it delivers no message
before the handshake is done, and afterwards exactly the frames the NULL
model delivers for the same metadata and traffic (up to the first bad
MESSAGE, where it closes with a protocol error); a hang-up ends it
cleanly; the harness frees everything."""
import fuzzlib
from fuzzlib import _core, model

if fuzzlib.atheris is not None:
    with fuzzlib.atheris.instrument_imports(include=["curve_peer"]):
        import curve_peer as cp
else:
    import curve_peer as cp

TARGET = "curve"


def session_commands(e, skip):
    """The session's handshake commands after its greeting, skipping the
    first `skip`."""
    frames = cp.session_frames(bytes(e.output)[64:])
    return [b for f, b in frames[skip:]]


def send(e, step, ctl):
    for piece in fuzzlib.chunks(step.wire, ctl):
        if not e.feed(piece):
            break
    e.pump()


def handshake_server(e, inp, local_type, ctl, zap):
    """The session is the server (asking the ZAP handler the harness plays
    as `zap` says, see zmtp_model.ZAP_REPLIES). Returns the peer when the
    handshake went through, else the expected state ("dead" or
    "handshake")."""
    peer = cp.Client(local_type)
    step = peer.hello(inp)
    step.wire = model.greeting_for(b"CURVE", False) + step.wire
    send(e, step, ctl)
    if step.cut:
        return "handshake"
    if not step.valid:
        return "dead"
    welcome, = session_commands(e, 0)
    peer.take_welcome(welcome)
    step = peer.initiate(inp)
    send(e, step, ctl)
    if step.cut:
        return "handshake"
    if not step.valid:
        assert e.zap_requests == []
        return "dead"
    if zap is not None:
        assert e.zap_requests == [[b"", b"1.0", b"1", b"", b"", b"", b"CURVE", peer.client_key]], e.zap_requests
    if zap in ("never", "malformed"):
        assert len(session_commands(e, 0)) == 1         # WELCOME alone
        return "handshake" if zap == "never" else "dead"
    if zap in ("300", "400", "500"):
        _, error = session_commands(e, 0)
        assert error == b"\x05ERROR\x03" + zap.encode(), error
        return "dead"
    _, ready = session_commands(e, 0)
    assert peer.take_ready(ready) == model.ready_body(local_type)[6:]
    return peer


def handshake_client(e, inp, local_type, ctl):
    """The session is the client (see handshake_server)."""
    peer = cp.Server(local_type)
    e.feed(model.greeting_for(b"CURVE", True))
    e.pump()
    hello, = session_commands(e, 0)
    peer.take_hello(hello)
    step = peer.welcome(inp)
    send(e, step, ctl)
    if step.cut:
        return "handshake"
    if not step.valid:
        return "dead"
    _, initiate = session_commands(e, 0)
    assert peer.take_initiate(initiate) == model.ready_body(local_type)[6:]
    step = peer.ready(inp)
    send(e, step, ctl)
    if step.cut:
        return "handshake"
    if not step.valid:
        return "dead"
    return peer


def traffic(e, inp, peer, ctl):
    """Sends messages until the input ends or one is bad; returns the
    frames a NULL peer would have sent for the good ones, and whether a
    bad one went."""
    plain = b""
    while inp.left() and e.alive:
        flags, op, n = inp.byte(), inp.byte() % 8, inp.byte()
        body = inp.take(n)
        step = peer.message(flags, body, inp, op)
        send(e, step, ctl)
        if not step.valid:
            return plain, True
        plain += model.encode_frame(body, more=bool(flags & 1), command=bool(flags & 2))
    return plain, False


def TestOneInput(data):
    if len(data) < 3:
        return
    local_type = fuzzlib.SOCKET_TYPES[data[0] % len(fuzzlib.SOCKET_TYPES)]
    if local_type == model.STREAM:
        local_type = 0
    as_server = bool(data[1] & 1)
    zap = model.ZAP_REPLIES[(data[1] >> 1) % len(model.ZAP_REPLIES)] if as_server else None
    ctl = data[2]
    inp = cp.Input(data[3:])
    if as_server:
        e = _core._Engine(local_type, mechanism="CURVE", as_server=True, curve_secret_key=cp.SERVER_SECRET,
                          zap_handler=zap is not None, zap_reply=model.zap_reply_frames(zap))
    else:
        e = _core._Engine(local_type, mechanism="CURVE", curve_public_key=cp.CLIENT_PUBLIC,
                          curve_secret_key=cp.CLIENT_SECRET, curve_server_key=cp.SERVER_PUBLIC)
    try:
        ctx = f"CURVE type={local_type} server={as_server} zap={zap} input={bytes(data)[:200]!r}"
        if as_server:
            peer = handshake_server(e, inp, local_type, ctl, zap)
        else:
            peer = handshake_client(e, inp, local_type, ctl)
        if isinstance(peer, str):
            expect = model.Outcome()
            expect.state = peer
            expect.protocol_error = peer == "dead"
        else:
            ready = model.encode_frame(b"\x05READY" + peer.meta, command=True)
            plain, bad = traffic(e, inp, peer, ctl)
            expect = model.session(local_type, model.greeting() + ready + plain)
            if bad:
                expect.state = "dead"
                expect.protocol_error = True
        fuzzlib.check_mech_outcome(e, expect, None, ctx, traffic_output=False)
    finally:
        e.close()


if __name__ == "__main__":
    fuzzlib.main(TestOneInput, TARGET)
