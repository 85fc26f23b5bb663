"""circus (tornado) as an acceptance test: circusd, unedited and a child
process of the driver, manages processes while a CircusClient commands it
and a SUB socket hears its events, over ipc."""

from __future__ import annotations

import textwrap

import mqcore

from ._apps import run_app
from ._modhelpers import run_python


def test_circus_daemon_controlled_by_client(zmq):
    report = run_app(zmq, "app_circus.py")
    assert report == [
        zmq.__name__,   # the driver
        zmq.__name__,   # circusd, as its hook found it
        "True", "True", "True",  # each incr: ok, counted, listed
        "watcher.sleeper.spawn",
        "ok", "0",      # quit: replied, and circusd exited cleanly
    ]


def test_version_check_sees_pyzmq_version(zmq):
    # circusd exits at once unless zmq.__version__ is pyzmq >= 13.1.
    assert run_app(zmq, "app_version.py") == [zmq.__name__, "True", "True"]


def test_uninstall_gives_back_mqcores_own_version():
    code = textwrap.dedent(
        """
        import mqcore, mqcore._install, mqcore._version
        mqcore.install()
        during = mqcore.__version__
        mqcore._install.uninstall()
        print(during == mqcore.pyzmq_version(),
              mqcore.__version__ == mqcore._version.__version__)
        """
    )
    done = run_python(mqcore, ["-c", code])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
