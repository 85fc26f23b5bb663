"""PUSH/PULL and DEALER->ROUTER throughput for pyzmq or mqcore (`--impl zmq|mqcore`).

Modelled on libzmq's perf/local_thr + remote_thr: the receiver (PULL)
binds, the sender (PUSH) connects and sends COUNT messages of SIZE bytes,
and the receiver times from the first to the last message, so process
start-up and connection setup are not measured.  For tcp and ipc the sender
is a separate process (this script re-run with `--role sender`); for inproc
it is a thread sharing the receiver's Context, as inproc requires.

`--pattern routerdealer` does the same with a DEALER sending one-frame
messages to a ROUTER, which receives each as [routing id, body] with
recv_multipart(), as a ROUTER-based server would.  Its default sizes are
64 B and 1 KiB.

`--mechanism curve` runs the same cases over CURVE (tcp and ipc only):
the receiver is the CURVE server, the sender the client, with key pairs
made for the run by the receiver's process.

Two send/recv styles are measured:
  copy      send(msg) / recv()                       -- the common case
  zerocopy  send(msg, copy=False) / recv(copy=False) -- by default only for
            64 KiB and 1 MiB, where zero-copy is meant to matter

Examples:
    python bench/thr.py --impl zmq                  # whole matrix as a table
    python bench/thr.py --impl mqcore --quick
    python bench/thr.py --impl zmq --transport tcp --size 1KiB --mode copy --json
    python bench/thr.py --impl mqcore --pattern routerdealer --transport ipc
    python bench/thr.py --impl mqcore --mechanism curve --size 64 --size 1MiB
"""

import argparse
import os
import sys
import time

import _common as common


# ---------------------------------------------------------------- the loops

def send_messages(sock, size, count, zerocopy):
    """Send `count` copies of one pre-built message (allocation is not measured)."""
    msg = b"x" * size
    send = sock.send  # hoisted: attribute lookup would be a visible cost at 1 B
    if zerocopy:
        for _ in range(count):
            send(msg, copy=False)
    else:
        for _ in range(count):
            send(msg)


def receive_and_time(sock, size, count, zerocopy, multipart=False):
    """Receive `count` messages; return seconds from first to last arrival.

    The first message starts the clock (as in libzmq's local_thr), so
    `count - 1` messages are timed.  First and last messages are checked so
    a truncating implementation cannot post a flattering number.  With
    `multipart` (ROUTER) each message is a [routing id, body] list.
    """
    recv = sock.recv_multipart if multipart else sock.recv
    first = recv(copy=not zerocopy)
    start = time.perf_counter()
    if zerocopy:
        for _ in range(count - 2):
            recv(copy=False)
    else:
        for _ in range(count - 2):
            recv()
    last = recv(copy=not zerocopy)
    elapsed = time.perf_counter() - start
    for which, msg in (("first", first), ("last", last)):
        check_message(which, msg, size, multipart)
    return elapsed


def check_message(which, msg, size, multipart):
    """Raise unless `msg` is one SIZE-byte body (after a routing id if multipart)."""
    if multipart:
        if len(msg) != 2:
            raise common.BenchError("%s message has %d frames, expected [id, body]" % (which, len(msg)))
        msg = msg[1]
    if len(msg) != size:
        raise common.BenchError("%s message has %d bytes, expected %d" % (which, len(msg), size))


# ----------------------------------------------------------------- one case

def socket_types(zmq, pattern):
    """(receiver type, sender type) of a pattern, e.g. (zmq.ROUTER, zmq.DEALER)."""
    return tuple(getattr(zmq, name) for name in common.THR_PATTERNS[pattern])


def start_peer(zmq, impl, ctx, pattern, transport, endpoint, size, count, zerocopy, io_timeout_ms,
               security):
    """Start the sender: a thread for inproc, a separate process otherwise."""
    if transport == "inproc":
        def sender(released):
            sock = ctx.socket(socket_types(zmq, pattern)[1])
            try:
                common.set_io_timeouts(zmq, sock, io_timeout_ms)
                security.apply_client(zmq, sock)
                sock.connect(endpoint)
                send_messages(sock, size, count, zerocopy)
                released.wait(common.PEER_EXIT_TIMEOUT_S * 3)
            finally:
                sock.close(linger=0)
        return common.ThreadPeer(sender)
    args = ["--role", "sender", "--impl", impl, "--pattern", pattern, "--endpoint", endpoint,
            "--size", size, "--count", count, "--io-timeout", io_timeout_ms] + security.peer_args()
    if zerocopy:
        args.append("--zerocopy")
    return common.Peer(os.path.abspath(__file__), args)


