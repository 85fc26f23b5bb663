"""Every program in examples/ runs briefly and does its job, on mqcore and on pyzmq.

Each example chooses its library with one line, ``import mqcore as zmq``.
The tests copy the example into a temporary directory -- unchanged for
mqcore, with that line turned into ``import zmq`` for pyzmq -- and run the
copy as a subprocess with its "run briefly" options, asserting on what it
prints and on its exit status.  Running the pyzmq copy checks the example
and the assertions against the reference; running the mqcore copy checks
that ``import mqcore as zmq`` really runs an ordinary pyzmq program.

With MQCORE_TEST_IMPL=zmq only the pyzmq copies run (that is how the tests
themselves are validated).

Every subprocess has a deadline (RUN_TIMEOUT_S); on expiry its whole
process group is killed and the test fails with the output so far.
"""

import importlib.util
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
IMPORT_LINE = "import mqcore as zmq"
PYZMQ_IMPORT_LINE = "import zmq"

IMPL = os.environ.get("MQCORE_TEST_IMPL", "mqcore").strip() or "mqcore"
# The reference (pyzmq) always runs; mqcore runs unless it is replaced by it.
IMPLEMENTATIONS = ["mqcore", "zmq"] if IMPL == "mqcore" else ["zmq"]

RUN_TIMEOUT_S = 40   # one example program, start to finish
STOP_TIMEOUT_S = 10  # a server, from SIGTERM to exit

pytestmark = pytest.mark.timeout(120)


# --------------------------------------------------------------------------
# running example programs
# --------------------------------------------------------------------------

def example_files():
    return sorted(EXAMPLES_DIR.glob("*.py"))


def source_for(impl, text):
    """The example's text for ``impl``: the import line swapped for pyzmq."""
    if impl == "mqcore":
        return text
    return re.sub(rf"(?m)^{re.escape(IMPORT_LINE)}$", PYZMQ_IMPORT_LINE, text)


def subprocess_env(impl):
    """Environment for an example: unbuffered, and the mqcore the tests use.

    The copy runs from a temporary directory, so mqcore is put on the path
    explicitly: the same package this interpreter would import.
    """
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if impl == "mqcore":
        spec = importlib.util.find_spec("mqcore")
        if spec is not None and spec.origin:
            package_parent = str(Path(spec.origin).parent.parent)
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (package_parent, env.get("PYTHONPATH")) if p)
    return env


