"""Shared pieces of the mqcore-vs-pyzmq benchmarks in bench/.

thr.py, lat.py, pubsub.py and compare.py all import this module so that
they agree on the case matrix (patterns, transports, sizes, message
counts), on how an implementation is imported as `zmq`, and on how peer
processes are started, released and reaped.  Every blocking step has a
timeout: a benchmark of a half-finished implementation must fail with a
message, never hang.

Run directly to check that an implementation imports:
    python bench/_common.py probe mqcore
"""

import argparse
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)

IMPLS = ("zmq", "mqcore")
IMPL_LABELS = {"zmq": "pyzmq", "mqcore": "mqcore"}
TRANSPORTS = ("tcp", "ipc", "inproc")
# Security mechanisms a case can run over.  "null" is ZMTP's default (no
# handshake beyond the greeting); "curve" encrypts every frame.  inproc never
# runs a mechanism (no handshake), so CURVE cases are tcp and ipc only.
MECHANISMS = ("null", "curve")
CURVE_TRANSPORTS = ("tcp", "ipc")

KiB = 1024
MiB = 1024 * 1024
THR_SIZES = (1, 64, KiB, 64 * KiB, MiB)
# Zero-copy only pays off (and pyzmq only really does it) for big frames;
# below COPY_THRESHOLD (64 KiB) pyzmq copies anyway.
ZEROCOPY_SIZES = (64 * KiB, MiB)
LAT_SIZES = (1, KiB)
CURVE_THR_SIZES = (64, KiB, 64 * KiB, MiB)
CURVE_LAT_SIZES = LAT_SIZES

# Socket patterns.  Socket types are named, not taken from a module, because
# the implementation is only imported at run time.  The first type is the
# measuring side (it binds), the second its peer (it connects).
THR_PATTERNS = {"pushpull": ("PULL", "PUSH"), "routerdealer": ("ROUTER", "DEALER")}
LAT_PATTERNS = {"pair": ("PAIR", "PAIR"), "reqrep": ("REQ", "REP")}
ROUTERDEALER_SIZES = (64, KiB)
PUBSUB_SIZES = (64,)
PUBSUB_FANOUTS = (1, 4)  # subscribers per publisher


def pubsub_pattern(subscribers):
    """Name of a fan-out pattern in case names and count tables: 4 -> 'pubsub4'."""
    return "pubsub%d" % subscribers

# Rough pyzmq 27.3 / libzmq 4.3.5 rates (msg/s) measured on the 2-core dev
# box, keyed by (transport, size, zerocopy).  Message counts are derived from
# them so each pyzmq case lasts about THR_TARGET_SECONDS; both
# implementations always get the same count, so ratios stay comparable even
# when one of them is much slower.  Re-calibrate with
#   python bench/thr.py --impl zmq --count N --transport T --size S
_PYZMQ_RATES = {
    # size:        tcp          ipc          inproc     (copy mode)
    1:          (2_200_000,  2_200_000,  1_600_000),
    64:         (2_000_000,  2_200_000,  1_500_000),
    KiB:        (1_000_000,    900_000,  1_300_000),
    64 * KiB:   (   30_000,     30_000,     60_000),
    MiB:        (    2_500,      4_300,     17_000),
}
_PYZMQ_ZEROCOPY_RATES = {
    64 * KiB:   (   30_000,     30_000,    110_000),
    MiB:        (    8_000,      4_000,    130_000),
}
# The other patterns run for a shorter time (THR_PATTERN_TARGET_SECONDS) so
# that the whole compare.py matrix stays within about 5 minutes on 2 cores.
# pubsubN rates are per subscriber (every subscriber gets every message).
# Re-calibrate with
#   python bench/thr.py --impl zmq --pattern routerdealer --count N
#   python bench/pubsub.py --impl zmq --subscribers S --count N
_PYZMQ_PATTERN_RATES = {
    # (pattern, size):          tcp        ipc     inproc
    ("routerdealer", 64):  (  580_000,   620_000,   400_000),
    ("routerdealer", KiB): (  500_000,   500_000,   380_000),
    ("pubsub1", 64):       (1_800_000, 1_800_000, 1_200_000),
    ("pubsub4", 64):       (  800_000,   850_000,   500_000),
}
# CURVE (PUSH/PULL, copy mode): every frame is boxed by the sender and opened
# by the receiver, so rates are well below NULL's.  Re-calibrate with
#   python bench/thr.py --impl zmq --mechanism curve --count N --transport T --size S
_PYZMQ_CURVE_RATES = {
    # size:        tcp        ipc
    64:         (  550_000,   600_000),
    KiB:        (  220_000,   250_000),
    64 * KiB:   (    8_500,     8_500),
    MiB:        (      600,       700),
}
THR_TARGET_SECONDS = 0.8
THR_PATTERN_TARGET_SECONDS = 0.5
QUICK_DIVISOR = 10
LAT_ROUND_TRIPS = 10_000
LAT_WARMUP = 200

