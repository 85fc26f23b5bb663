"""EPGM throughput: the reference libzmq (OpenPGM) and mqcore as source and
receiver, every pairing, in one run, and the same with one packet lost on
purpose and repaired (NAK, NCF, RDATA) to show what a repair costs, and
how long the repair took (loss recovery time).

Runs itself in a private network namespace (`unshare -n`, root) whose
loopback has multicast on (OpenPGM needs it), on 127.0.0.1. Messages go
out at RATE (kbit/s) and are counted on arrival; a case's rate is
messages over the time from the first arrival to the last.

Loss recovery time is measured where the application sees it: the receiver
timestamps every message. PGM delivers in order, so the messages after the
lost one wait for its repair and the stream stalls just before it; the
recovery time is that stall (arrival of the lost message minus arrival of
the one before it) less the stream's usual gap between two messages (the
mean), i.e. from the moment the lost message would have arrived to the
moment its RDATA delivered it. Same measure for both receivers; the
receiver's NAK back-off (random, up to NAK_BO_IVL) dominates it.

    python bench/pgm.py [--count 20000] [--size 1024] [--rate 1000000] [--runs 3]
"""
import argparse
import os
import shutil
import subprocess
import sys
import threading
import statistics
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))


def in_namespace():
    return os.environ.get("MQCORE_PGM_BENCH_NS") == "1"


