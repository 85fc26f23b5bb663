"""One ROUTER with thousands of tcp peers: mqcore vs pyzmq in the same run.

A "router" process binds one ROUTER on tcp://127.0.0.1:* and starts
--clients client processes, which share --peers DEALERs between them.
Every process raises RLIMIT_NOFILE to its hard limit first.  The ROUTER
process measures, in this order:

  storm   connect storm: the clients have made their DEALERs (not yet
          connected) and said so; the timer starts when they are told to
          go and stops when the ROUTER has received one message from every
          peer (each DEALER connects, then sends b"hello").  Also the CPU
          time the ROUTER process (all threads) spent in that window: on a
          shared box a steadier view of the ROUTER's part than wall time.
  rtt     one round trip to every peer: the ROUTER sends b"ping" to each
          identity, then receives every reply (the clients echo).
  rss     RSS per connection of the ROUTER process: VmRSS after the round
          trip minus VmRSS after bind, divided by the number of peers.
  idle    idle CPU of the ROUTER process (all its threads, getrusage) over
          --idle seconds with heartbeats on: HEARTBEAT_IVL 1000 ms on both
          sides by default (--heartbeats both), so 2 * peers PINGs a second
          cross the wire, and nothing else.  Printed as % of one core.
          After the idle window a second round trip checks that no peer was
          dropped.

pyzmq's ROUTER with HEARTBEAT_IVL set loses some of 10,000 peers in the
storm (their connections are dropped and made again; see bench/README.md),
so its default run fails with "connect storm: N of 10000 peers".  With
--heartbeats clients only the clients send PINGs and the ROUTER answers
them, which pyzmq survives: that is the mode to compare idle CPU in.

Client processes use the same implementation as the ROUTER, so a row is
"a 10,000-peer system on mqcore" against the same on pyzmq; with
--client-impl zmq (or mqcore) both ROUTERs face the same clients, which
isolates the ROUTER side.  BACKLOG is 4096 on the ROUTER for both (libzmq's default of 100 turns a storm into SYN
retries a second apart).  Each measurement is a fresh router process (this
script with --role router), one per implementation per repetition,
alternating pyzmq, mqcore, mqcore, pyzmq, ...  Ratios are pyzmq / mqcore
per repetition, since every row is lower-is-better: >= 1.00 means mqcore is
as good or better.  The table shows the median with the range over the
repetitions.

Examples:
    python bench/scale.py                         # 10,000 peers, 4 client processes, 2 reps
    python bench/scale.py --heartbeats clients --reps 3 --markdown
    python bench/scale.py --heartbeats clients --client-impl zmq   # the ROUTER side alone
    python bench/scale.py --peers 1000 --idle 2   # quick
    python bench/scale.py --impl mqcore --reps 1 --json /tmp/scale.json
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import _common as common
from compare import last_json_line, process_error, run_process

HEARTBEAT_IVL_MS = 1000
# Generous: on 2 busy cores a client's io thread can lag; a dropped peer
# shows up as a failed second round trip, not as a slower number.
HEARTBEAT_TIMEOUT_MS = 30000
BACKLOG = 4096
METRICS = (  # key, label, unit, format
    ("storm_s", "connect storm", "s", "%.2f"),
    ("storm_cpu_s", "ROUTER CPU during the storm", "s", "%.2f"),
    ("rtt_s", "round trip to every peer", "s", "%.3f"),
    ("idle_cpu_pct", "idle CPU, heartbeats on", "% core", "%.1f"),
    ("rss_per_conn_kib", "RSS per connection", "KiB", "%.1f"),
)


def raise_nofile():
    """Soft RLIMIT_NOFILE up to the hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kib():
    """VmRSS of this process in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise common.BenchError("no VmRSS in /proc/self/status")


def cpu_seconds():
    """User + system CPU time of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def set_heartbeats(zmq, sock, side, sides):
    """Heartbeats on `sock` if `side` ('router' or 'clients') is one of --heartbeats."""
    if sides not in ("both", side):
        return
    sock.setsockopt(zmq.HEARTBEAT_IVL, HEARTBEAT_IVL_MS)
    sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, HEARTBEAT_TIMEOUT_MS)


# ------------------------------------------------------------ client process

def run_clients(zmq, args):
    """Make --count DEALERs, say 'ready', connect them all on 'go', echo until stdin closes."""
    ctx = zmq.Context()
    ctx.set(zmq.MAX_SOCKETS, args.count + 16)
    dealers = []
    for i in range(args.count):
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.IDENTITY, b"c%d-%d" % (args.index, i))
        sock.setsockopt(zmq.LINGER, 0)
        set_heartbeats(zmq, sock, "clients", args.heartbeats)
        dealers.append(sock)
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return  # released before the storm
    for sock in dealers:
        sock.connect(args.endpoint)
        sock.send(b"hello")
    echo_until_released(zmq, dealers)
    for sock in dealers:
        sock.close(linger=0)
    ctx.term()


