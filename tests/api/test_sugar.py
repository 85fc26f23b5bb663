"""The pure-Python layer (mqcore.socket, mqcore.context) through the public API.

Most tests run twice: against mqcore, and against pyzmq as the reference, so
a test that passes on pyzmq and fails on mqcore is a compatibility bug, not
a wrong test.  Tests of mqcore-only behaviour use the ``mq`` fixture.

Transports: inproc:// and tcp://127.0.0.1 only.  Every socket gets
RCVTIMEO/SNDTIMEO = 5000 ms and LINGER = 0, so a missing message fails the
test with Again instead of hanging it.
"""

import errno
import itertools
import json
import pickle

import pytest

import mqcore

TIMEOUT_MS = 5000
_names = itertools.count()

# Sockets made during a test stay referenced until the context fixture
# destroys them: pyzmq warns about a socket garbage-collected while open,
# and the test's locals die before fixture teardown runs.
_kept_sockets = []


def kept(sock):
    """Keep ``sock`` alive until the test's context is destroyed."""
    _kept_sockets.append(sock)
    return sock


def _destroy(context):
    context.destroy(linger=0)
    _kept_sockets.clear()


@pytest.fixture(params=["mqcore", "pyzmq"])
def zmq(request):
    """The library under test: mqcore, or pyzmq as the reference."""
    if request.param == "pyzmq":
        return pytest.importorskip("zmq")
    return mqcore


@pytest.fixture
def ctx(zmq):
    context = zmq.Context()
    yield context
    _destroy(context)


@pytest.fixture
def mq():
    """mqcore alone, for behaviour pyzmq does not have."""
    return mqcore


@pytest.fixture
def mq_ctx():
    context = mqcore.Context()
    yield context
    _destroy(context)


@pytest.fixture(params=["inproc", "tcp"])
def transport(request):
    return request.param


def guarded_socket(context, socket_type):
    """A socket that cannot hang a test: timeouts on, linger off."""
    sock = kept(context.socket(socket_type))
    sock.linger = 0
    sock.rcvtimeo = TIMEOUT_MS
    sock.sndtimeo = TIMEOUT_MS
    return sock


def inproc_name():
    return f"inproc://sugar-{next(_names)}"


def bind_endpoint(sock, transport):
    """Bind ``sock`` on a fresh endpoint of ``transport``; return the endpoint."""
    if transport == "inproc":
        endpoint = inproc_name()
        sock.bind(endpoint)
        return endpoint
    sock.bind("tcp://127.0.0.1:*")
    return sock.last_endpoint.decode()


def bound_pair(context, transport, bind_type, connect_type):
    """(bound socket, connected socket) joined over ``transport``."""
    bound = guarded_socket(context, bind_type)
    connected = guarded_socket(context, connect_type)
    connected.connect(bind_endpoint(bound, transport))
    return bound, connected


@pytest.fixture
def push_pull(zmq, ctx, transport):
    """(push, pull); the PULL end binds, so sends never wait for a handshake."""
    pull, push = bound_pair(ctx, transport, zmq.PULL, zmq.PUSH)
    return push, pull


@pytest.fixture
def pair(zmq, ctx, transport):
    return bound_pair(ctx, transport, zmq.PAIR, zmq.PAIR)


# ---------------------------------------------------------------------------
# Options as attributes
# ---------------------------------------------------------------------------


