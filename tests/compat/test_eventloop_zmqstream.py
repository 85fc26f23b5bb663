"""zmq.eventloop.zmqstream.ZMQStream on tornado, for mqcore and pyzmq alike.

Every test runs against both implementations: ``impl`` is the top-level
module ("mqcore" or "zmq"), and each one's own ZMQStream drives its own
sockets.  The loop is tornado's IOLoop over asyncio; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import importlib
import pickle
import warnings

import pytest
from tornado.ioloop import IOLoop

WAIT_S = 5


@pytest.fixture(params=["mqcore", "zmq"])
def impl(request):
    return importlib.import_module(request.param)


@pytest.fixture
def zmqstream(impl):
    return importlib.import_module(f"{impl.__name__}.eventloop.zmqstream")


def _socket(ctx, kind):
    """A socket with linger 0 and bounded blocking calls."""
    sock = ctx.socket(kind)
    sock.linger = 0
    sock.rcvtimeo = sock.sndtimeo = WAIT_S * 1000
    return sock


def _pair(impl, ctx):
    """Two connected PAIR sockets over tcp."""
    a = _socket(ctx, impl.PAIR)
    b = _socket(ctx, impl.PAIR)
    port = a.bind_to_random_port("tcp://127.0.0.1")
    b.connect(f"tcp://127.0.0.1:{port}")
    # One round trip: both ends are connected before a stream starts.
    a.send(b"sync")
    assert b.recv() == b"sync"
    return a, b


def run(impl, body):
    """Run ``await body(ctx)`` on a fresh loop; the context is destroyed after."""
    async def main():
        ctx = impl.Context()
        try:
            await asyncio.wait_for(body(ctx), WAIT_S * 2)
        finally:
            ctx.destroy(linger=0)
    asyncio.run(main())


class Collector:
    """A callback that records its calls and lets a coroutine wait for n of them."""

    def __init__(self):
        self.calls = []
        self._changed = asyncio.Event()

    def __call__(self, *args):
        self.calls.append(args)
        self._changed.set()

    async def wait_for(self, n):
        while len(self.calls) < n:
            self._changed.clear()
            await asyncio.wait_for(self._changed.wait(), WAIT_S)
        return self.calls


def test_on_recv_copy_gives_bytes(impl, zmqstream):
    async def body(ctx):
        a, b = _pair(impl, ctx)
        stream = zmqstream.ZMQStream(b)
        got = Collector()
        stream.on_recv(got)
        assert stream.receiving()
        a.send_multipart([b"one", b"two"])
        a.send(b"three")
        calls = await got.wait_for(2)
        assert calls == [([b"one", b"two"],), ([b"three"],)]
        stream.close()
        a.close()
    run(impl, body)


def test_on_recv_nocopy_gives_frames(impl, zmqstream):
    async def body(ctx):
        a, b = _pair(impl, ctx)
        stream = zmqstream.ZMQStream(b)
        got = Collector()
        stream.on_recv(got, copy=False)
        a.send_multipart([b"x" * 10, b"y"])
        [(msg,)] = await got.wait_for(1)
        assert all(isinstance(frame, impl.Frame) for frame in msg)
        assert [frame.bytes for frame in msg] == [b"x" * 10, b"y"]
        stream.close()
        a.close()
    run(impl, body)


def test_on_recv_stream_passes_the_stream(impl, zmqstream):
    async def body(ctx):
        a, b = _pair(impl, ctx)
        stream = zmqstream.ZMQStream(b)
        got = Collector()
        stream.on_recv_stream(got)
        a.send(b"hi")
        calls = await got.wait_for(1)
        assert calls == [(stream, [b"hi"])]
        stream.on_recv_stream(None)
        assert not stream.receiving()
        stream.close()
        a.close()
    run(impl, body)


def test_sends_are_queued_then_flushed_by_the_loop_in_order(impl, zmqstream):
    async def body(ctx):
        a, b = _pair(impl, ctx)
        stream = zmqstream.ZMQStream(a)
        sent = Collector()
        stream.on_send(sent)
        stream.send(b"raw")
        stream.send_multipart([b"multi", b"part"])
        stream.send_string("text")
        stream.send_json({"k": [1, 2]})
        stream.send_pyobj({"p": 3})
        # Nothing is sent before the loop runs: it is all queued.
        assert stream.sending()
        calls = await sent.wait_for(5)
        assert not stream.sending()
        assert [msg for msg, _status in calls] == [
            [b"raw"], [b"multi", b"part"], [b"text"],
            [impl.utils.jsonapi.dumps({"k": [1, 2]})],
            [pickle.dumps({"p": 3}, -1)],
        ]
        assert all(status is None for _msg, status in calls)
        assert b.recv_multipart() == [b"raw"]
        assert b.recv_multipart() == [b"multi", b"part"]
        assert b.recv_string() == "text"
        assert b.recv_json() == {"k": [1, 2]}
        assert b.recv_pyobj() == {"p": 3}
        stream.close()
        b.close()
    run(impl, body)


def test_send_callback_argument_replaces_on_send(impl, zmqstream):
    async def body(ctx):
        a, b = _pair(impl, ctx)
        stream = zmqstream.ZMQStream(a)
        first, second = Collector(), Collector()
        stream.on_send(first)
        stream.send(b"m", callback=second)
        await second.wait_for(1)
        assert first.calls == []
        assert b.recv() == b"m"
        stream.close()
        b.close()
    run(impl, body)


def test_on_send_stream_passes_the_stream_and_tracker(impl, zmqstream):
    async def body(ctx):
        a, b = _pair(impl, ctx)
        stream = zmqstream.ZMQStream(a)
        sent = Collector()
        stream.on_send_stream(sent)
        stream.send(b"tracked" * 100, copy=False, track=True)
        [(who, msg, status)] = await sent.wait_for(1)
        assert who is stream
        assert msg == [b"tracked" * 100]
        assert isinstance(status, impl.MessageTracker)
        assert b.recv() == b"tracked" * 100
        stream.close()
        b.close()
    run(impl, body)


def test_flush_sends_without_the_loop(impl, zmqstream):
    async def body(ctx):
        a, b = _pair(impl, ctx)
        stream = zmqstream.ZMQStream(a)
        sent = []
        stream.on_send(lambda msg, status: sent.append(msg))
        stream.send(b"1")
        stream.send(b"2")
        stream.send(b"3")
        # No await: the loop never ran, flush did the sending.
        assert stream.flush(impl.POLLOUT, limit=2) == 2
        assert sent == [[b"1"], [b"2"]]
        assert stream.flush() == 1
        assert sent == [[b"1"], [b"2"], [b"3"]]
        assert not stream.sending()
        assert stream.flush() == 0
        assert [b.recv(), b.recv(), b.recv()] == [b"1", b"2", b"3"]
        stream.close()
        b.close()
    run(impl, body)


def test_flush_receives_into_the_callback(impl, zmqstream):
    async def body(ctx):
        a, b = _pair(impl, ctx)
        stream = zmqstream.ZMQStream(b)
        got = []
        stream.on_recv(got.append)
        a.send(b"m1")
        a.send(b"m2")
        # Wait until both are in b, without letting the loop run.
        assert b.poll(WAIT_S * 1000) == impl.POLLIN
        count = 0
        for _ in range(100):
            count += stream.flush(impl.POLLIN)
            if count == 2:
                break
            b.poll(50)
        assert count == 2
        assert got == [[b"m1"], [b"m2"]]
        stream.close()
        a.close()
    run(impl, body)


def test_stop_on_recv_leaves_messages_in_the_socket(impl, zmqstream):
    async def body(ctx):
        a, b = _pair(impl, ctx)
        stream = zmqstream.ZMQStream(b)
        got = Collector()
        stream.on_recv(got)
        a.send(b"first")
        await got.wait_for(1)
        stream.stop_on_recv()
        assert not stream.receiving()
        a.send(b"second")
        assert b.poll(WAIT_S * 1000) == impl.POLLIN
        await asyncio.sleep(0.05)  # loop passes: the stream must not take it
        assert got.calls == [([b"first"],)]
        assert b.recv() == b"second"
        stream.close()
        a.close()
    run(impl, body)


def test_close_closes_socket_and_runs_close_callback(impl, zmqstream):
    async def body(ctx):
        a, b = _pair(impl, ctx)
        stream = zmqstream.ZMQStream(b)
        closed = []
        stream.set_close_callback(lambda: closed.append(True))
        assert not stream.closed()
        stream.close(linger=0)
        assert stream.closed()
        assert b.closed
        assert stream.socket is None
        assert closed == [True]
        with pytest.raises(IOError):
            stream.on_recv(print)
        with pytest.raises(IOError):
            stream.flush()
        stream.close()  # a second close does nothing
        assert closed == [True]
        a.close()
    run(impl, body)


def test_closed_notices_a_directly_closed_socket(impl, zmqstream):
    async def body(ctx):
        a, b = _pair(impl, ctx)
        stream = zmqstream.ZMQStream(b)
        b.close()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert stream.closed()
        assert any("after closing socket" in str(w.message) for w in caught)
        assert stream.socket is None
        a.close()
    run(impl, body)


def test_io_loop_and_socket_methods(impl, zmqstream):
    async def body(ctx):
        sock = _socket(ctx, impl.PAIR)
        stream = zmqstream.ZMQStream(sock)
        assert stream.io_loop is IOLoop.current()
        assert stream.socket is sock
        stream.setsockopt(impl.SNDHWM, 7)
        assert stream.getsockopt(impl.SNDHWM) == 7
        port = stream.bind_to_random_port("tcp://127.0.0.1")
        peer = _socket(ctx, impl.PAIR)
        peer.connect(f"tcp://127.0.0.1:{port}")
        got = Collector()
        stream.on_recv(got)
        peer.send(b"via bound stream")
        assert await got.wait_for(1) == [([b"via bound stream"],)]
        stream.close()
        peer.close()
        other = IOLoop.current()
        explicit = zmqstream.ZMQStream(_socket(ctx, impl.PAIR), io_loop=other)
        assert explicit.io_loop is other
        explicit.close()
    run(impl, body)


def test_coroutine_callbacks_run(impl, zmqstream):
    async def body(ctx):
        a, b = _pair(impl, ctx)
        stream = zmqstream.ZMQStream(b)
        done = asyncio.get_running_loop().create_future()

        async def on_recv(msg):
            await asyncio.sleep(0)
            done.set_result(msg)

        stream.on_recv(on_recv)
        a.send(b"async")
        assert await asyncio.wait_for(done, WAIT_S) == [b"async"]
        stream.close()
        a.close()
    run(impl, body)


def test_async_socket_warns_and_still_works(impl, zmqstream):
    aio = importlib.import_module(f"{impl.__name__}.asyncio")

    async def body(ctx):
        actx = aio.Context()
        try:
            sock = _socket(actx, impl.PAIR)
            port = sock.bind_to_random_port("tcp://127.0.0.1")
            with pytest.warns(RuntimeWarning):
                stream = zmqstream.ZMQStream(sock)
            peer = _socket(ctx, impl.PAIR)
            peer.connect(f"tcp://127.0.0.1:{port}")
            got = Collector()
            stream.on_recv(got)
            peer.send(b"plain frames")
            # Plain lists of bytes, not futures.
            assert await got.wait_for(1) == [([b"plain frames"],)]
            stream.close()
            peer.close()
        finally:
            actx.destroy(linger=0)
    run(impl, body)


def test_request_reply_between_two_streams(impl, zmqstream):
    async def body(ctx):
        rep = _socket(ctx, impl.REP)
        port = rep.bind_to_random_port("tcp://127.0.0.1")
        req = _socket(ctx, impl.REQ)
        req.connect(f"tcp://127.0.0.1:{port}")
        server, client = zmqstream.ZMQStream(rep), zmqstream.ZMQStream(req)
        server.on_recv_stream(lambda stream, msg: stream.send_multipart([b"re:" + msg[0]]))
        replies = Collector()
        client.on_recv(replies)
        for i in range(20):
            client.send(b"%d" % i)
            await replies.wait_for(i + 1)
        assert [msg for (msg,) in replies.calls] == [[b"re:%d" % i] for i in range(20)]
        server.close()
        client.close()
    run(impl, body)
