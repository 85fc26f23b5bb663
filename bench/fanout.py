"""Fan-out to 1,000 peers: PUB to SUBs and ROUTER to DEALERs, mqcore vs pyzmq.

  pub     one PUB, --peers SUBs (all subscribed to b""): messages published
          per second such that every SUB gets every one of them, and the
          deliveries per second that makes (published * peers).
  router  one ROUTER, --peers DEALERs: the ROUTER sends round-robin by
          identity (one message to each peer, in turn); messages sent per
          second, every one delivered.

The receiving sockets are spread over --clients processes of the same
implementation, which raise RLIMIT_NOFILE like scale.py.

Method: windowed, so nothing is dropped and nothing is unbounded.  A PUB
drops at HWM and a ROUTER drops for a full pipe, so sending "as fast as
possible" would measure how much gets dropped; HWM 0 (no limit) with 1,000
peers would queue count * 1,000 messages in the sender.  Instead the sender
sends in windows of --window messages per peer and may be at most two
windows ahead of the slowest peer: before window k+2 it waits until every
client process has reported (on a DEALER to a separate sync ROUTER) that
each of its sockets has received windows 0..k.  SNDHWM and RCVHWM are
4 * window + PROBE_ROOM, more than can ever be queued, so nothing drops;
the clients count per socket and a shortfall fails the run (timeout).
Each process reports once per window, not each socket, so acks are
clients * windows messages, not peers * windows.  The time runs from the
first data message sent to the last window's last report, so it includes
delivery to the slowest peer.  Before that, the sender sends empty probes
until every socket has got one (a subscription or connection can reach
the sender after connect() returns); probes are not counted.

The clients use the same API for both implementations: poll, then
recv(NOBLOCK) each ready socket until it is empty.  With 1,000 peers on a
2-core box the clients' Python loop is a large part of the cost, for both.

Examples:
    python bench/fanout.py                        # pub and router, 1,000 peers, 2 reps
    python bench/fanout.py --case pub --peers 200 --windows 5
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import _common as common
from compare import last_json_line, process_error, run_process
from scale import add_run_args, impl_order, print_rows, raise_nofile, split_peers, summarize

CASES = ("pub", "router")
PROBE = b""
PROBE_INTERVAL_S = 0.005
PROBE_ROOM = 1000  # HWM room for probes still queued when the data starts


# ------------------------------------------------------------ client process

def run_clients(zmq, args):
    """--count receiving sockets; report probes, then each completed window, until released."""
    ctx = zmq.Context()
    ctx.set(zmq.MAX_SOCKETS, args.count + 16)
    hwm = 4 * args.window + PROBE_ROOM
    socks = []
    for i in range(args.count):
        sock = ctx.socket(zmq.SUB if args.case == "pub" else zmq.DEALER)
        sock.setsockopt(zmq.RCVHWM, hwm)
        sock.setsockopt(zmq.LINGER, 0)
        if args.case == "pub":
            sock.setsockopt(zmq.SUBSCRIBE, b"")
        else:
            sock.setsockopt(zmq.IDENTITY, b"c%d-%d" % (args.index, i))
        sock.connect(args.endpoint)
        if args.case == "router":
            sock.send(PROBE)  # makes the ROUTER learn the identity
        socks.append(sock)
    sync = ctx.socket(zmq.DEALER)
    sync.setsockopt(zmq.LINGER, 0)
    sync.connect(args.sync)
    count_windows(zmq, socks, sync, args.window, args.windows)
    common.wait_for_release()
    for sock in socks + [sync]:
        sock.close(linger=0)
    ctx.term()


def count_windows(zmq, socks, sync, window, windows):
    """Count data per socket; say 'probed' once all have a probe, then 'w<k>' per window."""
    poller = zmq.Poller()
    for sock in socks:
        poller.register(sock, zmq.POLLIN)
    index = {sock: i for i, sock in enumerate(socks)}
    counts = [0] * len(socks)
    probed = [False] * len(socks)
    unprobed = len(socks)
    done = 0  # windows every socket has completed
    while done < windows:
        events = poller.poll(10_000)
        if not events:
            raise common.BenchError("no message for 10 s; counts %d..%d, %d windows done"
                                    % (min(counts), max(counts), done))
        for sock, _ in events:
            i = index[sock]
            while True:
                try:
                    body = sock.recv(zmq.NOBLOCK)
                except zmq.Again:
                    break
                if body:
                    counts[i] += 1
                elif not probed[i]:
                    probed[i] = True
                    unprobed -= 1
                    if unprobed == 0:
                        sync.send(b"probed")
        lowest = min(counts) // window
        while done < lowest:
            sync.send(b"w%d" % done)
            done += 1


class ClientProcess(common.Peer):
    def __init__(self, args):
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-X", "faulthandler", os.path.abspath(__file__)] + [str(a) for a in args],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._stderr,
        )


# ------------------------------------------------------------ sender process

class Sender:
    """The PUB or ROUTER, the sync ROUTER, and the windowed send loop."""

    def __init__(self, zmq, args):
        self.zmq, self.args = zmq, args
        self.ctx = zmq.Context()
        hwm = 4 * args.window + PROBE_ROOM
        self.sock = self.ctx.socket(zmq.PUB if args.case == "pub" else zmq.ROUTER)
        self.sock.setsockopt(zmq.SNDHWM, hwm)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.SNDTIMEO, args.io_timeout)
        self.sock.setsockopt(zmq.RCVTIMEO, args.io_timeout)
        if args.case == "router":
            self.sock.setsockopt(zmq.ROUTER_MANDATORY, 1)  # a full pipe blocks, never drops
        self.sync = self.ctx.socket(zmq.ROUTER)
        self.sync.setsockopt(zmq.RCVTIMEO, args.io_timeout)
        self.sync.setsockopt(zmq.LINGER, 0)
        self.endpoint = common.bind_endpoint(zmq, self.sock, "tcp", "fanout")
        self.sync_endpoint = common.bind_endpoint(zmq, self.sync, "tcp", "fanout-sync")
        self.identities = []

    def close(self):
        self.sock.close(linger=0)
        self.sync.close(linger=0)
        self.ctx.term()

    def await_clients(self, clients):
        """ROUTER: learn every identity; then probe until every client process says 'probed'."""
        zmq = self.zmq
        if self.args.case == "router":
            while len(self.identities) < self.args.peers:
                try:
                    identity, _ = self.sock.recv_multipart()
                except zmq.Again:
                    raise common.BenchError("%d of %d DEALERs connected" % (len(self.identities),
                                                                           self.args.peers)) from None
                self.identities.append(identity)
        probed = 0
        deadline = time.monotonic() + self.args.io_timeout / 1000
        while probed < clients:
            if time.monotonic() > deadline:
                raise common.BenchError("%d of %d client processes probed" % (probed, clients))
            self.send_probe()
            while self.sync.poll(PROBE_INTERVAL_S * 1000):
                if self.sync.recv_multipart()[1] == b"probed":
                    probed += 1

    def send_probe(self):
        if self.args.case == "pub":
            self.sock.send(PROBE)
        else:
            for identity in self.identities:
                self.sock.send_multipart([identity, PROBE])

    def run(self, clients):
        """Seconds to send every window and hear that every peer has all of it."""
        body = b"x" * self.args.size
        acked = [0] * self.args.windows  # client reports per window
        start = time.perf_counter()
        for k in range(self.args.windows):
            if k >= 2:
                self.await_window(k - 2, acked, clients)
            self.send_window(body)
        for k in range(max(0, self.args.windows - 2), self.args.windows):
            self.await_window(k, acked, clients)
        return time.perf_counter() - start

    def send_window(self, body):
        if self.args.case == "pub":
            send = self.sock.send
            for _ in range(self.args.window):
                send(body)
        else:
            send = self.sock.send_multipart
            for _ in range(self.args.window):
                for identity in self.identities:
                    send([identity, body])

    def await_window(self, k, acked, clients):
        while acked[k] < clients:
            try:
                report = self.sync.recv_multipart()[1]
            except self.zmq.Again:
                raise common.BenchError("window %d: %d of %d client reports before the timeout"
                                        % (k, acked[k], clients)) from None
            if report.startswith(b"w"):
                acked[int(report[1:])] += 1


def run_sender(zmq, args):
    per_client = split_peers(args.peers, args.clients)
    sender = Sender(zmq, args)
    clients = []
    try:
        for index, count in enumerate(per_client):
            clients.append(ClientProcess(["--role", "clients", "--impl", args.impl, "--case", args.case,
                                          "--index", index, "--count", count, "--window", args.window,
                                          "--windows", args.windows, "--endpoint", sender.endpoint,
                                          "--sync", sender.sync_endpoint]))
        sender.await_clients(len(clients))
        seconds = sender.run(len(clients))
        sent = args.window * args.windows * (1 if args.case == "pub" else args.peers)
        delivered = sent * (args.peers if args.case == "pub" else 1)
        return {"seconds": seconds, "sent_per_s": sent / seconds, "delivered_per_s": delivered / seconds}
    finally:
        warnings = common.PeerGroup(clients).release(timeout=30)
        sender.close()
        if warnings:
            print("warning: " + warnings, file=sys.stderr)


# ------------------------------------------------------------------- driver

def run_once(impl, case, args):
    argv = [sys.executable, "-X", "faulthandler", os.path.abspath(__file__), "--role", "sender",
            "--impl", impl, "--case", case, "--peers", str(args.peers), "--clients", str(args.clients),
            "--window", str(args.window), "--windows", str(args.windows), "--size", str(args.size),
            "--io-timeout", str(args.io_timeout)]
    rc, out, err = run_process(argv, timeout=args.run_timeout)
    result = last_json_line(out)
    if rc != 0 or result is None:
        return {"error": "timed out" if rc is None else process_error(rc, err)}
    return result


def print_table(results, cases, impls, markdown):
    """Rows per case: messages sent/s and delivered/s; ratio mqcore/pyzmq (>= 1: mqcore better)."""
    header = ["case", "metric"] + [common.IMPL_LABELS[i] for i in impls]
    if len(impls) == 2:
        header.append("ratio mqcore/pyzmq")
    rows = []
    for case in cases:
        runs = results[case]
        for key, label in (("sent_per_s", "sent msg/s"), ("delivered_per_s", "delivered msg/s")):
            row = [case, label]
            for impl in impls:
                row.append(summarize([r[impl][key] for r in runs if key in r.get(impl, {})], "%.0f"))
            if len(impls) == 2:
                ratios = [r["mqcore"][key] / r["zmq"][key] for r in runs
                          if key in r.get("zmq", {}) and key in r.get("mqcore", {})]
                row.append(summarize(ratios, "%.2f"))
            rows.append(row)
    print_rows(header, rows, markdown)
    for case in cases:
        for rep, run in enumerate(results[case], 1):
            for impl in impls:
                if "error" in run.get(impl, {}):
                    print("%s rep %d %s: %s" % (case, rep, common.IMPL_LABELS[impl], run[impl]["error"]))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--impl", choices=("both",) + common.IMPLS, default="both")
    parser.add_argument("--case", choices=("both",) + CASES, default="both")
    parser.add_argument("--peers", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4, help="client processes (default %(default)s)")
    parser.add_argument("--size", type=int, default=64, help="message bytes (default %(default)s)")
    parser.add_argument("--window", type=int, default=50,
                        help="messages per peer per window (default %(default)s)")
    parser.add_argument("--windows", type=int, default=20, help="windows per run (default %(default)s)")
    add_run_args(parser, "sender", io_timeout_ms=30_000, run_timeout_s=180.0)
    parser.add_argument("--sync", help=argparse.SUPPRESS)
    return parser.parse_args()


def main():
    args = parse_args()
    if args.role != "driver":
        raise_nofile()
        zmq = common.load_impl(args.impl)
        if args.role == "clients":
            run_clients(zmq, args)
        else:
            common.emit_json(run_sender(zmq, args))
        return
    impls = common.IMPLS if args.impl == "both" else (args.impl,)
    cases = CASES if args.case == "both" else (args.case,)
    print("%d peers over %d client processes, %d B, %d windows of %d messages a peer"
          % (args.peers, args.clients, args.size, args.windows, args.window))
    results = {case: [] for case in cases}
    for case in cases:
        for rep in range(args.reps):
            run = {}
            for impl in impl_order(impls, rep):
                run[impl] = run_once(impl, case, args)
                print("%s rep %d %s: %s" % (case, rep + 1, common.IMPL_LABELS[impl], json.dumps(run[impl])),
                      flush=True)
            results[case].append(run)
    print()
    print_table(results, cases, impls, args.markdown)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"peers": args.peers, "clients": args.clients, "size": args.size,
                       "window": args.window, "windows": args.windows, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
