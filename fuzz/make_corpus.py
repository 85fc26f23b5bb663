"""Writes the seed corpus of every target into fuzz/corpus/<target>/ from
valid encodings (and their classic breakages), so that it is reproducible:

    python fuzz/make_corpus.py

Each seed is laid out as its target reads input (see the targets' headers).
Crash reproducers live in fuzz/corpus/<target>/regressions/ and are kept
by hand; this script does not touch them. Files it no longer makes are
removed, so the corpus is exactly what the script says."""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import zmtp_model as m  # noqa: E402

SOCKET_TYPES = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 19, 20)
MAXMSGSIZES = (-1, -1, -1, 0, 1, 5, 255, 256, 300, 4096)
RCVHWMS = (1000, 1000, 1, 2, 3, 0)
PEER = {0: 0, 1: 2, 2: 1, 3: 4, 4: 3, 5: 6, 6: 5, 7: 8, 8: 7, 9: 10, 10: 9,
        11: 11, 12: 13, 13: 12, 19: 19, 20: 20}


def cfg(socket_type, maxmsgsize=-1, rcvhwm=1000, rid=False):
    """The two config bytes of fuzzlib.Config (kept in step with it)."""
    b0 = SOCKET_TYPES.index(socket_type)
    for b1 in range(256):
        if (MAXMSGSIZES[b1 % len(MAXMSGSIZES)] == maxmsgsize
                and RCVHWMS[(b1 // len(MAXMSGSIZES)) % len(RCVHWMS)] == rcvhwm
                and bool((b1 // 60) % 2) == rid):
            return bytes([b0, b1])
    raise ValueError((socket_type, maxmsgsize, rcvhwm, rid))


def maxsel(maxmsgsize):
    return bytes([MAXMSGSIZES.index(maxmsgsize)])


F = m.encode_frame


def cmd(body, more=False):
    return m.encode_frame(body, more=more, command=True)


def long_frame(body, flags=0):
    """A frame with an 8-byte size even when 1 byte would do."""
    return bytes([flags | 2]) + struct.pack(">Q", len(body)) + body


def header(flags, size):
    return bytes([flags | 2]) + struct.pack(">Q", size)


def prop(name, value):
    return m.metadata_put(name, value)


def ready(props):
    return cmd(b"\x05READY" + props)


def ping(ttl, ctx=b""):
    return cmd(b"\x04PING" + struct.pack(">H", ttl) + ctx)


GREETINGS = {
    "null-3.1": m.greeting(),
    "null-3.0": m.greeting(minor=0),
    "null-4.0": m.greeting(major=4, minor=0),
    "null-rid-padding": m.greeting(routing_id_len=7),
    "plain": m.greeting(mechanism=b"PLAIN"),
    "curve": m.greeting(mechanism=b"CURVE"),
    "null-lowercase": m.greeting(mechanism=b"null"),
    "null-as-server": m.greeting()[:32] + b"\x01" + m.greeting()[33:],
    "zmtp-2.0": b"\xff" + bytes(8) + b"\x7f\x01\x05",
    "zmtp-1.0": b"\x01\x00",
    "bad-signature": b"\xfe" + m.greeting()[1:],
    "no-signature-bit": m.greeting()[:9] + b"\x7e" + m.greeting()[10:],
    "major-1": m.greeting(major=1),
    "http": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "truncated-1": m.greeting()[:1],
    "truncated-10": m.greeting()[:10],
    "truncated-12": m.greeting()[:12],
    "truncated-32": m.greeting()[:32],
    "truncated-63": m.greeting()[:63],
}

READY_PROPS = {
    "pull": prop(b"Socket-Type", b"PULL"),
    "dealer-id": prop(b"Socket-Type", b"DEALER") + prop(b"Identity", b"peer"),
    "router-id-255": prop(b"Socket-Type", b"ROUTER") + prop(b"Identity", b"i" * 255),
    "dealer-id-256": prop(b"Socket-Type", b"DEALER") + prop(b"Identity", b"i" * 256),
    "no-socket-type": prop(b"Identity", b"x"),
    "empty": b"",
    "unknown-type": prop(b"Socket-Type", b"FOO"),
    "lowercase-type": prop(b"Socket-Type", b"dealer"),
    "type-prefix": prop(b"Socket-Type", b"DEAL"),
    "type-twice": prop(b"Socket-Type", b"FOO") + prop(b"Socket-Type", b"PUB"),
    "extra-props": prop(b"Resource", b"/a") + prop(b"X-Custom", b"v" * 40) + prop(b"Socket-Type", b"SUB"),
    "name-len-0": b"\x00" + struct.pack(">I", 0),
    "name-255": prop(b"N" * 255, b"v"),
    "value-len-overrun": b"\x0bSocket-Type" + struct.pack(">I", 0xFFFFFFFF) + b"PUB",
    "value-len-off-by-one": b"\x0bSocket-Type" + struct.pack(">I", 4) + b"PUB",
    "truncated-name": b"\x0bSocket",
    "truncated-length": b"\x0bSocket-Type\x00\x00",
    "trailing-byte": prop(b"Socket-Type", b"PUSH") + b"\x01",
}


def stream_after_ready(t):
    """A little of everything a peer sends in the traffic phase."""
    return (F(b"hello") + F(b"part1", more=True) + F(b"part2")
            + ping(10, b"ctx") + cmd(b"\x09SUBSCRIBEtopic") + cmd(b"\x06CANCELtopic")
            + F(b"x" * 300) + cmd(b"\x04PONG") + F(b""))


def seeds_frames():
    out = {}
    s = {
        "short": F(b"hello"),
        "empty-body": F(b""),
        "more-chain": F(b"a", more=True) + F(b"b", more=True) + F(b"c"),
        "long-300": F(b"x" * 300),
        "long-form-small": long_frame(b"tiny"),
        "command": cmd(b"\x04PING\x00\x00"),
        "reserved-bits": bytes([0xF8, 3]) + b"abc" + bytes([0xF9, 0]),
        "size-255": F(b"y" * 255),
        "size-256": F(b"y" * 256),
        "huge-2^62": header(0, 1 << 62),
        "huge-2^62+1": header(0, (1 << 62) + 1),
        "huge-2^64-1": header(0, (1 << 64) - 1),
        "huge-2^40": header(0, 1 << 40),
        "header-split": header(1, 5)[:4],
        "truncated-body": F(b"abcdef")[:5],
        "many-small": b"".join(F(bytes([i])) for i in range(40)),
    }
    for i, (name, stream) in enumerate(s.items()):
        for mx in (-1, 5, 300):
            split = (0, 1, 7)[(i + mx) % 3]
            out[f"{name}-max{mx}-split{split}"] = maxsel(mx) + bytes([split]) + stream
    return out


def seeds_greeting():
    out = {}
    for name, g in GREETINGS.items():
        for t in (7, 6):
            out[f"{name}-type{t}"] = cfg(t) + b"\x00" + g
    full = m.greeting() + m.ready_frame(8) + stream_after_ready(7)
    for split in (0, 1, 3, 64):
        out[f"whole-pull-split{split}"] = cfg(7) + bytes([split]) + full
    out["whole-router-rid"] = cfg(6, rid=True) + b"\x05" + m.greeting() + m.ready_frame(5, b"me") + F(b"x")
    return out


def seeds_handshake():
    out = {}
    for i, (name, props) in enumerate(READY_PROPS.items()):
        for t in ((7, 5), (6, 2))[i % 2]:
            out[f"ready-{name}-type{t}"] = cfg(t) + b"\x00" + ready(props) + F(b"after")
    others = {
        "ready-then-ready": m.ready_frame(8) + m.ready_frame(8),
        "ready-more-flag": cmd(b"\x05READY" + prop(b"Socket-Type", b"PUSH"), more=True),
        "ready-long-form": long_frame(b"\x05READY" + prop(b"Socket-Type", b"PUSH"), 4),
        "ready-as-data": F(b"\x05READY" + prop(b"Socket-Type", b"PUSH")),
        "error-first": cmd(b"\x05ERROR\x0bbad request"),
        "ping-first": ping(1),
        "hello-first": cmd(b"\x05HELLO\x05admin\x06secret"),
        "initiate-first": cmd(b"\x08INITIATE" + prop(b"Socket-Type", b"PUSH")),
        "data-first": F(b"hi"),
        "empty-command": cmd(b""),
        "name-overrun": cmd(b"\x09READY"),
        "ready-split": m.ready_frame(8)[:5],
    }
    for name, s in others.items():
        for t in (7, 6):
            out[f"{name}-type{t}"] = cfg(t) + b"\x01" + s
    return out


def seeds_commands():
    out = {}
    cmds = {
        "data": F(b"hello") + F(b"a", more=True) + F(b"b"),
        "ping-no-ttl": cmd(b"\x04PING"),
        "ping-short-ttl": cmd(b"\x04PING\x00"),
        "ping-ttl0": ping(0),
        "ping-ttl-max": ping(0xFFFF),
        "ping-ctx16": ping(5, b"c" * 16),
        "ping-ctx17": ping(5, b"c" * 17),
        "ping-ctx200": ping(5, b"c" * 200),
        "ping-more": cmd(b"\x04PING\x00\x01", more=True) + F(b"x"),
        "pong": cmd(b"\x04PONG\x00\x01ab"),
        "subscribe-empty": cmd(b"\x09SUBSCRIBE"),
        "subscribe-topic": cmd(b"\x09SUBSCRIBEweather"),
        "subscribe-long": cmd(b"\x09SUBSCRIBE" + b"t" * 400),
        "cancel": cmd(b"\x06CANCELweather"),
        "error": cmd(b"\x05ERROR\x06reason"),
        "unknown": cmd(b"\x07UNKNOWNpayload"),
        "name-overrun": cmd(b"\xffPING"),
        "empty-command": cmd(b""),
        "ready-again": m.ready_frame(8),
        "multipart-cut-by-command": F(b"a", more=True) + cmd(b"\x09SUBSCRIBEx") + F(b"b"),
        "many-pings": b"".join(ping(i, bytes([i])) for i in range(30)),
        "over-max": F(b"z" * 5000),
        "huge": header(0, 1 << 62),
        "reserved-bits": bytes([0xF0, 2]) + b"ok" + bytes([0xFC, 5]) + b"\x04PING",
    }
    setups = ((7, -1, 1000), (9, -1, 1000), (6, 4096, 1), (0, 300, 2))
    for i, (name, s) in enumerate(cmds.items()):
        for t, mx, hwm in (setups[i % 4], setups[(i + 1) % 4]):
            send = bytes([i % 4])       # what the socket sends meanwhile
            out[f"{name}-type{t}-max{mx}-hwm{hwm}"] = cfg(t, mx, hwm) + b"\x00" + send + s
    out["mixed-pull-split1"] = cfg(7) + b"\x01\x00" + stream_after_ready(7)
    # Backpressure over many rounds: HWM 1, far more frames than one read.
    out["hwm1-many-frames"] = cfg(6, 4096, 1) + b"\x00\x00" + F(b"") * 150 + ping(1) + F(b"end")
    out["hwm1-many-frames-split"] = cfg(7, -1, 1) + b"\x03\x00" + b"".join(F(bytes([i])) for i in range(200))
    return out


def seeds_metadata():
    out = {}
    for i, (name, props) in enumerate(READY_PROPS.items()):
        for t in ((7, 5), (6, 1))[i % 2]:
            out[f"{name}-type{t}"] = bytes([SOCKET_TYPES.index(t)]) + props
    for t in SOCKET_TYPES:
        name = m.SOCKET_TYPE_NAMES[PEER[t]]
        out[f"compatible-{t}"] = bytes([SOCKET_TYPES.index(t)]) + prop(b"Socket-Type", name)
    return out


def plain_seed(t, as_server, split, stream, creds=0, zap=0):
    """zap: index into zmtp_model.ZAP_REPLIES (0 no handler, 1 200, 2 400,
    3 300, 4 500, 5 never answers, 6 malformed)."""
    return bytes([SOCKET_TYPES.index(t), (1 if as_server else 0) | creds << 1 | zap << 3, split]) + stream


def seeds_plain():
    """[type][role: bit 0 server, then credentials][split] + frames."""
    out = {}
    hellos = {
        "hello": m.plain_hello_body(b"admin", b"secret"),
        "hello-empty": m.plain_hello_body(b"", b""),
        "hello-255": m.plain_hello_body(b"u" * 255, b"p" * 255),
        "hello-trailing": m.plain_hello_body(b"a", b"b") + b"x",
        "hello-user-overrun": b"\x05HELLO\x09ab",
        "hello-password-overrun": b"\x05HELLO\x01a\x09b",
        "hello-no-password": b"\x05HELLO\x01a",
        "hello-bare": b"\x05HELLO",
    }
    for i, (name, body) in enumerate(hellos.items()):
        out[f"server-{name}"] = plain_seed((7, 6)[i % 2], True, i % 3, cmd(body))
    out["server-initiate-first"] = plain_seed(7, True, 0, cmd(m.initiate_body(8)))
    out["server-error-first"] = plain_seed(7, True, 0, cmd(b"\x05ERROR\x03400"))
    out["server-data-first"] = plain_seed(7, True, 0, F(b"hello"))
    hello = cmd(m.plain_hello_body(b"admin", b"secret"))
    for zap, name in enumerate(("none", "200", "400", "300", "500", "never", "malformed")):
        out[f"server-zap-{name}"] = plain_seed(7, True, zap % 3, hello + cmd(m.initiate_body(8)) + F(b"after"),
                                               zap=zap)
    for i, (name, props) in enumerate(READY_PROPS.items()):
        t = (7, 6, 5)[i % 3]
        out[f"server-zap-initiate-{name}-type{t}"] = plain_seed(
            t, True, i % 4, hello + cmd(b"\x08INITIATE" + props) + F(b"x") + ping(2, b"c"), zap=1)
    out["server-zap-ready-not-initiate"] = plain_seed(7, True, 0, hello + m.ready_frame(8), zap=1)
    out["server-zap-data-before-initiate"] = plain_seed(7, True, 0, hello + F(b"early") + cmd(m.initiate_body(8)),
                                                        zap=1)
    out["server-zap-hello-twice"] = plain_seed(7, True, 0, hello + hello, zap=1)
    out["server-zap-malformed-hello"] = plain_seed(7, True, 0, cmd(b"\x05HELLO\x09ab"), zap=1)
    welcome = cmd(b"\x07WELCOME")
    for i, (name, props) in enumerate(READY_PROPS.items()):
        t = (7, 6, 5)[i % 3]
        out[f"client-ready-{name}-type{t}"] = plain_seed(t, False, i % 4, welcome + ready(props) + F(b"after"), i % 4)
    out["client-whole"] = plain_seed(7, False, 0, welcome + m.ready_frame(8) + stream_after_ready(7))
    out["client-router"] = plain_seed(6, False, 1, welcome + m.ready_frame(5, b"me") + F(b"x") + ping(3, b"c"))
    out["client-welcome-trailing"] = plain_seed(7, False, 0, cmd(b"\x07WELCOMEx") + m.ready_frame(8))
    out["client-welcome-as-data"] = plain_seed(7, False, 0, F(b"\x07WELCOME") + m.ready_frame(8))
    out["client-ready-first"] = plain_seed(7, False, 0, m.ready_frame(8))
    out["client-welcome-twice"] = plain_seed(7, False, 0, welcome + welcome)
    out["client-error-zap"] = plain_seed(7, False, 0, cmd(b"\x05ERROR\x03400"))
    out["client-error-after-welcome"] = plain_seed(7, False, 0, welcome + cmd(b"\x05ERROR\x00"))
    out["client-data-before-ready"] = plain_seed(7, False, 0, welcome + F(b"early") + m.ready_frame(8))
    out["client-welcome-long-form"] = plain_seed(7, False, 0, long_frame(b"\x07WELCOME", 4) + m.ready_frame(8))
    out["client-cut"] = plain_seed(7, False, 1, welcome + m.ready_frame(8)[:6])
    return out


def curve_seed(t, as_server, split, ops):
    return bytes([SOCKET_TYPES.index(t), 1 if as_server else 0, split]) + ops


def curve_messages():
    """[flags][mutation][len][body] messages: data, multipart, a PING and
    a SUBSCRIBE inside MESSAGE."""
    return (b"\x00\x00\x05hello" + b"\x01\x00\x01a" + b"\x00\x00\x01b"
            + b"\x02\x00\x09\x04PING\x00\x01ab" + b"\x02\x00\x0a\x09SUBSCRIBE" + b"\x00\x00\x00")


def seeds_curve():
    """[type][role: bit 0 server, then the ZAP answer][split] + one op byte (and parameters)
    per handshake command, then messages (see fuzz_curve.py and
    curve_peer.py: 0 none, 4 flip, 5 truncate, 6 append, 7 as data,
    8 ERROR, 9 other name, 10 cut, 11 plaintext flip, 12 metadata,
    13 nonce, 14 wrong key, 15 long frame; messages: 1 nonce, 2 wrong
    direction, 3 flip, 4 cut)."""
    out = {}
    msgs = curve_messages()
    for as_server in (True, False):
        role = "server" if as_server else "client"
        for t in (7, 6, 1, 2):
            out[f"{role}-valid-type{t}"] = curve_seed(t, as_server, 0, b"\x00\x00" + msgs)
        out[f"{role}-valid-split1"] = curve_seed(7, as_server, 1, b"\x00\x00" + msgs)
        out[f"{role}-valid-split5"] = curve_seed(5, as_server, 5, b"\x00\x00" + msgs)
        for step in (0, 1):
            pre = b"\x00" * step
            post = b"\x00" * (1 - step)
            for name, op in (("flip", b"\x04\x00\x30\x02"), ("truncate", b"\x05\x00\x40"),
                             ("append", b"\x06\x03xyz"), ("as-data", b"\x07"), ("error", b"\x08\x03400"),
                             ("other-name", b"\x09\x05"), ("cut", b"\x0a\x00\x50"),
                             ("plain-flip", b"\x0b\x00\x90\x01"), ("nonce-same", b"\x0d\x00"),
                             ("nonce-zero", b"\x0d\x01"), ("nonce-max", b"\x0d\x02"),
                             ("wrong-key", b"\x0e\x00"), ("wrong-key-vouch", b"\x0e\x01"),
                             ("wrong-key-cookie", b"\x0e\x03"), ("long-frame", b"\x0f")):
                out[f"{role}-step{step}-{name}"] = curve_seed(7, as_server, step, pre + op + post + msgs)
        for i, (name, props) in enumerate(READY_PROPS.items()):
            t = (7, 6, 5)[i % 3]
            out[f"{role}-metadata-{name}-type{t}"] = curve_seed(
                t, as_server, 0, b"\x00\x0c" + struct.pack(">H", len(props)) + props + b"\x00\x00\x02hi")
        for name, m_op in (("nonce-same", b"\x01\x00"), ("direction", b"\x02"), ("flip", b"\x03\x00\x10\x04"),
                           ("cut", b"\x04\x10")):
            out[f"{role}-message-{name}"] = curve_seed(7, as_server, 0, b"\x00\x00\x00\x00\x01a"
                                                       + b"\x00" + m_op[:1] + b"\x02bc" + m_op[1:] + b"\x00\x00\x01z")
    for zap, name in enumerate(("none", "200", "400", "300", "500", "never", "malformed")):
        out[f"server-zap-{name}"] = bytes([SOCKET_TYPES.index(7), 1 | zap << 1, zap % 2]) + b"\x00\x00" + msgs
        out[f"server-zap-{name}-bad-vouch"] = bytes([SOCKET_TYPES.index(6), 1 | zap << 1, 0]) + b"\x00\x0e\x00"
    # A HELLO nonce of 2^64-1: INITIATE's wraps to 0 and must be refused.
    out["server-hello-nonce-max-initiate-wraps"] = curve_seed(7, True, 0, b"\x0d\x02\x00" + msgs)
    return out


def seeds_datagram():
    """udp datagrams: well-formed ones of every shape, and the malformed
    ones a DISH drops (empty, a group length past the end)."""
    out = {"empty": b"", "zero-group-empty-body": b"\x00", "only-length": b"\x05",
           "cut-group": b"\x05abc", "length-255-short": b"\xff" + b"g" * 254,
           "length-255-exact": b"\xff" + b"g" * 255, "length-255-body": b"\xff" + b"g" * 255 + b"body",
           "nul-in-group": b"\x03a\x00b" + b"body", "high-bit-length": b"\x80" + b"h" * 128 + b"x",
           "max-datagram": b"\x01g" + b"m" * (8192 - 2)}
    for n in (0, 1, 2, 7, 15, 16, 17, 31, 32, 33, 100, 127, 128, 200, 254, 255):
        out[f"group-{n}"] = bytes([n]) + b"G" * n + b"payload"
        out[f"group-{n}-one-short"] = bytes([n + 1 & 255]) + b"G" * n if n < 255 else b"\xff" + b"G" * 254
    return out


def seeds_pgm():
    """[mode] + raw packets ([2-byte length][packet]) or a message stream
    ([apdu size][n][shapes] + ops); see fuzz_pgm.py."""
    import struct
    import fuzz_pgm as P
    out = {}

    def raw(*pkts):
        return b"".join(struct.pack(">H", len(p)) + p for p in pkts)
    msgs = P.shapes(bytes(range(0, 250, 11)), 12)
    ap = P.split_apdus(msgs, 40)
    odata = [P.data_packet(i, 0, a) for i, a in enumerate(ap)]
    out["raw-in-order"] = b"\x01" + raw(*odata)
    out["raw-reversed"] = b"\x01" + raw(*reversed(odata))
    out["raw-spm-first"] = b"\x01" + raw(P.spm(0, 0, len(odata) - 1), *odata)
    out["raw-gap-then-spm-trail"] = b"\x01" + raw(odata[0], *odata[2:], P.spm(1, 2, len(odata) - 1))
    out["raw-rdata-repair"] = b"\x01" + raw(odata[0], *odata[2:], P.data_packet(1, 0, ap[1], ptype=0x05))
    out["raw-bad-checksum"] = b"\x01" + raw(odata[0][:6] + b"\x12\x34" + odata[0][8:])
    out["raw-no-checksum"] = b"\x01" + raw(odata[0][:6] + b"\0\0" + odata[0][8:])
    out["raw-truncated"] = b"\x03" + raw(*(p[:k] for p in odata[:3] for k in (3, 16, 20, 25)))
    out["raw-bad-offset"] = b"\x01" + raw(P.data_packet(0, 0, b"\x00\x30abc"))
    out["raw-zero-length-frame"] = b"\x01" + raw(P.data_packet(0, 0, b"\x00\x00\x00\x00"))
    out["raw-huge-length"] = b"\x01" + raw(P.data_packet(0, 0, b"\x00\x00\xff" + b"\xff" * 8 + b"\x00"))
    out["raw-fragments"] = b"\x01" + raw(*(P.data_packet(i, 0, ap[0][i * 4:i * 4 + 4], frag=(0, i * 4, len(ap[0])))
                                           for i in range((len(ap[0]) + 3) // 4)))
    out["raw-fragment-bad-offset"] = b"\x01" + raw(P.data_packet(0, 0, b"abcd", frag=(0, 8, 6)))
    out["raw-nak-ncf-spmr"] = b"\x03" + raw(P.header(0x08, 0) + bytes(20), P.header(0x0a, 0) + bytes(20),
                                            P.header(0x0c, 0))
    out["raw-options-unterminated"] = b"\x03" + raw(P.header(0x04, 0, 1) + bytes(8) + b"\x00\x04\x00\x08\x01\x04\x00\x00")
    out["raw-far-sqn"] = b"\x01" + raw(odata[0], P.data_packet(1 << 31, 0, ap[1]), P.data_packet(100000, 0, ap[1]))
    out["raw-other-source"] = b"\x01" + raw(odata[0], odata[1][:8] + b"\x09" + odata[1][9:])
    out["stream-in-order"] = b"\x00\x10\x08" + bytes(range(0, 80, 10))
    out["stream-fragmented"] = b"\x04\x30\x06" + bytes([3, 200, 77, 64, 129, 255])
    out["stream-drops"] = b"\x00\x05\x0a" + bytes(range(10)) + bytes([0, 5, 0, 0, 5, 0, 0])
    out["stream-swaps-repeats"] = b"\x00\x07\x0a" + bytes(range(40, 50)) + bytes([6, 0, 7, 6, 15, 0, 23, 0])
    out["stream-fragment-drops"] = b"\x04\x20\x05" + bytes([10, 50, 90, 130, 170]) + bytes([0, 0, 5, 0, 6, 0, 5])
    out["stream-tiny-apdus"] = b"\x00\x00\x0c" + bytes(range(100, 112))
    # several sources on one group (a window each, messages never mixed)
    out["stream-two-sources"] = b"\x08\x10\x08" + bytes(range(0, 80, 10)) + bytes([0, 8] * 12)
    out["stream-two-sources-loss"] = (b"\x0c\x20\x06" + bytes([3, 200, 77, 64, 129, 255])
                                      + bytes([0, 8, 5, 13, 0, 8, 6, 14, 7, 15, 0, 8, 0, 8]))
    peer_spmr = P.seal(struct.pack(">HHBBH6sH", P.PORT, P.SPORT, 0x0c, 0, 0, P.GSI, 0))
    out["raw-two-sources-spmr"] = b"\x01" + raw(odata[0], P.data_packet(0, 0, ap[0], src=1), peer_spmr,
                                                 odata[2], P.spm(0, 0, 3, src=1), odata[1])
    many = [P.seal(P.data_packet(0, 0, ap[0])[:8] + bytes([k]) + P.data_packet(0, 0, ap[0])[9:])
            for k in range(20)]
    out["raw-many-sources"] = b"\x01" + raw(*many)
    return out


TARGETS = {
    "datagram": seeds_datagram,
    "greeting": seeds_greeting,
    "frames": seeds_frames,
    "commands": seeds_commands,
    "handshake": seeds_handshake,
    "metadata": seeds_metadata,
    "plain": seeds_plain,
    "curve": seeds_curve,
    "pgm": seeds_pgm,
}


def main():
    for target, make in TARGETS.items():
        d = os.path.join(HERE, "corpus", target)
        os.makedirs(d, exist_ok=True)
        seeds = make()
        for f in os.listdir(d):
            if os.path.isfile(os.path.join(d, f)) and f not in seeds:
                os.remove(os.path.join(d, f))
        for name, data in seeds.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        print(f"{target}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
