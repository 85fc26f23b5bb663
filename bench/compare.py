"""Run every benchmark case on pyzmq and mqcore in one go and print the ratios.

Speed claims for mqcore come from this script, never from timed tests: both
implementations run the same cases on the same machine in the same run,
interleaved, so background noise hits both alike.  For each case we run
pyzmq and mqcore alternately, N times (order alternates every repetition:
pyzmq, mqcore, mqcore, pyzmq, ... so neither always goes first), keep the
best run (or the median with --stat median), and print

    case | pyzmq | mqcore | ratio        ratio = mqcore / pyzmq

Throughput rows (thr/...) want ratio >= 1.00; latency rows (lat/...) want
ratio <= 1.00.  Case names are bench/[pattern/][mechanism/]transport/size[/zc];
PUSH/PULL (thr) and PAIR (lat) leave the pattern out, the others name it:
thr/routerdealer/..., thr/pubsub1/... and thr/pubsub4/... (fan-out to 1 or 4
subscribers, rate per subscriber), lat/reqrep/....  The NULL mechanism is
left out too; CURVE cases name it: thr/curve/tcp/64B, lat/curve/tcp/1B
(each implementation makes its own key pairs with its curve_keypair()).

Each run is a separate `thr.py`/`lat.py`/`pubsub.py --json` process in its
own process group with a timeout, so a crash or hang in one implementation
shows up as an error in its cell and the table still gets finished.

Examples:
    python bench/compare.py --quick                # smoke test, 1 repetition
    python bench/compare.py                        # full run, best of 3
    python bench/compare.py --cases tcp,inproc     # substring filter on case names
    python bench/compare.py --cases lat --markdown --json /tmp/lat.json
    python bench/compare.py --cases pubsub,routerdealer,reqrep   # the non-PUSH/PAIR patterns
    python bench/compare.py --cases curve          # CURVE against pyzmq's CURVE
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

import _common as common

IMPLS = common.IMPLS  # ("zmq", "mqcore"): pyzmq first, it is the reference
LABELS = common.IMPL_LABELS


# -------------------------------------------------------------------- cases

# The pattern each script runs when none is named; case names leave it out,
# so names from before the other patterns existed still mean the same.  The
# same goes for the default mechanism, NULL.
DEFAULT_PATTERNS = {"thr": "pushpull", "lat": "pair"}
DEFAULT_MECHANISM = "null"


class Case:
    """One benchmark configuration, e.g. thr/tcp/64KiB/zc, lat/reqrep/ipc/1B, thr/pubsub4/tcp/64B,
    thr/curve/ipc/1MiB."""

    def __init__(self, bench, transport, size, zerocopy=False, pattern=None,
                 mechanism=DEFAULT_MECHANISM):
        self.bench, self.transport, self.size, self.zerocopy = bench, transport, size, zerocopy
        self.pattern = pattern or DEFAULT_PATTERNS[bench]
        self.mechanism = mechanism
        named_pattern = [] if self.pattern == DEFAULT_PATTERNS[bench] else [self.pattern]
        named_mechanism = [] if mechanism == DEFAULT_MECHANISM else [mechanism]
        parts = ([bench] + named_pattern + named_mechanism
                 + [transport, common.format_size(size)])
        self.name = "/".join(parts + (["zc"] if zerocopy else []))

    @property
    def subscribers(self):
        """Fan-out of a pubsubN case, else None."""
        return int(self.pattern[len("pubsub"):]) if self.pattern.startswith("pubsub") else None

    def argv(self, impl, quick, io_timeout_ms):
        """Command line that runs just this case for `impl` and prints JSON."""
        # faulthandler: a crash in the implementation leaves a stack in stderr.
        argv = [sys.executable, "-X", "faulthandler", self.script(), "--impl", impl, "--json",
                "--transport", self.transport, "--size", str(self.size),
                "--io-timeout", str(io_timeout_ms)]
        if self.subscribers:
            argv += ["--subscribers", str(self.subscribers), "--count", str(self.count(quick))]
        elif self.bench == "thr":
            argv += ["--pattern", self.pattern, "--mode", "zerocopy" if self.zerocopy else "copy",
                     "--count", str(self.count(quick))]
        else:
            argv += ["--pattern", self.pattern] + (["--quick"] if quick else [])
        if self.mechanism != DEFAULT_MECHANISM:
            argv += ["--mechanism", self.mechanism]  # thr.py and lat.py only
        return argv

    def script(self):
        name = "pubsub.py" if self.subscribers else self.bench + ".py"
        return os.path.join(common.BENCH_DIR, name)

    def count(self, quick):
        """Messages per throughput run; the same for both implementations."""
        return common.thr_count(self.transport, self.size, self.zerocopy, quick, self.pattern,
                                self.mechanism)


def all_cases():
    """The full matrix: throughput per pattern, transport and size, then latency, then CURVE."""
    cases = []
    for transport in common.TRANSPORTS:
        for size in common.THR_SIZES:
            cases.append(Case("thr", transport, size))
            if size in common.ZEROCOPY_SIZES:
                cases.append(Case("thr", transport, size, zerocopy=True))
    for transport in common.TRANSPORTS:
        for size in common.ROUTERDEALER_SIZES:
            cases.append(Case("thr", transport, size, pattern="routerdealer"))
    for subscribers in common.PUBSUB_FANOUTS:
        for transport in common.TRANSPORTS:
            for size in common.PUBSUB_SIZES:
                cases.append(Case("thr", transport, size, pattern=common.pubsub_pattern(subscribers)))
    for pattern in common.LAT_PATTERNS:
        for transport in common.TRANSPORTS:
            for size in common.LAT_SIZES:
                cases.append(Case("lat", transport, size, pattern=pattern))
    for transport in common.CURVE_TRANSPORTS:
        for size in common.CURVE_THR_SIZES:
            cases.append(Case("thr", transport, size, mechanism="curve"))
    for size in common.CURVE_LAT_SIZES:
        cases.append(Case("lat", "tcp", size, mechanism="curve"))
    return cases


def select_cases(cases, filter_text):
    """Keep cases whose name contains any comma-separated term ('tcp,lat')."""
    if not filter_text:
        return cases
    terms = [t.strip() for t in filter_text.split(",") if t.strip()]
    return [c for c in cases if any(t in c.name for t in terms)]


# ------------------------------------------------------------------ running

def run_process(argv, timeout, cpus=None):
    """Run argv in its own process group; on timeout kill the whole group.

    The group matters: thr.py/lat.py start a peer process of their own,
    which would otherwise survive its parent and keep ports/CPU busy.
    `cpus` (a set of CPU ids) pins the run and, by inheritance, its peer.
    Returns (returncode or None on timeout, stdout, stderr).
    """
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, preexec_fn=pin)
    try:
        out, err = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        out, err = proc.communicate()
        rc = None
    # Also after a normal exit or crash: a peer left behind by a crashed
    # parent would otherwise keep running until its own I/O timeout.
    kill_group(proc.pid)
    return rc, out, err


def kill_group(pgid):
    """SIGKILL the process group we created for one benchmark run."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # group already gone


