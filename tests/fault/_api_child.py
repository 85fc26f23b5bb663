"""Runs a snippet in a fresh interpreter that imports the same mqcore as the
test process, so a crash (SIGSEGV, abort) fails one test instead of the
suite."""
import os
import subprocess
import sys
import tempfile
import textwrap


def run_child(code, timeout=120, env=None):
    import mqcore
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(mqcore.__file__)))
    child_env = dict(os.environ if env is None else env)
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (pkg_parent, child_env.get("PYTHONPATH")) if p)
    child_env.setdefault("PYTHONFAULTHANDLER", "1")
    # Run outside the checkout, so that its mqcore/ is not on sys.path.
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                          env=child_env, capture_output=True, text=True, timeout=timeout,
                          cwd=tempfile.gettempdir())


def assert_child_ok(code, expect=None, timeout=120, env=None):
    out = run_child(code, timeout=timeout, env=env)
    detail = f"rc={out.returncode}\nstdout:\n{out.stdout[-3000:]}\nstderr:\n{out.stderr[-3000:]}"
    assert out.returncode == 0, detail
    if expect is not None:
        assert expect in out.stdout, detail
    return out.stdout