def reexec():
    env = dict(os.environ, MQCORE_PGM_BENCH_NS="1",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    setup = "ip link set lo up && ip link set lo multicast on && exec \"$@\""
    cmd = ["unshare", "-n", "sh", "-c", setup, "sh", sys.executable, os.path.abspath(__file__), *sys.argv[1:]]
    sys.exit(subprocess.call(cmd, env=env))


LOST = 50      # the packet lost on purpose (sequence number, from 0)
TSDU = 1440    # about what one EPGM packet carries at the default MAXTPDU


def recovery_time(stamps, size):
    """The stall before the lost message less the usual gap between two
    messages (seconds). PGM under ZeroMQ is a byte stream cut into full
    packets, so packet LOST holds message LOST * TSDU / (size + 2) or so:
    the stall is the largest gap between arrivals around there. The usual
    gap is the mean (arrivals come in bursts, so the median is ~0)."""
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    at = LOST * TSDU // (size + 2)
    near = gaps[max(0, at * 4 // 5 - 5):at * 6 // 5 + 5]
    return max(near) - (stamps[-1] - stamps[0]) / (len(stamps) - 1)


def case(src, dst, n, size, rate, port, lose):
    import libzmq_ref
    import mqcore
    from mqcore import _core
    libzmq_ref.load()
    ep = f"epgm://127.0.0.1;239.192.99.{port % 250 + 1}:{port}"
    _core._pgm_test_hooks(drop=[LOST] if lose and dst == "mqcore" else [],
                          skip=[LOST] if lose and src == "mqcore" else [])
    _core._pgm_test_counts(reset=True)
    rctx, ctx = libzmq_ref.Context(), mqcore.Context()
    # Receivers get the source's RATE too: libzmq sizes its receive window
    # from its own RATE x RECOVERY_IVL (80 packets at the default 100
    # kbit/s), which a fast burst overruns before a repair can land.
    if dst == "mqcore":
        sub = ctx.socket(mqcore.SUB)
        sub.setsockopt(mqcore.SUBSCRIBE, b"")
        sub.setsockopt(mqcore.RCVHWM, 0)
        sub.setsockopt(mqcore.RATE, rate)
        sub.rcvtimeo = 10000
        sub.connect(ep)
        recv = sub.recv
    else:
        sub = rctx.socket(libzmq_ref.SUB, rcvtimeo=10000)
        sub.setsockopt(libzmq_ref.SUBSCRIBE, b"")
        sub.setsockopt(libzmq_ref.RCVHWM, 0)
        sub.setsockopt(libzmq_ref.RATE, rate)
        sub.connect(ep)
        recv = sub.recv_bytes
    if src == "mqcore":
        pub = ctx.socket(mqcore.PUB)
        pub.setsockopt(mqcore.RATE, rate)
        pub.setsockopt(mqcore.SNDHWM, 0)
        pub.connect(ep)
    else:
        pub = rctx.socket(1)
        pub.setsockopt(8, rate)
        pub.setsockopt(23, 0)
        pub.connect(ep)
    time.sleep(0.5)
    body = b"x" * size
    stamps = [0.0] * n
    failed = []

    def receive():
        clock = time.perf_counter
        try:
            for i in range(n):
                recv()
                stamps[i] = clock()
        except Exception as e:
            failed.append(e)
    t = threading.Thread(target=receive)
    t.start()
    for _ in range(n):
        pub.send(body)
    t.join(60)
    pub.close()
    sub.close()
    rctx.term()
    ctx.term()
    if failed or t.is_alive():
        print(f"  {src} -> {dst}{' (loss)' if lose else ''} failed: "
              f"{failed[0] if failed else 'timeout'!r}, counts {_core._pgm_test_counts()}",
              file=sys.stderr)
        return None
    return n / (stamps[-1] - stamps[0]), recovery_time(stamps, size) if lose else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--rate", type=int, default=1000000, help="RATE, kbit/s")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    if not in_namespace():
        if os.geteuid() != 0 or not shutil.which("unshare"):
            sys.exit("needs root and unshare (a private network namespace)")
        reexec()
    pairs = [("libzmq", "libzmq"), ("libzmq", "mqcore"), ("mqcore", "libzmq"), ("mqcore", "mqcore")]
    port = 9100
    results = {}
    for lose in (False, True):
        for run in range(a.runs):
            for src, dst in pairs:
                if lose and src == dst == "libzmq":
                    continue        # the loss hooks are in mqcore
                port += 1
                r = case(src, dst, a.count, a.size, a.rate, port, lose)
                results.setdefault((src, dst, lose), []).append(r)
    rates = {k: [r[0] if r else None for r in rs] for k, rs in results.items()}
    base = [r for r in rates[("libzmq", "libzmq", False)] if r]
    ref = max(base) if base else None
    print(f"epgm, {a.count} x {a.size} B, RATE {a.rate} kbit/s, best of {a.runs} (msg/s; ratio to libzmq->libzmq)")
    for (src, dst, lose), rs in rates.items():
        ok = [r for r in rs if r]
        best = max(ok) if ok else None
        ratio = f"{best / ref:.2f}" if best and ref else "-"
        runs = ", ".join(f"{r:.0f}" if r else "fail" for r in rs)
        print(f"  {src:>6} -> {dst:<6} {'1 packet repaired' if lose else '':<18} "
              f"{best or 0:>10.0f}  x{ratio}   runs: {runs}")
    print_recovery(results, a.runs)


def print_recovery(results, runs):
    """Loss recovery time per pairing, median over the runs. The loss hooks
    are in mqcore, so libzmq->libzmq cannot lose on purpose; the reference
    is mqcore->libzmq, where libzmq's OpenPGM receiver detects the gap and
    NAKs (mqcore only answers with RDATA)."""
    medians = {}
    for (src, dst, lose), rs in results.items():
        ok = [r[1] * 1000 for r in rs if r and lose]
        if ok:
            medians[(src, dst)] = (statistics.median(ok), ok)
    ref = medians.get(("mqcore", "libzmq"), (None,))[0]
    print(f"loss recovery time (ms, median of {runs}; ratio to mqcore->libzmq, "
          f"whose receiver is libzmq's)")
    for (src, dst), (med, ok) in medians.items():
        ratio = f"{med / ref:.2f}" if ref else "-"
        print(f"  {src:>6} -> {dst:<6} {med:>8.1f}  x{ratio}   runs: "
              + ", ".join(f"{v:.1f}" for v in ok))

if __name__ == "__main__":
    main()
