"""Large messages against the loopback limit: iperf3, pyzmq and mqcore in one run.

The reference for tcp 1 MiB copy sends is the kernel's loopback itself, as
iperf3 measures it on 127.0.0.1 (the Debian package `iperf3`): one stream,
1 MiB writes and 128 KiB writes (iperf3's default).  The reference for ipc
1 MiB is pyzmq.  All of them run as children of this script, alternated
repetition by repetition, so background load hits them alike:

    iperf3 -s -1 -B 127.0.0.1 -p PORT -J          (server, one test, then exits)
    iperf3 -c 127.0.0.1 -p PORT -l 1M -t T -J     (client; and -l 128K)
    thr.py --impl zmq|mqcore --transport tcp|ipc --size 1MiB --mode copy --count N --json

and prints MB/s (10^6 B/s; iperf3's received rate) and the ratios

    mqcore tcp 1 MiB copy / iperf3 1 MiB writes      (target >= 0.8)
    mqcore tcp 1 MiB copy / iperf3 128 KiB writes
    mqcore ipc 1 MiB copy / pyzmq ipc 1 MiB copy     (target >= 1.0)

Examples:
    python bench/loopback.py                     # best of 3, about 40 s
    python bench/loopback.py --reps 5 --stat median --json /tmp/loopback.json
    python bench/loopback.py --cpus 0,1          # pin every run (and its peer) to these CPUs
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

import _common as common
from compare import last_json_line, parse_cpus, process_error, run_process

MiB = 1 << 20


class Run:
    """One column of the table: how to run it once, and how to read its rate."""

    def __init__(self, name, label):
        self.name, self.label = name, label


class Iperf3(Run):
    def __init__(self, write_size, seconds):
        size = common.format_size(write_size)
        super().__init__("iperf3/tcp/" + size, "iperf3 tcp, %s writes" % size)
        self.write_size, self.seconds = write_size, seconds

    def once(self, args):
        """MB/s received, or raises RuntimeError."""
        port = free_port()
        server = ["iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", str(port), "-J"]
        client = ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-l", str(self.write_size),
                  "-t", str(self.seconds), "-J"]
        srv = subprocess.Popen(server, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True,
                               preexec_fn=(lambda: os.sched_setaffinity(0, args.cpus)) if args.cpus else None)
        try:
            for _attempt in range(50):   # the server needs a moment to listen
                rc, out, err = run_process(client, self.seconds + 30, args.cpus)
                try:
                    result = json.loads(out)
                except ValueError:
                    result = {}
                received = result.get("end", {}).get("sum_received")
                if rc == 0 and received:
                    return received["bits_per_second"] / 8e6
                error = result.get("error") or process_error(rc, err)
                if "connect" not in error:
                    raise RuntimeError("iperf3: " + error)
                time.sleep(0.1)
            raise RuntimeError("iperf3: no server")
        finally:
            srv.kill()
            srv.wait()


class Thr(Run):
    def __init__(self, impl, transport, count):
        super().__init__("thr/%s/%s/1MiB" % (impl, transport),
                         "%s %s 1 MiB copy" % (common.IMPL_LABELS[impl], transport))
        self.impl, self.transport, self.count = impl, transport, count

    def once(self, args):
        argv = [sys.executable, "-X", "faulthandler", os.path.join(common.BENCH_DIR, "thr.py"),
                "--impl", self.impl, "--json", "--transport", self.transport, "--size", "1MiB",
                "--mode", "copy", "--count", str(self.count)]
        rc, out, err = run_process(argv, args.timeout, args.cpus)
        result = last_json_line(out)
        if rc != 0 or not result or "mb_per_s" not in result:
            raise RuntimeError((result or {}).get("error") or process_error(rc, err))
        return result["mb_per_s"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


RATIOS = (
    ("thr/mqcore/tcp/1MiB", "iperf3/tcp/1MiB", "mqcore tcp / iperf3 1 MiB writes", 0.8),
    ("thr/mqcore/tcp/1MiB", "iperf3/tcp/128KiB", "mqcore tcp / iperf3 128 KiB writes", None),
    ("thr/zmq/tcp/1MiB", "iperf3/tcp/1MiB", "pyzmq tcp / iperf3 1 MiB writes", None),
    ("thr/mqcore/ipc/1MiB", "thr/zmq/ipc/1MiB", "mqcore ipc / pyzmq ipc", 1.0),
    ("thr/mqcore/tcp/1MiB", "thr/zmq/tcp/1MiB", "mqcore tcp / pyzmq tcp", None),
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument("--stat", choices=("best", "median"), default="best")
    parser.add_argument("--count", type=int, default=4000,
                        help="1 MiB messages per thr run (default %(default)s, ~1 s)")
    parser.add_argument("--seconds", type=int, default=2, help="iperf3 -t (default %(default)s)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per thr run")
    parser.add_argument("--cpus", type=parse_cpus, metavar="LIST", help="pin runs to these CPUs")
    parser.add_argument("--no-pyzmq", action="store_true", help="leave pyzmq out")
    parser.add_argument("--json", metavar="FILE", help="write all runs and the ratios to FILE")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    runs = []
    if shutil.which("iperf3"):
        runs += [Iperf3(MiB, args.seconds), Iperf3(128 * 1024, args.seconds)]
    else:
        print("iperf3 not found (apt-get install iperf3): no loopback reference", file=sys.stderr)
    impls = ["mqcore"] if args.no_pyzmq else ["zmq", "mqcore"]
    for transport in ("tcp", "ipc"):
        runs += [Thr(impl, transport, args.count) for impl in impls]
    values = {r.name: [] for r in runs}
    errors = {}
    for rep in range(args.reps):
        order = runs if rep % 2 == 0 else runs[::-1]   # neither end always goes first
        for r in order:
            try:
                v = r.once(args)
                values[r.name].append(v)
                print("  rep %d  %-26s %8.0f MB/s" % (rep + 1, r.label, v), file=sys.stderr, flush=True)
            except RuntimeError as exc:
                errors[r.name] = str(exc)
                print("  rep %d  %-26s error: %s" % (rep + 1, r.label, exc), file=sys.stderr, flush=True)
    pick = max if args.stat == "best" else statistics.median
    table = {name: pick(v) for name, v in values.items() if v}
    print("%s of %d, MB/s = 10^6 B/s, %s" % (args.stat, args.reps, time.strftime("%Y-%m-%d %H:%M")))
    for r in runs:
        v = values[r.name]
        cell = "%8.0f   (runs %s)" % (table[r.name], " ".join("%.0f" % x for x in v)) if v \
            else "error: " + errors.get(r.name, "?")
        print("  %-30s %s" % (r.label, cell))
    ratios = {}
    for num, den, label, target in RATIOS:
        if num in table and den in table:
            ratios[label] = table[num] / table[den]
            goal = "   (target >= %.1f: %s)" % (target, "met" if ratios[label] >= target else "NOT met") \
                if target else ""
            print("  %-40s %5.2f%s" % (label, ratios[label], goal))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"stat": args.stat, "reps": args.reps, "runs": values, "table": table,
                       "ratios": ratios, "errors": errors, "loadavg": os.getloadavg()}, f, indent=2)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