def last_json_line(text):
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def process_error(rc, stderr):
    """Why a benchmark process failed: its signal, or its traceback's last line."""
    lines = [l.strip() for l in stderr.splitlines() if l.strip()]
    if rc is not None and rc < 0:
        return "crashed, %s%s" % (common.describe_exit(rc), crash_location(lines))
    return lines[-1] if lines else common.describe_exit(rc) + ", no output"


def crash_location(lines):
    """' at thr.py:40 in send_messages': innermost frame of the crashing thread."""
    crashing = [i for i, line in enumerate(lines) if line.startswith("Current thread")]
    for line in lines[crashing[0] + 1 if crashing else 0:]:
        match = re.match(r'File "(.*)", line (\d+) in (\S+)', line)
        if match:
            return " at %s:%s in %s" % (os.path.basename(match.group(1)), match.group(2), match.group(3))
    return ""


def add_warning(result, text):
    result["warning"] = result["warning"] + "; " + text if "warning" in result else text


def run_once(case, impl, args):
    """Run one case once; return the benchmark's JSON result or {'error': ...}."""
    rc, out, err = run_process(case.argv(impl, args.quick, args.io_timeout), args.timeout, args.cpus)
    result = last_json_line(out)
    if rc is None:
        if result:
            # The outcome was reported; only the teardown (e.g. term()) hung.
            add_warning(result, "process hung after reporting; killed after %ss" % args.timeout)
            return result
        return {"error": "timeout after %ss" % args.timeout, "timeout": True,
                "stderr": err[-2000:]}
    if result is None:
        return {"error": process_error(rc, err), "returncode": rc, "stderr": err[-2000:]}
    if "error" not in result and rc != 0:
        add_warning(result, process_error(rc, err))
    return result


