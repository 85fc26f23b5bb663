"""A plain-Python model of what mqcore's engine does with a peer's bytes:
the greeting check, frame decoding, READY metadata, the NULL handshake and
the commands of the traffic phase. The targets run the real engine and
this model side by side and require the same outcome, so a fuzzer finds
not only crashes but any input on which the C code and the rules disagree.

The rules are those of ZMTP 3.1 (RFC 23/37) as mqcore implements them."""
import struct

SOCKET_TYPE_NAMES = (
    b"PAIR", b"PUB", b"SUB", b"REQ", b"REP", b"DEALER", b"ROUTER", b"PULL", b"PUSH",
    b"XPUB", b"XSUB", b"STREAM", b"SERVER", b"CLIENT", b"RADIO", b"DISH", b"GATHER",
    b"SCATTER", b"DGRAM", b"PEER", b"CHANNEL")

# Who may talk to whom (libzmq's mechanism_t::check_socket_type).
_COMPATIBLE = {
    0: {0}, 1: {2, 10}, 9: {2, 10}, 2: {1, 9}, 10: {1, 9},
    3: {4, 6}, 4: {3, 5}, 5: {4, 5, 6}, 6: {3, 5, 6}, 7: {8}, 8: {7},
    12: {13}, 13: {12}, 14: {15}, 15: {14}, 16: {17}, 17: {16},
}

STREAM = 11
ROUTES_BY_ID = {6, 11, 12, 19}
PUBLISHERS = {1, 9}         # PUB, XPUB: the types that read subscriptions
IDENTITY_IN_READY = {3, 5, 6}

EMSGSIZE_LIMIT = 1 << 62    # sizes above this are a protocol error
# Above this a body may not be reservable (malloc fails: ENOMEM); both
# outcomes are right. Lowered under ASan, whose allocator is capped.
UNCERTAIN_SIZE = 1 << 32

# Flags as the core hands frames over (msg.pxi).
MSG_MORE, MSG_COMMAND, MSG_IDENTITY = 1, 2, 8


def compatible(local, peer):
    return peer in _COMPATIBLE.get(local, {local})


# ---------------------------------------------------------------- greeting

def greeting(routing_id_len=0, mechanism=b"NULL", major=3, minor=1):
    """A 64-byte greeting as libzmq and mqcore send it."""
    return (b"\xff" + struct.pack(">Q", routing_id_len + 1)[:8] + b"\x7f"
            + bytes([major, minor]) + mechanism.ljust(20, b"\0") + b"\0" * 32)[:64]


def greeting_verdict(g):
    """0: fine so far; -1: not ZMTP 3.x; -2: another mechanism."""
    if len(g) >= 1 and g[0] != 0xFF:
        return -1
    if len(g) >= 10 and not g[9] & 1:
        return -1
    if len(g) >= 11 and g[10] < 2:
        return -1
    if len(g) >= 32 and g[12:32] != b"NULL".ljust(20, b"\0"):
        return -2
    return 0


# ---------------------------------------------------------------- frames

def encode_frame(body, more=False, command=False):
    flags = (1 if more else 0) | (4 if command else 0)
    if len(body) > 255:
        return bytes([flags | 2]) + struct.pack(">Q", len(body)) + bytes(body)
    return bytes([flags, len(body)]) + bytes(body)


def decode_frames(stream, maxmsgsize=-1):
    """(frames, error): frames as (flags, body) with the core's flags; error
    None (the rest is an incomplete frame), 'EMSGSIZE', 'EPROTO' or
    ('ENOMEM-or-wait', size) for a size the machine may not be able to
    reserve."""
    frames = []
    pos = 0
    n = len(stream)
    while pos < n:
        f = stream[pos]
        need = 8 if f & 2 else 1
        if pos + 1 + need > n:
            return frames, None
        size = int.from_bytes(stream[pos + 1:pos + 1 + need], "big")
        if maxmsgsize >= 0 and size > maxmsgsize:
            return frames, "EMSGSIZE"
        if size > EMSGSIZE_LIMIT:
            return frames, "EPROTO"
        if size > UNCERTAIN_SIZE:
            return frames, ("ENOMEM-or-wait", size)
        start = pos + 1 + need
        if start + size > n:
            return frames, None
        flags = (MSG_MORE if f & 1 else 0) | (MSG_COMMAND if f & 4 else 0)
        frames.append((flags, bytes(stream[start:start + size])))
        pos = start + size
    return frames, None


# ---------------------------------------------------------------- commands

def command_name(body):
    """The command's name, or None when the body is too short for it."""
    if not body or len(body) < 1 + body[0]:
        return None
    return bytes(body[1:1 + body[0]])


def command_is(body, name):
    return len(body) >= len(name) + 1 and body[0] == len(name) and body[1:1 + len(name)] == name


def metadata_put(name, value):
    return bytes([len(name)]) + name + struct.pack(">I", len(value)) + value


