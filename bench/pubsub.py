"""PUB/SUB fan-out throughput for pyzmq or mqcore (`--impl zmq|mqcore`).

The publisher binds a PUB socket; 1 or 4 subscribers (`--subscribers N`)
connect SUB sockets, subscribe to everything (b"") and count what they
get.  For tcp and ipc every subscriber is a separate process (this script
re-run with `--role subscriber`); for inproc they are threads sharing the
publisher's Context.

PUB drops messages for subscribers it does not know yet, so timing starts
only when every subscription has reached the publisher.  The publisher
also binds a ROUTER "sync" socket and sends empty probe messages on PUB
until every subscriber has told it, over a DEALER, that a probe arrived.
Then it sends COUNT data messages of SIZE bytes and one empty end marker.
Data messages are never empty, so telling probes and the end marker apart
from data costs a single len() per message.

Each subscriber times from its first data message to the end marker, like
thr.py's receiver, and sends back how many data messages it got.  The
result is the slowest subscriber's rate (msg/s delivered to *each*
subscriber).  SNDHWM and RCVHWM are 0 (no limit), so PUB never has to
drop: a subscriber that misses messages makes the case fail with the drop
count as its error.  (`--hwm 1000` lets PUB drop, to see that report.)

Examples:
    python bench/pubsub.py --impl zmq                 # 1 and 4 subscribers, tcp/ipc/inproc
    python bench/pubsub.py --impl mqcore --quick
    python bench/pubsub.py --impl zmq --subscribers 4 --transport ipc --json
"""

import argparse
import json
import os
import sys
import time

import _common as common

CONTROL = b""  # probes and the end marker; data messages are never empty
PROBE_INTERVAL_MS = 2  # between probes while waiting for subscriptions


# ------------------------------------------------------- publisher's loops

def await_subscribers(pub, sync, subscribers, timeout_s):
    """Probe on PUB until every subscriber reports (via `sync`) that a probe arrived.

    A probe arriving proves the subscription reached PUB, which a
    connect() or SUBSCRIBE returning does not.
    """
    ready = set()
    deadline = time.monotonic() + timeout_s
    while len(ready) < subscribers:
        if time.monotonic() > deadline:
            raise common.BenchError("only %d of %d subscribers ready after %.1f s"
                                    % (len(ready), subscribers, timeout_s))
        pub.send(CONTROL)
        if sync.poll(PROBE_INTERVAL_MS):
            identity, kind = sync.recv_multipart()[:2]
            if kind != b"ready":
                raise common.BenchError("expected 'ready' from a subscriber, got %r" % kind)
            ready.add(identity)


def publish(pub, size, count):
    """Send `count` copies of one pre-built message, then the end marker.

    Returns the perf_counter() value just before the first send.
    """
    msg = b"x" * size
    send = pub.send  # hoisted: attribute lookup would be a visible cost at 64 B
    started_at = time.perf_counter()
    for _ in range(count):
        send(msg)
    send(CONTROL)
    return started_at


def collect_reports(sync, subscribers, timeout_s):
    """Wait for every subscriber's [b"done", json] report; return the reports."""
    reports = []
    deadline = time.monotonic() + timeout_s
    while len(reports) < subscribers:
        remaining_ms = int((deadline - time.monotonic()) * 1000)
        if remaining_ms <= 0 or not sync.poll(remaining_ms):
            raise common.BenchError("only %d of %d subscribers reported within %.1f s"
                                    % (len(reports), subscribers, timeout_s))
        frames = sync.recv_multipart()
        if frames[1:2] != [b"done"] or len(frames) != 3:
            raise common.BenchError("unexpected report from a subscriber: %r" % frames[1:])
        reports.append(json.loads(frames[2]))
    return reports


