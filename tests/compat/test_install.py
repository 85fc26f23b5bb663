"""The opt-in switch: after ``mqcore.install()`` (or under ``python -m mqcore
run``) a program's ``import zmq`` and ``import zmq.<anything>`` give mqcore,
in the process and in its child Python processes.

These test mqcore's own switch, so they use mqcore whatever the
implementation under test is; each runs in a fresh process because the
switch changes the import system.
"""

from __future__ import annotations

import os
import tempfile
import textwrap

import mqcore

from ._modhelpers import run_python

# What a program reports about the zmq it got: the module's name and the
# module of its Context class.
REPORT = "print(zmq.__name__, type(zmq.Context()).__module__)"


def test_install_maps_zmq_and_submodules_to_mqcore():
    code = textwrap.dedent(
        """
        import mqcore
        mqcore.install()
        import zmq, zmq.sugar.socket, zmq.log.handlers
        from zmq.devices import ThreadDevice
        from zmq.utils import jsonapi
        print(zmq is mqcore, zmq.sugar.socket.Socket is mqcore.Socket,
              ThreadDevice is mqcore.devices.ThreadDevice,
              jsonapi is mqcore.utils.jsonapi,
              zmq.log.handlers.PUBHandler.__module__)
        """
    )
    done = run_python(mqcore, ["-c", code])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True"] * 4 + ["mqcore.log.handlers"]


def test_missing_submodule_does_not_fall_through_to_pyzmq():
    code = textwrap.dedent(
        """
        import mqcore
        mqcore.install()
        try:
            import zmq.no_such_module
        except ModuleNotFoundError as exc:
            print(exc.name)
        """
    )
    done = run_python(mqcore, ["-c", code])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "zmq.no_such_module"


def test_install_after_pyzmq_refuses():
    code = "import zmq, mqcore\ntry:\n mqcore.install()\nexcept RuntimeError as e:\n print('refused', e)"
    done = run_python(mqcore, ["-c", code])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("refused") and "zmq" in done.stdout


def test_run_gives_mqcore_to_the_script_and_its_children():
    script = textwrap.dedent(
        f"""
        import subprocess, sys
        import zmq
        {REPORT}
        print(sys.argv[1:])
        child = subprocess.run(
            [sys.executable, "-c", "import zmq, zmq.sugar; {REPORT}"],
            capture_output=True, text=True, timeout=60,
        )
        sys.stdout.write(child.stdout + child.stderr)
        """
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "app.py")
        with open(path, "w") as f:
            f.write(script)
        done = run_python(mqcore, ["-m", "mqcore", "run", path, "one", "--two"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "mqcore mqcore.context",
        "['one', '--two']",
        "mqcore mqcore.context",
    ]


def test_run_without_a_script_prints_usage():
    done = run_python(mqcore, ["-m", "mqcore"])
    assert done.returncode != 0 and "usage" in done.stderr