def ready_body(socket_type, routing_id=b""):
    body = b"\x05READY" + metadata_put(b"Socket-Type", SOCKET_TYPE_NAMES[socket_type])
    if socket_type in IDENTITY_IN_READY:
        body += metadata_put(b"Identity", routing_id)
    return body


def ready_frame(socket_type, routing_id=b""):
    return encode_frame(ready_body(socket_type, routing_id), command=True)


def parse_metadata(props):
    """(socket_type, identity): socket_type -1 when absent, -2 when not a
    known name; None when the property list is malformed."""
    st, identity = -1, b""
    pos, n = 0, len(props)
    while pos < n:
        nlen = props[pos]
        pos += 1
        if nlen == 0 or pos + nlen + 4 > n:
            return None
        vlen = int.from_bytes(props[pos + nlen:pos + nlen + 4], "big")
        if vlen > n - (pos + nlen + 4):
            return None
        name = bytes(props[pos:pos + nlen])
        value = bytes(props[pos + nlen + 4:pos + nlen + 4 + vlen])
        if name == b"Socket-Type":
            st = SOCKET_TYPE_NAMES.index(value) if value in SOCKET_TYPE_NAMES else -2
        elif name == b"Identity" and vlen <= 255:
            identity = value
        pos += nlen + 4 + vlen
    return st, identity


def null_accepts(local_type, body):
    """(ok, peer metadata) for a first handshake command."""
    if not command_is(body, b"READY"):
        return False, None
    meta = parse_metadata(body[6:])
    if meta is None:
        return False, None
    st = meta[0]
    if st == -2 or (st >= 0 and not compatible(local_type, st)):
        return False, meta
    return True, meta


def pong_for(ping):
    ctx = ping[7:7 + 16] if len(ping) > 7 else b""
    return bytes([4, 5 + len(ctx)]) + b"\x04PONG" + ctx


# ---------------------------------------------------------------- a session

class Outcome:
    """What a session must have done after a peer sent `stream`."""

    def __init__(self):
        self.frames = []        # what the socket receives, in order
        self.output = b""       # what the session wrote to the peer
        self.state = "handshake"    # handshake | active | dead
        self.protocol_error = False
        self.uncertain = False  # a huge size: ENOMEM or waiting are both right

    def __repr__(self):
        return (f"Outcome(state={self.state}, protocol_error={self.protocol_error}, "
                f"frames={self.frames[:8]!r}{'...' if len(self.frames) > 8 else ''}, "
                f"output={self.output[:200]!r})")


def session(local_type, stream, maxmsgsize=-1, routing_id=b""):
    """The outcome of an accepted session of type `local_type` (its own
    routing id `routing_id`) whose peer sent `stream` and stays connected."""
    out = Outcome()
    stream = bytes(stream)
    if local_type == STREAM:
        # Raw bytes: no greeting, the peer's (empty) routing id, then data.
        out.state = "active"
        out.frames.append((MSG_IDENTITY, b""))
        if stream:
            out.frames.append((0, stream))      # joined: reads split it anyhow
        return out
    out.output = greeting(len(routing_id))
    g = stream[:64]
    verdict = greeting_verdict(g)
    if verdict != 0:
        out.state = "dead"
        out.protocol_error = True
        return out
    if len(g) < 64:
        return out
    out.output += ready_frame(local_type, routing_id)
    frames, error = decode_frames(stream[64:], maxmsgsize)
    for flags, body in frames:
        if out.state == "handshake":
            ok = False
            if flags & MSG_COMMAND:
                ok, meta = null_accepts(local_type, body)
            if not ok:
                out.state = "dead"
                out.protocol_error = True
                return out
            out.state = "active"
            if local_type in ROUTES_BY_ID:
                out.frames.append((MSG_IDENTITY, meta[1]))
            continue
        if flags & MSG_COMMAND:
            # Subscriptions reach only publishers, and only between
            # messages; anywhere else they are dropped like unknown commands.
            between = not (out.frames and out.frames[-1][0] & MSG_MORE)
            takes = local_type in PUBLISHERS and between
            if command_is(body, b"SUBSCRIBE"):
                if takes:
                    out.frames.append((0, b"\x01" + body[10:]))
            elif command_is(body, b"CANCEL"):
                if takes:
                    out.frames.append((0, b"\x00" + body[7:]))
            elif command_is(body, b"PING"):
                out.output += pong_for(body)
            continue
        out.frames.append((flags, body))
    # The socket only ever sees whole messages: the frames of one the peer
    # has not finished stay out of its reach (and are dropped if it goes).
    while out.frames and out.frames[-1][0] & MSG_MORE:
        out.frames.pop()
    if error is not None:
        if isinstance(error, tuple):
            out.uncertain = True
        else:
            out.state = "dead"
            out.protocol_error = True
    return out


