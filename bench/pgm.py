"""EPGM throughput: the reference libzmq (OpenPGM) and mqcore as source and
receiver, every pairing, in one run, and the same with one packet lost on
purpose and repaired (NAK, NCF, RDATA) to show what a repair costs.

Runs itself in a private network namespace (`unshare -n`, root) whose
loopback has multicast on (OpenPGM needs it), on 127.0.0.1. Messages go
out at RATE (kbit/s) and are counted on arrival; a case's rate is
messages over the time from the first arrival to the last.

    python bench/pgm.py [--count 20000] [--size 1024] [--rate 1000000] [--runs 3]
"""
import argparse
import os
import shutil
import subprocess
import sys
import threading
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


def case(src, dst, n, size, rate, port, lose):
    import libzmq_ref
    import mqcore
    from mqcore import _core
    libzmq_ref.load()
    ep = f"epgm://127.0.0.1;239.192.99.{port % 250 + 1}:{port}"
    _core._pgm_test_hooks(drop=[50] if lose and dst == "mqcore" else [],
                          skip=[50] if lose and src == "mqcore" else [])
    _core._pgm_test_counts(reset=True)
    rctx, ctx = libzmq_ref.Context(), mqcore.Context()
    if dst == "mqcore":
        sub = ctx.socket(mqcore.SUB)
        sub.setsockopt(mqcore.SUBSCRIBE, b"")
        sub.setsockopt(mqcore.RCVHWM, 0)
        sub.rcvtimeo = 10000
        sub.connect(ep)
        recv = sub.recv
    else:
        sub = rctx.socket(2, rcvtimeo=10000)
        sub.setsockopt(6, b"")
        sub.setsockopt(24, 0)
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
    times = []

    def receive():
        try:
            for _ in range(n):
                recv()
                if not times:
                    times.append(time.perf_counter())
            times.append(time.perf_counter())
        except Exception as e:
            times.append(e)
    t = threading.Thread(target=receive)
    t.start()
    for _ in range(n):
        pub.send(body)
    t.join(60)
    pub.close()
    sub.close()
    rctx.term()
    ctx.term()
    if len(times) != 2 or not isinstance(times[1], float):
        print(f"  {src} -> {dst}{' (loss)' if lose else ''} failed: {times[-1]!r}, "
              f"counts {_core._pgm_test_counts()}", file=sys.stderr)
        return None
    return n / (times[1] - times[0])


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
    base = [r for r in results[("libzmq", "libzmq", False)] if r]
    ref = max(base) if base else None
    print(f"epgm, {a.count} x {a.size} B, RATE {a.rate} kbit/s, best of {a.runs} (msg/s; ratio to libzmq->libzmq)")
    for (src, dst, lose), rs in results.items():
        ok = [r for r in rs if r]
        best = max(ok) if ok else None
        ratio = f"{best / ref:.2f}" if best and ref else "-"
        runs = ", ".join(f"{r:.0f}" if r else "fail" for r in rs)
        print(f"  {src:>6} -> {dst:<6} {'1 packet repaired' if lose else '':<18} "
              f"{best or 0:>10.0f}  x{ratio}   runs: {runs}")


if __name__ == "__main__":
    main()
