"""Round-trip latency against its floors, in one run: a plain Python socket
ping-pong, pyzmq, and mqcore (optionally also an older mqcore build).

Every measurement is a separate `lat.py --json` process (the measuring
side binds, an echo process connects: the same layout for all of them),
run in rounds that alternate the implementations so that the machine's
background load falls on all of them alike. Per case it prints each
implementation's p50/p99 range over the rounds, and the two ratios the
latency goal is about, per round (same-run) and as their range:
  p50 ratio = mqcore p50 / python-socket p50   (goal <= 1.00, tcp only)
  p99 ratio = mqcore p99 / pyzmq p99           (goal <= 1.00)

Examples:
    python bench/latency.py                               # tcp 1B pair+reqrep, 5 rounds x 20,000
    python bench/latency.py --rounds 3 --transport ipc --pattern pair
    python bench/latency.py --baseline /tmp/old            # /tmp/old/mqcore: an older build
    python bench/latency.py --cpus 0                       # everything on one CPU
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

import _common as common

LAT = os.path.join(common.BENCH_DIR, "lat.py")


def run_lat(impl, pattern, transport, size, round_trips, pythonpath, timeout, cpus=None):
    """One lat.py process (pinned to `cpus`, with its echo process, when
    given); its JSON result (with 'error' on failure)."""
    argv = [sys.executable, LAT, "--json", "--impl", impl, "--pattern", pattern,
            "--transport", transport, "--size", str(size), "--round-trips", str(round_trips)]
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                              preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
    except subprocess.TimeoutExpired:
        return {"error": "timed out after %ds" % timeout}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    tail = proc.stderr.strip().splitlines()
    return {"error": tail[-1] if tail else "exit code %d, no output" % proc.returncode}


def contenders(args):
    """(label, lat.py impl, PYTHONPATH) in the order each round runs them."""
    out = []
    if args.transport == "tcp":
        out.append(("socket", "socket", None))
    out.append(("pyzmq", "zmq", None))
    out.append(("mqcore", "mqcore", common.REPO_ROOT))
    if args.baseline:
        out.append(("mqcore-base", "mqcore", os.path.abspath(args.baseline)))
    return out


def span(values, fmt="%.1f"):
    if not values:
        return "-"
    lo, mid, hi = min(values), statistics.median(values), max(values)
    return (fmt + " [" + fmt + " .. " + fmt + "]") % (mid, lo, hi)


def run_case(args, pattern, size):
    who = contenders(args)
    results = {label: [] for label, _, _ in who}
    print("## %s %s %s, %d round trips x %d rounds%s" % (
        pattern, args.transport, common.format_size(size), args.round_trips, args.rounds,
        ", pinned to CPU %s" % ",".join(map(str, sorted(args.cpus))) if args.cpus else ""), flush=True)
    for r in range(args.rounds):
        # Rotate who goes first: the first run of a round meets a cold cache.
        order = who[r % len(who):] + who[:r % len(who)]
        for label, impl, path in order:
            res = run_lat(impl, pattern, args.transport, size, args.round_trips, path, args.timeout,
                          args.cpus)
            results[label].append(res)
            if "error" in res:
                print("  round %d %-11s FAILED: %s" % (r + 1, label, res["error"]), flush=True)
            else:
                print("  round %d %-11s p50 %7.1f us  p99 %7.1f us" % (
                    r + 1, label, res["p50_us"], res["p99_us"]), flush=True)
    ok = {label: [x for x in rs] for label, rs in results.items()}
    print("  %-11s %-30s %-30s" % ("", "p50 us: median [min .. max]", "p99 us"))
    for label, rs in ok.items():
        good = [x for x in rs if "error" not in x]
        print("  %-11s %-30s %-30s" % (label, span([x["p50_us"] for x in good]),
                                        span([x["p99_us"] for x in good])))

    def ratios(num, den, key):
        return [a[key] / b[key] for a, b in zip(ok.get(num, []), ok.get(den, []))
                if "error" not in a and "error" not in b]

    if "socket" in ok:
        print("  mqcore p50 / socket p50: %s" % span(ratios("mqcore", "socket", "p50_us"), "%.2f"))
    print("  mqcore p50 / pyzmq p50:  %s" % span(ratios("mqcore", "pyzmq", "p50_us"), "%.2f"))
    print("  mqcore p99 / pyzmq p99:  %s" % span(ratios("mqcore", "pyzmq", "p99_us"), "%.2f"))
    if args.baseline:
        print("  mqcore p50 / base p50:   %s" % span(ratios("mqcore", "mqcore-base", "p50_us"), "%.2f"))
        print("  mqcore p99 / base p99:   %s" % span(ratios("mqcore", "mqcore-base", "p99_us"), "%.2f"))
    print(flush=True)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transport", choices=("tcp", "ipc"), default="tcp")
    parser.add_argument("--pattern", action="append", choices=sorted(common.LAT_PATTERNS),
                        help="repeatable; default: pair and reqrep")
    parser.add_argument("--size", action="append", type=common.parse_size, help="default: 1B")
    parser.add_argument("--round-trips", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", help="a directory holding another mqcore/ build to compare with")
    parser.add_argument("--cpus", type=lambda t: {int(c) for c in t.split(",")},
                        help="pin every run and its echo process to these CPUs, e.g. 0")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per lat.py process")
    parser.add_argument("--json", help="write every result to this file")
    args = parser.parse_args(argv)
    everything = []
    for pattern in args.pattern or ("pair", "reqrep"):
        for size in args.size or (1,):
            everything.append({"pattern": pattern, "size": size, "transport": args.transport,
                               "results": run_case(args, pattern, size)})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(everything, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
