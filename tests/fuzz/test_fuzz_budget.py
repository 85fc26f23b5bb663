"""The fuzzers of fuzz/ as tests: each atheris target runs for a fixed
budget in a subprocess, over its corpus (a crash, a hang or any nonzero exit
fails), the whole corpus (seeds and crash reproducers) is replayed in this
process, and the socket-level fuzzer runs a short seeded round.

Budget per target: MQCORE_FUZZ_RUNS runs (default 30000) or
MQCORE_FUZZ_SECONDS seconds (default 12), whichever comes first; all of it
stays well under two minutes on two cores. With MQCORE_FUZZ_BUILD set (see
fuzz/README.md) the targets run on the coverage-instrumented core."""
import importlib.util
import os
import signal
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    (os.environ.get("MQCORE_TEST_IMPL", "mqcore").strip() or "mqcore") != "mqcore",
    reason="drives mqcore's core through its test-only entry points")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FUZZ = os.path.join(ROOT, "fuzz")
TARGETS = ["greeting", "frames", "commands", "handshake", "metadata", "plain", "curve", "datagram", "pgm"]
RUNS = int(os.environ.get("MQCORE_FUZZ_RUNS", "30000"))
SECONDS = int(os.environ.get("MQCORE_FUZZ_SECONDS", "12"))
# AddressSanitizer's shadow memory counts in the RSS libFuzzer watches.
RSS_LIMIT_MB = 4096 if os.environ.get("MQCORE_SANITIZED") else 1024


def load_target(target):
    if FUZZ not in sys.path:
        sys.path.insert(0, FUZZ)
    spec = importlib.util.spec_from_file_location(f"fuzz_{target}", os.path.join(FUZZ, f"fuzz_{target}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("target", TARGETS)
def test_corpus_replays_clean(target):
    """Every seed and every regression input passes the target's checks."""
    mod = load_target(target)
    import fuzzlib
    assert fuzzlib.replay(mod.TestOneInput, target) >= 20


@pytest.mark.parametrize("target", TARGETS)
def test_target_runs_its_budget_without_a_finding(target, tmp_path):
    pytest.importorskip("atheris")
    new = tmp_path / "new"
    new.mkdir()
    cmd = [sys.executable, os.path.join(FUZZ, f"fuzz_{target}.py"),
           f"-atheris_runs={RUNS}", f"-max_total_time={SECONDS}", "-timeout=10",
           f"-rss_limit_mb={RSS_LIMIT_MB}", "-max_len=2048", "-seed=1",
           f"-artifact_prefix={tmp_path}/", str(new), os.path.join(FUZZ, "corpus", target)]
    try:
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=SECONDS + 90)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{target} hung past its budget:\n{(e.stderr or '')[-3000:]}")
    found = {p.name: p.read_bytes()[:512].hex() for p in tmp_path.iterdir() if p.is_file()}
    if r.returncode == -signal.SIGALRM and not found and r.stderr.rstrip().splitlines()[-1].startswith("Done"):
        # libFuzzer's per-input watchdog (-timeout) is a SIGALRM every
        # timeout/2 + 1 s; one landing after the run finished, while the
        # interpreter exits without libFuzzer's handler, ends the process
        # with that signal. A slow input would have been reported (ALARM, a
        # timeout- artifact) before "Done".
        return
    if r.returncode != 0:
        pytest.fail(f"{target} exited {r.returncode}; reproducers {found}\n{r.stderr[-4000:]}")
    assert "Done" in r.stderr, r.stderr[-2000:]


@pytest.mark.parametrize("transport,peer", [("tcp", "pyzmq"), ("ipc", "mqcore")])
def test_socket_fuzzer_short_round(transport, peer):
    """Hostile raw peers against every socket type while legitimate traffic
    flows: all of it arrives intact and the RSS stays bounded."""
    pytest.importorskip("zmq")
    cmd = [sys.executable, os.path.join(FUZZ, "fuzz_socket.py"),
           "--seed", "1", "--rounds", "2", "--attackers", "30", "--messages", "150",
           "--transport", transport, "--peer", peer]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=150)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
