"""pgm:// and epgm:// endpoints as libzmq takes them: which socket types may
use them, which addresses are refused, bind being a connect, and has()."""
import errno
import os

import pytest

import mqcore

pytestmark = pytest.mark.skipif(
    (os.environ.get("MQCORE_TEST_IMPL", "mqcore").strip() or "mqcore") != "mqcore",
    reason="mqcore's pgm transport (pyzmq's wheels have none)")

GOOD = "epgm://127.0.0.1;239.192.31.1:5731"
PGM_TYPES = ("PUB", "SUB", "XPUB", "XSUB")
OTHER_TYPES = ("PAIR", "REQ", "REP", "DEALER", "ROUTER", "PUSH", "PULL", "STREAM")


def errno_of(call, *args):
    try:
        call(*args)
    except (mqcore.ZMQError, OSError) as e:
        return e.errno
    return 0


@pytest.mark.parametrize("scheme", ["epgm", "pgm"])
@pytest.mark.parametrize("kind", OTHER_TYPES)
def test_only_pub_sub_types_take_pgm(ctx, ref, refctx, scheme, kind):
    ours = ctx.socket(getattr(mqcore, kind))
    theirs = refctx.socket(getattr(ref, kind))
    ep = GOOD.replace("epgm", scheme)
    want = errno_of(theirs.connect, ep)
    assert want == mqcore.ENOCOMPATPROTO
    assert errno_of(ours.connect, ep) == want
    assert errno_of(ours.bind, ep) == want
    ours.close(linger=0)


@pytest.mark.parametrize("address", [
    "127.0.0.1;239.192.31.1",           # no port
    "127.0.0.1;10.0.0.1:5731",          # not a multicast group
    "lo;239.192.31.1:5731",             # OpenPGM takes no interface names here
    "127.0.0.1;not-an-address:5731",
])
def test_bad_addresses_are_einval_as_in_libzmq(ctx, ref, refctx, address):
    ours = ctx.socket(mqcore.SUB)
    theirs = refctx.socket(ref.SUB)
    assert errno_of(theirs.connect, "epgm://" + address) == errno.EINVAL
    assert errno_of(ours.connect, "epgm://" + address) == errno.EINVAL
    ours.close(linger=0)


@pytest.mark.parametrize("kind", PGM_TYPES)
def test_bind_is_a_connect_undone_by_unbind_or_disconnect(ctx, kind):
    s = ctx.socket(getattr(mqcore, kind))
    s.bind(GOOD)
    assert s.last_endpoint == GOOD.encode()
    s.unbind(GOOD)
    assert errno_of(s.unbind, GOOD) == errno.ENOENT
    s.bind(GOOD)
    s.disconnect(GOOD)
    s.connect(GOOD)
    s.unbind(GOOD)
    s.close(linger=0)


def test_has_reports_pgm_as_libzmq_434(ref):
    assert mqcore.has("pgm") == ref.has("pgm") is True
    assert mqcore.has("epgm") == ref.has("epgm") is False