# Per blocking socket call; generous because the peer process has to start
# Python and import the implementation before the first message arrives.
DEFAULT_IO_TIMEOUT_MS = 10_000
PEER_EXIT_TIMEOUT_S = 10.0


class BenchError(RuntimeError):
    """A benchmark case could not produce a number (peer died, timeout...)."""


def load_impl(name):
    """Import the implementation under test; callers bind it to `zmq`.

    The repo root is appended (not prepended) to sys.path so an in-place
    build works without `pip install -e .`, while an installed mqcore still
    wins.  An empty or unbuilt `mqcore/` directory imports as a namespace
    package, so we insist on a Context class to fail with a clear message.
    """
    if name not in IMPLS:
        raise ValueError("unknown implementation %r (want one of %s)" % (name, ", ".join(IMPLS)))
    if REPO_ROOT not in sys.path:
        sys.path.append(REPO_ROOT)
    module = importlib.import_module(name)
    if not hasattr(module, "Context"):
        raise ImportError("%s imported from %s has no Context (not built?)"
                          % (name, getattr(module, "__path__", "?")))
    return module


def describe_impl(module):
    """Version and location of an imported implementation, for the record."""
    info = {"module": module.__name__, "file": getattr(module, "__file__", None)}
    for attr in ("__version__", "pyzmq_version", "zmq_version"):
        value = getattr(module, attr, None)
        if callable(value):
            try:
                value = value()
            except Exception as exc:  # a broken version call is not fatal
                value = "error: %s" % exc
        if value is not None:
            info[attr.strip("_")] = str(value)
    return info


# ---------------------------------------------------------------- sizes/counts