class TestOptionAttributes:
    # PAIR where the type does not matter: libzmq takes ROUTING_ID on any socket.
    def test_int_option_round_trip(self, zmq, ctx):
        sock = kept(ctx.socket(zmq.PUSH))
        sock.linger = 0
        sock.sndhwm = 10
        sock.rcvtimeo = 1234
        assert sock.linger == 0
        assert sock.getsockopt(zmq.LINGER) == 0
        assert sock.get(zmq.SNDHWM) == 10
        assert sock.rcvtimeo == 1234

    def test_setsockopt_and_getsockopt(self, zmq, ctx):
        sock = guarded_socket(ctx, zmq.PUSH)
        sock.setsockopt(zmq.SNDHWM, 7)
        assert sock.getsockopt(zmq.SNDHWM) == 7
        sock.set(zmq.RCVHWM, 8)
        assert sock.rcvhwm == 8

    def test_bytes_option_under_both_names(self, zmq, ctx):
        sock = guarded_socket(ctx, zmq.PAIR)
        sock.routing_id = b"worker-1"
        assert sock.identity == b"worker-1"
        assert sock.getsockopt(zmq.ROUTING_ID) == b"worker-1"

    def test_string_options(self, zmq, ctx):
        sock = guarded_socket(ctx, zmq.PAIR)
        sock.setsockopt_string(zmq.IDENTITY, "héllo")
        assert sock.get(zmq.ROUTING_ID) == "héllo".encode()
        assert sock.getsockopt_string(zmq.IDENTITY) == "héllo"
        sock.set_string(zmq.ROUTING_ID, "é", encoding="latin-1")
        assert sock.routing_id == b"\xe9"
        assert sock.get_string(zmq.ROUTING_ID, encoding="latin-1") == "é"

    def test_set_string_needs_str(self, zmq, ctx):
        sock = guarded_socket(ctx, zmq.PAIR)
        with pytest.raises(TypeError):
            sock.set_string(zmq.ROUTING_ID, b"bytes")

    def test_get_string_refuses_int_option(self, zmq, ctx):
        sock = guarded_socket(ctx, zmq.PAIR)
        with pytest.raises(TypeError):
            sock.get_string(zmq.LINGER)

    def test_str_for_bytes_option_is_type_error(self, zmq, ctx):
        sock = guarded_socket(ctx, zmq.PAIR)
        with pytest.raises(TypeError):
            sock.setsockopt(zmq.ROUTING_ID, "text")

    def test_read_only_options(self, zmq, ctx):
        sock = guarded_socket(ctx, zmq.PAIR)
        assert sock.type == zmq.PAIR
        assert sock.get(zmq.TYPE) == zmq.PAIR
        assert sock.rcvmore == 0
        assert isinstance(sock.events, int)
        assert isinstance(sock.fd, int)
        assert sock.fileno() == sock.fd

    def test_last_endpoint(self, zmq, ctx):
        sock = guarded_socket(ctx, zmq.PULL)
        endpoint = inproc_name()
        sock.bind(endpoint)
        assert sock.last_endpoint == endpoint.encode()

    def test_unknown_attribute(self, zmq, ctx):
        sock = guarded_socket(ctx, zmq.PUSH)
        with pytest.raises(AttributeError):
            sock.no_such_option
        with pytest.raises(AttributeError):
            sock.no_such_option = 1
        assert not hasattr(sock, "no_such_option")

    def test_write_only_option_reads_as_missing_attribute(self, zmq, ctx):
        sock = guarded_socket(ctx, zmq.ROUTER)
        sock.router_mandatory = 1
        assert not hasattr(sock, "router_mandatory")

    def test_hwm_sets_both(self, zmq, ctx):
        sock = guarded_socket(ctx, zmq.PAIR)
        sock.hwm = 17
        assert (sock.sndhwm, sock.rcvhwm, sock.hwm) == (17, 17, 17)
        sock.set_hwm(5)
        assert sock.get_hwm() == 5
        assert sock.rcvhwm == 5

    def test_subscribe_as_attribute_and_methods(self, zmq, ctx, transport):
        pub, sub = bound_pair(ctx, transport, zmq.PUB, zmq.SUB)
        sub.subscribe = "topic"  # str is encoded, as in pyzmq
        sub.subscribe(b"other")
        sub.unsubscribe("other")
        assert callable(sub.subscribe)  # assignment did not shadow the method
        sub.rcvtimeo = 100
        # Subscriptions travel to the publisher asynchronously: publish until
        # one arrives, then check the filter.
        for _ in range(50):
            pub.send(b"topic-probe")
            try:
                assert sub.recv() == b"topic-probe"
                break
            except zmq.Again:
                continue
        else:
            pytest.fail("subscription never reached the publisher")
        pub.send(b"other-1")
        pub.send(b"topic-2")
        sub.rcvtimeo = TIMEOUT_MS
        received = sub.recv()
        while received == b"topic-probe":  # probes still in flight
            received = sub.recv()
        assert received == b"topic-2"


# ---------------------------------------------------------------------------
# Default socket options and context options
# ---------------------------------------------------------------------------


