"""The other end of a CURVE handshake (RFC 26) in Python, with PyNaCl's
libsodium, for fuzz_curve.py: it builds every command the peer of a
session sends with real crypto, so that mutations the input chooses reach
the parsers behind each box (INITIATE's vouch and metadata, READY's
metadata, MESSAGE), and it reads and checks what the session answers.

A command is built valid, then one mutation, chosen by an op byte, is
applied either to its plaintext (before the box) or to its body or frame;
`Step.valid` says whether the session must still accept it, by the rules
alone (the boxes, the nonce order, the sizes, the metadata the NULL model
accepts). Nothing here looks at the session's verdict."""
import struct

import nacl.bindings as nb
from nacl.exceptions import CryptoError

import zmtp_model as model

U64 = (1 << 64) - 1

# Long-term keys (fixed: the vouch and the server key must be known to
# both sides) and the peer's short-term pair.
SERVER_SECRET = bytes(range(1, 33))
SERVER_PUBLIC = nb.crypto_scalarmult_base(SERVER_SECRET)
CLIENT_PUBLIC, CLIENT_SECRET = nb.crypto_box_seed_keypair(b"client-long-term".ljust(32, b"."))
PEER_SHORT_PUBLIC, PEER_SHORT_SECRET = nb.crypto_box_seed_keypair(b"peer-short-term".ljust(32, b"."))
OTHER_PUBLIC, OTHER_SECRET = nb.crypto_box_seed_keypair(b"some-other-key".ljust(32, b"."))
COOKIE = bytes(range(96))

PEER = {0: 0, 1: 2, 2: 1, 3: 4, 4: 3, 5: 6, 6: 5, 7: 8, 8: 7, 9: 10, 10: 9,
        11: 11, 12: 13, 13: 12, 19: 19, 20: 20}

# Mutation ops (op byte % 16).
(OP_NONE, OP_NONE2, OP_NONE3, OP_NONE4, OP_FLIP, OP_TRUNCATE, OP_APPEND, OP_AS_DATA,
 OP_ERROR, OP_OTHER_COMMAND, OP_CUT, OP_PLAIN_FLIP, OP_METADATA, OP_NONCE, OP_WRONG_KEY,
 OP_LONG_FRAME) = range(16)


class Input:
    """The fuzzer's bytes, read as needed; zeros once they run out."""

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def byte(self):
        if self.pos >= len(self.data):
            return 0
        self.pos += 1
        return self.data[self.pos - 1]

    def u16(self):
        return self.byte() << 8 | self.byte()

    def take(self, n):
        b = self.data[self.pos:self.pos + n]
        self.pos += len(b)
        return b

    def left(self):
        return len(self.data) - self.pos


class Step:
    """One command as the peer sends it: the bytes for the wire, whether
    the session must accept it, and whether it is cut short (the session
    must then still be waiting)."""

    def __init__(self, wire, valid, cut=False):
        self.wire = wire
        self.valid = valid
        self.cut = cut


def nonce_after(prev, inp, op):
    """The next short nonce: prev + 1, or (OP_NONCE) one the input picks:
    the same again, zero, the largest, or a jump."""
    if op != OP_NONCE:
        return (prev + 1) & U64
    which = inp.byte() % 5
    if which == 4:
        return (prev + 1 + inp.byte()) & U64
    return (prev, 0, U64, prev + (1 << 32))[which] & U64


def default_metadata(local_type):
    """The properties a compatible peer sends."""
    return model.ready_body(PEER.get(local_type, local_type))[6:]


def metadata(local_type, inp, op):
    if op != OP_METADATA:
        return default_metadata(local_type)
    return inp.take(inp.u16())


def metadata_ok(local_type, meta):
    return model.null_accepts(local_type, b"\x05READY" + meta)[0]


def flip(b, inp, lo=0):
    """b with one bit flipped at an input-chosen place at or after lo;
    (bytes, the position in bits: byte * 8 + bit)."""
    if len(b) <= lo:
        return b, -1
    pos = lo + inp.u16() % (len(b) - lo)
    bit = inp.byte() % 8
    out = bytearray(b)
    out[pos] ^= 1 << bit
    return bytes(out), pos * 8 + bit


def same_key_bit(pos, key_at):
    """Whether bit `pos` is the top bit of the 32-byte public key at byte
    key_at: X25519 ignores it (RFC 7748), so the key is the same key."""
    return pos == (key_at + 31) * 8 + 7