def format_size(size):
    """1 -> '1B', 1024 -> '1KiB', 1048576 -> '1MiB' (exact multiples only)."""
    for unit, factor in (("MiB", MiB), ("KiB", KiB)):
        if size >= factor and size % factor == 0:
            return "%d%s" % (size // factor, unit)
    return "%dB" % size


def parse_size(text):
    """Inverse of format_size; also accepts plain byte counts like '65536'."""
    text = text.strip()
    for unit, factor in (("MiB", MiB), ("KiB", KiB), ("B", 1)):
        if text.endswith(unit):
            return int(text[: -len(unit)]) * factor
    return int(text)


def thr_count(transport, size, zerocopy=False, quick=False, pattern="pushpull", mechanism="null"):
    """Messages for one throughput case: a fixed time at pyzmq speed.

    That is THR_TARGET_SECONDS for PUSH/PULL and THR_PATTERN_TARGET_SECONDS
    for the other patterns.
    """
    rate = _pyzmq_rate(transport, size, zerocopy, pattern)
    if mechanism == "curve":
        rate = _pyzmq_curve_rate(transport, size, rate)
    seconds = THR_TARGET_SECONDS if pattern == "pushpull" else THR_PATTERN_TARGET_SECONDS
    count = _round_to_2_digits(rate * seconds)
    if quick:
        count //= QUICK_DIVISOR
    return max(count, 2)  # the timer starts at message 1, so we need >= 2


def _pyzmq_rate(transport, size, zerocopy, pattern):
    """Expected pyzmq msg/s for a case, from the tables above."""
    column = TRANSPORTS.index(transport)
    if (pattern, size) in _PYZMQ_PATTERN_RATES:
        return _PYZMQ_PATTERN_RATES[pattern, size][column]
    table = _PYZMQ_ZEROCOPY_RATES if zerocopy and size in _PYZMQ_ZEROCOPY_RATES else _PYZMQ_RATES
    if size in table:
        rate = table[size][column]
    else:
        # Odd sizes: about 2 GB/s, but never more than ~2M msg/s.
        rate = min(2_000_000, 2e9 / max(size, 1))
    if pattern != "pushpull":
        rate /= 2  # uncalibrated pattern: the extra frames or peers cost something
    return rate


def _pyzmq_curve_rate(transport, size, null_rate):
    """Expected pyzmq msg/s over CURVE; uncalibrated cases guess 1/4 of NULL's."""
    if size in _PYZMQ_CURVE_RATES and transport in CURVE_TRANSPORTS:
        return _PYZMQ_CURVE_RATES[size][CURVE_TRANSPORTS.index(transport)]
    return null_rate / 4


def _round_to_2_digits(x):
    """1_760_000.0 -> 1_800_000: counts that read well in tables."""
    digits = len(str(int(x))) - 2
    return int(round(x, -digits)) if digits > 0 else int(x)


def lat_round_trips(quick=False):
    return LAT_ROUND_TRIPS // QUICK_DIVISOR if quick else LAT_ROUND_TRIPS


# ----------------------------------------------------------------- endpoints

# compare.py points this at a directory it owns, so files left by a crashed
# run are removed with it.
IPC_PARENT_ENV = "MQCORE_BENCH_TMPDIR"


def make_ipc_dir():
    """Private directory under /tmp for ipc socket files (removed afterwards)."""
    return tempfile.mkdtemp(prefix="mqcore-bench-", dir=os.environ.get(IPC_PARENT_ENV, "/tmp"))


def bind_endpoint(zmq, sock, transport, name, ipc_dir=None):
    """Bind `sock` for `transport` and return the endpoint a peer can connect to.

    tcp binds an ephemeral loopback port and reads it back via LAST_ENDPOINT
    so concurrent runs never collide on a fixed port.
    """
    if transport == "tcp":
        sock.bind("tcp://127.0.0.1:*")
        endpoint = sock.getsockopt(zmq.LAST_ENDPOINT)
        return endpoint.decode() if isinstance(endpoint, bytes) else endpoint
    if transport == "ipc":
        endpoint = "ipc://%s/%s.sock" % (ipc_dir, name)
    elif transport == "inproc":
        endpoint = "inproc://%s-%d" % (name, os.getpid())
    else:
        raise ValueError("unknown transport %r" % transport)
    sock.bind(endpoint)
    return endpoint


def set_io_timeouts(zmq, sock, timeout_ms):
    """Bound every send/recv so a broken peer gives zmq.Again, not a hang."""
    sock.setsockopt(zmq.RCVTIMEO, timeout_ms)
    sock.setsockopt(zmq.SNDTIMEO, timeout_ms)


class Security:
    """The mechanism a case runs over, and what it sets on each socket.

    The binding (measuring) side is the CURVE server, the connecting peer the
    client.  The parent generates both key pairs with the implementation's
    own curve_keypair() and hands the peer process the client's side on its
    command line (`peer_args`).  They are throw-away keys for one benchmark
    run, so a command line is a good enough place for them.
    """

    def __init__(self, mechanism="null", server_public=None, server_secret=None,
                 client_public=None, client_secret=None):
        if mechanism not in MECHANISMS:
            raise ValueError("unknown mechanism %r (want one of %s)" % (mechanism, ", ".join(MECHANISMS)))
        self.mechanism = mechanism
        self.server_public, self.server_secret = server_public, server_secret
        self.client_public, self.client_secret = client_public, client_secret

    @classmethod
    def generate(cls, zmq, mechanism):
        """Fresh key pairs for `mechanism` (none for null)."""
        if mechanism != "curve":
            return cls(mechanism)
        if not zmq.has("curve"):
            raise BenchError("%s has no CURVE support" % zmq.__name__)
        server_public, server_secret = zmq.curve_keypair()
        client_public, client_secret = zmq.curve_keypair()
        return cls(mechanism, server_public, server_secret, client_public, client_secret)

    @classmethod
    def from_peer_args(cls, mechanism, curve_keys):
        """The peer's view, from `--mechanism` and `--curve-keys` (see peer_args)."""
        if mechanism != "curve":
            return cls(mechanism)
        server_public, client_public, client_secret = (k.encode() for k in curve_keys.split(","))
        return cls(mechanism, server_public=server_public, client_public=client_public,
                   client_secret=client_secret)

    def peer_args(self):
        """Command-line arguments telling a peer process to be our client.

        Z85 keys never contain ',', so one argument carries the three keys
        the client needs: the server's public key and its own pair.  It is
        given as --curve-keys=... because a key may start with '-', which
        argparse would take for an option.
        """
        args = ["--mechanism", self.mechanism]
        if self.mechanism == "curve":
            keys = (self.server_public, self.client_public, self.client_secret)
            args.append("--curve-keys=" + ",".join(k.decode() for k in keys))
        return args

    def apply_server(self, zmq, sock):
        """Make a binding socket the CURVE server (before bind)."""
        if self.mechanism == "curve":
            sock.setsockopt(zmq.CURVE_SERVER, 1)
            sock.setsockopt(zmq.CURVE_SECRETKEY, self.server_secret)

    def apply_client(self, zmq, sock):
        """Make a connecting socket the CURVE client (before connect)."""
        if self.mechanism == "curve":
            sock.setsockopt(zmq.CURVE_SERVERKEY, self.server_public)
            sock.setsockopt(zmq.CURVE_PUBLICKEY, self.client_public)
            sock.setsockopt(zmq.CURVE_SECRETKEY, self.client_secret)


NULL_SECURITY = Security()


def add_mechanism_args(parser):
    """--mechanism for the user and the internal --curve-keys for the peer process."""
    parser.add_argument("--mechanism", choices=MECHANISMS, default="null",
                        help="security mechanism: null (ZMTP's default) or curve (the binding "
                             "side is the CURVE server, the peer the client; %s only) "
                             "(default %%(default)s)" % " and ".join(CURVE_TRANSPORTS))
    parser.add_argument("--curve-keys", help=argparse.SUPPRESS)


def check_mechanism_transports(parser, args):
    """CURVE has no inproc case: refuse it if asked for, else leave inproc out."""
    if args.mechanism == "null":
        return
    if args.transport and "inproc" in args.transport:
        parser.error("--mechanism %s needs a transport with a handshake (%s), not inproc"
                     % (args.mechanism, ", ".join(CURVE_TRANSPORTS)))
    if not args.transport:
        args.transport = list(CURVE_TRANSPORTS)


def close_and_term(sock, ctx):
    """Tear down after the numbers are in; linger=0 since nothing is pending."""
    try:
        sock.close(linger=0)
    finally:
        ctx.term()


def exception_text(exc):
    """Short, table-friendly description of why a case failed."""
    if isinstance(exc, BenchError):
        return str(exc)
    if type(exc).__name__ == "Again":  # zmq.Again / mqcore.Again: RCVTIMEO/SNDTIMEO hit
        return "timed out (Again)"
    return "%s: %s" % (type(exc).__name__, exc)


def run_case_with_peer(zmq, case, socket_type, start_peer, measure, report, io_timeout_ms,
                       security=NULL_SECURITY):
    """The skeleton of a case with one measured socket: bind, start the peer, measure, report.

    `case` holds the fields that identify the case (copied into the result),
    `start_peer(ctx, endpoint)` returns a Peer or ThreadPeer, and
    `measure(sock)` returns a dict of numbers.  See run_case_with_peers.
    """
    run_case_with_peers(
        zmq, case, [Binding(socket_type, case["bench"])],
        lambda ctx, endpoints: start_peer(ctx, endpoints[0]),
        lambda socks: measure(socks[0]),
        report, io_timeout_ms, security)


class Binding:
    """A socket the measuring side binds: its type, endpoint name and options.

    Options are set before bind() because some (SNDHWM, RCVHWM) only apply
    to pipes created after they are set.
    """

    def __init__(self, socket_type, name, options=None):
        self.socket_type, self.name, self.options = socket_type, name, options or {}


def run_case_with_peers(zmq, case, bindings, start_peers, measure, report, io_timeout_ms,
                        security=NULL_SECURITY):
    """The skeleton every case shares: bind, start the peers, measure, report, clean up.

    `bindings` lists the Bindings to create, `start_peers(ctx, endpoints)`
    returns a Peer, ThreadPeer or PeerGroup, and `measure(socks)` returns a
    dict of numbers (sockets and endpoints in the order of `bindings`).
    `security` makes every bound socket the server of its mechanism; the
    peers must apply the client side themselves.
    `report` gets the result or {..., "error": ...} *before* Context.term()
    runs, so a hang during teardown (which compare.py's timeout ends) cannot
    swallow the outcome.  Raises after reporting an error so callers can
    count failures.
    """
    ipc_dir = make_ipc_dir() if case["transport"] == "ipc" else None
    ctx = peer = None
    socks = []
    try:
        ctx = zmq.Context()
        endpoints = []
        for binding in bindings:
            sock = ctx.socket(binding.socket_type)
            socks.append(sock)
            set_io_timeouts(zmq, sock, io_timeout_ms)
            security.apply_server(zmq, sock)
            for option, value in binding.options.items():
                sock.setsockopt(option, value)
            endpoints.append(bind_endpoint(zmq, sock, case["transport"], binding.name, ipc_dir))
        peer = start_peers(ctx, endpoints)
        try:
            numbers = measure(socks)
        except Exception as exc:
            raise BenchError("%s; %s" % (exception_text(exc), peer.describe_failure())) from exc
        warning = peer.release()
        peer = None
        result = dict(case, **numbers)
        if warning:
            result["warning"] = warning
        report(result)
    except Exception as exc:
        report(dict(case, error=exception_text(exc)))
        raise
    finally:
        stuck = False
        if peer is not None:
            peer.release(timeout=1.0)
            stuck = peer.is_stuck()
        try:
            for sock in socks:
                sock.close(linger=0)
        finally:
            # A wedged peer thread still owns a socket, so term() would block
            # forever; leaking the Context of a failing run is harmless.
            if ctx is not None and not stuck:
                ctx.term()
            cleanup_dir(ipc_dir)


def describe_exit(rc):
    """'exit code 1' or 'killed by SIGSEGV' for a process return code."""
    if rc is not None and rc < 0:
        try:
            return "killed by %s" % signal.Signals(-rc).name
        except ValueError:
            return "killed by signal %d" % -rc
    return "exit code %s" % rc


# ------------------------------------------------------------- peer processes

class Peer:
    """A benchmark peer running `script --role ...` in a child process.

    The child keeps its sockets open until we close its stdin ("release"),
    so a benchmark never depends on LINGER semantics to get its last
    messages delivered.  stderr goes to a temp file (a pipe could fill up
    and block the child) and is quoted in errors.
    """

    def __init__(self, script, args):
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            # faulthandler: if the implementation crashes, stderr says where.
            [sys.executable, "-X", "faulthandler", script] + [str(a) for a in args],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._stderr,
        )

    def stderr_tail(self, limit=600):
        """End of the peer's stderr on one line (it ends up in a table note)."""
        self._stderr.seek(0)
        text = " | ".join(l.strip() for l in self._stderr.read().splitlines() if l.strip())
        return text[-limit:]

    def describe_failure(self):
        """One string saying whether the peer is alive and what it printed."""
        rc = self.proc.poll()
        state = "peer still running" if rc is None else "peer " + describe_exit(rc)
        tail = self.stderr_tail()
        return "%s%s" % (state, (": " + tail) if tail else "")

    def release(self, timeout=PEER_EXIT_TIMEOUT_S):
        """Let the peer close and exit; kill it if it does not. Returns a warning or None."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return "peer did not exit within %.0fs after release (killed)" % timeout
        if rc != 0:
            return "peer %s: %s" % (describe_exit(rc), self.stderr_tail(200))
        return None

    def is_stuck(self):
        return False  # release() kills a process that does not exit

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def wait_for_release():
    """Peer side of Peer.release(): block until the parent closes our stdin."""
    sys.stdin.read()


class ThreadPeer:
    """In-process peer for inproc: runs `target(release_event)` in a thread.

    Daemon thread so a wedged implementation cannot keep the process alive;
    its exception, if any, is kept and shows up in describe_failure()/release().
    """

    def __init__(self, target):
        self.released = threading.Event()
        self.error = None

        def run():
            try:
                target(self.released)
            except BaseException as exc:  # reported to the main thread
                self.error = exc

        self.thread = threading.Thread(target=run, name="bench-peer", daemon=True)
        self.thread.start()

    def describe_failure(self):
        if self.error is not None:
            return "peer thread failed: " + exception_text(self.error)
        return "peer thread still running" if self.thread.is_alive() else "peer thread finished"

    def release(self, timeout=PEER_EXIT_TIMEOUT_S):
        self.released.set()
        self.thread.join(timeout)
        if self.thread.is_alive():
            return "peer thread did not finish within %.0fs after release" % timeout
        if self.error is not None:
            return "peer thread failed: " + exception_text(self.error)
        return None

    def is_stuck(self):
        return self.thread.is_alive()


class PeerGroup:
    """Several peers (processes or threads) handled as one, e.g. N subscribers."""

    def __init__(self, peers):
        self.peers = list(peers)

    def describe_failure(self):
        """Each peer's state, said once if they are all in the same one."""
        states = [p.describe_failure() for p in self.peers]
        if len(set(states)) == 1:
            return "all %d peers: %s" % (len(states), states[0])
        return "; ".join("peer %d: %s" % (i, state) for i, state in enumerate(states, 1))

    def release(self, timeout=PEER_EXIT_TIMEOUT_S):
        """Release every peer; returns their warnings joined, or None."""
        warnings = ["peer %d: %s" % (i, w) for i, w in
                    enumerate((p.release(timeout) for p in self.peers), 1) if w]
        return "; ".join(warnings) or None

    def is_stuck(self):
        return any(p.is_stuck() for p in self.peers)


# --------------------------------------------------------------------- output

def emit_json(result):
    """One JSON object per line on stdout; compare.py reads the last one."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def cleanup_dir(path):
    if path:
        shutil.rmtree(path, ignore_errors=True)


def probe(name):
    """Import `name` and print where it came from (used by compare.py)."""
    module = load_impl(name)
    emit_json(describe_impl(module))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "probe":
        sys.exit("usage: python bench/_common.py probe zmq|mqcore")
    probe(sys.argv[2])