def join_raw(frames):
    """STREAM delivers what each read() brought: identity, then data
    pieces whose concatenation is the stream."""
    if not frames:
        return frames
    data = b"".join(b for f, b in frames[1:] if f == 0)
    return [frames[0]] + ([(0, data)] if data else [])


# ---------------------------------------------------------------- PLAIN, CURVE

def greeting_for(mechanism, as_server):
    """The greeting of a peer using `mechanism` in that role (byte 32)."""
    g = greeting(mechanism=mechanism)
    return g[:32] + (b"\x01" if as_server else b"\x00") + g[33:]


def frame_length(stream):
    """The encoded length of the first frame of `stream` (it is complete)."""
    return 9 + int.from_bytes(stream[1:9], "big") if stream[0] & 2 else 2 + stream[1]


def plain_hello_parse(p):
    """(user name, password) from HELLO's body after its name; None when
    malformed: two length-prefixed strings and nothing after (RFC 24)."""
    if len(p) < 1 or 1 + p[0] + 1 > len(p):
        return None
    ulen = p[0]
    plen = p[1 + ulen]
    if 2 + ulen + plen != len(p):
        return None
    return bytes(p[1:1 + ulen]), bytes(p[2 + ulen:2 + ulen + plen])


def plain_hello_body(user, password):
    return b"\x05HELLO" + bytes([len(user)]) + user + bytes([len(password)]) + password


def initiate_body(socket_type, routing_id=b""):
    """PLAIN's INITIATE: READY's properties under another name."""
    return b"\x08INITIATE" + ready_body(socket_type, routing_id)[6:]


# What a ZAP handler answers a PLAIN server: None no handler is bound,
# "never" it does not answer, "malformed" a reply with a bad version, else
# the status code.
ZAP_REPLIES = (None, "200", "400", "300", "500", "never", "malformed", "200")


def zap_reply_frames(reply):
    if reply in (None, "never"):
        return None
    if reply == "malformed":
        return [b"", b"2.0", b"1", b"200", b"OK", b"", b""]
    return [b"", b"1.0", b"1", reply.encode(), b"status", b"user", b""]


def plain_server_session(local_type, zap, stream):
    """(outcome, handshake output, ZAP requests) of a PLAIN server whose
    well-behaved peer sent its first frame, waited, then the rest."""
    head = greeting_for(b"PLAIN", True)
    frames, _ = decode_frames(stream)
    out = Outcome()
    out.state, out.protocol_error = "dead", True
    flags, body = frames[0]
    if not (flags & MSG_COMMAND and command_is(body, b"HELLO")):
        return out, head, []
    cred = plain_hello_parse(body[6:])
    if cred is None or zap is None:
        return out, head, []
    requests = [[b"", b"1.0", b"1", b"", b"", b"", b"PLAIN", cred[0], cred[1]]]
    rest = stream[frame_length(stream):]
    if zap == "malformed":
        return out, head, requests
    if zap in ("300", "400", "500"):
        return out, head + encode_frame(b"\x05ERROR\x03" + zap.encode(), command=True), requests
    more, _ = decode_frames(rest)
    if zap != "never":
        head += encode_frame(b"\x07WELCOME", command=True)
    elif more:
        return out, head, requests     # anything while ZAP is asked ends it
    if not more:
        # Framing alone decides, as for NULL.
        out = session(local_type, greeting() + rest)
        out.output = b""
        return out, head, requests
    flags, body = more[0]
    if not (flags & MSG_COMMAND and command_is(body, b"INITIATE")):
        return out, head, requests
    # INITIATE's properties are judged as READY's are.
    head += ready_frame(local_type)
    out = session(local_type, greeting() + encode_frame(b"\x05READY" + body[9:], command=True)
                  + rest[frame_length(rest):])
    out.output = out.output[64 + len(ready_frame(local_type)):]
    return out, head, requests


def plain_session(local_type, as_server, user, password, stream):
    """(outcome, handshake output) of a PLAIN session (no ZAP handler: a
    server refuses every client) whose peer sent a valid greeting then
    `stream`. The outcome's output is the traffic-phase part only."""
    head = greeting_for(b"PLAIN", as_server)
    frames, _ = decode_frames(stream)
    if not frames:
        # No whole command yet: framing alone decides, as for NULL.
        out = session(local_type, greeting() + stream)
        out.output = b""
        if not as_server:
            head += encode_frame(plain_hello_body(user, password), command=True)
        return out, head
    out = Outcome()
    if as_server:
        out.state, out.protocol_error = "dead", True
        return out, head
    head += encode_frame(plain_hello_body(user, password), command=True)
    flags, body = frames[0]
    if not (flags & MSG_COMMAND and body == b"\x07WELCOME"):
        out.state, out.protocol_error = "dead", True
        return out, head
    head += encode_frame(initiate_body(local_type), command=True)
    rest = stream[frame_length(stream):]
    out = session(local_type, greeting() + rest)
    out.output = out.output[64 + len(ready_frame(local_type)):]
    return out, head
