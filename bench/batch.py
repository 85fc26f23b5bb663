"""Small messages one at a time and in batches: a C program on libzmq's
per-message API (bench/c/thr_libzmq.c, built here when Debian's libzmq3-dev
is installed), pyzmq's per-message API, mqcore's per-message API and
mqcore's send_many/recv_many, side by side in one run (PUSH -> PULL, the
sender in a process of its own).

    python bench/batch.py [--size 64] [--count 2000000] [--batch 256]
                          [--transport tcp --transport ipc] [--reps 3]

Prints messages per second for each and the ratios to pyzmq's per-message
rate (higher is better for mqcore).
"""

import argparse
import multiprocessing as mp
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

MODES = ("pyzmq", "mqcore", "mqcore-batch")
C_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "c", "thr_libzmq.c")


def build_c_reference():
    """The C program's path, compiled against the system libzmq; None (and
    why, on stderr) when there is no compiler or libzmq3-dev."""
    if not (shutil.which("gcc") and os.path.exists("/usr/include/zmq.h")):
        print("# no C reference: needs gcc and libzmq3-dev (apt-get install libzmq3-dev)")
        return None
    out = os.path.join(tempfile.mkdtemp(), "thr_libzmq")
    subprocess.run(["gcc", "-O2", "-o", out, C_SOURCE, "-lzmq"], check=True)
    return out


def run_c(program, transport, size, count):
    if transport == "tcp":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            endpoint = "tcp://127.0.0.1:%d" % probe.getsockname()[1]
    else:
        endpoint = "ipc://" + os.path.join(tempfile.mkdtemp(), "c")
    done = subprocess.run([program, endpoint, str(size), str(count)], check=True,
                          capture_output=True, text=True, timeout=300)
    return float(done.stdout.strip())


def load(mode):
    if mode == "pyzmq":
        import zmq
        return zmq
    import mqcore
    return mqcore


def sender(mode, endpoint, size, count, batch, ready):
    zmq = load(mode)
    ctx = zmq.Context()
    s = ctx.socket(zmq.PUSH)
    s.sndtimeo = 60000
    s.connect(endpoint)
    ready.set()
    msg = b"x" * size
    if mode == "mqcore-batch":
        chunk = [msg] * batch
        left = count
        while left:
            left -= s.send_many(chunk[:left] if left < batch else chunk)
    else:
        send = s.send
        for _ in range(count):
            send(msg)
    s.close(linger=-1)
    ctx.term()


def receive(mode, sock, count, batch):
    if mode == "mqcore-batch":
        recv_many = sock.recv_many
        got = len(recv_many(1))
        start = time.perf_counter()
        while got < count:
            got += len(recv_many(batch))
    else:
        recv = sock.recv
        recv()
        start = time.perf_counter()
        for _ in range(count - 1):
            recv()
    return time.perf_counter() - start


def run(mode, transport, size, count, batch):
    zmq = load(mode)
    ctx = zmq.Context()
    pull = ctx.socket(zmq.PULL)
    pull.rcvtimeo = 60000
    if transport == "tcp":
        pull.bind("tcp://127.0.0.1:*")
    else:
        pull.bind("ipc://" + os.path.join(tempfile.mkdtemp(), "b"))
    endpoint = pull.getsockopt(zmq.LAST_ENDPOINT).decode()
    ready = mp.Event()
    peer = mp.Process(target=sender, args=(mode, endpoint, size, count, batch, ready))
    peer.start()
    try:
        ready.wait(30)
        elapsed = receive(mode, pull, count, batch)
    finally:
        peer.join(60)
        pull.close(linger=0)
        ctx.term()
    return (count - 1) / elapsed


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--count", type=int, default=2_000_000)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--transport", action="append", choices=("tcp", "ipc"))
    p.add_argument("--reps", type=int, default=3)
    a = p.parse_args()
    mp.set_start_method("spawn")
    program = build_c_reference()
    modes = (("libzmq-C",) if program else ()) + MODES
    for transport in a.transport or ["tcp", "ipc"]:
        rates = {m: [] for m in modes}
        for _ in range(a.reps):
            for m in modes:             # alternated, so drift hits all alike
                if m == "libzmq-C":
                    rates[m].append(run_c(program, transport, a.size, a.count))
                else:
                    rates[m].append(run(m, transport, a.size, a.count, a.batch))
        base = statistics.median(rates["pyzmq"])
        c = statistics.median(rates["libzmq-C"]) if program else None
        print(f"{transport} {a.size} B x {a.count}, batch {a.batch}, median of {a.reps}:")
        for m in modes:
            r = statistics.median(rates[m])
            vs_c = f"   {r / c:5.2f}x C" if c else ""
            print(f"  {m:13s} {r / 1e6:6.2f} M msg/s   {r / base:5.2f}x pyzmq{vs_c}")


if __name__ == "__main__":
    main()
