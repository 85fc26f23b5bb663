"""pyzmq behaviours real programs rely on: subclassing, shadows, copies,
ResourceWarning, reprs, option edge cases, closed-socket errors.

Each test runs against mqcore and, with MQCORE_TEST_IMPL=zmq, against
pyzmq: the expectation is pyzmq's.
"""

import copy
import errno
import gc
import os
import re
import tempfile
import threading
import uuid
import warnings
from unittest import mock

import pytest


# ---------------------------------------------------------------- subclassing

def test_socket_subclass_with_own_init(zmq, ctx):
    class Tagged(zmq.Socket):
        tag = None  # declared: other names are socket options, as in pyzmq

        def __init__(self, context, socket_type, tag, **kwargs):
            super().__init__(context, socket_type, **kwargs)
            self.tag = tag

    sock = ctx.socket(zmq.PUSH, socket_class=Tagged, tag="t1")
    try:
        assert isinstance(sock, Tagged)
        assert sock.tag == "t1"
        assert sock.socket_type == zmq.PUSH
    finally:
        sock.close()


def test_context_socket_passes_kwargs_to_socket_class(zmq, ctx):
    seen = {}

    class Recording(zmq.Socket):
        def __init__(self, context, socket_type, **kwargs):
            seen.update(kwargs)
            super().__init__(context, socket_type)

    class RecordingContext(zmq.Context):
        _socket_class = Recording

    rctx = RecordingContext()
    try:
        sock = rctx.socket(zmq.PULL, color="blue", size=3)
        sock.close()
        assert seen == {"color": "blue", "size": 3}
    finally:
        rctx.term()


def test_socket_copy_threshold_keyword(zmq, ctx):
    sock = ctx.socket(zmq.PUSH, copy_threshold=10)
    try:
        assert sock.copy_threshold == 10
    finally:
        sock.close()


def test_context_subclass_with_extra_arguments(zmq):
    class Named(zmq.Context):
        name = None

        def __init__(self, name, io_threads=1):
            super().__init__(io_threads=io_threads)
            self.name = name

    nctx = Named("mine")
    try:
        assert nctx.name == "mine"
        sock = nctx.socket(zmq.PUSH)
        sock.close()
    finally:
        nctx.term()


def test_failed_socket_constructor_leaves_nothing_open(zmq, ctx):
    class Broken(zmq.Socket):
        def __init__(self, context, socket_type):
            super().__init__(context, socket_type)
            raise RuntimeError("no")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            ctx.socket(zmq.PUSH, socket_class=Broken)
        except RuntimeError:
            pass
        else:
            raise AssertionError("constructor did not fail")
        gc.collect()
    # term() returns only once every socket is closed.
    done = threading.Thread(target=ctx.term, daemon=True)
    done.start()
    done.join(10)
    assert not done.is_alive()
    assert ctx.closed


def test_bad_socket_type_raises_zmqerror(zmq, ctx):
    with pytest.raises(zmq.ZMQError) as info:
        ctx.socket(9999)
    assert info.value.errno == errno.EINVAL


# ---------------------------------------------------------------- shadow, copy

def test_context_shadow_shares_the_context(zmq, ctx):
    shadow = zmq.Context.shadow(ctx.underlying)
    assert shadow is not ctx
    assert shadow.underlying == ctx.underlying
    name = f"inproc://shadow-{uuid.uuid4().hex}"
    a = ctx.socket(zmq.PAIR)
    b = shadow.socket(zmq.PAIR)
    try:
        a.linger = b.linger = 0
        b.rcvtimeo = 5000
        a.bind(name)
        b.connect(name)  # inproc names are per context: same one
        a.send(b"via shadow")
        assert b.recv() == b"via shadow"
        # Each socket reports the context object it was made on.
        assert a.context is ctx and b.context is shadow
    finally:
        a.close()
        b.close()


def test_context_keyword_and_positional_shadow(zmq, ctx):
    assert zmq.Context(shadow=ctx).underlying == ctx.underlying
    assert zmq.Context(shadow=ctx.underlying).underlying == ctx.underlying
    assert zmq.Context(ctx).underlying == ctx.underlying


