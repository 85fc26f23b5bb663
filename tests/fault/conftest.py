"""Fixtures of the fault tests: child processes and simulated hosts."""

import pytest

from .netns import NetnsHost, netns_unavailable
from .procs import ProcGroup


@pytest.fixture
def procs():
    """``procs.start(code, args)``: children killed at teardown."""
    group = ProcGroup()
    yield group
    group.close()


@pytest.fixture
def netns_host():
    """A network namespace joined to ours by a veth link (see netns.py);
    skips where namespaces cannot be made (not root, no iproute2)."""
    reason = netns_unavailable()
    if reason:
        pytest.skip(reason)
    host = NetnsHost()
    try:
        yield host
    finally:
        host.close()
