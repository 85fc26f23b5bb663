"""Small messages one at a time and in batches: pyzmq's per-message API,
mqcore's per-message API and mqcore's send_many/recv_many, side by side in
one run (PUSH -> PULL, the sender in a process of its own).

    python bench/batch.py [--size 64] [--count 2000000] [--batch 256]
                          [--transport tcp --transport ipc] [--reps 3]

Prints messages per second for each and the ratios to pyzmq's per-message
rate (higher is better for mqcore).
"""

import argparse
import multiprocessing as mp
import os
import statistics
import tempfile
import time

MODES = ("pyzmq", "mqcore", "mqcore-batch")


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
    for transport in a.transport or ["tcp", "ipc"]:
        rates = {m: [] for m in MODES}
        for _ in range(a.reps):
            for m in MODES:             # alternated, so drift hits all alike
                rates[m].append(run(m, transport, a.size, a.count, a.batch))
        base = statistics.median(rates["pyzmq"])
        print(f"{transport} {a.size} B x {a.count}, batch {a.batch}, median of {a.reps}:")
        for m in MODES:
            r = statistics.median(rates[m])
            print(f"  {m:13s} {r / 1e6:6.2f} M msg/s   {r / base:5.2f}x pyzmq")


if __name__ == "__main__":
    main()