def wire(body, inp, op, valid, body_flip_ok=lambda pos: False):
    """The frame for `body` after the body- and frame-level mutations."""
    command = True
    long_form = False
    cut = False
    if op == OP_FLIP:
        body, pos = flip(body, inp)
        valid = valid and body_flip_ok(pos)
    elif op == OP_TRUNCATE:
        body = body[:inp.u16() % len(body)]
        valid = False
    elif op == OP_APPEND:
        body = body + inp.take(1 + inp.byte() % 32).ljust(1, b"\0")
        valid = False
    elif op == OP_AS_DATA:
        command = False
        valid = False
    elif op == OP_ERROR:
        reason = inp.take(inp.byte() % 8)
        body = b"\x05ERROR" + bytes([len(reason)]) + reason
        valid = False
    elif op == OP_OTHER_COMMAND:
        # The same body under another name: a command out of turn.
        name = (b"HELLO", b"WELCOME", b"INITIATE", b"READY", b"MESSAGE", b"PING")[inp.byte() % 6]
        valid = valid and name == body[1:1 + body[0]]
        body = bytes([len(name)]) + name + body[1 + body[0]:]
    elif op == OP_LONG_FRAME:
        long_form = True        # an 8-byte size: same command
    if long_form:
        w = bytes([6]) + struct.pack(">Q", len(body)) + body
    else:
        w = model.encode_frame(body, command=command)
    if op == OP_CUT:
        w = w[:inp.u16() % len(w)]
        cut = True
    return Step(w, valid, cut)


# ---------------------------------------------------------------- the peer of a server

class Client:
    """The client side, talking to a session that is a CURVE server."""

    def __init__(self, local_type):
        self.local_type = local_type
        self.nonce = 0
        self.server_short = None
        self.cookie = None
        self.server_nonce = 0
        self.meta = None
        self.client_key = CLIENT_PUBLIC
        self.sent_short = PEER_SHORT_PUBLIC

    def hello(self, inp):
        op = inp.byte() % 16
        self.nonce = nonce_after(0, inp, op)
        n = b"CurveZMQHELLO---" + struct.pack(">Q", self.nonce)
        server = OTHER_PUBLIC if op == OP_WRONG_KEY else SERVER_PUBLIC
        zeros = bytes(64)
        valid = True
        if op == OP_PLAIN_FLIP:
            zeros, _ = flip(zeros, inp)     # the server checks only that the box opens
        box = nb.crypto_box_easy(zeros, n, server, PEER_SHORT_SECRET)
        body = b"\x05HELLO\x01\x00" + bytes(72) + PEER_SHORT_PUBLIC + n[16:] + box
        valid = op != OP_WRONG_KEY
        # The 72 bytes of padding are not looked at (as by libzmq), nor
        # the bit of C' that X25519 ignores.
        step = wire(body, inp, op, valid, lambda pos: 8 * 8 <= pos < 80 * 8 or same_key_bit(pos, 80))
        frames, _ = model.decode_frames(step.wire)
        if frames and len(frames[0][1]) >= 112:
            # The vouch names C' as the server received it, byte for byte.
            self.sent_short = frames[0][1][80:112]
        return step

    def take_welcome(self, body):
        """Opens the session's WELCOME; AssertionError if it is not one."""
        assert len(body) == 168 and body[:8] == b"\x07WELCOME", body[:40]
        plain = nb.crypto_box_open_easy(body[24:], b"WELCOME-" + body[8:24], SERVER_PUBLIC, PEER_SHORT_SECRET)
        self.server_short, self.cookie = plain[:32], plain[32:]
        assert len(self.cookie) == 96

    def initiate(self, inp):
        op = inp.byte() % 16
        prev = self.nonce
        self.nonce = nonce_after(prev, inp, op)
        valid = self.nonce > prev
        self.meta = metadata(self.local_type, inp, op)
        valid = valid and metadata_ok(self.local_type, self.meta)
        vn = bytes(range(16))
        long_secret, long_public = CLIENT_SECRET, CLIENT_PUBLIC
        vouched = self.sent_short + SERVER_PUBLIC
        cookie = self.cookie
        if op == OP_WRONG_KEY:
            which = inp.byte() % 4
            if which == 0:
                long_secret = OTHER_SECRET          # a vouch C did not make
            elif which == 1:
                vouched = PEER_SHORT_PUBLIC + OTHER_PUBLIC  # for another server
            elif which == 2:
                vouched = OTHER_PUBLIC + SERVER_PUBLIC      # for another C'
            else:
                cookie = COOKIE                     # not the server's cookie
            valid = False
        vouch = nb.crypto_box_easy(vouched, b"VOUCH---" + vn, self.server_short, long_secret)
        plain = long_public + vn + vouch + self.meta
        if op == OP_PLAIN_FLIP:
            plain, pos = flip(plain, inp)
            if same_key_bit(pos, 0):
                self.client_key = plain[:32]    # the same key to X25519, told to ZAP as sent
            elif pos < 128 * 8:
                valid = False
            else:
                valid = valid and metadata_ok(self.local_type, plain[128:])
                self.meta = plain[128:]
        n = b"CurveZMQINITIATE" + struct.pack(">Q", self.nonce)
        box = nb.crypto_box_easy(plain, n, self.server_short, PEER_SHORT_SECRET)
        body = b"\x08INITIATE" + cookie + n[16:] + box
        return wire(body, inp, op, valid)

    def take_ready(self, body):
        """Opens the session's READY: its nonce grows, its metadata is ours."""
        assert body[:6] == b"\x05READY", body[:40]
        nonce = int.from_bytes(body[6:14], "big")
        assert nonce > self.server_nonce, (nonce, self.server_nonce)
        self.server_nonce = nonce
        plain = nb.crypto_box_open_easy(body[14:], b"CurveZMQREADY---" + body[6:14],
                                        self.server_short, PEER_SHORT_SECRET)
        return plain

    def message(self, flags, body, inp, op):
        return message(self, b"CurveZMQMESSAGEC", self.server_short, PEER_SHORT_SECRET, flags, body, inp, op)