class Program:
    """An example running as a subprocess in its own process group."""

    def __init__(self, path, args, impl):
        self.name = path.name
        self.proc = subprocess.Popen(
            [sys.executable, str(path), *map(str, args)],
            cwd=path.parent,
            env=subprocess_env(impl),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # A group, so that worker processes die with their parent on timeout.
            start_new_session=True,
        )

    def finish(self, timeout=RUN_TIMEOUT_S):
        """Wait for exit; return (exit status, output).  Fails on timeout."""
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            out, _ = self.proc.communicate()
            pytest.fail(f"{self.name} did not finish within {timeout} s; output:\n{out}")
        return self.proc.returncode, out

    def stop(self):
        """SIGTERM (the servers' clean stop), then finish()."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.finish(STOP_TIMEOUT_S)

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture(params=IMPLEMENTATIONS)
def impl(request):
    return request.param


@pytest.fixture
def launch(impl, tmp_path):
    """``launch("name.py", *args)`` -> a running Program (killed at teardown)."""
    programs = []

    def start(name, *args):
        path = tmp_path / name
        if not path.exists():
            path.write_text(source_for(impl, (EXAMPLES_DIR / name).read_text()))
        program = Program(path, args, impl)
        programs.append(program)
        return program

    yield start
    for program in programs:
        program.kill()
        if program.proc.stdout:
            program.proc.stdout.close()
        program.proc.wait(timeout=STOP_TIMEOUT_S)


def run(launch, name, *args):
    """Run an example to completion; return its output, failing on a bad exit."""
    status, out = launch(name, *args).finish()
    assert status == 0, f"{name} exited with {status}; output:\n{out}"
    return out


def numbers(pattern, text):
    """Every match of ``pattern`` in ``text``, its groups as ints."""
    return [tuple(int(g) for g in m.groups()) for m in re.finditer(pattern, text)]


# --------------------------------------------------------------------------
# the examples directory itself
# --------------------------------------------------------------------------

def test_examples_exist():
    names = {path.name for path in example_files()}
    assert {"rrbroker.py", "wuserver.py", "wuclient.py", "pipeline.py",
            "lpserver.py", "lpclient.py"} <= names


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_example_switches_library_with_one_import_line(path):
    """``import mqcore as zmq`` is the only line that names mqcore in code."""
    lines = path.read_text().splitlines()
    imports = [line for line in lines if re.match(r"\s*(import|from)\s+mqcore\b", line)]
    assert imports == [IMPORT_LINE]
    uses = [line for line in lines if re.search(r"\bmqcore\.", line)]
    assert uses == []
    pyzmq_text = source_for("zmq", path.read_text())
    assert PYZMQ_IMPORT_LINE in pyzmq_text.splitlines()
    assert not re.search(r"(?m)^\s*(import|from)\s+mqcore\b", pyzmq_text)


def test_readme_lists_every_example():
    readme = (EXAMPLES_DIR / "README.md").read_text()
    missing = [path.name for path in example_files() if path.name not in readme]
    assert missing == []


# --------------------------------------------------------------------------
# request-reply broker
# --------------------------------------------------------------------------

def test_rrbroker_answers_every_client_request(launch):
    out = run(launch, "rrbroker.py", "--clients", 3, "--workers", 2, "--count", 5)
    assert "rrbroker: 15/15 replies" in out, out
    assert sorted(numbers(r"client-\d+: (\d+)/(\d+) replies", out)) == [(5, 5)] * 3, out
    handled = numbers(r"worker-\d+: handled (\d+) requests", out)
    assert len(handled) == 2, out
    assert sum(n for (n,) in handled) == 15, out


# --------------------------------------------------------------------------
# weather publish-subscribe
# --------------------------------------------------------------------------

def test_weather_client_receives_only_its_zipcode(launch, free_tcp_port):
    addr = f"tcp://127.0.0.1:{free_tcp_port()}"
    server = launch("wuserver.py", "--bind", addr, "--duration", RUN_TIMEOUT_S)
    try:
        out = run(launch, "wuclient.py", "--connect", addr, "--zipcode", "10042",
                  "--count", 10, "--verbose")
    finally:
        server_status, server_out = server.stop()
    updates = re.findall(r"^update: (\S+) (-?\d+) (\d+)$", out, re.MULTILINE)
    assert len(updates) == 10, out
    assert {zipcode for zipcode, _, _ in updates} == {"10042"}, out
    assert "Average temperature for zipcode '10042'" in out, out
    assert server_status == 0, server_out
    published = numbers(r"wuserver: published (\d+) updates", server_out)
    assert published and published[0][0] >= 10, server_out


# --------------------------------------------------------------------------
# ventilator / workers / sink pipeline
# --------------------------------------------------------------------------

@pytest.mark.parametrize("workers_as", ["threads", "processes"])
def test_pipeline_processes_every_task(launch, workers_as):
    args = ["--tasks", 30, "--workers", 3, "--max-work-ms", 5]
    if workers_as == "processes":
        args.append("--processes")
    out = run(launch, "pipeline.py", *args)
    assert "sink: 30/30 results" in out, out
    processed = numbers(r"worker-\d+: processed (\d+) tasks", out)
    assert len(processed) == 3, out  # every worker heard KILL and stopped
    assert sum(n for (n,) in processed) == 30, out
    per_worker = numbers(r"sink: (\d+) results from worker-\d+", out)
    assert sum(n for (n,) in per_worker) == 30, out


# --------------------------------------------------------------------------
# Lazy Pirate
# --------------------------------------------------------------------------

@pytest.mark.parametrize("wait", ["poller", "rcvtimeo"])
def test_lazy_pirate_client_survives_server_crashes(launch, free_tcp_port, wait):
    addr = f"tcp://127.0.0.1:{free_tcp_port()}"
    server = launch("lpserver.py", "--bind", addr, "--drop-every", 3)
    try:
        out = run(launch, "lpclient.py", "--connect", addr, "--count", 6,
                  "--timeout", 500, "--retries", 3, "--wait", wait)
    finally:
        server_status, server_out = server.stop()
    assert "lpclient: 6/6 replies" in out, out
    assert "abandoning" not in out, out
    (retries,), = numbers(r"lpclient: \d+/\d+ replies, (\d+) retries", out)
    assert retries >= 1, out
    assert out.count("W: no response from server") == retries, out
    assert re.findall(r"^I: server replied OK \((\d+)\)$", out, re.MULTILINE) == [
        str(n) for n in range(1, 7)], out
    assert server_status == 0, server_out
    assert "simulating a crash" in server_out, server_out
