"""asyncio behaviours of pyzmq that programs rely on: shadowing a plain
socket, poll(timeout=0), a pending poll on a socket that closes, monitor
messages.  Run against mqcore and (MQCORE_TEST_IMPL=zmq) pyzmq."""

import asyncio
import importlib
import inspect
import uuid

import pytest


@pytest.fixture
def zaio(zmq):
    return importlib.import_module(f"{zmq.__name__}.asyncio")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 10))


def test_asyncio_socket_shadows_a_plain_socket(zmq, zaio, ctx):
    plain_a = ctx.socket(zmq.PAIR)
    plain_b = ctx.socket(zmq.PAIR)
    name = f"inproc://aio-{uuid.uuid4().hex}"
    plain_a.linger = plain_b.linger = 0
    plain_a.bind(name)
    plain_b.connect(name)

    async def main():
        a = zaio.Socket(plain_a)
        b = zaio.Socket.from_socket(plain_b)
        assert a.underlying == plain_a.underlying
        assert b.underlying == plain_b.underlying
        await a.send(b"ping")
        assert await b.recv() == b"ping"
        # And back to a plain socket from an asyncio one.
        sync_b = zmq.Socket.shadow(b.underlying)
        await a.send(b"pong")
        assert sync_b.recv() == b"pong"

    try:
        run(main())
    finally:
        plain_a.close()
        plain_b.close()


def test_asyncio_context_shadows_a_plain_context(zmq, zaio, ctx):
    actx = zaio.Context(ctx)
    assert actx.underlying == ctx.underlying
    assert isinstance(actx, zaio.Context)
    sync_again = zmq.Context(actx)
    assert sync_again.underlying == ctx.underlying


def test_poll_with_zero_timeout_resolves_at_once(zmq, zaio):
    async def main():
        with zaio.Context() as actx:
            s = actx.socket(zmq.PULL)
            s.linger = 0
            try:
                future = s.poll(timeout=0)
                await asyncio.sleep(0)
                assert future.done()
                assert future.result() == 0
            finally:
                s.close()

    run(main())


def test_pending_poll_is_cancelled_when_its_socket_closes(zmq, zaio):
    async def main():
        actx = zaio.Context()
        s = actx.socket(zmq.PULL)
        s.linger = 0
        pending = s.poll(timeout=10_000)
        await asyncio.sleep(0.01)
        s.close()
        for _ in range(20):
            if pending.done():
                break
            await asyncio.sleep(0.01)
        assert pending.cancelled()
        actx.term()

    run(main())


def test_recv_monitor_message_is_awaitable_on_asyncio_sockets(zmq, zaio):
    monitor_mod = importlib.import_module(f"{zmq.__name__}.utils.monitor")

    async def main():
        actx = zaio.Context()
        s = actx.socket(zmq.PUSH)
        s.linger = 0
        mon = s.get_monitor_socket()
        try:
            assert isinstance(mon, zaio.Socket)
            pending = monitor_mod.recv_monitor_message(mon)
            assert inspect.isawaitable(pending)
            s.bind("tcp://127.0.0.1:*")
            event = await asyncio.wait_for(pending, 5)
            assert event["event"] == zmq.EVENT_LISTENING
        finally:
            s.disable_monitor()
            mon.close()
            s.close()
            actx.term()

    run(main())


def test_client_socket_in_asyncio(zmq, zaio):
    # CLIENT has no FD (thread-safe): an asyncio one must still be made,
    # where the library has the draft socket types at all.
    async def main():
        actx = zaio.Context()
        try:
            if zmq.has("draft"):
                s = actx.socket(zmq.CLIENT)
                s.close(linger=0)
            else:
                with pytest.raises((zmq.ZMQError, RuntimeError)):
                    actx.socket(zmq.CLIENT)
        finally:
            actx.destroy(linger=0)

    run(main())


def test_unclosed_asyncio_socket_warns(zmq, zaio):
    actx = zaio.Context()
    s = actx.socket(zmq.PUSH)
    with pytest.warns(ResourceWarning, match="Unclosed socket"):
        del s
        import gc
        gc.collect()
    actx.term()


def test_deprecated_event_loop_names(zmq):
    """pyzmq 17 made its own event loop unnecessary; the old names remain
    and warn, and the loop they give runs sockets."""
    import importlib
    import warnings
    zaio = importlib.import_module(zmq.__name__ + ".asyncio")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        zaio.install()
        loop = zaio.ZMQEventLoop()
    # Once per process, as pyzmq (an earlier test may have had it).
    assert [w.category for w in caught] in ([DeprecationWarning], [])
    assert isinstance(loop, zaio.SelectorEventLoop) and zaio.Future is asyncio.Future
    assert issubclass(zaio.ProactorSelectorThreadWarning, RuntimeWarning)

    async def round_trip():
        ctx = zaio.Context()
        try:
            a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
            a.bind("inproc://deprecated-loop")
            b.connect("inproc://deprecated-loop")
            await a.send(b"x")
            return await asyncio.wait_for(b.recv(), 5)
        finally:
            ctx.destroy(linger=0)

    try:
        assert loop.run_until_complete(round_trip()) == b"x"
    finally:
        loop.close()