# ---------------------------------------------------------------- the peer of a client

class Server:
    """The server side, talking to a session that is a CURVE client."""

    def __init__(self, local_type):
        self.local_type = local_type
        self.nonce = 0
        self.client_short = None
        self.cookie = COOKIE
        self.client_nonce = 0
        self.meta = None

    def take_hello(self, body):
        assert len(body) == 200 and body[:8] == b"\x05HELLO\x01\x00" and body[8:80] == bytes(72), body[:80]
        self.client_short = body[80:112]
        self.client_nonce = int.from_bytes(body[112:120], "big")
        zeros = nb.crypto_box_open_easy(body[120:], b"CurveZMQHELLO---" + body[112:120],
                                        self.client_short, SERVER_SECRET)
        assert zeros == bytes(64)

    def welcome(self, inp):
        op = inp.byte() % 16
        secret = OTHER_SECRET if op == OP_WRONG_KEY else SERVER_SECRET
        cookie = COOKIE
        if op == OP_PLAIN_FLIP:
            cookie, _ = flip(cookie, inp)   # opaque to the client: echoed
        self.cookie = cookie
        ln = bytes(range(100, 116))
        box = nb.crypto_box_easy(PEER_SHORT_PUBLIC + cookie, b"WELCOME-" + ln, self.client_short, secret)
        body = b"\x07WELCOME" + ln + box
        return wire(body, inp, op, op != OP_WRONG_KEY)

    def take_initiate(self, body):
        """Opens the session's INITIATE: our cookie back, its long-term
        key vouching for its short-term one and for us, its metadata."""
        assert body[:9] == b"\x08INITIATE" and body[9:105] == self.cookie, body[:120]
        nonce = int.from_bytes(body[105:113], "big")
        assert nonce > self.client_nonce, (nonce, self.client_nonce)
        self.client_nonce = nonce
        plain = nb.crypto_box_open_easy(body[113:], b"CurveZMQINITIATE" + body[105:113],
                                        self.client_short, PEER_SHORT_SECRET)
        assert plain[:32] == CLIENT_PUBLIC
        vouch = nb.crypto_box_open_easy(plain[48:128], b"VOUCH---" + plain[32:48], CLIENT_PUBLIC, PEER_SHORT_SECRET)
        assert vouch == self.client_short + SERVER_PUBLIC
        return plain[128:]

    def ready(self, inp):
        op = inp.byte() % 16
        prev = self.nonce
        self.nonce = nonce_after(prev, inp, op)
        valid = self.nonce > 0          # the client has seen none of ours yet
        self.meta = metadata(self.local_type, inp, op)
        secret = OTHER_SECRET if op == OP_WRONG_KEY else PEER_SHORT_SECRET
        plain = self.meta
        if op == OP_PLAIN_FLIP:
            plain, _ = flip(plain, inp)
            self.meta = plain
        valid = valid and metadata_ok(self.local_type, self.meta) and op != OP_WRONG_KEY
        n = b"CurveZMQREADY---" + struct.pack(">Q", self.nonce)
        body = b"\x05READY" + n[16:] + nb.crypto_box_easy(plain, n, self.client_short, secret)
        return wire(body, inp, op, valid)

    def message(self, flags, body, inp, op):
        return message(self, b"CurveZMQMESSAGES", self.client_short, PEER_SHORT_SECRET, flags, body, inp, op)


def message(peer, prefix, their_public, our_secret, flags, body, inp, op):
    """A MESSAGE carrying one frame (flags byte then body), as a plain
    frame; the mutations: a bit flipped, a nonce that does not grow, cut
    below its minimum, the wrong direction's nonce prefix."""
    prev = peer.nonce
    peer.nonce = nonce_after(prev, inp, OP_NONCE if op == 1 else OP_NONE)
    valid = peer.nonce > prev
    if op == 2:
        prefix = prefix[:-1] + (b"S" if prefix.endswith(b"C") else b"C")
        valid = False
    n = prefix + struct.pack(">Q", peer.nonce)
    w = b"\x07MESSAGE" + n[16:] + nb.crypto_box_easy(bytes([flags]) + body, n, their_public, our_secret)
    if op == 3:
        w, _ = flip(w, inp)
        valid = False
    elif op == 4:
        w = w[:inp.byte() % 33]
        valid = False
    return Step(model.encode_frame(w), valid)


def session_frames(body_after_greeting):
    """The session's commands, by parsing what it wrote after its greeting."""
    frames, err = model.decode_frames(body_after_greeting)
    assert err is None, body_after_greeting[:200]
    return frames


__all__ = ["Input", "Client", "Server", "CryptoError", "default_metadata", "metadata_ok"]
