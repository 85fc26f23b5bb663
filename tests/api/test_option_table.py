"""The one option table (mqcore/_options.py) and the core agree.

constants.py builds SocketOption and OPTION_TYPES from the table and the
core builds its C array from it at import; these tests fail if either side
drifts: a number, a value type, a range, which types take an option, or an
option that is not built but still stored.
"""

import errno

import pytest

import mqcore
from mqcore import _core, _options, constants

ALL_TYPES = [t for t in constants.SocketType if t.name not in ("XREQ", "XREP")]
BUILT_TYPES = [t for t in ALL_TYPES if t.name not in ("DGRAM",)]
CORE = _core._option_table()


@pytest.fixture
def ctx():
    context = mqcore.Context()
    yield context
    context.destroy(linger=0)


def einval(call, *args):
    with pytest.raises(mqcore.ZMQError) as info:
        call(*args)
    return info.value.errno == errno.EINVAL


def sample(opt):
    """A value set() takes for opt."""
    if opt.type == "bytes":
        return b"x" * max(opt.low, 1)
    return opt.default if isinstance(opt.default, int) else max(opt.low, 0)


def test_constants_come_from_the_table():
    assert {o.name: o.number for o in _options.OPTIONS} == {
        name: int(v) for name, v in constants.SocketOption.__members__.items() if name not in _options.ALIASES
    }
    assert {o.number: o.type for o in _options.OPTIONS} == {n: t.value for n, t in constants.OPTION_TYPES.items()}


@pytest.mark.parametrize("opt", _options.OPTIONS, ids=lambda o: o.name)
def test_core_holds_each_option_as_the_table_says(opt):
    if not opt.implemented:
        assert opt.number not in CORE
        return
    core = CORE[opt.number]
    assert (core["readable"], core["writable"]) == ("r" in opt.access, "w" in opt.access)
    assert core["per_type"] == opt.per_type
    assert (core["low"], core["high"]) == (opt.low, opt.high)
    if opt.special:
        assert core["kind"] == "special"
    elif opt.mechanism is not None:
        assert core["kind"] == "mechanism"
    elif opt.field is None:
        assert core["kind"] == "const"
    else:
        assert {"uint64": "int64"}.get(core["kind"], core["kind"]) == constants.OPTION_TYPES[opt.number].value


def test_core_knows_no_option_the_table_lacks():
    assert set(CORE) <= {o.number for o in _options.OPTIONS if o.implemented}


# Inert in mqcore but read and set as pyzmq programs expect (api/options.pxi).
_INERT = ("LOOPBACK_FASTPATH",)


@pytest.mark.parametrize("opt", [o for o in _options.OPTIONS if not o.implemented and o.name not in _INERT],
                         ids=lambda o: o.name)
def test_an_option_not_built_is_refused_not_stored(ctx, opt):
    s = ctx.socket(mqcore.DEALER)
    try:
        value = b"x" if opt.type == "bytes" else 1
        assert einval(s.set, opt.number, value)
        assert einval(s.get, opt.number)
    finally:
        s.close(linger=0)


def test_use_fd_is_refused(ctx):
    s = ctx.socket(mqcore.PUB)
    try:
        assert einval(s.set, mqcore.USE_FD, 1)
    finally:
        s.close(linger=0)


@pytest.mark.parametrize("name, default, lowest", [
    ("RATE", 100, 1), ("RECOVERY_IVL", 10000, 0), ("MULTICAST_HOPS", 1, 1), ("MULTICAST_MAXTPDU", 1500, 1)])
def test_multicast_options_as_libzmq(ctx, name, default, lowest):
    """The PGM transport reads them (engine/pgm_engine.pxi): libzmq's
    defaults and lower bounds."""
    s = ctx.socket(mqcore.PUB)
    opt = getattr(mqcore, name)
    try:
        assert s.get(opt) == default
        s.set(opt, lowest)
        assert s.get(opt) == lowest
        s.set(opt, 4000)
        assert s.get(opt) == 4000
        assert einval(s.set, opt, lowest - 1)
    finally:
        s.close(linger=0)


