"""Shared by the test_app_*.py files: run an unedited pyzmq application's
driver script in a child process, on the implementation under test.

On mqcore the driver runs as ``python -m mqcore run driver.py``, so the
application's ``import zmq`` -- and its child Python processes' -- gives
mqcore through the opt-in switch.  On pyzmq (MQCORE_TEST_IMPL=zmq, the
reference) it runs as plain ``python driver.py``.  Either way every driver
prints ``zmq.__name__`` first on its result line, so a test can tell which
implementation really ran.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

# The drivers: one small program a tested application, beside this file.
DRIVERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps")

# Every driver bounds its own blocking steps; this bounds the whole child.
CHILD_TIMEOUT_S = 60


def run_app(zmq, driver: str, *args: str) -> list[str]:
    """Run ``apps/<driver>`` on ``zmq``'s implementation; its last stdout
    line, split into words.  Fails with the child's output if it failed."""
    script = os.path.join(DRIVERS, driver)
    if zmq.__name__ == "mqcore":
        command = [sys.executable, "-m", "mqcore", "run", script, *args]
    else:
        command = [sys.executable, script, *args]
    done = subprocess.run(
        command,
        cwd=tempfile.gettempdir(),
        env=_child_env(zmq),
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
    )
    output = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode == 0, output
    lines = done.stdout.strip().splitlines()
    assert lines, output
    return lines[-1].split()


def _child_env(zmq) -> dict[str, str]:
    """This environment with the package under test and the drivers (some
    applications import a driver's helper module in their own children)
    first on PYTHONPATH."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(zmq.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [root, DRIVERS] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    return env