def fanout_stats(reports, size, count, started_at):
    """The slowest subscriber's rate; raises if any subscriber missed messages.

    Each subscriber's rate is counted from the publisher's first send to
    that subscriber's end marker.  (perf_counter is CLOCK_MONOTONIC on
    Linux, one clock for all processes.)  A subscriber's own first-to-last
    window would flatter a 2-core box: subscribers that waited for a CPU
    while their queues filled then drain them in a burst, faster than PUB
    actually fans out.  Those own-window rates are kept for reference.
    """
    problems = [describe_shortfall(i, r, count) for i, r in enumerate(reports, 1)
                if r["received"] != count or r.get("error")]
    if problems:
        raise common.BenchError("%d of %d subscribers missed messages: %s"
                                % (len(problems), len(reports), "; ".join(problems)))
    elapsed = sorted(max(r["end_at"] - started_at, 1e-9) for r in reports)
    rates = [count / e for e in elapsed]
    return {
        "elapsed_s": elapsed[-1],
        "msg_per_s": rates[-1],  # the slowest subscriber, the last to finish
        "mb_per_s": rates[-1] * size / 1e6,  # MB = 10**6 bytes
        "msg_per_s_each": rates,
        # As in thr.py, a subscriber's first message only starts its own clock.
        "own_window_msg_per_s_each": sorted(
            (r["received"] - 1) / max(r["end_at"] - r["first_at"], 1e-9) for r in reports),
    }


def describe_shortfall(index, report, count):
    text = "subscriber %d got %s of %s (%s dropped)" % (
        index, "{:,}".format(report["received"]), "{:,}".format(count),
        "{:,}".format(count - report["received"]))
    return text + (", " + report["error"] if report.get("error") else "")


# ------------------------------------------------------ subscriber's loops

def receive_stream(sub, size):
    """Skip probes, then count data messages up to the end marker.

    Returns a report dict.  A recv timeout after data started is reported
    (with the count so far) rather than raised, so the publisher can say
    how many messages were dropped.
    """
    recv = sub.recv
    msg = recv()
    while len(msg) != size:  # probes still in flight when PUB stopped probing
        if msg != CONTROL:
            raise common.BenchError("data message has %d bytes, expected %d" % (len(msg), size))
        msg = recv()
    first_at = time.perf_counter()
    received, error = 1, None
    try:
        msg = recv()
        while len(msg) == size:
            received += 1
            msg = recv()
        if msg != CONTROL:
            error = "data message has %d bytes, expected %d" % (len(msg), size)
    except Exception as exc:
        error = common.exception_text(exc)  # typically RCVTIMEO: the end marker never came
    return {"received": received, "first_at": first_at, "end_at": time.perf_counter(),
            "error": error}


def wait_for_probe(sub):
    """Block until the first probe (or data) arrives: our subscription is live."""
    sub.recv()


def run_subscriber(zmq, ctx, endpoint, sync_endpoint, size, hwm, io_timeout_ms, wait_for_release):
    """Subscribe, signal ready, receive the stream, report, hold sockets until released."""
    sub = ctx.socket(zmq.SUB)
    sync = ctx.socket(zmq.DEALER)
    try:
        for sock in (sub, sync):
            common.set_io_timeouts(zmq, sock, io_timeout_ms)
        sub.setsockopt(zmq.RCVHWM, hwm)  # before connect: it sizes the new pipe
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(endpoint)
        sync.connect(sync_endpoint)
        wait_for_probe(sub)
        sync.send(b"ready")
        report = receive_stream(sub, size)
        sync.send_multipart([b"done", json.dumps(report).encode()])
        wait_for_release()
    finally:
        sub.close(linger=0)
        sync.close(linger=0)


# ----------------------------------------------------------------- one case

def start_subscribers(zmq, impl, ctx, transport, endpoints, size, subscribers, hwm, io_timeout_ms):
    """Start the subscribers: threads for inproc, separate processes otherwise."""
    endpoint, sync_endpoint = endpoints
    if transport == "inproc":
        def subscriber(released):
            run_subscriber(zmq, ctx, endpoint, sync_endpoint, size, hwm, io_timeout_ms,
                           lambda: released.wait(common.PEER_EXIT_TIMEOUT_S * 3))
        return common.PeerGroup(common.ThreadPeer(subscriber) for _ in range(subscribers))
    args = ["--role", "subscriber", "--impl", impl, "--endpoint", endpoint,
            "--sync-endpoint", sync_endpoint, "--size", size, "--hwm", hwm,
            "--io-timeout", io_timeout_ms]
    return common.PeerGroup(common.Peer(os.path.abspath(__file__), args) for _ in range(subscribers))


