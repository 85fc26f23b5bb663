"""zmq.eventloop.future (tornado-future sockets) and zmq.eventloop.ioloop,
for mqcore and pyzmq alike (``impl`` is the top-level module under test)."""

from __future__ import annotations

import asyncio
import importlib
import warnings

import pytest
import tornado.concurrent
import tornado.gen
import tornado.ioloop

WAIT_S = 5


@pytest.fixture(params=["mqcore", "zmq"])
def impl(request):
    return importlib.import_module(request.param)


@pytest.fixture
def future(impl):
    return importlib.import_module(f"{impl.__name__}.eventloop.future")


def run_sync(coroutine_function):
    """Run a tornado coroutine on a fresh tornado IOLoop (bounded)."""
    loop = tornado.ioloop.IOLoop(make_current=False)
    try:
        return loop.run_sync(coroutine_function, timeout=WAIT_S * 2)
    finally:
        loop.close(all_fds=False)


def _pair(impl, ctx):
    a, b = ctx.socket(impl.PAIR), ctx.socket(impl.PAIR)
    for sock in (a, b):
        sock.linger = 0
    port = a.bind_to_random_port("tcp://127.0.0.1")
    b.connect(f"tcp://127.0.0.1:{port}")
    return a, b


def test_send_and_recv_return_tornado_futures(impl, future):
    async def main():
        ctx = future.Context()
        try:
            a, b = _pair(impl, ctx)
            received = b.recv_multipart()
            assert isinstance(received, tornado.concurrent.Future)
            sent = a.send_multipart([b"hello", b"tornado"])
            assert isinstance(sent, tornado.concurrent.Future)
            await sent
            assert await asyncio.wait_for(received, WAIT_S) == [b"hello", b"tornado"]
            await a.send_json({"n": 1})
            assert await asyncio.wait_for(b.recv_json(), WAIT_S) == {"n": 1}
            await b.send_string("back")
            assert await asyncio.wait_for(a.recv_string(), WAIT_S) == "back"
        finally:
            ctx.destroy(linger=0)
    run_sync(main)


def test_gen_coroutine_yields_socket_futures(impl, future):
    @tornado.gen.coroutine
    def main():
        ctx = future.Context()
        try:
            a, b = _pair(impl, ctx)
            yield a.send(b"yielded")
            frame = yield b.recv(copy=False)
            assert frame.bytes == b"yielded"
        finally:
            ctx.destroy(linger=0)
    run_sync(main)


def test_poller_returns_a_future_of_ready_sockets(impl, future):
    async def main():
        ctx = future.Context()
        try:
            a, b = _pair(impl, ctx)
            poller = future.Poller()
            poller.register(b, impl.POLLIN)
            assert await poller.poll(timeout=20) == []
            pending = poller.poll(timeout=WAIT_S * 1000)
            assert isinstance(pending, tornado.concurrent.Future)
            await a.send(b"wake")
            assert await pending == [(b, impl.POLLIN)]
            assert await b.poll(timeout=WAIT_S * 1000) == impl.POLLIN
            assert await b.recv() == b"wake"
        finally:
            ctx.destroy(linger=0)
    run_sync(main)


def test_rcvtimeo_fails_the_future_with_again(impl, future):
    async def main():
        ctx = future.Context()
        try:
            _a, b = _pair(impl, ctx)
            b.rcvtimeo = 30
            with pytest.raises(impl.Again):
                await asyncio.wait_for(b.recv(), WAIT_S)
        finally:
            ctx.destroy(linger=0)
    run_sync(main)


def test_cancelled_recv_leaves_the_message_for_the_next(impl, future):
    async def main():
        ctx = future.Context()
        try:
            a, b = _pair(impl, ctx)
            first = b.recv()
            assert first.cancel()
            assert first.cancelled()
            await a.send(b"kept")
            assert await asyncio.wait_for(b.recv(), WAIT_S) == b"kept"
        finally:
            ctx.destroy(linger=0)
    run_sync(main)


def test_context_classes(impl, future):
    assert issubclass(future.Context, impl.Context)
    assert issubclass(future.Socket, impl.Socket)
    assert issubclass(future.Poller, impl.Poller)
    shared = future.Context.instance()
    try:
        assert isinstance(shared, future.Context)
        assert shared is future.Context.instance()
        assert shared is not impl.Context.instance()
        sock = shared.socket(impl.PUSH)
        assert isinstance(sock, future.Socket)
        sock.close(linger=0)
    finally:
        shared.term()
    with pytest.warns(DeprecationWarning):
        ctx = future.Context(io_loop=tornado.ioloop.IOLoop.current())
    ctx.term()


def test_ioloop_module_is_tornados(impl):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ioloop = importlib.import_module(f"{impl.__name__}.eventloop.ioloop")
    assert ioloop.IOLoop is tornado.ioloop.IOLoop
    assert ioloop.ZMQIOLoop is tornado.ioloop.IOLoop
    with pytest.warns(DeprecationWarning):
        ioloop.install()
    eventloop = importlib.import_module(f"{impl.__name__}.eventloop")
    assert eventloop.IOLoop is tornado.ioloop.IOLoop
