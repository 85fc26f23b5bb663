"""A crowd of idle connections must not slow the io thread down for the
others.

The io thread scanned every session for its next deadline on each wake
(and again to run timers), so each message another peer sent cost work in
proportion to the number of connections: a few thousand half-open
connections, which any peer can open and leave for HANDSHAKE_IVL, made the
io thread spend ~50 ns per idle connection per message (traffic an order of
magnitude slower; libzmq keeps its timers sorted and is unaffected). The
thread now keeps the earliest deadline and scans only when one is due.

Measured as the io threads' CPU time for the same round trips with and
without the crowd (CPU time, not wall time: load on the machine does not
inflate it much), with a wide margin.
"""

import os
import resource
import socket

import pytest

from .procs import IMPL

pytestmark = [
    pytest.mark.skipif(IMPL != "mqcore", reason="measures mqcore's io threads"),
    # poll() itself looks at every fd on each wake: that backend is O(n) by nature.
    pytest.mark.skipif(os.environ.get("MQCORE_POLLER") == "poll", reason="the poll() backend scans every fd"),
]

CROWD = 4000
ROUND_TRIPS = 10000


def io_threads_cpu():
    """Seconds of CPU used so far by this process's mqcore io threads."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                if not f.read().startswith("mqcore/io"):
                    continue
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])      # utime, stime
    return total / tick


def io_cpu_for_round_trips(zmq, crowd):
    ctx = zmq.Context()
    ctx.setsockopt(zmq.LINGER, 0)
    idle = []
    try:
        pull = ctx.socket(zmq.PULL)
        pull.setsockopt(zmq.RCVTIMEO, 5000)
        port = pull.bind_to_random_port("tcp://127.0.0.1")
        for _ in range(crowd):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        push = ctx.socket(zmq.PUSH)
        push.setsockopt(zmq.SNDTIMEO, 5000)
        push.connect(f"tcp://127.0.0.1:{port}")
        push.send(b"x")
        pull.recv()
        before = io_threads_cpu()
        for _ in range(ROUND_TRIPS):
            push.send(b"x")
            pull.recv()
        return io_threads_cpu() - before
    finally:
        ctx.destroy(0)
        for s in idle:
            s.close()


@pytest.fixture
def many_fds():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * CROWD + 200
    if hard != resource.RLIM_INFINITY and hard < need:
        pytest.skip(f"needs {need} file descriptors, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.slow
def test_idle_connections_do_not_tax_other_traffic(zmq, many_fds):
    alone = io_cpu_for_round_trips(zmq, 0)
    crowded = io_cpu_for_round_trips(zmq, CROWD)
    assert crowded < 3 * alone + 0.5, (alone, crowded)