def run_case(zmq, impl, subscribers, transport, size, count, hwm, io_timeout_ms, report):
    """Measure one (subscribers, transport, size) case; the outcome goes to `report`."""
    case = {"bench": "thr", "impl": impl, "pattern": common.pubsub_pattern(subscribers),
            "subscribers": subscribers, "transport": transport, "size": size, "mode": "copy",
            "count": count, "hwm": hwm}
    # Subscribers start Python and import the implementation first.
    timeout_s = io_timeout_ms / 1000

    def start(ctx, endpoints):
        return start_subscribers(zmq, impl, ctx, transport, endpoints, size, subscribers, hwm,
                                 io_timeout_ms)

    def measure(socks):
        pub, sync = socks
        await_subscribers(pub, sync, subscribers, timeout_s)
        started_at = publish(pub, size, count)
        # Subscribers give up io_timeout after their last message, so allow
        # for that before deciding a report is missing.
        reports = collect_reports(sync, subscribers, 2 * timeout_s)
        return fanout_stats(reports, size, count, started_at)

    bindings = [common.Binding(zmq.PUB, "pub", {zmq.SNDHWM: hwm}),
                common.Binding(zmq.ROUTER, "sync")]
    common.run_case_with_peers(zmq, case, bindings, start, measure, report, io_timeout_ms)


# --------------------------------------------------------------- peer role

def run_subscriber_role(zmq, args):
    """Child process: one subscriber, released when the parent closes our stdin."""
    ctx = zmq.Context()
    try:
        run_subscriber(zmq, ctx, args.endpoint, args.sync_endpoint, args.size, args.hwm,
                       args.io_timeout,
                       common.wait_for_release)
    finally:
        ctx.term()


# ---------------------------------------------------------------------- CLI

def format_result(result):
    head = "%-8s %-6s %6s %8d msgs" % (result["pattern"], result["transport"],
                                      common.format_size(result["size"]), result["count"])
    if "error" in result:
        return head + "   FAILED: " + result["error"]
    return head + " %7.3f s %13s msg/s per subscriber (slowest) %10.1f MB/s%s" % (
        result["elapsed_s"], "{:,.0f}".format(result["msg_per_s"]), result["mb_per_s"],
        ("   WARNING: " + result["warning"]) if "warning" in result else "")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impl", choices=common.IMPLS, default="zmq")
    parser.add_argument("--subscribers", action="append", type=int,
                        help="subscribers per run; repeatable; default: %s"
                        % " and ".join(map(str, common.PUBSUB_FANOUTS)))
    parser.add_argument("--transport", action="append", choices=common.TRANSPORTS,
                        help="repeatable; default: all")
    parser.add_argument("--size", action="append", type=common.parse_size,
                        help="message size (at least 1 byte); repeatable; default: 64B")
    parser.add_argument("--count", type=int, help="messages per case (default: scaled by case)")
    parser.add_argument("--hwm", type=int, default=0,
                        help="SNDHWM of PUB and RCVHWM of each SUB (default 0: no limit, "
                             "so PUB never drops)")
    parser.add_argument("--quick", action="store_true", help="1/%d of the messages" % common.QUICK_DIVISOR)
    parser.add_argument("--json", action="store_true", help="one JSON object per case on stdout")
    parser.add_argument("--io-timeout", type=int, default=common.DEFAULT_IO_TIMEOUT_MS,
                        help="ms per blocking send/recv before giving up (default %(default)s)")
    # Internal: how the publisher re-runs this script as a subscriber process.
    parser.add_argument("--role", choices=("subscriber",), help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--sync-endpoint", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if any(size < 1 for size in args.size or ()):
        parser.error("--size must be at least 1 byte (empty messages are the protocol's markers)")
    return args


def main(argv=None):
    args = parse_args(argv)
    zmq = common.load_impl(args.impl)
    if args.role == "subscriber":
        args.size, = args.size
        run_subscriber_role(zmq, args)
        return 0

    report = common.emit_json if args.json else (lambda r: print(format_result(r), flush=True))
    if not args.json:
        print("# pubsub.py --impl %s: %s" % (args.impl, common.describe_impl(zmq)), flush=True)
    failures = 0
    for subscribers in args.subscribers or common.PUBSUB_FANOUTS:
        for transport in args.transport or common.TRANSPORTS:
            for size in args.size or common.PUBSUB_SIZES:
                count = max(2, args.count or common.thr_count(
                    transport, size, quick=args.quick, pattern=common.pubsub_pattern(subscribers)))
                try:
                    run_case(zmq, args.impl, subscribers, transport, size, count, args.hwm,
                             args.io_timeout, report)
                except Exception:
                    failures += 1  # already reported; go on with the next case
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