def probe_impl(impl, timeout):
    """Import check in a subprocess; returns (info dict, None) or (None, error)."""
    argv = [sys.executable, os.path.join(common.BENCH_DIR, "_common.py"), "probe", impl]
    rc, out, err = run_process(argv, timeout)
    info = last_json_line(out)
    if rc == 0 and info is not None:
        return info, None
    if rc is None:
        return None, "import timed out after %ss" % timeout
    return None, process_error(rc, err)


def run_all(cases, usable, reps, args):
    """runs[case.name][impl] -> list of per-run dicts, interleaving the impls."""
    runs = {c.name: {impl: [] for impl in IMPLS} for c in cases}
    total = len(cases) * reps * len(usable)
    done = 0
    for case in cases:
        timed_out = set()
        for rep in range(reps):
            # Alternate who goes first so drift (thermal, cache, neighbours)
            # does not always favour the same implementation.
            order = usable if rep % 2 == 0 else list(reversed(usable))
            for impl in order:
                done += 1
                if impl in timed_out:
                    continue  # one hang per case is enough evidence; save time
                result = run_once(case, impl, args)
                runs[case.name][impl].append(result)
                if result.get("timeout"):
                    timed_out.add(impl)
                progress("[%d/%d] %-20s %-7s rep %d/%d: %s" % (
                    done, total, case.name, LABELS[impl], rep + 1, reps, describe_run(case, result)))
    return runs


def describe_run(case, result):
    if "error" in result:
        return "ERROR " + result["error"]
    if case.bench == "thr":
        text = "%s msg/s, %s MB/s" % (si(result["msg_per_s"]), mbps(result["mb_per_s"]))
    else:
        text = "p50 %.1f us, p99 %.1f us" % (result["p50_us"], result["p99_us"])
    return text + ("  (warning: %s)" % result["warning"] if "warning" in result else "")