class TestContextOptions:
    def test_attribute_default_applies_to_new_sockets(self, zmq, ctx):
        before = kept(ctx.socket(zmq.PUSH))
        ctx.linger = 0
        after = kept(ctx.socket(zmq.PUSH))
        assert ctx.linger == 0
        assert ctx.getsockopt(zmq.LINGER) == 0
        assert after.linger == 0
        assert before.linger == -1

    def test_setsockopt_default(self, zmq, ctx):
        ctx.setsockopt(zmq.SNDHWM, 11)
        assert kept(ctx.socket(zmq.PUSH)).sndhwm == 11

    def test_default_that_does_not_apply_is_skipped(self, zmq, ctx):
        ctx.setsockopt(zmq.SUBSCRIBE, b"")
        ctx.socket(zmq.PUSH).close()

    def test_delete_default(self, zmq, ctx):
        ctx.linger = 0
        del ctx.linger
        assert kept(ctx.socket(zmq.PUSH)).linger == -1
        with pytest.raises(AttributeError):
            ctx.linger

    def test_context_options_as_attributes(self, zmq, ctx):
        assert ctx.io_threads == 1
        assert ctx.max_sockets == 1023
        ctx.max_sockets = 100
        assert ctx.get(zmq.MAX_SOCKETS) == 100

    def test_unknown_context_attribute(self, zmq, ctx):
        with pytest.raises(AttributeError):
            ctx.no_such_option
        with pytest.raises(AttributeError):
            ctx.no_such_option = 1

    def test_socket_keyword_options(self, mq, mq_ctx):
        sock = kept(mq_ctx.socket(mq.PUSH, linger=0, sndhwm=5))
        assert (sock.linger, sock.sndhwm) == (0, 5)

    def test_bad_keyword_option_closes_the_socket(self, mq, mq_ctx):
        with pytest.raises(AttributeError):
            mq_ctx.socket(mq.PUSH, no_such_option=1)
        assert [s for s in mq_ctx._sockets() if not s.closed] == []

    def test_blocky_is_a_context_option(self, mq, mq_ctx):
        mq_ctx.blocky = 0
        assert mq_ctx.get(mq.BLOCKY) == 0
        assert mq_ctx.blocky == 0


# ---------------------------------------------------------------------------
# Multipart messages
# ---------------------------------------------------------------------------


class TestMultipart:
    def test_round_trip(self, zmq, push_pull):
        push, pull = push_pull
        parts = [b"head", b"", bytearray(b"body"), memoryview(b"tail")]
        push.send_multipart(parts)
        assert pull.recv_multipart() == [b"head", b"", b"body", b"tail"]

    def test_tuple_and_frame_parts(self, zmq, push_pull):
        push, pull = push_pull
        push.send_multipart((b"a", zmq.Frame(b"b")))
        assert pull.recv_multipart() == [b"a", b"b"]

    def test_pair_both_ways(self, zmq, pair):
        left, right = pair
        left.send_multipart([b"1", b"2"])
        assert right.recv_multipart() == [b"1", b"2"]
        right.send_multipart([b"3"])
        assert left.recv_multipart() == [b"3"]

    def test_no_copy_gives_frames(self, zmq, push_pull):
        push, pull = push_pull
        push.send_multipart([b"x", b"yz"], copy=False)
        frames = pull.recv_multipart(copy=False)
        assert all(isinstance(frame, zmq.Frame) for frame in frames)
        assert [frame.bytes for frame in frames] == [b"x", b"yz"]

    def test_rcvmore_between_parts(self, zmq, push_pull):
        push, pull = push_pull
        push.send_multipart([b"first", b"second"])
        assert pull.recv() == b"first"
        assert pull.rcvmore == 1
        assert pull.recv() == b"second"
        assert pull.rcvmore == 0

    def test_bad_part_sends_nothing(self, zmq, push_pull):
        push, pull = push_pull
        with pytest.raises(TypeError):
            push.send_multipart([b"fine", "not bytes"])
        with pytest.raises(TypeError):
            push.send_multipart([b"fine", 12345])
        push.send_multipart([b"next"])
        assert pull.recv_multipart() == [b"next"]

    def test_nonblocking_recv_on_empty_socket(self, zmq, push_pull):
        _, pull = push_pull
        with pytest.raises(zmq.Again):
            pull.recv_multipart(zmq.NOBLOCK)

    def test_generator_of_parts(self, mq, mq_ctx):
        pull, push = bound_pair(mq_ctx, "inproc", mq.PULL, mq.PUSH)
        push.send_multipart(part for part in (b"g1", b"g2"))
        assert pull.recv_multipart() == [b"g1", b"g2"]


# ---------------------------------------------------------------------------
# Strings, JSON, pickle, custom serialisation
# ---------------------------------------------------------------------------


