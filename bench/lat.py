"""PAIR and REQ/REP round-trip latency for pyzmq or mqcore (`--impl zmq|mqcore`).

The measuring side binds a PAIR socket, an echo peer connects and sends
every message straight back (`--pattern reqrep`: the measuring side binds
a REQ socket and the echo peer is a REP, so the envelope handling and the
REQ/REP state machines are part of each round trip).  Each round trip
(send + recv of the reply) is timed on its own with perf_counter_ns, after
a warm-up, and we report the median and the 99th percentile in
microseconds: the median is the typical cost, p99 shows stalls (GC,
scheduling, batching gone wrong).  For tcp and ipc the echo peer is a
separate process (this script re-run with `--role echo`); for inproc it is
a thread sharing the Context.

`--mechanism curve` runs the same cases over CURVE (tcp and ipc only): the
measuring side is the CURVE server, the echo peer the client, with key
pairs made for the run by the measuring process.

Examples:
    python bench/lat.py --impl zmq                 # tcp, ipc, inproc x 1B, 1KiB
    python bench/lat.py --impl mqcore --quick
    python bench/lat.py --impl zmq --transport ipc --size 1KiB --json
    python bench/lat.py --impl mqcore --pattern reqrep --transport tcp
    python bench/lat.py --impl zmq --mechanism curve --transport tcp
    python bench/lat.py --impl socket --transport tcp --size 1   # the floor

`--impl socket` is the floor a messaging library is measured against: a
plain Python TCP socket ping-pong (TCP_NODELAY, blocking sendall/recv) with
the same process layout (the measuring side binds 127.0.0.1, an echo
process connects) and the same timing loop. tcp only; --pattern is ignored.
bench/latency.py runs it, pyzmq and mqcore in one run and prints ratios.
"""

import argparse
import math
import os
import socket
import sys
import time

import _common as common


# ---------------------------------------------------------------- the loops

def time_round_trips(sock, size, round_trips, warmup):
    """Return `round_trips` round-trip times in ns, after `warmup` untimed ones."""
    msg = b"x" * size
    send, recv, clock = sock.send, sock.recv, time.perf_counter_ns
    for _ in range(warmup):
        send(msg)
        recv()
    samples = [0] * round_trips
    for i in range(round_trips):
        start = clock()
        send(msg)
        reply = recv()
        samples[i] = clock() - start
    if len(reply) != size:
        raise common.BenchError("reply has %d bytes, expected %d" % (len(reply), size))
    return samples


def echo(sock, total):
    """Send each of `total` messages straight back."""
    send, recv = sock.send, sock.recv
    for _ in range(total):
        send(recv())


def percentile(sorted_samples, fraction):
    """Nearest-rank percentile: a value that was actually observed."""
    index = max(0, min(len(sorted_samples) - 1, math.ceil(fraction * len(sorted_samples)) - 1))
    return sorted_samples[index]


# ------------------------------------------------------- plain socket floor

class RawSocket:
    """A connected TCP socket with lat.py's send/recv: whole messages of a
    fixed size (TCP is a byte stream, so recv loops until it has them)."""

    def __init__(self, sock, size):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.size = sock, size
        self.send = sock.sendall
        self._recv = sock.recv

    def recv(self):
        data = self._recv(self.size)
        if not data:
            raise common.BenchError("peer closed the connection")
        while len(data) < self.size:
            more = self._recv(self.size - len(data))
            if not more:
                raise common.BenchError("peer closed the connection")
            data += more
        return data


def run_socket_case(transport, size, round_trips, warmup, io_timeout_ms, report):
    """The plain-socket floor for one size: same layout and loop as run_case."""
    case = {"bench": "lat", "impl": "socket", "pattern": "pair", "mechanism": "null",
            "transport": transport, "size": size, "round_trips": round_trips}
    if transport != "tcp":
        report(dict(case, error="--impl socket is tcp only"))
        raise common.BenchError("--impl socket is tcp only")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    peer = conn = None
    try:
        listener.settimeout(io_timeout_ms / 1e3)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        endpoint = "tcp://127.0.0.1:%d" % listener.getsockname()[1]
        peer = common.Peer(os.path.abspath(__file__), [
            "--role", "echo", "--impl", "socket", "--endpoint", endpoint, "--size", size,
            "--total", warmup + round_trips, "--io-timeout", io_timeout_ms])
        conn, _ = listener.accept()
        conn.settimeout(io_timeout_ms / 1e3)
        result = latency_stats(time_round_trips(RawSocket(conn, size), size, round_trips, warmup))
        warning = peer.release()
        peer = None
        if warning:
            result["warning"] = warning
        report(dict(case, **result))
    except Exception as exc:
        report(dict(case, error=common.exception_text(exc)
                    + ("; " + peer.describe_failure() if peer is not None else "")))
        raise
    finally:
        if conn is not None:
            conn.close()
        listener.close()
        if peer is not None:
            peer.kill()


def run_socket_echo_role(args):
    """Child process of run_socket_case: connect, echo, wait for release."""
    host, port = args.endpoint[len("tcp://"):].rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=args.io_timeout / 1e3)
    try:
        echo(RawSocket(sock, args.size[0]), args.total)
        common.wait_for_release()
    finally:
        sock.close()


# ----------------------------------------------------------------- one case

def socket_types(zmq, pattern):
    """(measuring type, echo type) of a pattern, e.g. (zmq.REQ, zmq.REP)."""
    return tuple(getattr(zmq, name) for name in common.LAT_PATTERNS[pattern])


