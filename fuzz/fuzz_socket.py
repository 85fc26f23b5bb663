"""Socket-level fuzzer: hostile raw peers against every socket type while
legitimate traffic flows.

For each socket type an mqcore socket is bound on 127.0.0.1 and a
legitimate peer (pyzmq; a plain TCP client for STREAM) exchanges messages
with it, while raw TCP peers connect and send mutated ZMTP streams:
greetings (other versions and mechanisms, truncated), READY with the right
or a wrong Socket-Type, identities (the legitimate peer's own among them),
data frames, PING/PONG/SUBSCRIBE/CANCEL/ERROR/unknown commands, huge
sizes, then truncations, bit flips, inserted and repeated bytes, and they
hang up (sometimes with a reset). Afterwards:

- every legitimate message arrived, in order, unchanged (both directions
  where the pattern has two), and the socket still works;
- the process is alive and its RSS stayed bounded across rounds.

Attackers that complete a handshake with the right Socket-Type are real
peers: they are sent only to types whose outgoing traffic they cannot take
from the legitimate peer (not PUSH, REQ or DEALER, which load-balance).

Deterministic by seed (the attack streams are; thread timing is not):

    python fuzz/fuzz_socket.py --seed 1 --rounds 3 --attackers 60 --messages 300
    python fuzz/fuzz_socket.py --types PUB,ROUTER --seed 7

Exit status 0 when every check held; the failures are printed otherwise.
"""
import argparse
import os
import shutil
import tempfile
import random
import socket as pysocket
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fuzzlib  # noqa: E402 (chooses which mqcore)
import zmtp_model as m  # noqa: E402

import mqcore  # noqa: E402
import zmq as pyzmq  # noqa: E402

TIMEOUT_MS = 5000
TYPES = ("PAIR", "PUSH", "PULL", "REQ", "REP", "DEALER", "ROUTER",
         "PUB", "SUB", "XPUB", "XSUB", "STREAM")
NUM = {n.decode(): i for i, n in enumerate(m.SOCKET_TYPE_NAMES)}
LOAD_BALANCING = {"PUSH", "REQ", "DEALER"}
LEGIT_ID = b"legit-peer"


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# ---------------------------------------------------------------- attackers

def _cmd(body, more=False):
    return m.encode_frame(body, more=more, command=True)


