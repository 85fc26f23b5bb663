"""Shared by the test_modules*/test_install*/test_packaging* files."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tempfile


def submodule(zmq, path: str):
    """The module ``<impl>.<path>`` of the implementation under test."""
    return importlib.import_module(f"{zmq.__name__}.{path}" if path else zmq.__name__)


def package_env(module) -> dict[str, str]:
    """An environment whose PYTHONPATH finds ``module``'s package first."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(module.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    return env


def run_python(module, args: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``python args...`` outside the checkout, with ``module``'s package."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=tempfile.gettempdir(),
        env=package_env(module),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
