"""Peer processes for the fault tests: Python children that speak a line
protocol on stdin/stdout, can be SIGKILLed and restarted, and report their
CPU time and memory from /proc.

A child imports the implementation under test the way the test process does
(``MQCORE_TEST_IMPL``, and the directory mqcore was imported from), or real
pyzmq when it plays the reference peer.  Every wait has a timeout, and every
child is killed at teardown (``ProcGroup``) even when the test fails.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pytest

IMPL = os.environ.get("MQCORE_TEST_IMPL", "mqcore").strip() or "mqcore"

# First lines of every child: pick the module under test ("zmq" in the
# child's namespace is mqcore, or pyzmq when MQCORE_TEST_IMPL=zmq).
IMPORT_IMPL = (
    "import os\n"
    "zmq = __import__('zmq' if os.environ.get('MQCORE_TEST_IMPL', 'mqcore') == 'zmq' else 'mqcore')\n"
)
IMPORT_PYZMQ = "import zmq\n"

# Prepended to children that do not read stdin themselves: they exit when
# it closes, i.e. when the test process is gone, even if it was killed and
# never reached its teardown (a leftover peer would also keep its network
# namespace alive).
EXIT_WITH_PARENT = (
    "import os as _os, sys as _sys, threading as _th\n"
    "_th.Thread(target=lambda: (_sys.stdin.read(), _os._exit(0)), daemon=True).start()\n"
)


# Descriptor, CPU and memory counts come from /proc (Linux).
needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"),
                                reason="counts descriptors and memory in /proc")


def child_env():
    """Environment for a child: same implementation, same mqcore build."""
    env = dict(os.environ)
    env["MQCORE_TEST_IMPL"] = IMPL
    if IMPL != "zmq":
        import mqcore
        pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(mqcore.__file__)))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_parent, env.get("PYTHONPATH")) if p)
    return env


def proc_cpu_seconds(pid):
    """User + system CPU time consumed so far by process *pid*."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_bytes(pid="self"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def open_fds(pid="self"):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Proc:
    """One child process: ``python -c code args...``, optionally inside a
    network namespace (``ip netns exec``, which execs, so the pid is the
    Python process itself)."""

    def __init__(self, code, args=(), netns=None, env=None, reads_stdin=False):
        if not reads_stdin:
            code = EXIT_WITH_PARENT + code
        cmd = [sys.executable, "-c", code, *map(str, args)]
        if netns is not None:
            cmd = ["ip", "netns", "exec", netns] + cmd
        self._err = tempfile.TemporaryFile(mode="w+")
        # cwd outside the source tree: a checkout's mqcore/ has no compiled core.
        self.popen = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self._err, text=True, bufsize=1,
                                      env=env or child_env(), cwd=tempfile.gettempdir())
        self.pid = self.popen.pid
        self.lines = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.popen.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def stderr(self):
        self._err.seek(0)
        return self._err.read()[-3000:]

    def expect(self, prefix, timeout=10.0):
        """The next stdout line starting with *prefix* (others are skipped);
        fails the test with the child's stderr on timeout or exit."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(left, 0.001))
            except queue.Empty:
                pytest.fail(f"child {self.pid}: no {prefix!r} line within {timeout} s\n"
                            f"stderr: {self.stderr()}")
            if line is None:
                self.popen.wait(timeout=5)
                pytest.fail(f"child {self.pid} exited ({self.popen.returncode}) before "
                            f"printing {prefix!r}\nstderr: {self.stderr()}")
            if line.startswith(prefix):
                return line

    def send(self, line):
        self.popen.stdin.write(line + "\n")
        self.popen.stdin.flush()

    def alive(self):
        return self.popen.poll() is None

    def kill(self, sig=signal.SIGKILL):
        if self.alive():
            os.kill(self.pid, sig)

    def wait(self, timeout=10.0):
        return self.popen.wait(timeout=timeout)

    def close(self):
        if self.alive():
            self.popen.kill()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for f in (self.popen.stdin, self.popen.stdout):
            try:
                f.close()
            except OSError:
                pass
        self._err.close()


class ProcGroup:
    """Starts children and kills whatever is left of them at teardown."""

    def __init__(self):
        self.procs = []

    def start(self, code, args=(), netns=None, env=None, reads_stdin=False):
        p = Proc(code, args, netns=netns, env=env, reads_stdin=reads_stdin)
        self.procs.append(p)
        return p

    def close(self):
        for p in self.procs:
            p.close()
        self.procs.clear()
