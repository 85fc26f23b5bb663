"""Running out of memory is a clean ZMQError(ENOMEM), never a crash, a
hang or a half-delivered message (issue 6): a systematic sweep.

For each scenario a child process first counts the allocations the core
makes for it (N, through mq_malloc & co., src/c/mq_alloc.h), then runs it
again for a spread of k in 1..N with the k-th allocation failing, several k
per child (a fresh context for each). For every k the child must not die or
hang, every error the scenario saw must be ENOMEM (or EAGAIN: a message
dropped, or a connection turned away, shows as a receive timeout), every
message received must be whole and intact, and the same context must then
do a fresh inproc and tcp round trip and terminate. "+io" scenarios make
the io threads' allocations fail too (sessions, engines, listeners, the
poller): there a failure closes one connection, which must come back.

The injector is mqcore's own (libzmq has no such hook)."""
import json
import os
import subprocess
import sys
import tempfile

import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("MQCORE_TEST_IMPL", "mqcore") != "mqcore",
    reason="allocation fault injection is mqcore's own")

CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_alloc_child.py")
ALLOWED = {12, 11}          # ENOMEM, EAGAIN
MAX_K = 40                  # k values tried per scenario
MAX_K_IO = 120              # the same with the io threads in (their order varies: more k)
PER_CHILD = 40              # k values per child process
CHILD_TIMEOUT = 120         # s, for PER_CHILD runs

SCENARIOS = ["sockets", "inproc", "tcp", "many", "multipart", "pubsub", "xpub_welcome", "xpub_manual",
             "router", "stream", "reqrep", "draft", "proxy", "close_term",
             "inproc_connect", "monitor",
             # The same with the io threads' allocations failing too.
             "tcp+io", "router+io", "stream+io", "reqrep+io", "pubsub+io", "draft+io",
             "close_term+io", "monitor+io", "inproc_connect+io",
             # +poll: the portable poller, whose fd map grows (and can fail to).
             "highfd+io+poll"]


def child_env():
    import mqcore
    env = dict(os.environ)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(mqcore.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_parent, env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONFAULTHANDLER", "1")
    return env


def run_child(scenario, arg, timeout):
    env = child_env()
    scenario, *flags = scenario.split("+")
    if "io" in flags:
        env["MQCORE_ALLOC_ALL_THREADS"] = "1"
    if "poll" in flags:
        env["MQCORE_POLLER"] = "poll"
    try:
        out = subprocess.run([sys.executable, CHILD, scenario, arg], env=env,
                             capture_output=True, text=True, timeout=timeout)
        return out.returncode, out.stdout, out.stderr, False
    except subprocess.TimeoutExpired as e:
        def text(b):
            return b.decode(errors="replace") if isinstance(b, bytes) else (b or "")
        return None, text(e.stdout), text(e.stderr), True


def spread(n, most):
    """Up to `most` values spread over 1..n, always with the first ones
    (setting up) and the last one."""
    if n <= most:
        return list(range(1, n + 1))
    head = list(range(1, most // 3 + 1))
    rest = most - len(head)
    step = (n - head[-1]) / rest
    return sorted(set(head + [min(n, head[-1] + round(step * (i + 1))) for i in range(rest)]))


@pytest.mark.timeout(150)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_allocation_failure_is_clean(scenario):
    rc, out, err, hung = run_child(scenario, "count", 60)
    assert rc == 0 and not hung, f"{scenario} fails without any fault: rc={rc}\n{out}\n{err[-3000:]}"
    n = json.loads(out.strip().splitlines()[-1])["calls"]
    assert n > 0
    ks = spread(n, MAX_K_IO if "+io" in scenario else MAX_K)
    problems = []
    for i in range(0, len(ks), PER_CHILD):
        batch = ks[i:i + PER_CHILD]
        rc, out, err, hung = run_child(scenario, ",".join(map(str, batch)), CHILD_TIMEOUT)
        done, started = {}, None
        for line in out.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if "start" in rec:
                started = rec["start"]
            else:
                done[rec["k"]] = rec
        for k in batch:
            rec = done.get(k)
            if rec is None:
                if k == started:
                    how = "hung" if hung else f"died (rc={rc})"
                    problems.append(f"k={k}: child {how}\n{err[-2500:]}")
                    break
                continue
            if "exception" in rec:
                problems.append(f"k={k}: {rec['exception']}")
            elif set(rec["errors"]) - ALLOWED:
                problems.append(f"k={k}: errors {rec['errors']} (failed allocations: {rec['failed']})")
        if rc not in (0, None) and not problems:
            problems.append(f"child exited rc={rc}\n{err[-2500:]}")
    assert not problems, f"{scenario} (N={n} allocations, k tried: {ks}):\n" + "\n".join(problems)


STARVED = r"""
import errno, sys
import mqcore as zmq
from mqcore import _core

ctx = zmq.Context()
a, b = ctx.socket(zmq.PUSH), ctx.socket(zmq.PULL)
for s in (a, b):
    s.linger = 0
    s.rcvtimeo = s.sndtimeo = 5000
b.bind("inproc://starved")
a.connect("inproc://starved")
a.send(b"warm")
assert b.recv() == b"warm"
_core._inject_alloc_failure(1, 10**9)        # from now on no allocation succeeds
sent = []
try:
    for i in range(2000):
        try:
            a.send_multipart([b"%d" % i, b"x"])
        except zmq.ZMQError as e:
            assert e.errno == errno.ENOMEM, e
            break
        sent.append(i)
    else:
        raise AssertionError("2000 messages queued without any memory")
    # The pipe is out of room but the sender can still end it: the reader
    # gets every message sent, whole, and then nothing more.
    a.close(linger=0)
    for i in sent:
        assert b.recv_multipart() == [b"%d" % i, b"x"]
    b.rcvtimeo = 200
    try:
        b.recv()
        raise AssertionError("a message nobody sent")
    except zmq.Again:
        pass
finally:
    calls, failed = _core._alloc_calls()
    _core._inject_alloc_failure(-1)
b.close()
ctx.term()
print("OK", len(sent), failed)
"""


def test_a_full_pipe_without_memory_still_ends_cleanly():
    """With every allocation failing, sends fail with ENOMEM once the pipe's
    first chunk is used up, nothing half-sent reaches the reader, and the
    sender's close still gets through (its delimiter has a slot kept)."""
    out = subprocess.run([sys.executable, "-c", STARVED], env=child_env(),
                         capture_output=True, text=True, timeout=60, cwd=tempfile.gettempdir())
    assert out.returncode == 0 and "OK" in out.stdout, f"rc={out.returncode}\n{out.stdout}\n{out.stderr[-3000:]}"


def test_mailbox_folds_repeated_wakeups_when_out_of_memory():
    """A mailbox that is full and cannot grow makes room by folding repeats
    of the idempotent commands (keeping the first), so a PIPE_TERM still
    gets in; no pipe reference is lost or leaked on the way."""
    from mqcore import _core
    types, refs = _core._mailbox_fold_check(200)
    ACTIVATE_READ, ACTIVATE_WRITE, PIPE_TERM = 1, 2, 3
    assert types[-2:] == [ACTIVATE_WRITE, PIPE_TERM], types
    assert types[:-2] and set(types[:-2]) == {ACTIVATE_READ}, types
    assert len(types) < 200
    assert refs == 2