def attack_stream(rng, local):
    """One hostile peer's bytes against a socket of type `local`."""
    num = NUM[local]
    right = sorted(t for t in range(len(m.SOCKET_TYPE_NAMES)) if m.compatible(num, t))
    wrong = sorted(t for t in range(len(m.SOCKET_TYPE_NAMES)) if t not in right)
    allow_right = local not in LOAD_BALANCING

    r = rng.random()
    if r < 0.75:
        g = m.greeting(rng.choice((0, 0, 3, 255)), minor=rng.choice((1, 1, 0)))
    elif r < 0.85:
        g = m.greeting(mechanism=rng.choice((b"PLAIN", b"CURVE", b"GSSAPI", b"NUL")))
    else:
        g = rng.choice((b"\xff" + bytes(8) + b"\x7f\x01\x05",      # ZMTP 2.0
                        b"\x01\x00", b"GET / HTTP/1.0\r\n\r\n",
                        m.greeting(major=rng.choice((1, 2, 4, 255)))))
    out = [g]

    if allow_right and rng.random() < 0.6:
        peer = rng.choice(right)
    else:
        peer = rng.choice(wrong)
    props = b""
    r = rng.random()
    if r < 0.8 or not allow_right:      # (no Socket-Type passes, as in libzmq)
        props += m.metadata_put(b"Socket-Type", m.SOCKET_TYPE_NAMES[peer])
    elif r < 0.9:
        props += m.metadata_put(b"Socket-Type", rng.choice((b"pub", b"FOO", b"", b"ROUTERX")))
    if rng.random() < 0.5:
        ident = LEGIT_ID if rng.random() < 0.3 else rng.randbytes(rng.choice((0, 1, 5, 255, 256)))
        props += m.metadata_put(b"Identity", ident)
    if rng.random() < 0.2:
        props += m.metadata_put(b"X-" + rng.randbytes(3), rng.randbytes(rng.randrange(50)))
    out.append(_cmd(b"\x05READY" + props))
    # Where mutations may go: for load-balancing types not into the READY,
    # where a flipped property name would make a typeless peer (accepted,
    # as by libzmq) that takes its share of the legitimate traffic.
    keep = (len(g), len(g) + len(out[-1])) if not allow_right else (0, 0)

    for _ in range(rng.randrange(12)):
        r = rng.random()
        if r < 0.35:
            size = rng.choice((0, 1, 10, 200, 256, 300, 3000))
            out.append(m.encode_frame(b"A" + rng.randbytes(size), more=rng.random() < 0.3))
        elif r < 0.45:
            ctx = rng.randbytes(rng.choice((0, 3, 16, 17, 40)))
            out.append(_cmd(b"\x04PING" + struct.pack(">H", rng.randrange(65536)) + ctx))
        elif r < 0.5:
            out.append(_cmd(b"\x04PONG" + rng.randbytes(rng.randrange(20))))
        elif r < 0.6:
            out.append(_cmd(b"\x09SUBSCRIBE" + rng.choice((b"", b"A", rng.randbytes(8)))))
        elif r < 0.7:
            out.append(_cmd(b"\x06CANCEL" + rng.choice((b"", b"A", rng.randbytes(8)))))
        elif r < 0.75:
            out.append(_cmd(b"\x05ERROR\x04oops"))
        elif r < 0.8:
            out.append(_cmd(bytes([rng.randrange(1, 20)]) + rng.randbytes(rng.randrange(30))))
        elif r < 0.85:
            out.append(m.ready_frame(peer))
        elif r < 0.92:
            size = rng.choice(((1 << 62) + 1, 1 << 62, 1 << 40, 1 << 31, 70000, 300000))
            out.append(bytes([2 | rng.choice((0, 1, 4))]) + struct.pack(">Q", size)
                       + rng.randbytes(rng.randrange(100)))
        else:
            out.append(bytes([rng.randrange(256)]) + rng.randbytes(rng.randrange(10)))
    data = bytearray(b"".join(out))

    def spot(end=len(data)):
        i = rng.randrange(end + 1)
        return i if not keep[0] < i < keep[1] else keep[rng.randrange(2)]

    # Mutations of the valid stream.
    if rng.random() < 0.4:
        for _ in range(rng.randrange(1, 6)):
            i = min(spot(), len(data) - 1)
            if not keep[0] <= i < keep[1]:
                data[i] ^= 1 << rng.randrange(8)
    if rng.random() < 0.15:
        i = spot()
        data[i:i] = rng.randbytes(rng.randrange(1, 20))
    if rng.random() < 0.1 and len(data) > 10:
        i = spot(len(data) - 5)
        j = max(i, spot())
        if not (i < keep[0] < j):
            data[j:j] = data[i:j]
    if rng.random() < 0.3:
        del data[rng.randrange(len(data) + 1):]
    return bytes(data)


