"""PGM scenarios against the reference libzmq, run by test_pgm.py in a
network namespace of their own (`unshare -n`) whose loopback has multicast
on: OpenPGM will not use an interface without it, and no other test or
host traffic shares the groups. Prints one JSON line with what arrived.

Usage: pgm_peer.py SCENARIO SCHEME GROUP PORT"""
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import libzmq_ref  # noqa: E402
libzmq_ref.load()

import mqcore  # noqa: E402
from mqcore import _core  # noqa: E402

RATE, RECOVERY_IVL, SUBSCRIBE = 8, 9, 6
PUB, SUB = 1, 2


def body(i, size):
    head = b"%08d:" % i
    return (head * (size // len(head) + 1))[:size]


def ref_pub(rctx, ep, rate=100000, ivl=None):
    s = rctx.socket(PUB)
    s.setsockopt(RATE, rate)
    if ivl is not None:
        s.setsockopt(RECOVERY_IVL, ivl)
    s.connect(ep)
    return s


def ref_sub(rctx, ep, rate=100000):
    """libzmq sizes its OpenPGM receive window from the SUB's own RATE x
    RECOVERY_IVL (pgm_socket.cpp compute_sqns): at the default 100 kbit/s
    it holds 80 TPDUs. Data behind a gap waits there for the repair (a NAK
    back-off of up to 50 ms, then RDATA), and a source at 100 Mbit/s sends
    far more than 80 TPDUs meanwhile: OpenPGM then pulls the gap off its
    trailing edge and reports loss. A receiver keeps up with a source only
    if its RATE is the source's, as libzmq's documentation asks."""
    s = rctx.socket(SUB, rcvtimeo=5000)
    s.setsockopt(RATE, rate)
    s.setsockopt(SUBSCRIBE, b"")
    s.connect(ep)
    return s


def our_sub(ctx, ep, kind=mqcore.SUB):
    s = ctx.socket(kind)
    if kind == mqcore.SUB:
        s.setsockopt(mqcore.SUBSCRIBE, b"")
    else:
        s.send(b"\x01")
    s.rcvtimeo = 5000
    s.connect(ep)
    return s


def recv_all(recv, n):
    got = []
    try:
        for _ in range(n):
            got.append(recv())
    except Exception as e:  # a timeout: report what arrived
        got.append(f"error: {e!r}")
    return got


def plan(n):
    """Messages of every size class: single-frame small, multipart, and
    large ones spanning many TPDUs."""
    out = []
    for i in range(n):
        if i % 10 == 3:
            out.append([body(i, 20000)])
        elif i % 10 == 5:
            out.append([b"part-a%d" % i, b"", body(i, 3000)])
        else:
            out.append([body(i, 40 + i % 300)])
    return out


def digest(msgs):
    return [[len(p), p[:9].decode("latin1")] for p in msgs] if isinstance(msgs, list) else msgs


def outcome(want, got):
    """What a scenario reports: the messages sent and received (digests)
    and the engine's PGM counters."""
    return {"want": [digest(m) for m in want], "got": [digest(m) for m in got],
            "counts": _core._pgm_test_counts()}


def scenario_ref_to_ours(ep, n=120, sub_kind=mqcore.SUB, drop=(), forever=False, rate=100000, ivl=None):
    _core._pgm_test_hooks(drop=drop, forever=forever)
    rctx, ctx = libzmq_ref.Context(), mqcore.Context()
    sub = our_sub(ctx, ep, sub_kind)
    pub = ref_pub(rctx, ep, rate, ivl)
    time.sleep(0.4)
    want = plan(n)
    for m in want:
        pub.send_multipart(m)
    got = recv_all(sub.recv_multipart, n)
    pub.close()
    sub.close(linger=0)
    rctx.term()
    ctx.term()
    return outcome(want, got)


def scenario_ours_to_ref(ep, n=120, pub_kind=mqcore.PUB, skip=()):
    _core._pgm_test_hooks(skip=skip)
    rctx, ctx = libzmq_ref.Context(), mqcore.Context()
    sub = ref_sub(rctx, ep)
    pub = ctx.socket(pub_kind)
    pub.setsockopt(mqcore.RATE, 100000)
    pub.connect(ep)
    time.sleep(0.4)
    want = plan(n)
    for m in want:
        pub.send_multipart(m)
    got = recv_all(sub.recv_multipart, n)
    extra = []
    if pub_kind == mqcore.XPUB:
        # libzmq attaches a PGM pipe subscribed to all, silently
        pub.rcvtimeo = 100
        extra = recv_all(pub.recv, 1)
    pub.close(linger=2000)
    sub.close()
    rctx.term()
    ctx.term()
    return dict(outcome(want, got), xpub_saw=[str(e) for e in extra])


def scenario_beyond_window(ep):
    """The source keeps one packet (RATE x RECOVERY_IVL is under a TPDU):
    a packet the receiver never gets cannot be repaired. The message it
    was part of is lost whole; the ones after it arrive."""
    _core._pgm_test_hooks(drop=[6], forever=True)
    rctx, ctx = libzmq_ref.Context(), mqcore.Context()
    sub = our_sub(ctx, ep)
    pub = ref_pub(rctx, ep, rate=2000, ivl=1)
    time.sleep(0.4)
    want = [[body(0, 100)], [body(1, 100)], [b"big-head", body(2, 9000)]] + [[body(i, 100)] for i in range(3, 12)]
    for m in want:
        pub.send_multipart(m)
        time.sleep(0.02)
    sub.rcvtimeo = 3000
    got = recv_all(sub.recv_multipart, len(want))
    pub.close()
    sub.close(linger=0)
    rctx.term()
    ctx.term()
    return outcome(want, got)


def scenario_late_join(ep):
    """Our SUB joins a stream already under way, in the middle of large
    messages: every message it gets is whole."""
    rctx, ctx = libzmq_ref.Context(), mqcore.Context()
    pub = ref_pub(rctx, ep)
    stop = threading.Event()

    def feed():
        i = 0
        while not stop.is_set():
            pub.send_multipart([b"h%d" % i, body(i, 7000)])
            i += 1
            time.sleep(0.002)
    t = threading.Thread(target=feed)
    t.start()
    time.sleep(0.3)
    sub = our_sub(ctx, ep)
    got = recv_all(sub.recv_multipart, 30)
    stop.set()
    t.join()
    pub.close()
    sub.close(linger=0)
    rctx.term()
    ctx.term()
    ok = all(isinstance(m, list) and len(m) == 2 and m[1] == body(int(m[0][1:]), 7000) for m in got)
    idx = [int(m[0][1:]) for m in got if isinstance(m, list)]
    return {"whole": ok, "n": len(got), "ordered": idx == sorted(idx) and len(set(idx)) == len(idx),
            "counts": _core._pgm_test_counts()}


def scenario_ours_to_ours(ep, quiet=False):
    """mqcore on both ends, with loss each way: the source skips some ODATA
    and the receiver drops others; all come back through NAK/RDATA. A
    quiet source sends no SPM unasked: the receiver must send an SPMR to
    learn where to NAK."""
    _core._pgm_test_hooks(drop=[3, 9], skip=[4, 20], quiet_source=quiet)
    ctx = mqcore.Context()
    sub = our_sub(ctx, ep)
    pub = ctx.socket(mqcore.PUB)
    pub.setsockopt(mqcore.RATE, 100000)
    pub.connect(ep)
    time.sleep(0.4)
    want = plan(120)
    for m in want:
        pub.send_multipart(m)
    got = recv_all(sub.recv_multipart, len(want))
    pub.close(linger=0)
    sub.close(linger=0)
    ctx.term()
    return {"want": [digest(m) for m in want], "got": [digest(m) for m in got],
            "counts": _core._pgm_test_counts()}


def scenario_two_sources(ep, ours=False, n=60, drop=()):
    """Two sources on one group into our SUB (two libzmq PUBs, or ours and
    libzmq's), sending at once: a window and decoder per source TSI, as
    libzmq keeps, and each source's messages whole and in order, never
    interleaved with the other's frames."""
    _core._pgm_test_hooks(drop=drop)
    _core._pgm_test_counts(reset=True)
    rctx, ctx = libzmq_ref.Context(), mqcore.Context()
    sub = our_sub(ctx, ep)
    pubs = [ref_pub(rctx, ep)]
    if ours:
        pub = ctx.socket(mqcore.PUB)
        pub.setsockopt(mqcore.RATE, 100000)
        pub.connect(ep.replace("127.0.0.1;", "127.0.0.2;"))
        pubs.append(pub)
    else:
        pubs.append(ref_pub(rctx, ep))
    time.sleep(0.4)

    def feed(k):
        for i, m in enumerate(plan(n)):
            pubs[k].send_multipart([b"src%d" % k, b"%d" % i] + m)
    threads = [threading.Thread(target=feed, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    got = recv_all(sub.recv_multipart, 2 * n)
    for t in threads:
        t.join()
    for p in pubs:
        p.close(linger=0)
    sub.close(linger=0)
    rctx.term()
    ctx.term()
    want = plan(n)
    per = {"src0": [], "src1": []}
    bad = []
    for m in got:
        if not isinstance(m, list) or len(m) < 3 or m[0].decode() not in per:
            bad.append(digest(m))
            continue
        i = int(m[1])
        per[m[0].decode()].append(i)
        if m[2:] != want[i]:
            bad.append(digest(m))
    return {"per_source": {k: v == list(range(n)) for k, v in per.items()}, "bad": bad,
            "n": len(got), "counts": _core._pgm_test_counts()}


SCENARIOS = {
    "two_ref_sources": scenario_two_sources,
    # Sources on one host share the NAK port: OpenPGM's source binds it on
    # INADDR_ANY, ours on its NLA, which our second loopback address keeps
    # apart, so each source gets its own NAKs.
    "ours_and_ref_sources": lambda ep: scenario_two_sources(ep, ours=True, drop=[3, 7]),
    "ours_to_ours": scenario_ours_to_ours,
    "ours_to_ours_spmr": lambda ep: scenario_ours_to_ours(ep, quiet=True),
    "ref_to_ours": scenario_ref_to_ours,
    "ref_to_ours_xsub": lambda ep: scenario_ref_to_ours(ep, sub_kind=mqcore.XSUB),
    "ref_to_ours_loss": lambda ep: scenario_ref_to_ours(ep, drop=[2, 5, 6, 11, 30]),
    "ours_to_ref": scenario_ours_to_ref,
    "ours_to_ref_xpub": lambda ep: scenario_ours_to_ref(ep, pub_kind=mqcore.XPUB),
    "ours_to_ref_loss": lambda ep: scenario_ours_to_ref(ep, skip=[2, 5, 6, 11, 30]),
    "beyond_window": scenario_beyond_window,
    "late_join": scenario_late_join,
}

if __name__ == "__main__":
    name, scheme, group, port = sys.argv[1:5]
    res = SCENARIOS[name](f"{scheme}://127.0.0.1;{group}:{port}")
    print(json.dumps(res))