def progress(line):
    print(line, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- summarize

def pick(values, stat, higher_is_better):
    if stat == "median":
        return statistics.median(values)
    return max(values) if higher_is_better else min(values)


def summarize_case(case, case_runs, stat, probe_errors):
    """Table rows for one case: one for throughput, p50 and p99 for latency."""
    if case.bench == "thr":
        metrics = [("", "msg_per_s", True)]
    else:
        metrics = [(" p50", "p50_us", False), (" p99", "p99_us", False)]
    rows = []
    for suffix, key, higher in metrics:
        row = {"case": case.name + suffix, "metric": key,
               "want": ">= 1" if higher else "<= 1", "values": {}, "cells": {}, "ratio": None}
        for impl in IMPLS:
            ok = [r for r in case_runs[impl] if "error" not in r]
            failed = [r for r in case_runs[impl] if "error" in r]
            if impl in probe_errors:
                row["cells"][impl] = "ERROR: " + probe_errors[impl]
            elif not ok:
                row["cells"][impl] = "ERROR: " + (failed[0]["error"] if failed else "not run")
            else:
                value = pick([r[key] for r in ok], stat, higher)
                row["values"][impl] = value
                row["cells"][impl] = format_value(case, key, value) + (
                    " (%d/%d failed)" % (len(failed), len(ok) + len(failed)) if failed else "")
        if len(row["values"]) == len(IMPLS) and row["values"]["zmq"] > 0:
            row["ratio"] = row["values"]["mqcore"] / row["values"]["zmq"]
        rows.append(row)
    return rows


def format_value(case, key, value):
    if key == "msg_per_s":
        # MB/s follows msg/s exactly (same size), so derive it from the picked value.
        return "%s msg/s, %s MB/s" % (si(value), mbps(value * case.size / 1e6))
    return "%.1f us" % value


def si(x):
    for factor, suffix in ((1e6, "M"), (1e3, "k")):
        if x >= factor:
            return "%.3g%s" % (x / factor, suffix)
    return "%.3g" % x


def mbps(x):
    return "{:,.0f}".format(x) if x >= 100 else "%.2g" % x if x < 1 else "%.1f" % x


def ratio_cell(row):
    return "%.2f" % row["ratio"] if row["ratio"] is not None else "-"


# ------------------------------------------------------------------- output

def shorten(text, width):
    return text if len(text) <= width else text[: width - 3] + "..."


def table_lines(rows, error_width=56):
    header = ["case", LABELS["zmq"], LABELS["mqcore"], "ratio"]
    body = [[r["case"]] + [shorten(r["cells"][i], error_width) for i in IMPLS] + [ratio_cell(r)]
            for r in rows]
    widths = [max(len(line[i]) for line in [header] + body) for i in range(4)]
    fmt = "  ".join("%%-%ds" % w for w in widths[:3]) + "  %%%ds" % widths[3]
    lines = [fmt % tuple(header), "  ".join("-" * w for w in widths)]
    lines += [fmt % tuple(line) for line in body]
    return lines


def markdown_lines(rows, env, error_width=60):
    """The table for README.md, with a caption saying where it was measured."""
    def cell(text):
        return shorten(text, error_width).replace("|", "\\|")
    versions = ", ".join("%s %s" % (LABELS[i], env["impls"][i].get("version", "n/a")) for i in IMPLS)
    pinned = " (runs pinned to CPUs %s)" % env["pinned_cpus"] if env["pinned_cpus"] else ""
    lines = ["_%s, Python %s, %s CPUs%s, %s; %s of %d run(s); ratio = mqcore/pyzmq "
             "(thr: higher is better, lat: lower is better)._"
             % (env["date"][:10], env["python"], env["cpus"], pinned, versions, env["stat"],
                env["reps"]), "",
             "| case | %s | %s | ratio |" % (LABELS["zmq"], LABELS["mqcore"]),
             "|---|---:|---:|---:|"]
    for r in rows:
        lines.append("| %s | %s | %s | %s |" % (
            cell(r["case"]), cell(r["cells"]["zmq"]), cell(r["cells"]["mqcore"]), ratio_cell(r)))
    return lines


def notes_lines(cases, runs):
    """Full text of errors and warnings, which the table cells truncate."""
    seen, lines = set(), []
    for case in cases:
        for impl in IMPLS:
            for r in runs[case.name][impl]:
                for kind in ("error", "warning"):
                    if kind in r and (case.name, impl, r[kind]) not in seen:
                        seen.add((case.name, impl, r[kind]))
                        lines.append("%s %s %s: %s" % (case.name, LABELS[impl], kind, r[kind]))
    return lines


def environment(probes, reps, stat, cpus):
    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg": loadavg(),
        "reps": reps, "stat": stat,
        "pinned_cpus": sorted(cpus) if cpus else None,
        "impls": {impl: info for impl, info in probes.items()},
    }


def loadavg():
    return os.getloadavg() if hasattr(os, "getloadavg") else None


def header_lines(env):
    def impl_text(info):
        if "error" in info:
            return "unavailable (%s)" % info["error"]
        return " ".join("%s=%s" % (k, v) for k, v in info.items() if k != "module")
    def load_text(load):
        return "%.2f" % load[0] if load else "?"
    lines = ["# %s, Python %s, %s CPUs%s, 1-min load %s at start, %s at end" % (
        env["date"], env["python"], env["cpus"],
        ", runs pinned to CPUs %s" % env["pinned_cpus"] if env["pinned_cpus"] else "",
        load_text(env["loadavg_start"]), load_text(env["loadavg"]))]
    for impl in IMPLS:
        lines.append("# %s: %s" % (LABELS[impl], impl_text(env["impls"][impl])))
    lines.append("# %s of %d run(s); ratio = mqcore/pyzmq: thr wants >= 1.00, lat wants <= 1.00"
                 % ("best" if env["stat"] == "best" else "median", env["reps"]))
    return lines


