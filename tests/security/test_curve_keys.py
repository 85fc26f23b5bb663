"""CURVE keys and options: curve_keypair/curve_public agree with libzmq's
(pyzmq), the key options take 32 bytes, 40 Z85 characters or those and a
NUL (as libzmq), select the CURVE mechanism and the role, and anything
else is EINVAL."""
import errno

import pytest
from zmq.utils import z85

DEALER = 5
CURVE = 2


def test_has_curve(zmq):
    assert zmq.has("curve")


def test_keypair_is_z85_and_matches_pyzmq_public(zmq, pyzmq):
    public, secret = zmq.curve_keypair()
    assert isinstance(public, bytes) and isinstance(secret, bytes)
    assert len(public) == len(secret) == 40
    assert len(z85.decode(public)) == len(z85.decode(secret)) == 32
    assert pyzmq.curve_public(secret) == public
    assert zmq.curve_public(secret) == public
    assert zmq.curve_keypair() != (public, secret)


def test_curve_public_of_pyzmq_keys(zmq, pyzmq):
    for _ in range(20):
        public, secret = pyzmq.curve_keypair()
        assert zmq.curve_public(secret) == public
        assert zmq.curve_public(secret.decode()) == public


def test_curve_public_known_vector(zmq):
    """RFC 26's example client key pair (also in libzmq's test_security_curve)."""
    secret = b"D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"
    assert zmq.curve_public(secret) == b"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"


def test_curve_public_refuses_bad_keys(zmq):
    """As pyzmq: ValueError for a wrong length, EINVAL for non-Z85 text."""
    for bad in (b"short", b"x" * 41):
        with pytest.raises(ValueError):
            zmq.curve_public(bad)
    with pytest.raises(zmq.ZMQError) as e:
        zmq.curve_public(b"~" * 40)
    assert e.value.errno == errno.EINVAL


@pytest.fixture
def dealer(ctx):
    s = ctx.socket(DEALER)
    yield s
    s.close(linger=0)


def test_curve_server_selects_mechanism_and_role(zmq, dealer):
    assert (dealer.mechanism, dealer.curve_server) == (0, 0)
    dealer.curve_server = 1
    assert (dealer.mechanism, dealer.curve_server) == (CURVE, 1)
    dealer.curve_server = 0
    assert (dealer.mechanism, dealer.curve_server) == (0, 0)
    with pytest.raises(zmq.ZMQError) as e:
        dealer.curve_server = 2
    assert e.value.errno == errno.EINVAL


def test_serverkey_makes_a_client(zmq, pyzmq, dealer):
    public, _ = pyzmq.curve_keypair()
    dealer.curve_server = 1
    dealer.curve_serverkey = public
    assert (dealer.mechanism, dealer.curve_server) == (CURVE, 0)


@pytest.mark.parametrize("form", ["z85", "binary", "z85nul"])
@pytest.mark.parametrize("option", ["CURVE_PUBLICKEY", "CURVE_SECRETKEY", "CURVE_SERVERKEY"])
def test_key_forms_accepted(zmq, pyzmq, dealer, option, form):
    key, _ = pyzmq.curve_keypair()
    value = {"z85": key, "binary": z85.decode(key), "z85nul": key + b"\0"}[form]
    dealer.setsockopt(getattr(zmq, option), value)
    assert dealer.mechanism == CURVE


@pytest.mark.parametrize("bad", [b"", b"k" * 31, b"k" * 33, b"~" * 40, b"a" * 40 + b"x", b"a" * 42])
@pytest.mark.parametrize("option", ["CURVE_PUBLICKEY", "CURVE_SECRETKEY", "CURVE_SERVERKEY"])
def test_bad_keys_refused(zmq, dealer, option, bad):
    with pytest.raises(zmq.ZMQError) as e:
        dealer.setsockopt(getattr(zmq, option), bad)
    assert e.value.errno == errno.EINVAL
    assert dealer.mechanism == 0


@pytest.mark.parametrize("option", ["CURVE_PUBLICKEY", "CURVE_SECRETKEY", "CURVE_SERVERKEY"])
def test_keys_cannot_be_read_back_through_pyzmq_api(zmq, dealer, option):
    """libzmq answers only 32- or 41-byte reads of a key; pyzmq's generic
    read gets EINVAL, and so does ours."""
    with pytest.raises(zmq.ZMQError) as e:
        dealer.getsockopt(getattr(zmq, option))
    assert e.value.errno == errno.EINVAL
