"""Target: the PGM receive path (wire/pgm_codec.pxi pgm_parse, then the
window, the APDU reassembly and the ZMTP/1.0 decoder of wire/pgm_rx.pxi),
as a receiver session runs it on each packet heard on the group.

Input [mode] then:
- mode odd, "raw": packets as [2-byte length][bytes]; with mode & 2 each
  gets a correct checksum so the fuzzer gets past it. Checks: no crash, no
  exception, every delivered message is whole (a cut one's frames never
  surface), nothing delivered from a packet pgm_parse refused.
- mode even, "stream": [apdu size][n messages] + message shapes, packed
  into APDUs as libzmq's pgm_sender_t packs them (2-byte offset of the
  first message starting in it, ZMTP/1.0 frames; with mode & 4 each APDU
  split over TPDUs with OPT_FRAGMENT), sent as ODATA; then one op byte per
  step: deliver the next packet, drop it, repeat one as RDATA, swap two, or
  an SPM moving the trailing edge. Checks: the messages delivered are the
  messages sent, whole, in order, with only whole messages missing; all of
  them when nothing was dropped and the first packet came first. With
  mode & 8 two sources (two TSIs) send, their first frames b"A" and b"B",
  each op's bit 3 picking the source: the same checks for each source's
  messages, which never interleave with the other's frames; any missing
  are counted as losses (one source half way through a message holds the
  other back, which may overrun its window)."""
import struct

import fuzzlib
from fuzzlib import _core

TARGET = "pgm"
PORT = 5555
GSI = b"\x01\x02\x03\x04\x05\x06"
SPORT = 4242


def checksum(pkt):
    if len(pkt) % 2:
        pkt += b"\0"
    s = sum(struct.unpack(f">{len(pkt) // 2}H", pkt))
    while s >> 16:
        s = (s >> 16) + (s & 0xffff)
    return s if s == 0xffff else (~s) & 0xffff


def seal(pkt):
    pkt = pkt[:6] + b"\0\0" + pkt[8:]
    return pkt[:6] + struct.pack(">H", checksum(pkt)) + pkt[8:]


GSI2, SPORT2 = b"\x0a\x0b\x0c\x0d\x0e\x0f", 4243


def header(ptype, tsdu_len, options=0, src=0):
    gsi, sport = (GSI, SPORT) if src == 0 else (GSI2, SPORT2)
    return struct.pack(">HHBBH6sH", sport, PORT, ptype, options, 0, gsi, tsdu_len)


def data_packet(sqn, trail, tsdu, ptype=0x04, frag=None, src=0):
    if frag is None:
        return seal(header(ptype, len(tsdu), src=src) + struct.pack(">II", sqn, trail) + tsdu)
    first, off, total = frag
    opts = struct.pack(">BBH", 0x00, 4, 4 + 16) + struct.pack(">BBBBIII", 0x01 | 0x80, 16, 0, 0, first, off, total)
    return seal(header(ptype, len(tsdu), 0x01, src) + struct.pack(">II", sqn, trail) + opts + tsdu)


def spm(sqn, trail, lead, src=0):
    return seal(header(0x00, 0, src=src) + struct.pack(">IIIHH4s", sqn, trail, lead, 1, 0, b"\x7f\0\0\1"))


def v1_frame(body, more):
    n = len(body) + 1
    head = bytes([n]) if n < 255 else b"\xff" + struct.pack(">Q", n)
    return head + bytes([1 if more else 0]) + body


def split_apdus(messages, tsdu):
    """libzmq's pgm_sender_t::out_event: the encoder's stream cut into
    APDUs of tsdu bytes, each led by the offset of the first message that
    starts in it (0xffff: none)."""
    frames = [(f, i < len(m) - 1) for m in messages for i, f in enumerate(m)]
    out = []
    cap = tsdu - 2
    cur = b""           # rest of the frame being encoded
    more = False
    k = 0
    while True:
        buf = cur[:cap]
        cur = cur[cap:]
        offset = 0xffff
        while len(buf) < cap:
            if not more and offset == 0xffff:
                offset = len(buf)
            if cur or k == len(frames):
                break
            body, more = frames[k]
            k += 1
            enc = v1_frame(body, more)
            room = cap - len(buf)
            buf += enc[:room]
            cur = enc[room:]
        if not buf:
            return out
        out.append(struct.pack(">H", offset) + buf)


def shapes(data, n):
    msgs = []
    for i in range(n):
        b = data[i % len(data)] if data else i
        parts = 1 + (b >> 6) % 3
        size = (b & 0x3f) * (1 if b & 0x20 else 37)
        msgs.append([bytes([(i + j) & 0xff]) * (size if j == parts - 1 else (j + i) % 5) for j in range(parts)])
    return msgs


def check_whole(r):
    for m in r.messages:
        assert isinstance(m, list) and m and all(isinstance(f, bytes) for f in m)