@pytest.mark.parametrize("name", ["TOS", "CONNECT_TIMEOUT", "TCP_MAXRT"])
def test_options_for_the_transports_are_kept(ctx, name):
    s = ctx.socket(mqcore.DEALER)
    try:
        s.set(getattr(mqcore, name), 7)
        assert s.get(getattr(mqcore, name)) == 7
    finally:
        s.close(linger=0)


@pytest.mark.parametrize("socket_type", BUILT_TYPES, ids=lambda t: t.name)
def test_a_new_socket_reads_the_table_defaults(ctx, socket_type):
    s = ctx.socket(socket_type)
    try:
        for opt in _options.OPTIONS:
            if not opt.implemented or opt.special or opt.access != "rw" or opt.per_type:
                continue
            want = opt.default
            if opt.name == "LINGER":
                want = 0 if socket_type in (mqcore.SUB, mqcore.XSUB) else -1
            if opt.name in ("IPV6", "IPV4ONLY"):
                continue  # the context's IPV6 decides
            assert s.get(opt.number) == want, opt.name
    finally:
        s.close(linger=0)


@pytest.mark.parametrize("opt", [o for o in _options.OPTIONS if o.implemented and o.type != "bytes"
                                 and "w" in o.access and not o.special], ids=lambda o: o.name)
def test_int_values_outside_the_range_are_refused(ctx, opt):
    socket_type = mqcore.DEALER
    if opt.per_type:
        socket_type = next(t for t in BUILT_TYPES if opt.number in _core._type_options(t))
    s = ctx.socket(socket_type)
    try:
        if opt.low > -(2**63):
            assert einval(s.set, opt.number, opt.low - 1)
        if opt.high < 2**63 - 1:
            assert einval(s.set, opt.number, opt.high + 1)
        s.set(opt.number, opt.high)
    finally:
        s.close(linger=0)


@pytest.mark.parametrize("socket_type", BUILT_TYPES, ids=lambda t: t.name)
def test_type_specific_options_only_where_the_row_lists_them(ctx, socket_type):
    takes = set(_core._type_options(socket_type))
    s = ctx.socket(socket_type)
    try:
        for opt in _options.OPTIONS:
            if not (opt.implemented and opt.per_type and "w" in opt.access):
                continue
            if opt.number in takes:
                if opt.name in ("SUBSCRIBE", "UNSUBSCRIBE") and socket_type == mqcore.XPUB:
                    continue  # only with XPUB_MANUAL
                s.set(opt.number, sample(opt))
            else:
                assert einval(s.set, opt.number, sample(opt)), opt.name
    finally:
        s.close(linger=0)


def test_rows_list_only_type_specific_options():
    per_type = {o.number for o in _options.OPTIONS if o.per_type}
    listed = set()
    for t in ALL_TYPES:
        listed |= set(_core._type_options(t))
    assert listed == per_type


def test_heartbeat_ttl_is_kept_in_tenths_of_a_second(ctx):
    s = ctx.socket(mqcore.DEALER)
    try:
        s.heartbeat_ttl = 2599
        assert s.heartbeat_ttl == 2500
    finally:
        s.close(linger=0)


def test_ipv4only_is_the_other_side_of_ipv6(ctx):
    s = ctx.socket(mqcore.DEALER)
    try:
        s.ipv4only = 0
        assert (s.ipv6, s.ipv4only) == (1, 0)
        s.ipv6 = 0
        assert s.ipv4only == 1
    finally:
        s.close(linger=0)


def test_security_options_read_as_null_and_refuse_set(ctx):
    """A new socket is NULL, no server. MECHANISM is read-only; PLAIN
    (tests/security/test_plain.py) and CURVE (tests/security/test_curve_keys.py)
    take only 0/1 for their server options and proper keys."""
    s = ctx.socket(mqcore.DEALER)
    try:
        assert s.get(mqcore.PLAIN_SERVER) == 0
        for name in ("MECHANISM", "CURVE_SERVER"):
            assert s.get(getattr(mqcore, name)) == 0
        assert einval(s.set, mqcore.MECHANISM, 1)
        assert einval(s.set, mqcore.PLAIN_SERVER, 2)
        assert einval(s.set, mqcore.CURVE_SERVER, 2)
        assert einval(s.set, mqcore.CURVE_SERVERKEY, b"k" * 31)
        assert s.get(mqcore.MECHANISM) == 0
    finally:
        s.close(linger=0)