class Attackers(threading.Thread):
    """Raw peers, a few at a time, each sending its stream in pieces and
    hanging up; it runs until `count` have been, or stop() is called."""

    def __init__(self, addr, local, rng, count, hold=0.0):
        super().__init__(daemon=True)
        self.hold = hold            # seconds the last lingering peers stay
        self.addr = addr            # (family, address)
        self.streams = [attack_stream(rng, local) for _ in range(count)]
        self.plans = [(rng.randrange(1, 4), rng.random() < 0.2, rng.random() < 0.3)
                      for _ in range(count)]
        self.done = 0
        self.error = None
        self._halt = threading.Event()

    def stop(self):
        self._halt.set()

    def wait_for(self, fraction, timeout=10):
        """Blocks until that fraction of the attackers have been (so the
        legitimate traffic overlaps with them)."""
        want = int(len(self.streams) * fraction)
        deadline = time.monotonic() + timeout
        while self.done < want and self.is_alive() and time.monotonic() < deadline:
            time.sleep(0.001)

    def _connect(self):
        deadline = time.monotonic() + 10
        while True:
            s = pysocket.socket(self.addr[0], pysocket.SOCK_STREAM)
            s.settimeout(5)
            try:
                s.connect(self.addr[1])
                return s
            except BlockingIOError:
                # A unix socket's backlog is full: the listener is behind.
                s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.001)

    def run(self):
        try:
            open_ = []
            for data, (pieces, reset, linger) in zip(self.streams, self.plans):
                if self._halt.is_set():
                    break
                s = self._connect()
                step = max(1, len(data) // pieces)
                for i in range(0, len(data), step):
                    try:
                        s.sendall(data[i:i + step])
                    except OSError:
                        break       # the socket closed on us: as it should
                if reset and self.addr[0] != pysocket.AF_UNIX:
                    s.setsockopt(pysocket.SOL_SOCKET, pysocket.SO_LINGER, struct.pack("ii", 1, 0))
                if linger:
                    open_.append(s)     # stays a while with the others
                else:
                    s.close()
                if len(open_) > 8:
                    open_.pop(0).close()
                self.done += 1
            if open_ and self.hold:
                self._halt.wait(self.hold)      # heartbeats reach them meanwhile
            for s in open_:
                s.close()
        except Exception as e:     # noqa: BLE001 (reported by the main thread)
            self.error = e


# ---------------------------------------------------------------- legit peers

class Check:
    def __init__(self, name):
        self.name = name
        self.failures = []

    def expect(self, cond, what):
        if not cond:
            self.failures.append(f"{self.name}: {what}")
        return cond


def paced(msgs, att, slices=8):
    """Yields the messages, letting the attackers advance between slices."""
    step = max(1, len(msgs) // slices)
    for i, msg in enumerate(msgs):
        if i % step == 0:
            att.wait_for(i / len(msgs))
        yield msg


def legit_messages(rng, magic, n, tag):
    out = []
    for i in range(n):
        head = magic + tag + struct.pack(">I", i)
        size = rng.choice((0, 1, 30, 200, 1000, 5000)) if rng.random() > 0.02 else 70000
        msg = [head, rng.randbytes(size)]
        if rng.random() < 0.3:
            msg.append(rng.randbytes(rng.randrange(40)))
        out.append(msg)
    return out


def describe(msg):
    return "[" + ", ".join(f"{p[:14]!r}..({len(p)})" for p in msg) + "]"


def is_legit(msg, magic):
    return bool(msg) and msg[0].startswith(magic)


def recv_legit(sock, magic, want, chk, what, strip_id=None):
    """Receives until `want` legitimate messages came; returns them. Others
    (attackers' messages, warm-ups) are dropped; `strip_id` is a routing id
    the legitimate messages come behind."""
    got = []
    deadline = time.monotonic() + 30
    while len(got) < len(want) and time.monotonic() < deadline:
        try:
            msg = sock.recv_multipart()
        except (mqcore.Again, pyzmq.Again):
            break
        if strip_id is not None:
            if msg[0] != strip_id:
                continue
            msg = msg[1:]
        if is_legit(msg, magic):
            got.append(msg)
    chk.expect(len(got) == len(want), f"{what}: {len(got)} of {len(want)} legitimate messages arrived")
    for i, (a, b) in enumerate(zip(got, want)):
        if not chk.expect(a == b, f"{what}: message {i} differs or is out of order "
                                  f"(got {describe(a)}, want {describe(b)})"):
            break
    return got


def opts(s):
    s.setsockopt(mqcore.RCVTIMEO if isinstance(s, mqcore.Socket) else pyzmq.RCVTIMEO, TIMEOUT_MS)
    s.setsockopt(mqcore.SNDTIMEO if isinstance(s, mqcore.Socket) else pyzmq.SNDTIMEO, TIMEOUT_MS)
    s.setsockopt(mqcore.LINGER if isinstance(s, mqcore.Socket) else pyzmq.LINGER, 0)
    return s


def warm_up(send, recv_sock, magic, chk, strip_id=None):
    """Sends warm-ups until one arrives (subscriptions and connections are
    in place), then drains the rest."""
    warm = magic[:4] + b"WARM"
    deadline = time.monotonic() + 10
    recv_sock.setsockopt(pyzmq.RCVTIMEO, 100)
    try:
        while time.monotonic() < deadline:
            send([warm])
            try:
                msg = recv_sock.recv_multipart()
            except (mqcore.Again, pyzmq.Again):
                continue
            if strip_id is not None:
                msg = msg[1:]
            if msg and msg[0] == warm:
                return True
        chk.expect(False, "the legitimate peer never got through")
        return False
    finally:
        recv_sock.setsockopt(pyzmq.RCVTIMEO, TIMEOUT_MS)


ATTACKS = [0]


def run_type(name, mctx, pctx, rng, attackers, nmsg, transport="tcp", heartbeat_ms=0, tmpdir=None):
    """One round for one socket type; returns the failures."""
    chk = Check(name)
    magic = b"L" + rng.randbytes(7)
    s = opts(mctx.socket(getattr(mqcore, name)))
    if heartbeat_ms:
        # Pings to every peer, lingering attackers included; a silent one
        # is dropped after the timeout (generous: the legitimate peer
        # answers from its io thread, but the machine may be loaded).
        s.setsockopt(mqcore.HEARTBEAT_IVL, heartbeat_ms)
        s.setsockopt(mqcore.HEARTBEAT_TIMEOUT, 5000)
    if transport == "ipc":
        path = os.path.join(tmpdir, f"{name.lower()}-{rng.randrange(1 << 30)}.sock")
        s.bind(f"ipc://{path}")
        ep, addr, port = f"ipc://{path}", (pysocket.AF_UNIX, path), None
    else:
        s.bind("tcp://127.0.0.1:0")
        port = int(s.getsockopt_string(mqcore.LAST_ENDPOINT).rsplit(":", 1)[1])
        ep, addr = f"tcp://127.0.0.1:{port}", (pysocket.AF_INET, ("127.0.0.1", port))
    peer = None
    att = Attackers(addr, name, rng, attackers, hold=3 * heartbeat_ms / 1000)
    try:
        if name == "STREAM":
            return run_stream(s, port, att, rng, nmsg, chk)
        ptype = {"PAIR": "PAIR", "PUSH": "PULL", "PULL": "PUSH", "REQ": "REP", "REP": "REQ",
                 "DEALER": "DEALER", "ROUTER": "DEALER", "PUB": "SUB", "SUB": "PUB",
                 "XPUB": "SUB", "XSUB": "PUB"}[name]
        peer = opts(pctx.socket(getattr(pyzmq, ptype)))     # constants are libzmq's in both
        if ptype == "SUB":
            peer.setsockopt(pyzmq.SUBSCRIBE, b"")
        if name == "SUB":
            s.setsockopt(mqcore.SUBSCRIBE, b"")
        if name == "XSUB":
            s.send(b"\x01")
        if name == "ROUTER":
            peer.setsockopt(pyzmq.ROUTING_ID, LEGIT_ID)
        peer.connect(ep)

        to_s = legit_messages(rng, magic, nmsg, b">")       # peer -> s
        to_p = legit_messages(rng, magic, nmsg, b"<")       # s -> peer

        # The legitimate connection first, then the attackers join in.
        if name in ("PAIR", "PULL", "DEALER", "SUB", "XSUB"):
            if not warm_up(peer.send_multipart, s, magic, chk):
                return chk.failures
        elif name in ("PUSH", "PUB", "XPUB"):
            if not warm_up(s.send_multipart, peer, magic, chk):
                return chk.failures
        elif name == "ROUTER":
            if not warm_up(peer.send_multipart, s, magic, chk, strip_id=LEGIT_ID):
                return chk.failures
        att.start()

        if name in ("PAIR", "DEALER"):
            for a, b in paced(list(zip(to_s, to_p)), att):
                peer.send_multipart(a)
                s.send_multipart(b)
            recv_legit(s, magic, to_s, chk, "peer -> mqcore")
            recv_legit(peer, magic, to_p, chk, "mqcore -> peer")
        elif name in ("PUSH", "PUB", "XPUB"):
            for b in paced(to_p, att):
                s.send_multipart(b)
            recv_legit(peer, magic, to_p, chk, "mqcore -> peer")
        elif name in ("PULL", "SUB", "XSUB"):
            for a in paced(to_s, att):
                peer.send_multipart(a)
            recv_legit(s, magic, to_s, chk, "peer -> mqcore")
        elif name == "REQ":
            for a, b in paced(list(zip(to_p, to_s)), att):
                s.send_multipart(a)
                if not recv_legit(peer, magic, [a], chk, "request"):
                    break
                peer.send_multipart(b)
                if not recv_legit(s, magic, [b], chk, "reply"):
                    break
        elif name == "REP":
            for a, b in paced(list(zip(to_s, to_p)), att):
                peer.send_multipart(a)
                while True:         # attackers' requests get an answer too
                    try:
                        req = s.recv_multipart()
                    except mqcore.Again:
                        chk.expect(False, "a request never arrived")
                        return chk.failures
                    if is_legit(req, magic):
                        break
                    s.send(b"not for you")
                if not chk.expect(req == a, "request differs"):
                    break
                s.send_multipart(b)
                if not recv_legit(peer, magic, [b], chk, "reply"):
                    break
        elif name == "ROUTER":
            for a in paced(to_s, att):
                peer.send_multipart(a)
            got = recv_legit(s, magic, to_s, chk, "peer -> router", strip_id=LEGIT_ID)
            for b in to_p[:len(got)]:
                s.send_multipart([LEGIT_ID] + b)
            recv_legit(peer, magic, to_p[:len(got)], chk, "router -> peer")

        if chk.failures and hasattr(peer, "stats"):
            chk.failures.append(f"the legitimate peer's stats: {peer.stats()}")
        att.join(timeout=60)
        chk.expect(not att.is_alive(), "attackers did not finish")
        chk.expect(att.error is None, f"an attacker failed: {att.error!r}")

        # After the storm the socket still works.
        if name in ("PAIR", "DEALER", "PULL", "SUB", "XSUB"):
            last = [magic + b"last"]
            peer.send_multipart(last)
            recv_legit(s, magic, [last], chk, "after the attacks")
        elif name in ("PUSH", "PUB", "XPUB"):
            last = [magic + b"last"]
            s.send_multipart(last)
            recv_legit(peer, magic, [last], chk, "after the attacks")
        return chk.failures
    finally:
        att.stop()
        att.join(timeout=10)
        ATTACKS[0] += att.done
        s.close(linger=0)
        if peer is not None:
            peer.close(linger=0)


def run_stream(s, port, att, rng, nmsg, chk):
    """STREAM: the legitimate peer is a plain TCP client; bytes both ways
    must arrive whole and in order, whatever other connections do."""
    c = pysocket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        lid, first = s.recv_multipart()
        chk.expect(first == b"", f"connect notification carried {first!r}")
        att.start()
        up = b"".join(rng.randbytes(rng.randrange(1, 2000)) for _ in range(nmsg // 4))
        down = b"".join(rng.randbytes(rng.randrange(1, 2000)) for _ in range(nmsg // 4))
        for i in range(0, len(up), 4096):
            att.wait_for(i / len(up))
            c.sendall(up[i:i + 4096])
        got = bytearray()
        deadline = time.monotonic() + 30
        while len(got) < len(up) and time.monotonic() < deadline:
            try:
                rid, data = s.recv_multipart()
            except mqcore.Again:
                break
            if rid == lid:
                got += data
        chk.expect(bytes(got) == up, f"client -> stream: {len(got)} of {len(up)} bytes, intact={bytes(got) == up[:len(got)]}")
        for i in range(0, len(down), 4096):
            s.send_multipart([lid, down[i:i + 4096]])
        back = bytearray()
        while len(back) < len(down):
            b = c.recv(65536)
            if not b:
                break
            back += b
        chk.expect(bytes(back) == down, f"stream -> client: {len(back)} of {len(down)} bytes")
        att.join(timeout=60)
        chk.expect(att.error is None, f"an attacker failed: {att.error!r}")
        return chk.failures
    finally:
        c.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--attackers", type=int, default=40, help="raw peers per type and round")
    ap.add_argument("--messages", type=int, default=200, help="legitimate messages per type and round")
    ap.add_argument("--types", default=",".join(TYPES))
    ap.add_argument("--transport", choices=("tcp", "ipc"), default="tcp")
    ap.add_argument("--peer", choices=("pyzmq", "mqcore"), default="pyzmq",
                    help="what the legitimate peer is")
    ap.add_argument("--heartbeat-ms", type=int, default=100,
                    help="HEARTBEAT_IVL of the fuzzed socket (0: none)")
    # (Under ASan freed memory waits in its quarantine, 256 MB by default.)
    asan = "asan" in os.environ.get("LD_PRELOAD", "")
    ap.add_argument("--rss-growth-mb", type=float, default=400 if asan else 64,
                    help="most the RSS may grow from the end of round 1 to the end")
    a = ap.parse_args(argv)
    types = [t.strip().upper() for t in a.types.split(",") if t.strip()]
    mctx = mqcore.Context()
    pctx = mqcore.Context() if a.peer == "mqcore" else pyzmq.Context()
    tmpdir = tempfile.mkdtemp(prefix="mqfuzz-")
    if a.transport == "ipc" and "STREAM" in types:
        types.remove("STREAM")      # STREAM is a TCP socket type
    failures = []
    rss = []
    t0 = time.monotonic()
    print(f"fuzz_socket: seed {a.seed}, {a.rounds} rounds, {a.attackers} attackers and "
          f"{a.messages} messages per type over {a.transport}, {a.peer} peers, "
          f"heartbeat {a.heartbeat_ms} ms, mqcore from {fuzzlib.CORE_FILE}", flush=True)
    for rnd in range(a.rounds):
        for name in types:
            rng = random.Random(f"{a.seed}-{rnd}-{name}")
            f = run_type(name, mctx, pctx, rng, a.attackers, a.messages,
                         a.transport, a.heartbeat_ms, tmpdir)
            failures += [f"round {rnd}: {x}" for x in f]
            print(f"  round {rnd} {name:7s} {'ok' if not f else 'FAILED'}  rss {rss_mb():.0f} MB", flush=True)
        rss.append(rss_mb())
    if len(rss) > 1 and rss[-1] - rss[0] > a.rss_growth_mb:
        failures.append(f"RSS grew {rss[-1] - rss[0]:.0f} MB from round 1 to round {len(rss)} ({rss})")
    mctx.destroy(linger=0)
    pctx.destroy(linger=0)
    shutil.rmtree(tmpdir, ignore_errors=True)
    print(f"fuzz_socket: {ATTACKS[0]} attacks, {time.monotonic() - t0:.1f} s, rss per round {[round(x) for x in rss]} MB")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