def echo_until_released(zmq, dealers):
    """Send back whatever a DEALER receives; stop when our stdin reaches EOF."""
    poller = zmq.Poller()
    for sock in dealers:
        poller.register(sock, zmq.POLLIN)
    stdin = sys.stdin.fileno()
    poller.register(stdin, zmq.POLLIN)
    while True:
        for sock, _ in poller.poll(1000):
            if sock == stdin:
                if not os.read(stdin, 4096):
                    return
                continue
            while True:
                try:
                    body = sock.recv(zmq.NOBLOCK)
                except zmq.Again:
                    break
                sock.send(body)


class ClientProcess(common.Peer):
    """A client process: Peer's stdin release and stderr capture, plus a 'ready' line on stdout."""

    def __init__(self, args):
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-X", "faulthandler", os.path.abspath(__file__)] + [str(a) for a in args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, text=True,
        )

    def wait_ready(self):
        if self.proc.stdout.readline().strip() != "ready":
            raise common.BenchError("client did not start: " + self.describe_failure())

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()


# ------------------------------------------------------------ router process

def receive_from_all(zmq, router, peers, expect, what):
    """Receive one [id, expect] from each of `peers` distinct identities; returns the ids."""
    seen = set()
    while len(seen) < peers:
        try:
            identity, body = router.recv_multipart()
        except zmq.Again:
            raise common.BenchError("%s: %d of %d peers heard from before the timeout"
                                    % (what, len(seen), peers)) from None
        if body != expect:
            raise common.BenchError("%s: got %r from %r" % (what, body[:40], identity))
        seen.add(identity)
    return seen


def round_trip(zmq, router, identities, what):
    """Seconds to send b"ping" to every identity and get every echo back."""
    start = time.perf_counter()
    for identity in identities:
        router.send_multipart([identity, b"ping"])
    receive_from_all(zmq, router, len(identities), b"ping", what)
    return time.perf_counter() - start


def run_router(zmq, args):
    """One measurement of every metric; returns a dict of numbers."""
    per_client = split_peers(args.peers, args.clients)
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    router.setsockopt(zmq.BACKLOG, BACKLOG)
    router.setsockopt(zmq.LINGER, 0)
    router.setsockopt(zmq.RCVTIMEO, args.io_timeout)
    router.setsockopt(zmq.SNDTIMEO, args.io_timeout)
    router.setsockopt(zmq.ROUTER_MANDATORY, 1)  # an unknown peer is an error, not a silent drop
    set_heartbeats(zmq, router, "router", args.heartbeats)
    endpoint = common.bind_endpoint(zmq, router, "tcp", "scale")
    clients = []
    try:
        for index, count in enumerate(per_client):
            client_impl = args.impl if args.client_impl == "same" else args.client_impl
            clients.append(ClientProcess(["--role", "clients", "--impl", client_impl, "--index", index,
                                          "--count", count, "--endpoint", endpoint,
                                          "--heartbeats", args.heartbeats]))
        for client in clients:
            client.wait_ready()
        time.sleep(0.2)  # let the clients' import settle before the baseline
        rss_before = rss_kib()
        start, cpu_start = time.perf_counter(), cpu_seconds()
        for client in clients:
            client.go()
        identities = receive_from_all(zmq, router, args.peers, b"hello", "connect storm")
        storm = time.perf_counter() - start
        storm_cpu = cpu_seconds() - cpu_start
        rtt = round_trip(zmq, router, identities, "round trip")
        rss_after = rss_kib()
        cpu_start, wall_start = cpu_seconds(), time.perf_counter()
        time.sleep(args.idle)
        idle_cpu = (cpu_seconds() - cpu_start) / (time.perf_counter() - wall_start)
        round_trip(zmq, router, identities, "round trip after the idle window")
        return {"storm_s": storm, "storm_cpu_s": storm_cpu, "rtt_s": rtt, "idle_cpu_pct": 100.0 * idle_cpu,
                "rss_per_conn_kib": (rss_after - rss_before) / args.peers,
                "rss_before_kib": rss_before, "rss_after_kib": rss_after}
    finally:
        warnings = common.PeerGroup(clients).release(timeout=30)
        router.close(linger=0)
        ctx.term()
        if warnings:
            print("warning: " + warnings, file=sys.stderr)