class TestSerialization:
    def test_string(self, zmq, push_pull):
        push, pull = push_pull
        push.send_string("grüße")
        assert pull.recv_string() == "grüße"

    def test_string_encoding(self, zmq, push_pull):
        push, pull = push_pull
        push.send_string("grüße", encoding="utf-16")
        raw = pull.recv()
        assert raw == "grüße".encode("utf-16")
        push.send(raw)
        assert pull.recv_string(encoding="utf-16") == "grüße"

    def test_send_string_needs_str(self, zmq, push_pull):
        push, _ = push_pull
        with pytest.raises(TypeError):
            push.send_string(b"bytes")

    def test_json(self, zmq, push_pull):
        push, pull = push_pull
        message = {"a": [1, 2.5, None], "b": "ü"}
        push.send_json(message)
        assert pull.recv_json() == message

    def test_json_bytes_are_plain_json_dumps(self, zmq, push_pull):
        """The wire bytes are what pyzmq peers send and expect."""
        push, pull = push_pull
        message = {"b": 1, "a": 2}
        push.send_json(message, sort_keys=True)
        assert pull.recv() == json.dumps(message, sort_keys=True).encode("utf-8")

    def test_pyobj(self, zmq, push_pull):
        push, pull = push_pull
        message = {"set": {1, 2}, "tuple": (1, "x"), "bytes": b"\0"}
        push.send_pyobj(message)
        assert pull.recv_pyobj() == message
        push.send_pyobj([1], protocol=2)
        assert pickle.loads(pull.recv()) == [1]

    def test_serialized(self, zmq, push_pull):
        push, pull = push_pull

        def serialize(obj):
            return [key.encode() for key in sorted(obj)]

        def deserialize(frames):
            return {frame.decode() for frame in frames}

        push.send_serialized({"x", "y"}, serialize)
        assert pull.recv_serialized(deserialize) == {"x", "y"}

    def test_serialized_no_copy(self, zmq, push_pull):
        push, pull = push_pull
        push.send_serialized("abc", lambda s: [s.encode()], copy=False)
        assert pull.recv_serialized(lambda frames: frames[0].bytes, copy=False) == b"abc"


# ---------------------------------------------------------------------------
# bind / connect and their context managers
# ---------------------------------------------------------------------------


class TestEndpoints:
    def test_bind_to_random_port(self, zmq, ctx):
        server = guarded_socket(ctx, zmq.PULL)
        port = server.bind_to_random_port("tcp://127.0.0.1")
        assert 0 < port < 65536
        assert server.last_endpoint.decode().endswith(f":{port}")
        client = guarded_socket(ctx, zmq.PUSH)
        client.connect(f"tcp://127.0.0.1:{port}")
        client.send(b"hello")
        assert server.recv() == b"hello"

    def test_bind_to_random_port_in_range(self, zmq, ctx):
        server = guarded_socket(ctx, zmq.PULL)
        port = server.bind_to_random_port("tcp://127.0.0.1", min_port=41000, max_port=42000)
        assert 41000 <= port < 42000

    def test_bind_to_random_port_gives_up(self, zmq, ctx):
        holder = guarded_socket(ctx, zmq.PULL)
        port = holder.bind_to_random_port("tcp://127.0.0.1", min_port=42000, max_port=43000)
        other = guarded_socket(ctx, zmq.PULL)
        with pytest.raises(zmq.ZMQBindError):
            other.bind_to_random_port(
                "tcp://127.0.0.1", min_port=port, max_port=port + 1, max_tries=3
            )

    def test_bind_failure_names_the_address(self, zmq, ctx):
        endpoint = inproc_name()
        holder = guarded_socket(ctx, zmq.PULL)  # referenced: GC would free the name
        holder.bind(endpoint)
        with pytest.raises(zmq.ZMQError) as info:
            guarded_socket(ctx, zmq.PULL).bind(endpoint)
        assert info.value.errno == zmq.EADDRINUSE
        assert endpoint in str(info.value)

    def test_bind_context_manager_unbinds(self, zmq, ctx, transport):
        sock = guarded_socket(ctx, zmq.PULL)
        address = inproc_name() if transport == "inproc" else "tcp://127.0.0.1:*"
        with sock.bind(address) as entered:
            assert entered is sock
            endpoint = sock.last_endpoint.decode()
        # Already unbound by the with (by its resolved port, for tcp).
        with pytest.raises(zmq.ZMQError) as info:
            sock.unbind(endpoint)
        assert info.value.errno == errno.ENOENT
        if transport == "inproc":
            # tcp listeners close asynchronously; inproc names free at once.
            guarded_socket(ctx, zmq.PULL).bind(endpoint)

    def test_connect_context_manager_disconnects(self, zmq, ctx):
        server = guarded_socket(ctx, zmq.PULL)
        endpoint = bind_endpoint(server, "inproc")
        client = guarded_socket(ctx, zmq.PUSH)
        with client.connect(endpoint) as entered:
            assert entered is client
        with pytest.raises(zmq.ZMQError) as info:
            client.disconnect(endpoint)  # already disconnected by the with
        assert info.value.errno == errno.ENOENT

    def test_context_manager_after_close_does_nothing(self, zmq, ctx):
        sock = guarded_socket(ctx, zmq.PULL)
        with sock.bind(inproc_name()):
            sock.close()


