"""zerorpc (gevent) as an acceptance test: its server and client,
unedited, over loopback tcp.  zerorpc wraps zmq.Socket in a gevent-aware
subclass of its own (zerorpc.gevent_zmq), so this also tests subclassing."""

from __future__ import annotations

from ._apps import run_app


def test_zerorpc_calls_errors_and_streams(zmq):
    report = run_app(zmq, "app_zerorpc.py")
    assert report == [zmq.__name__, "42", "ValueError", "100", "99"]
