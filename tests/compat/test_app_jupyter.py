"""Jupyter as an acceptance test: jupyter_client, unedited, starts an
ipykernel kernel (a child process, which must run on the implementation
under test too), executes code, reads stdout and the execute_result on
iopub, interrupts a running cell and shuts the kernel down."""

from __future__ import annotations

from ._apps import run_app


def test_jupyter_kernel_session(zmq):
    report = run_app(zmq, "app_jupyter.py")
    assert report == [
        zmq.__name__,        # the client process
        zmq.__name__,        # the kernel process, by its own account
        "ok", "kernel-zmq", "42",
        "KeyboardInterrupt",  # the interrupted cell's error
        "ok", "False",       # shutdown replied, and the kernel exited
    ]
