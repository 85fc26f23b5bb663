"""Fixtures the security tests share: an mqcore context and a pyzmq one,
each torn down without lingering (test files may shadow them, as the PLAIN
tests do with a pyzmq context that runs an authenticator)."""

import pytest
import zmq

import mqcore


@pytest.fixture
def mctx():
    ctx = mqcore.Context()
    yield ctx
    ctx.destroy(linger=0)


@pytest.fixture
def zctx():
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


@pytest.fixture(params=["tcp", "ipc"])
def bind_endpoint(request, endpoint):
    """A bind address on tcp, then on ipc (the root conftest's endpoints:
    loopback, and a temporary directory it removes)."""
    return endpoint(request.param)
