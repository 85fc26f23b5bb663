"""aiozmq (asyncio) as an acceptance test: its RPC, pipeline and pub/sub
services, unedited, over loopback tcp and ipc."""

from __future__ import annotations

from ._apps import run_app


def test_aiozmq_rpc_pipeline_pubsub(zmq):
    report = run_app(zmq, "app_aiozmq.py")
    per_transport = ["42", "ValueError", "piped", "published"]
    assert report == [zmq.__name__] + per_transport * 2