def test_context_copy_is_a_shadow(zmq, ctx):
    for dup in (copy.copy(ctx), copy.deepcopy(ctx)):
        assert type(dup) is type(ctx)
        assert dup is not ctx
        assert dup.underlying == ctx.underlying


def test_dropping_a_shadow_context_keeps_the_original(zmq, ctx):
    shadow = zmq.Context.shadow(ctx.underlying)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        del shadow
        gc.collect()
    sock = ctx.socket(zmq.PUSH)
    sock.close()
    assert not ctx.closed


def test_socket_shadow_shares_the_socket(zmq, ctx, pair):
    a, b = pair
    shadow = zmq.Socket.shadow(b.underlying)
    assert shadow is not b
    assert shadow.underlying == b.underlying
    assert shadow.socket_type == zmq.PAIR
    a.send(b"to the original")
    assert shadow.recv() == b"to the original"
    shadow.send(b"from the shadow")
    assert a.recv() == b"from the shadow"


def test_socket_positional_keyword_and_copy_shadow(zmq, ctx, pair):
    a, b = pair
    for dup in (zmq.Socket(b), zmq.Socket(shadow=b), copy.copy(b), copy.deepcopy(b)):
        assert dup.underlying == b.underlying
        assert dup is not b
    assert type(copy.copy(b)) is type(b)


def test_dropping_a_shadow_socket_leaves_it_open(zmq, ctx, pair):
    a, b = pair
    shadow = zmq.Socket.shadow(b.underlying)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        del shadow
        gc.collect()
    a.send(b"still here")
    assert b.recv() == b"still here"


# ---------------------------------------------------------------- ResourceWarning

def test_unclosed_socket_warns(zmq, ctx):
    sock = ctx.socket(zmq.PUSH)
    with pytest.warns(ResourceWarning, match="Unclosed socket"):
        del sock
        gc.collect()


def test_unclosed_context_warns(zmq):
    lost = zmq.Context()
    with pytest.warns(ResourceWarning, match="Unclosed context"):
        del lost
        gc.collect()


def test_closed_objects_do_not_warn(zmq):
    c = zmq.Context()
    s = c.socket(zmq.PUSH)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        s.close()
        c.term()
        del s, c
        gc.collect()


# ---------------------------------------------------------------- reprs

def test_socket_and_context_reprs(zmq, ctx):
    name = zmq.__name__
    sock = ctx.socket(zmq.PUSH)
    try:
        assert re.fullmatch(
            rf"<{name}\.Socket\({name}\.PUSH\) at 0x[0-9a-f]+>", repr(sock))
        assert re.fullmatch(rf"<{name}\.Context\(1 socket\) at 0x[0-9a-f]+>", repr(ctx))
    finally:
        sock.close()
    assert repr(sock).endswith(" closed>")
    assert re.fullmatch(rf"<{name}\.Context\(\) at 0x[0-9a-f]+>", repr(ctx))


def test_subclass_repr_names_the_subclass(zmq, ctx):
    class Mine(zmq.Socket):
        pass

    sock = ctx.socket(zmq.PULL, socket_class=Mine)
    try:
        assert repr(sock).startswith(f"<{__name__}.Mine({zmq.__name__}.PULL) at 0x")
    finally:
        sock.close()


def test_frame_repr(zmq):
    assert repr(zmq.Frame(b"abc")) == f"<{zmq.__name__}.Frame(b'abc')>"


# ---------------------------------------------------------------- options

def test_dir_lists_upper_case_option_names(zmq, ctx):
    sock = ctx.socket(zmq.PUSH)
    try:
        names = dir(sock)
        for option in ("LINGER", "SNDHWM", "RCVTIMEO", "IDENTITY"):
            assert option in names
        assert "send" in names
    finally:
        sock.close()


def test_mock_spec_of_context_and_socket(zmq, ctx):
    # spec= calls getattr on every dir() name: write-only options must not break it.
    mock.Mock(spec=ctx)
    sock = ctx.socket(zmq.PUSH)
    try:
        mock.Mock(spec=sock)
    finally:
        sock.close()


