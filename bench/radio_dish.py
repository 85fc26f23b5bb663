"""RADIO -> DISH over udp against the reference libzmq, in one run:
libzmq's C per-message API (bench/c/thr_radio_dish.c, built against the
reference libzmq that tools/build_reference_libzmq.sh makes) side by side
with mqcore. (EPGM has its own bench, bench/pgm.py.)

    python bench/radio_dish.py [--size 64] [--count 200000] [--reps 3]

udp has no flow control: each sender queues every message (SNDHWM 0) and
its io thread sends as fast as sendto goes; each receiver counts what
arrives and stops 500 ms after the last message. Prints messages delivered
per second, how many of the sent ones arrived, and mqcore's delivered rate
over libzmq's (higher is better for mqcore). On loopback the receiver's
kernel buffer overflows when the sender takes the CPU, so the delivered
rate mostly shows how little CPU each side spends per datagram.
"""

import argparse
import multiprocessing as mp
import os
import pathlib
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
C_SOURCE = HERE / "c" / "thr_radio_dish.c"
GROUP = b"bench"


def reference_prefix():
    sys.path.insert(0, str(HERE.parent / "tests"))
    import libzmq_ref
    libzmq_ref.build()
    return libzmq_ref.prefix()


def build_c_reference():
    prefix = reference_prefix()
    out = os.path.join(tempfile.mkdtemp(), "thr_radio_dish")
    subprocess.run(["gcc", "-O2", "-I", f"{prefix}/include", "-o", out, str(C_SOURCE),
                    "-L", f"{prefix}/lib", f"-Wl,-rpath,{prefix}/lib", "-lzmq"], check=True)
    return out


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def udp_endpoint():
    """A fresh port per run, so one run's stragglers never reach the next."""
    return f"udp://127.0.0.1:{free_udp_port()}"


def run_c(program, size, count):
    done = subprocess.run([program, udp_endpoint(), str(size), str(count)],
                          check=True, capture_output=True, text=True, timeout=300)
    received, seconds = done.stdout.split()
    return int(received), float(seconds)


def mqcore_sender(endpoint, size, count):
    import mqcore as zmq
    ctx = zmq.Context()
    s = ctx.socket(zmq.RADIO)
    s.sndhwm = 0
    s.connect(endpoint)
    time.sleep(0.2)             # as the C sender: the receiver is bound and joined by then
    body = b"\0" * size
    for _ in range(count):
        s.send(body, group=GROUP)
    s.close(linger=10000)
    ctx.term()


def run_mqcore(size, count):
    import mqcore as zmq
    endpoint = udp_endpoint()
    ctx = zmq.Context()
    s = ctx.socket(zmq.DISH)
    s.rcvhwm = 0
    s.rcvtimeo = 5000
    s.bind(endpoint)
    s.join(GROUP)
    peer = mp.Process(target=mqcore_sender, args=(endpoint, size, count))
    peer.start()
    received, first, last = 0, 0.0, 0.0
    try:
        s.recv()
        received, first = 1, time.perf_counter()
        last = first
        s.rcvtimeo = 500
        while received < count:
            try:
                s.recv()
            except zmq.Again:
                break
            received += 1
            last = time.perf_counter()
    except zmq.Again:
        pass
    finally:
        peer.join(60)
        s.close(linger=0)
        ctx.term()
    return received, last - first


def delivered_rate(received, seconds):
    return received / seconds if seconds > 0 else 0.0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--count", type=int, default=200_000)
    p.add_argument("--reps", type=int, default=3)
    a = p.parse_args()
    mp.set_start_method("spawn")
    program = build_c_reference()
    results = {"libzmq-C": [], "mqcore": []}
    for _ in range(a.reps):             # alternated, so drift hits both alike
        results["libzmq-C"].append(run_c(program, a.size, a.count))
        results["mqcore"].append(run_mqcore(a.size, a.count))
    print(f"RADIO->DISH udp, {a.size} B x {a.count}, median of {a.reps}:")
    rates = {}
    for name, runs in results.items():
        rates[name] = statistics.median(delivered_rate(r, s) for r, s in runs)
        arrived = statistics.median(r for r, _ in runs) / a.count
        print(f"  {name:10s} {rates[name] / 1e3:9.1f} k msg/s delivered, {arrived:6.1%} arrived")
    base = rates["libzmq-C"]
    print(f"  mqcore/libzmq {rates['mqcore'] / base if base else float('nan'):.2f}x")


if __name__ == "__main__":
    main()