def raw_mode(mode, data):
    r = _core._FuzzPgmReceiver(PORT, 256, 1 << 20)
    pos = 0
    while pos + 2 <= len(data):
        n = struct.unpack(">H", data[pos:pos + 2])[0] % 2048
        pkt = bytes(data[pos + 2:pos + 2 + n])
        pos += 2 + n
        if mode & 2 and len(pkt) >= 16:
            pkt = seal(pkt)
        before = len(r.messages)
        if not r.feed(pkt, pos):
            assert len(r.messages) == before
        r.due_naks(pos + 1000)
    check_whole(r)


class Source:
    """One source's packets for stream_mode, and what the receiver got of it."""

    def __init__(self, k, msgs, tsdu, fragment):
        self.k, self.msgs = k, msgs
        self.packets = []
        for apdu in split_apdus(msgs, tsdu):
            if fragment and len(apdu) > 4:
                first = len(self.packets)
                for off in range(0, len(apdu), 4):
                    self.packets.append((apdu[off:off + 4], (first, off, len(apdu))))
            else:
                self.packets.append((apdu, None))
        self.wire = [data_packet(i, 0, t, frag=f, src=k) for i, (t, f) in enumerate(self.packets)]
        self.queue = list(range(len(self.wire)))
        self.dropped, self.first_fed, self.fed = False, None, []

    def step(self, r, op):
        kind = op % 8
        if kind == 5:
            self.queue.pop(0)
            self.dropped = True
            return
        if kind == 6 and len(self.queue) > 1:
            self.queue[0], self.queue[1] = self.queue[1], self.queue[0]
        if kind == 7 and self.fed:
            i = self.fed[op % len(self.fed)]
            r.feed(data_packet(i, 0, self.packets[i][0], ptype=0x05, frag=self.packets[i][1], src=self.k))
            return
        self.feed_next(r)

    def feed_next(self, r):
        i = self.queue.pop(0)
        self.first_fed = i if self.first_fed is None else self.first_fed
        self.fed.append(i)
        assert r.feed(self.wire[i])

    def finish(self, r):
        while self.queue:
            self.feed_next(r)
        # The source has nothing left: every gap is now a loss.
        assert r.feed(spm(1, len(self.wire), len(self.wire) - 1, src=self.k))

    def check(self, got, losses=None):
        """losses: the receiver's count when another source shared it."""
        it = iter(self.msgs)
        for m in got:
            assert any(m == w for w in it), ("delivered out of order, cut or changed", m)
        if self.dropped or self.first_fed != 0:
            return
        # A source half way through a message holds another back meanwhile,
        # which may overrun its window: a loss then, but a counted one.
        assert got == self.msgs or (losses is not None and losses > 0), (len(got), len(self.msgs))


def stream_mode(mode, data):
    if len(data) < 2:
        return
    tsdu = 3 + data[0] % 120
    n = 1 + data[1] % 24
    msgs = shapes(data[2:2 + n], n)
    ops = data[2 + n:]
    two = bool(mode & 8)
    if two:
        sources = [Source(k, [[tag] + m for m in msgs], tsdu, mode & 4) for k, tag in enumerate((b"A", b"B"))]
    else:
        sources = [Source(0, msgs, tsdu, mode & 4)]
    r = _core._FuzzPgmReceiver(PORT, 256, -1)
    for op in ops:
        src = sources[(op >> 3) & 1] if two else sources[0]
        if src.queue:
            src.step(r, op)
        elif all(not x.queue for x in sources):
            break
    for src in sources:
        src.finish(r)
    check_whole(r)
    if two:
        for src, tag in zip(sources, (b"A", b"B")):
            src.check([m for m in r.messages if m[0] == tag], r.losses)
        assert all(m[0] in (b"A", b"B") for m in r.messages), "frames of two sources mixed"
        assert r.sources == 2
    else:
        sources[0].check(r.messages)
        if not sources[0].dropped and sources[0].first_fed == 0:
            assert r.losses == 0


def TestOneInput(data):
    if not data:
        return
    mode, rest = data[0], bytes(data[1:])
    if mode & 1:
        raw_mode(mode, rest)
    else:
        stream_mode(mode, rest)


if fuzzlib.atheris is not None:
    # With an uninstrumented core, the branches of these checks are what
    # guide the fuzzer (the instrumented build adds the core's own).
    for _name in ("raw_mode", "stream_mode", "split_apdus", "shapes", "TestOneInput"):
        globals()[_name] = fuzzlib.atheris.instrument_func(globals()[_name])
    Source.step = fuzzlib.atheris.instrument_func(Source.step)
    Source.check = fuzzlib.atheris.instrument_func(Source.check)

if __name__ == "__main__":
    fuzzlib.main(TestOneInput, TARGET)
