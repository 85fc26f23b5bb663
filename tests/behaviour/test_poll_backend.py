"""The io threads' poller: epoll on Linux (kqueue on BSD/macOS), and the
portable poll() backend that MQCORE_POLLER=poll selects. The second is
proven by running real tests under it in a child process."""
import os
import subprocess
import sys
import tempfile

import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("MQCORE_TEST_IMPL", "mqcore") != "mqcore",
    reason="the poller backend is mqcore's own")

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)


def child_env(**extra):
    """The environment with the mqcore under test first on PYTHONPATH (the
    children run outside the checkout, on every Python: no -P, 3.11+)."""
    import mqcore
    env = dict(os.environ, **extra)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(mqcore.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_parent, env.get("PYTHONPATH")) if p)
    return env


def backend_in_child(env_value):
    env = child_env()
    env.pop("MQCORE_POLLER", None)
    if env_value is not None:
        env["MQCORE_POLLER"] = env_value
    code = "import mqcore; c = mqcore.Context(); print(c._poller_backend()); c.term()"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=60, cwd=tempfile.gettempdir())
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_native_backend_by_default():
    expected = "epoll" if sys.platform.startswith("linux") else "kqueue"
    assert backend_in_child(None) == expected


def test_environment_selects_poll():
    assert backend_in_child("poll") == "poll"


@pytest.mark.slow
def test_connection_tests_pass_on_the_poll_backend():
    env = child_env(MQCORE_POLLER="poll")
    suites = [os.path.join(TESTS, "behaviour", "test_lifecycle.py"),
              os.path.join(TESTS, "interop", "test_reqrep.py"),
              os.path.join(TESTS, "fault", "test_hostile_peer.py")]
    # tests/run.py, not -m pytest: the checkout's root stays off sys.path.
    out = subprocess.run([sys.executable, os.path.join(TESTS, "run.py"), "-q", "-x",
                          "-p", "no:cacheprovider", *suites],
                         env=env, capture_output=True, text=True, timeout=110,
                         cwd=os.path.dirname(TESTS))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert " passed" in out.stdout
