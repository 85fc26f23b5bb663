"""Fixtures the compatibility tests share."""

import uuid

import pytest


@pytest.fixture
def pair(zmq, ctx):
    """A connected inproc PAIR pair with timeouts."""
    a = ctx.socket(zmq.PAIR)
    b = ctx.socket(zmq.PAIR)
    for s in (a, b):
        s.linger = 0
        s.rcvtimeo = s.sndtimeo = 5000
    name = f"inproc://pair-{uuid.uuid4().hex}"
    a.bind(name)
    b.connect(name)
    yield a, b
    a.close()
    b.close()