def test_unknown_option_with_bytes_value(zmq, ctx):
    sock = ctx.socket(zmq.PUSH)
    try:
        with pytest.raises(TypeError):
            sock.setsockopt(9999, b"x")
    finally:
        sock.close()


@pytest.mark.parametrize("name, value", [
    ("ZAP_ENFORCE_DOMAIN", 0), ("LOOPBACK_FASTPATH", 0), ("MULTICAST_LOOP", 1)])
def test_getsockopt_defaults(zmq, ctx, name, value):
    sock = ctx.socket(zmq.PUSH)
    try:
        assert sock.getsockopt(getattr(zmq, name)) == value
    finally:
        sock.close()


def test_closed_socket_is_enotsock_before_argument_checks(zmq, ctx):
    sock = ctx.socket(zmq.PUSH)
    sock.close()
    for call in (lambda: sock.setsockopt(9999, b"x"),
                 lambda: sock.getsockopt(9999),
                 lambda: sock.bind("not an endpoint"),
                 lambda: sock.connect("not an endpoint")):
        with pytest.raises(zmq.ZMQError) as info:
            call()
        assert info.value.errno == errno.ENOTSOCK


def test_enametoolong_mentions_the_ipc_path_limit(zmq, ctx):
    path = os.path.join(tempfile.gettempdir(), "x" * 200)
    sock = ctx.socket(zmq.PULL)
    try:
        with pytest.raises(zmq.ZMQError) as info:
            sock.bind(f"ipc://{path}")
        assert info.value.errno == errno.ENAMETOOLONG
        assert "IPC_PATH_MAX_LEN" in str(info.value)
        assert "longer than" in str(info.value)
    finally:
        sock.close()


def test_version_answers(zmq):
    assert isinstance(zmq.__version__, str)
    major = int(zmq.pyzmq_version().split(".")[0])
    # Programs compare against pyzmq's version: it must be a modern one.
    assert major >= 25
    assert zmq.pyzmq_version_info()[0] == major


# ---------------------------------------------------------------- generics

def test_generic_classes_are_subscriptable(zmq):
    assert zmq.Socket[bytes] is not None
    assert zmq.Context[zmq.Socket[bytes]] is not None
    alias = zmq.Context[zmq.Socket[bytes]]
    assert alias.__origin__ is zmq.Context


def test_closing_the_original_closes_its_shadows(zmq, ctx):
    sock = ctx.socket(zmq.PAIR)
    shadow = zmq.Socket.shadow(sock.underlying)
    sock.close()
    with pytest.raises(zmq.ZMQError) as info:
        shadow.send(b"x")
    assert info.value.errno == errno.ENOTSOCK


def test_closing_a_shadow_closes_the_socket(zmq, ctx):
    sock = ctx.socket(zmq.PAIR)
    shadow = zmq.Socket.shadow(sock.underlying)
    shadow.close()
    with pytest.raises(zmq.ZMQError) as info:
        sock.send(b"x", zmq.NOBLOCK)
    assert info.value.errno == errno.ENOTSOCK
    sock.close()
    ctx.term()  # nothing left open


def test_socket_subscript_alias_makes_sockets(zmq, ctx):
    sock = zmq.Socket[bytes](ctx, zmq.PUSH)
    try:
        assert isinstance(sock, zmq.Socket)
    finally:
        sock.close()


def test_close_wakes_a_shadow_blocked_in_another_thread():
    # mqcore only: libzmq leaves closing a socket in use by another thread
    # undefined; mqcore wakes the waiter, whichever object it waits through.
    import mqcore

    c = mqcore.Context()
    sock = c.socket(mqcore.PULL)
    shadow = mqcore.Socket.shadow(sock)
    shadow.rcvtimeo = 10_000
    outcome = []

    def wait():
        try:
            shadow.recv()
        except mqcore.ZMQError as exc:
            outcome.append(exc.errno)

    waiter = threading.Thread(target=wait, daemon=True)
    waiter.start()
    # Closed whether or not the waiter is inside recv yet: it must end.
    sock.close(linger=0)
    waiter.join(10)
    assert not waiter.is_alive()
    assert outcome == [errno.ENOTSOCK]
    c.term()