def run_case(zmq, impl, pattern, transport, size, count, zerocopy, io_timeout_ms, report,
             mechanism="null"):
    """Measure one (pattern, mechanism, transport, size, mode) case; the outcome goes to `report`."""
    case = {"bench": "thr", "impl": impl, "pattern": pattern, "mechanism": mechanism,
            "transport": transport, "size": size, "mode": "zerocopy" if zerocopy else "copy",
            "count": count}
    security = common.Security.generate(zmq, mechanism)
    multipart = pattern == "routerdealer"

    def start(ctx, endpoint):
        return start_peer(zmq, impl, ctx, pattern, transport, endpoint, size, count, zerocopy,
                          io_timeout_ms, security)

    def measure(sock):
        return rates(size, count, receive_and_time(sock, size, count, zerocopy, multipart))

    common.run_case_with_peer(zmq, case, socket_types(zmq, pattern)[0], start, measure, report,
                              io_timeout_ms, security)


def rates(size, count, elapsed):
    timed = count - 1  # the first message only starts the clock
    elapsed = max(elapsed, 1e-9)
    return {
        "elapsed_s": elapsed,
        "msg_per_s": timed / elapsed,
        "mb_per_s": timed * size / elapsed / 1e6,  # MB = 10**6 bytes
    }


# --------------------------------------------------------------- peer role

def run_sender_role(zmq, args):
    """Child process: connect, send everything, hold the socket until released."""
    ctx = zmq.Context()
    sock = ctx.socket(socket_types(zmq, args.pattern)[1])
    try:
        common.set_io_timeouts(zmq, sock, args.io_timeout)
        common.Security.from_peer_args(args.mechanism, args.curve_keys).apply_client(zmq, sock)
        sock.connect(args.endpoint)
        send_messages(sock, args.size, args.count, args.zerocopy)
        common.wait_for_release()
    finally:
        common.close_and_term(sock, ctx)


# ---------------------------------------------------------------------- CLI

def selected_cases(args):
    """(transport, size, zerocopy) tuples for the requested matrix."""
    transports = args.transport or list(common.TRANSPORTS)
    default_sizes = common.THR_SIZES if args.pattern == "pushpull" else common.ROUTERDEALER_SIZES
    sizes = args.size or list(default_sizes)
    cases = []
    for transport in transports:
        for size in sizes:
            for mode in args.mode or ["copy", "zerocopy"]:
                # Without an explicit --mode, zero-copy only where it matters.
                if mode == "zerocopy" and not args.mode and size not in common.ZEROCOPY_SIZES:
                    continue
                cases.append((transport, size, mode == "zerocopy"))
    return cases


def format_result(result):
    head = "%-12s %-5s %-6s %6s %-8s %8d msgs" % (
        result["pattern"], result.get("mechanism", "null"), result["transport"], common.format_size(result["size"]),
        result["mode"], result["count"])
    if "error" in result:
        return head + "   FAILED: " + result["error"]
    return head + " %7.3f s %13s msg/s %10.1f MB/s%s" % (
        result["elapsed_s"], "{:,.0f}".format(result["msg_per_s"]), result["mb_per_s"],
        ("   WARNING: " + result["warning"]) if "warning" in result else "")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impl", choices=common.IMPLS, default="zmq")
    parser.add_argument("--pattern", choices=sorted(common.THR_PATTERNS), default="pushpull",
                        help="PUSH->PULL or DEALER->ROUTER (default %(default)s)")
    parser.add_argument("--transport", action="append", choices=common.TRANSPORTS,
                        help="repeatable; default: all (tcp and ipc with --mechanism curve)")
    parser.add_argument("--size", action="append", type=common.parse_size,
                        help="message size, e.g. 64, 1KiB, 1MiB; repeatable; "
                             "default: 1B..1MiB (pushpull), 64B and 1KiB (routerdealer)")
    parser.add_argument("--mode", action="append", choices=("copy", "zerocopy"),
                        help="repeatable; default: copy for all sizes, zerocopy for 64KiB and 1MiB")
    parser.add_argument("--count", type=int, help="messages per case (default: scaled by size)")
    parser.add_argument("--quick", action="store_true", help="1/%d of the messages" % common.QUICK_DIVISOR)
    parser.add_argument("--json", action="store_true", help="one JSON object per case on stdout")
    parser.add_argument("--io-timeout", type=int, default=common.DEFAULT_IO_TIMEOUT_MS,
                        help="ms per blocking send/recv before giving up (default %(default)s)")
    common.add_mechanism_args(parser)
    # Internal: how the receiver re-runs this script as its sender process.
    parser.add_argument("--role", choices=("sender",), help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--zerocopy", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    common.check_mechanism_transports(parser, args)
    return args


def main(argv=None):
    args = parse_args(argv)
    zmq = common.load_impl(args.impl)
    if args.role == "sender":
        args.size, = args.size
        run_sender_role(zmq, args)
        return 0

    report = common.emit_json if args.json else (lambda r: print(format_result(r), flush=True))
    if not args.json:
        print("# thr.py --impl %s: %s" % (args.impl, common.describe_impl(zmq)), flush=True)
    failures = 0
    for transport, size, zerocopy in selected_cases(args):
        count = max(2, args.count or common.thr_count(transport, size, zerocopy, args.quick,
                                                      args.pattern, args.mechanism))
        try:
            run_case(zmq, args.impl, args.pattern, transport, size, count, zerocopy,
                     args.io_timeout, report, args.mechanism)
        except Exception:
            failures += 1  # already reported; go on with the next case
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
