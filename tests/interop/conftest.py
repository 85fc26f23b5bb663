"""Fixtures every interop test file shares: the network transports (inproc
cannot cross from one library to the other) and a maker of mqcore/pyzmq
socket pairs."""
import pytest

from pattern_helpers import interop_pair


@pytest.fixture(params=["tcp", "ipc"])
def transport(request):
    return request.param


@pytest.fixture
def connect(sock, psock, endpoint, transport):
    """``connect((TYPE_A, TYPE_B), role, opts)``: a connected pair, one socket
    from each library, as ``role`` says which is which and who binds."""
    def make(types, role, opts=({}, {})):
        return interop_pair(sock, psock, endpoint, transport, types, role, opts)
    return make
