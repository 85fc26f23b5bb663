"""Bad credentials, seen from both ends exactly as libzmq sees them: the
same refusal is run twice, once between ours and libzmq and once with
libzmq in our place (the mirror), and every monitor event of both sockets,
handshake values included, must be the same in the two runs."""

import pytest

from .test_interop_matrix import EV_FAILED_AUTH, MECHS, SIDES, TRANSPORTS, Secured, refusal, secured  # noqa: F401

pytestmark = pytest.mark.interop


@pytest.fixture
def mirror(pyzmq, make_socket, endpoint, tmp_path):
    """A Secured whose "ours" is libzmq too, on contexts of its own."""
    contexts = pyzmq.Context(), pyzmq.Context()
    (tmp_path / "mirror").mkdir()
    s = Secured(pyzmq, pyzmq, *contexts, make_socket, endpoint, tmp_path / "mirror")
    yield s
    s.close()
    for c in contexts:
        c.destroy(linger=0)


# libzmq 4.3's PLAIN client only knows its own server's ERROR, whose name
# byte is 0x5E (a C hex escape that ate the E of "\x05ERROR"). Our server
# sends RFC 23's ERROR, which that client calls an unexpected command; the
# peer is refused either way, only its event differs.
ZMTP_UNEXPECTED_COMMAND = 0x10000001
EV_FAILED_PROTOCOL = 0x2000


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("server_lib", SIDES)
@pytest.mark.parametrize("mech", MECHS)
def test_refusal_reported_as_libzmq_reports_it(secured, mirror, mech, server_lib, transport):
    *_, client_events, server_events = refusal(secured, mech, server_lib, transport)
    *_, want_client, want_server = refusal(mirror, mech, server_lib, transport)
    assert server_events == want_server
    if mech == "plain" and server_lib == "ours":
        refused_as_auth = (EV_FAILED_AUTH, 400)
        assert refused_as_auth in want_client
        want_client = [(EV_FAILED_PROTOCOL, ZMTP_UNEXPECTED_COMMAND) if ev == refused_as_auth else ev
                       for ev in want_client]
    assert client_events == want_client


def test_plain_refusal_bytes(zmq, pyzmq):
    """The command a PLAIN server sends for a bad password: RFC 23's ERROR
    from ours, libzmq 4.3's misnamed one from libzmq, same reason."""
    from .test_wire_vs_libzmq import plain_server_bytes
    ours = plain_server_bytes(zmq, 7, b"wrong")[64:]
    theirs = plain_server_bytes(pyzmq, 7, b"wrong")[64:]
    assert theirs.endswith(b"\x5eRROR\x03400")
    assert ours.endswith(b"\x04\x0a\x05ERROR\x03400")