def start_peer(zmq, impl, ctx, pattern, transport, endpoint, total, io_timeout_ms, security):
    """Start the echo peer: a thread for inproc, a separate process otherwise."""
    if transport == "inproc":
        def echo_thread(released):
            sock = ctx.socket(socket_types(zmq, pattern)[1])
            try:
                common.set_io_timeouts(zmq, sock, io_timeout_ms)
                security.apply_client(zmq, sock)
                sock.connect(endpoint)
                echo(sock, total)
                released.wait(common.PEER_EXIT_TIMEOUT_S * 3)
            finally:
                sock.close(linger=0)
        return common.ThreadPeer(echo_thread)
    args = ["--role", "echo", "--impl", impl, "--pattern", pattern, "--endpoint", endpoint,
            "--total", total, "--io-timeout", io_timeout_ms] + security.peer_args()
    return common.Peer(os.path.abspath(__file__), args)


def run_case(zmq, impl, pattern, transport, size, round_trips, warmup, io_timeout_ms, report,
             mechanism="null"):
    """Measure one (pattern, mechanism, transport, size) case; the outcome goes to `report`."""
    case = {"bench": "lat", "impl": impl, "pattern": pattern, "mechanism": mechanism,
            "transport": transport, "size": size, "round_trips": round_trips}
    security = common.Security.generate(zmq, mechanism)

    def start(ctx, endpoint):
        return start_peer(zmq, impl, ctx, pattern, transport, endpoint, warmup + round_trips,
                          io_timeout_ms, security)

    def measure(sock):
        return latency_stats(time_round_trips(sock, size, round_trips, warmup))

    common.run_case_with_peer(zmq, case, socket_types(zmq, pattern)[0], start, measure, report,
                              io_timeout_ms, security)


def latency_stats(samples_ns):
    samples = sorted(samples_ns)
    return {
        "p50_us": percentile(samples, 0.50) / 1e3,
        "p99_us": percentile(samples, 0.99) / 1e3,
        "min_us": samples[0] / 1e3,
        "mean_us": sum(samples) / len(samples) / 1e3,
    }


# --------------------------------------------------------------- peer role

def run_echo_role(zmq, args):
    """Child process: connect, echo `total` messages, hold the socket until released."""
    ctx = zmq.Context()
    sock = ctx.socket(socket_types(zmq, args.pattern)[1])
    try:
        common.set_io_timeouts(zmq, sock, args.io_timeout)
        common.Security.from_peer_args(args.mechanism, args.curve_keys).apply_client(zmq, sock)
        sock.connect(args.endpoint)
        echo(sock, args.total)
        common.wait_for_release()
    finally:
        common.close_and_term(sock, ctx)


# ---------------------------------------------------------------------- CLI

def format_result(result):
    head = "%-6s %-5s %-6s %6s %7d round trips" % (
        result["pattern"], result.get("mechanism", "null"), result["transport"], common.format_size(result["size"]),
        result["round_trips"])
    if "error" in result:
        return head + "   FAILED: " + result["error"]
    return head + "   p50 %8.1f us   p99 %8.1f us   min %8.1f us%s" % (
        result["p50_us"], result["p99_us"], result["min_us"],
        ("   WARNING: " + result["warning"]) if "warning" in result else "")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impl", choices=common.IMPLS + ("socket",), default="zmq",
                        help="socket: plain Python TCP ping-pong, the floor (tcp only)")
    parser.add_argument("--pattern", choices=sorted(common.LAT_PATTERNS), default="pair",
                        help="PAIR<->PAIR or REQ<->REP (default %(default)s)")
    parser.add_argument("--transport", action="append", choices=common.TRANSPORTS,
                        help="repeatable; default: all (tcp and ipc with --mechanism curve)")
    parser.add_argument("--size", action="append", type=common.parse_size,
                        help="message size, e.g. 1, 1KiB; repeatable; default: 1B and 1KiB")
    parser.add_argument("--round-trips", type=int, help="timed round trips per case (default %d)"
                        % common.LAT_ROUND_TRIPS)
    parser.add_argument("--warmup", type=int, default=common.LAT_WARMUP,
                        help="untimed round trips first (default %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help="1/%d of the round trips" % common.QUICK_DIVISOR)
    parser.add_argument("--json", action="store_true", help="one JSON object per case on stdout")
    parser.add_argument("--io-timeout", type=int, default=common.DEFAULT_IO_TIMEOUT_MS,
                        help="ms per blocking send/recv before giving up (default %(default)s)")
    common.add_mechanism_args(parser)
    # Internal: how the measuring side re-runs this script as its echo process.
    parser.add_argument("--role", choices=("echo",), help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--total", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    common.check_mechanism_transports(parser, args)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.impl == "socket":
        return socket_main(args)
    zmq = common.load_impl(args.impl)
    if args.role == "echo":
        run_echo_role(zmq, args)
        return 0

    report = common.emit_json if args.json else (lambda r: print(format_result(r), flush=True))
    if not args.json:
        print("# lat.py --impl %s: %s" % (args.impl, common.describe_impl(zmq)), flush=True)
    round_trips = max(1, args.round_trips or common.lat_round_trips(args.quick))
    failures = 0
    for transport in args.transport or common.TRANSPORTS:
        for size in args.size or common.LAT_SIZES:
            try:
                run_case(zmq, args.impl, args.pattern, transport, size, round_trips,
                         args.warmup, args.io_timeout, report, args.mechanism)
            except Exception:
                failures += 1  # already reported; go on with the next case
    return 1 if failures else 0


def socket_main(args):
    if args.role == "echo":
        run_socket_echo_role(args)
        return 0
    report = common.emit_json if args.json else (lambda r: print(format_result(r), flush=True))
    round_trips = max(1, args.round_trips or common.lat_round_trips(args.quick))
    failures = 0
    for transport in args.transport or ("tcp",):
        for size in args.size or common.LAT_SIZES:
            try:
                run_socket_case(transport, size, round_trips, args.warmup, args.io_timeout, report)
            except Exception:
                failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