# ---------------------------------------------------------------------------
# Life cycle: with-statements, destroy, instance
# ---------------------------------------------------------------------------


class TestLifecycle:
    def test_socket_with_closes(self, zmq, ctx):
        with ctx.socket(zmq.PUSH) as sock:
            assert not sock.closed
        assert sock.closed
        sock.close()  # closing twice is harmless

    def test_socket_knows_its_context(self, zmq, ctx):
        sock = kept(ctx.socket(zmq.PUSH))
        assert sock.context is ctx

    def test_context_with_terminates(self, zmq):
        with zmq.Context() as context:
            context.socket(zmq.PUSH).close()
        assert context.closed

    def test_context_with_closes_leftover_sockets(self, zmq):
        with pytest.warns(ResourceWarning):
            with zmq.Context() as context:
                sock = context.socket(zmq.PUSH)
        assert sock.closed
        assert context.closed

    def test_destroy(self, zmq):
        context = zmq.Context()
        socks = [context.socket(zmq.PUSH), context.socket(zmq.PULL)]
        socks[0].connect("tcp://127.0.0.1:9")  # something to linger over
        context.destroy(linger=0)
        assert all(sock.closed for sock in socks)
        assert context.closed
        context.destroy()  # again: nothing to do

    def test_socket_on_closed_context(self, zmq):
        context = zmq.Context()
        context.term()
        with pytest.raises(zmq.ZMQError) as info:
            context.socket(zmq.PUSH)
        assert info.value.errno == zmq.ENOTSUP

    def test_instance_is_shared_until_terminated(self, zmq):
        first = zmq.Context.instance()
        assert zmq.Context.instance() is first
        first.term()
        second = zmq.Context.instance()
        assert second is not first
        assert not second.closed
        second.term()

    def test_instance_is_remade_in_a_forked_child(self, zmq, monkeypatch):
        first = zmq.Context.instance()
        monkeypatch.setattr(zmq.Context, "_instance_pid", -1)  # as if after fork
        second = zmq.Context.instance()
        assert second is not first
        first.term()
        second.term()

    def test_socket_class(self, zmq):
        class TaggedSocket(zmq.Socket):
            tag = "custom"

        class TaggedContext(zmq.Context):
            _socket_class = TaggedSocket

        with TaggedContext() as context:
            with context.socket(zmq.PUSH) as sock:
                assert isinstance(sock, TaggedSocket)
            with context.socket(zmq.PUSH, socket_class=zmq.Socket) as plain:
                assert type(plain) is zmq.Socket


# ---------------------------------------------------------------------------
# Timeouts and poll
# ---------------------------------------------------------------------------


class TestWaiting:
    def test_recv_timeout_raises_again(self, zmq, push_pull):
        _, pull = push_pull
        pull.rcvtimeo = 50
        with pytest.raises(zmq.Again) as info:
            pull.recv()
        assert info.value.errno == zmq.EAGAIN

    def test_poll(self, zmq, push_pull):
        push, pull = push_pull
        assert pull.poll(0) == 0
        push.send(b"wake")
        assert pull.poll(TIMEOUT_MS) == zmq.POLLIN
        assert pull.poll(TIMEOUT_MS, zmq.POLLIN | zmq.POLLOUT) == zmq.POLLIN
        assert push.poll(TIMEOUT_MS, zmq.POLLOUT) == zmq.POLLOUT
        assert pull.recv() == b"wake"

    def test_poll_closed_socket(self, zmq, ctx):
        sock = ctx.socket(zmq.PULL)
        sock.close()
        with pytest.raises(zmq.ZMQError):
            sock.poll(0)


# ---------------------------------------------------------------------------
# Display (mqcore's own wording)
# ---------------------------------------------------------------------------


class TestRepr:
    def test_socket_repr(self, mq, mq_ctx):
        sock = kept(mq_ctx.socket(mq.PUSH))
        assert "mqcore.Socket(mqcore.PUSH)" in repr(sock)  # pyzmq's format
        sock.close()
        assert repr(sock).endswith("closed>")

    def test_context_repr(self, mq, mq_ctx):
        assert repr(mq_ctx).startswith("<mqcore.Context(")
        socks = [kept(mq_ctx.socket(mq.PUSH)), kept(mq_ctx.socket(mq.PULL))]
        assert "2 sockets" in repr(mq_ctx)
        socks[0].close()
        assert "1 socket)" in repr(mq_ctx)

    def test_dir_lists_options(self, mq, mq_ctx):
        assert "linger" in dir(kept(mq_ctx.socket(mq.PUSH)))
        assert "io_threads" in dir(mq_ctx)