def split_peers(peers, clients):
    """10000 over 4 -> [2500, 2500, 2500, 2500]; the first ones take the remainder."""
    clients = max(1, min(clients, peers))
    return [peers // clients + (1 if i < peers % clients else 0) for i in range(clients)]


# ------------------------------------------------------------------- driver

def run_once(impl, args):
    """A fresh router process for one implementation; returns its numbers or {'error': ...}."""
    argv = [sys.executable, "-X", "faulthandler", os.path.abspath(__file__), "--role", "router",
            "--impl", impl, "--client-impl", args.client_impl, "--heartbeats", args.heartbeats, "--peers", str(args.peers), "--clients", str(args.clients),
            "--idle", str(args.idle), "--io-timeout", str(args.io_timeout)]
    rc, out, err = run_process(argv, timeout=args.run_timeout)
    result = last_json_line(out)
    if rc != 0 or result is None:
        return {"error": "timed out" if rc is None else process_error(rc, err)}
    return result


def impl_order(impls, rep):
    """pyzmq, mqcore, then mqcore, pyzmq, ...: neither always goes first."""
    return impls if rep % 2 == 0 else tuple(reversed(impls))


def summarize(values, fmt):
    """'1.23 (1.10-1.40)' for several values, '1.23' for one, '-' for none."""
    if not values:
        return "-"
    middle = fmt % statistics.median(values)
    if len(values) == 1:
        return middle
    return "%s (%s-%s)" % (middle, fmt % min(values), fmt % max(values))


def print_table(runs, impls, markdown=False):
    """One row a metric: each implementation's median (range), and pyzmq/mqcore per rep."""
    header = ["metric", "unit"] + [common.IMPL_LABELS[i] for i in impls]
    if len(impls) == 2:
        header.append("ratio pyzmq/mqcore (>= 1: mqcore better)")
    rows = []
    for key, label, unit, fmt in METRICS:
        row = [label, unit]
        for impl in impls:
            row.append(summarize([r[impl][key] for r in runs if key in r.get(impl, {})], fmt))
        if len(impls) == 2:
            ratios = [r["zmq"][key] / r["mqcore"][key] for r in runs
                      if key in r.get("zmq", {}) and key in r.get("mqcore", {}) and r["mqcore"][key] > 0]
            row.append(summarize(ratios, "%.2f"))
        rows.append(row)
    print_rows(header, rows, markdown)
    for rep, run in enumerate(runs, 1):
        for impl in impls:
            if "error" in run.get(impl, {}):
                print("rep %d %s: %s" % (rep, common.IMPL_LABELS[impl], run[impl]["error"]))


def print_rows(header, rows, markdown):
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    for row in [header] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--impl", choices=("both",) + common.IMPLS, default="both")
    parser.add_argument("--peers", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=4, help="client processes (default %(default)s)")
    parser.add_argument("--idle", type=float, default=5.0, help="idle window, seconds (default %(default)s)")
    parser.add_argument("--client-impl", choices=("same",) + common.IMPLS, default="same",
                        help="implementation of the client processes: the ROUTER's (default), or "
                             "one fixed for both runs, to see the ROUTER side alone")
    parser.add_argument("--heartbeats", choices=("both", "clients", "router", "none"), default="both",
                        help="which side sets HEARTBEAT_IVL (default %(default)s; with 'clients' the "
                             "ROUTER only answers PINGs)")
    add_run_args(parser, "router", io_timeout_ms=20_000, run_timeout_s=240.0)
    return parser.parse_args()


def add_run_args(parser, measured_role, io_timeout_ms, run_timeout_s):
    """The arguments scale.py and fanout.py share: repetitions, timeouts,
    output, and the internal ones their child processes are started with
    (the measured process's role, and "clients")."""
    parser.add_argument("--reps", type=int, default=2, help="runs per implementation (default %(default)s)")
    parser.add_argument("--io-timeout", type=int, default=io_timeout_ms, help="ms per blocking call")
    parser.add_argument("--run-timeout", type=float, default=run_timeout_s,
                        help=f"s per {measured_role} process")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--json", help="write every run's numbers to this file")
    parser.add_argument("--role", choices=("driver", measured_role, "clients"), default="driver",
                        help=argparse.SUPPRESS)
    parser.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)


def main():
    args = parse_args()
    if args.role != "driver":
        raise_nofile()
        zmq = common.load_impl(args.impl)
        if args.role == "clients":
            run_clients(zmq, args)
        else:
            common.emit_json(run_router(zmq, args))
        return
    impls = common.IMPLS if args.impl == "both" else (args.impl,)
    print("%d peers over %d client processes (%s), idle window %.0f s, heartbeats %s, RLIMIT_NOFILE %d"
          % (args.peers, args.clients, "same implementation" if args.client_impl == "same"
             else common.IMPL_LABELS[args.client_impl], args.idle, args.heartbeats, raise_nofile()))
    runs = []
    for rep in range(args.reps):
        run = {}
        for impl in impl_order(impls, rep):
            run[impl] = run_once(impl, args)
            print("rep %d %s: %s" % (rep + 1, common.IMPL_LABELS[impl], json.dumps(run[impl])), flush=True)
        runs.append(run)
    print()
    print_table(runs, impls, args.markdown)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"peers": args.peers, "clients": args.clients, "idle_s": args.idle,
                       "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