def write_json(path, env, cases, runs, rows):
    data = {
        "environment": env,
        "cases": [{"name": c.name, "bench": c.bench, "pattern": c.pattern,
                   "mechanism": c.mechanism, "transport": c.transport,
                   "size": c.size, "zerocopy": c.zerocopy,
                   "runs": {LABELS[i]: runs[c.name][i] for i in IMPLS}}
                  for c in cases],
        "rows": [{"case": r["case"], "metric": r["metric"], "want": r["want"],
                  "pyzmq": r["values"].get("zmq"), "mqcore": r["values"].get("mqcore"),
                  "cells": {LABELS[i]: r["cells"][i] for i in IMPLS}, "ratio": r["ratio"]}
                 for r in rows],
    }
    with open(path, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


# --------------------------------------------------------------------- main

def parse_cpus(text):
    """'0,1' -> {0, 1}"""
    return {int(part) for part in text.split(",") if part.strip()}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="1/%d of the messages and 1 repetition (unless --reps)" % common.QUICK_DIVISOR)
    parser.add_argument("--cases", help="comma-separated substrings of case names, e.g. tcp,lat,thr/inproc")
    parser.add_argument("--reps", type=int, help="repetitions per case and implementation (default 3)")
    parser.add_argument("--stat", choices=("best", "median"), default="best",
                        help="how to combine repetitions (default: best, the least disturbed run)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds per benchmark process before it is killed (default %(default)s)")
    parser.add_argument("--cpus", type=parse_cpus, metavar="LIST",
                        help="pin every run to these CPUs, e.g. 0 or 0,1 (default: unpinned). "
                             "On this VM, peers on one core have steadier latency")
    parser.add_argument("--io-timeout", type=int, default=common.DEFAULT_IO_TIMEOUT_MS,
                        help="ms per blocking send/recv inside a benchmark (default %(default)s)")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    parser.add_argument("--json", metavar="FILE", help="write all runs and the table to FILE")
    parser.add_argument("--list", action="store_true", help="list the selected case names and exit")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    reps = args.reps or (1 if args.quick else 3)
    cases = select_cases(all_cases(), args.cases)
    if args.list or not cases:
        print("\n".join(c.name for c in cases) or "no case matches %r" % args.cases)
        return 0 if cases else 2

    load_at_start = loadavg()  # a busy box explains odd ratios; keep it on record
    probes, probe_errors = {}, {}
    for impl in IMPLS:
        info, error = probe_impl(impl, args.timeout)
        probes[impl] = info if info is not None else {"error": error}
        if error:
            probe_errors[impl] = error
            progress("%s unavailable, its cells will show the error: %s" % (LABELS[impl], error))
    usable = [impl for impl in IMPLS if impl not in probe_errors]

    # ipc socket files of all runs live under one directory we remove at the
    # end, even if a crashed run could not clean up after itself.
    ipc_parent = tempfile.mkdtemp(prefix="mqcore-bench-compare-", dir="/tmp")
    os.environ[common.IPC_PARENT_ENV] = ipc_parent
    try:
        runs = run_all(cases, usable, reps, args)
    finally:
        shutil.rmtree(ipc_parent, ignore_errors=True)
    rows = [row for case in cases for row in summarize_case(case, runs[case.name], args.stat, probe_errors)]
    env = environment(probes, reps, args.stat, args.cpus)
    env["loadavg_start"] = load_at_start

    print("\n".join(header_lines(env) + [""] + table_lines(rows)))
    notes = notes_lines(cases, runs)
    if notes:
        print("\nNotes:\n" + "\n".join("  " + n for n in notes))
    if args.markdown:
        print("\n" + "\n".join(markdown_lines(rows, env)))
    if args.json:
        write_json(args.json, env, cases, runs, rows)
        progress("wrote %s" % args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
