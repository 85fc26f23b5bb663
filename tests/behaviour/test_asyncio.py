"""asyncio sockets (``<impl>.asyncio``): awaitable send/recv/poll, Poller,
timeouts, cancellation, HWM back-pressure and interop with plain pyzmq.

Each test runs its coroutine with ``asyncio.run``; every await is bounded
by ``asyncio.wait_for(..., 5)`` (the ``bounded`` helper) so a broken
implementation fails instead of hanging.
"""
import asyncio
import contextlib
import importlib
import socket as _socket

import pytest

LIMIT = 5  # seconds, for every await


def bounded(awaitable, limit=LIMIT):
    return asyncio.wait_for(awaitable, limit)


@pytest.fixture
def zaio(zmq):
    """The asyncio module of the implementation under test."""
    return importlib.import_module(zmq.__name__ + ".asyncio")


@pytest.fixture
def actx(zaio):
    c = zaio.Context()
    yield c
    c.destroy(linger=0)


@pytest.fixture
def asock(actx, make_socket):
    """``asock(TYPE, **opts)``: asyncio socket (RCVTIMEO=SNDTIMEO=5000, LINGER=0)."""
    return lambda socket_type, **opts: make_socket(actx, socket_type, **opts)


def pipe(zmq, asock, endpoint, transport="tcp", a=None, b=None, **opts):
    """A bound socket of type *a* and a socket of type *b* connected to it."""
    first = asock(a if a is not None else zmq.PULL, **opts)
    addr = endpoint.bind(first, transport)
    second = asock(b if b is not None else zmq.PUSH, **opts)
    second.connect(addr)
    return first, second


# --------------------------------------------------------------------------
# module shape
# --------------------------------------------------------------------------

def test_context_makes_async_sockets(zmq, zaio, actx):
    s = actx.socket(zmq.PULL)
    try:
        assert isinstance(s, zaio.Socket)
        assert isinstance(s, zmq.Socket)
        assert isinstance(actx, zmq.Context)
    finally:
        s.close(linger=0)


def test_instance_is_an_async_context_of_its_own(zmq, zaio):
    shared = zaio.Context.instance()
    assert isinstance(shared, zaio.Context)
    assert zaio.Context.instance() is shared
    s = shared.socket(zmq.PUSH)
    try:
        assert isinstance(s, zaio.Socket)
    finally:
        s.close(linger=0)


def test_methods_return_futures(zmq, asock, endpoint):
    pull, push = pipe(zmq, asock, endpoint, "inproc")

    async def main():
        sent = push.send(b"x")
        received = pull.recv()
        assert asyncio.isfuture(sent) and asyncio.isfuture(received)
        await bounded(sent)
        assert await bounded(received) == b"x"
        polled = pull.poll(0)
        assert asyncio.isfuture(polled)
        assert await bounded(polled) == 0

    asyncio.run(main())


# --------------------------------------------------------------------------
# round trips
# --------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["tcp", "inproc"])
def test_push_pull_round_trip(zmq, asock, endpoint, transport):
    pull, push = pipe(zmq, asock, endpoint, transport)

    async def main():
        waiting = asyncio.ensure_future(pull.recv())   # recv before the send
        await asyncio.sleep(0.01)
        await bounded(push.send(b"first"))
        assert await bounded(waiting) == b"first"
        for i in range(100):
            await bounded(push.send(b"%d" % i))
        got = [await bounded(pull.recv()) for _ in range(100)]
        assert got == [b"%d" % i for i in range(100)]

    asyncio.run(main())


def test_req_rep_round_trip_with_serialisers(zmq, asock, endpoint):
    rep, req = pipe(zmq, asock, endpoint, "tcp", a=zmq.REP, b=zmq.REQ)

    async def server():
        assert await bounded(rep.recv_string()) == "héllo"
        await bounded(rep.send_string("wörld"))
        obj = await bounded(rep.recv_json())
        await bounded(rep.send_json({"echo": obj}))
        obj = await bounded(rep.recv_pyobj())
        await bounded(rep.send_pyobj(("back", obj)))
        frames = await bounded(rep.recv_serialized(lambda fs: [f.upper() for f in fs]))
        await bounded(rep.send_serialized(frames, lambda m: m[::-1]))

    async def client():
        await bounded(req.send_string("héllo"))
        assert await bounded(req.recv_string()) == "wörld"
        await bounded(req.send_json({"n": [1, 2]}))
        assert await bounded(req.recv_json()) == {"echo": {"n": [1, 2]}}
        await bounded(req.send_pyobj({3, 4}))
        assert await bounded(req.recv_pyobj()) == ("back", {3, 4})
        await bounded(req.send_multipart([b"a", b"b"]))
        assert await bounded(req.recv_multipart()) == [b"B", b"A"]

    async def main():
        await bounded(asyncio.gather(server(), client()))

    asyncio.run(main())


def test_recv_multipart(zmq, asock, endpoint):
    router, dealer = pipe(zmq, asock, endpoint, "tcp", a=zmq.ROUTER, b=zmq.DEALER)

    async def main():
        waiting = asyncio.ensure_future(router.recv_multipart())
        await bounded(dealer.send_multipart([b"one", b"", b"three" * 1000]))
        ident, *rest = await bounded(waiting)
        assert rest == [b"one", b"", b"three" * 1000]
        await bounded(router.send_multipart([ident, b"reply", b"2"]))
        frames = await bounded(dealer.recv_multipart(copy=False))
        assert [f.bytes for f in frames] == [b"reply", b"2"]

    asyncio.run(main())


def test_many_concurrent_receivers_on_different_sockets(zmq, asock, endpoint):
    pairs = [pipe(zmq, asock, endpoint, "inproc" if i % 2 else "tcp") for i in range(20)]

    async def receive(pull):
        return await pull.recv()

    async def main():
        tasks = [asyncio.ensure_future(receive(pull)) for pull, _ in pairs]
        await asyncio.sleep(0.05)
        assert not any(t.done() for t in tasks)
        for i, (_, push) in reversed(list(enumerate(pairs))):
            await bounded(push.send(b"to %d" % i))
        results = await bounded(asyncio.gather(*tasks))
        assert results == [b"to %d" % i for i in range(len(pairs))]

    asyncio.run(main())


def test_queued_receivers_on_one_socket_are_served_in_order(zmq, asock, endpoint):
    pull, push = pipe(zmq, asock, endpoint, "inproc")

    async def main():
        futures = [pull.recv() for _ in range(5)]
        for i in range(5):
            await bounded(push.send(b"%d" % i))
        assert await bounded(asyncio.gather(*futures)) == [b"%d" % i for i in range(5)]

    asyncio.run(main())


# --------------------------------------------------------------------------
# timeouts and cancellation
# --------------------------------------------------------------------------

def test_recv_timeout_raises_again(zmq, asock, endpoint, is_again):
    pull, _push = pipe(zmq, asock, endpoint, "tcp")
    pull.rcvtimeo = 100

    async def main():
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(zmq.Again) as info:
            await bounded(pull.recv())
        assert is_again(info.value)
        assert 0.05 <= loop.time() - start < 3

    asyncio.run(main())


def test_noblock_recv_raises_again_at_once(zmq, asock, endpoint):
    pull, _push = pipe(zmq, asock, endpoint, "inproc")

    async def main():
        with pytest.raises(zmq.Again):
            await bounded(pull.recv(zmq.NOBLOCK))

    asyncio.run(main())


def test_cancelled_recv_does_not_lose_the_next_message(zmq, asock, endpoint):
    pull, push = pipe(zmq, asock, endpoint, "tcp")

    async def main():
        task = asyncio.ensure_future(pull.recv())
        await asyncio.sleep(0.05)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await bounded(task)
        assert task.cancelled()

        # a recv abandoned by wait_for's timeout is cancelled the same way
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(pull.recv_multipart(), 0.05)

        await bounded(push.send(b"kept"))
        assert await bounded(pull.recv()) == b"kept"

    asyncio.run(main())


def test_cancelled_future_is_skipped_in_favour_of_the_next_receiver(zmq, asock, endpoint):
    pull, push = pipe(zmq, asock, endpoint, "inproc")

    async def main():
        first = pull.recv()
        second = pull.recv()
        first.cancel()
        await bounded(push.send(b"only"))
        assert await bounded(second) == b"only"
        assert first.cancelled()

    asyncio.run(main())


def test_recvs_abandoned_by_timeouts_never_drop_messages(zmq, asock, endpoint):
    """Receives keep timing out while messages trickle in: none is lost."""
    pull, push = pipe(zmq, asock, endpoint, "tcp")
    count = 200

    async def produce():
        for i in range(count):
            await bounded(push.send(b"%d" % i))
            if i % 7 == 0:
                await asyncio.sleep(0.001)

    async def consume():
        got = []
        while len(got) < count:
            try:
                got.append(await asyncio.wait_for(pull.recv(), 0.0005 * (len(got) % 5)))
            except asyncio.TimeoutError:
                pass
        return got

    async def main():
        _, got = await bounded(asyncio.gather(produce(), consume()), 20)
        assert got == [b"%d" % i for i in range(count)]

    asyncio.run(main())


# --------------------------------------------------------------------------
# polling
# --------------------------------------------------------------------------

def test_poller_poll_with_timeout(zmq, zaio, asock, endpoint):
    pull, push = pipe(zmq, asock, endpoint, "tcp")

    async def main():
        poller = zaio.Poller()
        poller.register(pull, zmq.POLLIN)
        loop = asyncio.get_running_loop()
        start = loop.time()
        assert await bounded(poller.poll(100)) == []
        assert loop.time() - start >= 0.05

        waiting = asyncio.ensure_future(poller.poll(LIMIT * 1000))
        await asyncio.sleep(0.02)
        assert not waiting.done()
        await bounded(push.send(b"wake"))
        assert await bounded(waiting) == [(pull, zmq.POLLIN)]
        assert await bounded(pull.recv()) == b"wake"

    asyncio.run(main())


def test_socket_poll(zmq, asock, endpoint):
    pull, push = pipe(zmq, asock, endpoint, "inproc")

    async def main():
        assert await bounded(pull.poll(50)) == 0
        assert await bounded(push.poll(1000, zmq.POLLOUT)) == zmq.POLLOUT
        waiting = asyncio.ensure_future(pull.poll())
        await asyncio.sleep(0.02)
        await bounded(push.send(b"x"))
        assert await bounded(waiting) == zmq.POLLIN
        assert await bounded(pull.recv()) == b"x"

    asyncio.run(main())


def test_poller_watches_a_plain_fd(zmq, zaio):
    a, b = _socket.socketpair()
    try:
        async def main():
            poller = zaio.Poller()
            poller.register(a, zmq.POLLIN)
            assert await bounded(poller.poll(50)) == []
            waiting = asyncio.ensure_future(poller.poll())
            await asyncio.sleep(0.02)
            b.send(b"!")
            assert await bounded(waiting) == [(a.fileno(), zmq.POLLIN)]

        asyncio.run(main())
    finally:
        a.close()
        b.close()


# --------------------------------------------------------------------------
# back-pressure
# --------------------------------------------------------------------------

def test_send_blocked_at_hwm_resumes_when_the_peer_reads(zmq, asock, endpoint):
    pull, push = pipe(zmq, asock, endpoint, "inproc", sndhwm=1, rcvhwm=1)

    async def main():
        sent = 0
        blocked = None
        for _ in range(1000):
            future = push.send(b"m%d" % sent)
            done, _ = await asyncio.wait({future}, timeout=0.1)
            if not done:
                blocked = future
                break
            future.result()
            sent += 1
        assert blocked is not None, "send never blocked at the high-water mark"
        assert 1 <= sent < 1000
        assert await bounded(pull.recv()) == b"m0"
        await bounded(blocked)          # room again: the pending send goes out
        got = [await bounded(pull.recv()) for _ in range(sent)]
        assert got == [b"m%d" % i for i in range(1, sent + 1)]

    asyncio.run(main())


def test_send_timeout_raises_again(zmq, asock):
    push = asock(zmq.PUSH, sndtimeo=100)   # no peer at all: nowhere to send

    async def main():
        with pytest.raises(zmq.Again):
            await bounded(push.send(b"lost"))

    asyncio.run(main())


# --------------------------------------------------------------------------
# interop with plain pyzmq
# --------------------------------------------------------------------------

@pytest.mark.interop
def test_interop_with_plain_pyzmq_over_tcp(zmq, asock, psock, endpoint, pyzmq):
    router = psock(pyzmq.ROUTER)
    router.bind("tcp://127.0.0.1:*")
    addr = router.getsockopt(pyzmq.LAST_ENDPOINT).decode()
    dealer = asock(zmq.DEALER)
    dealer.connect(addr)

    def serve_one():
        ident, *body = router.recv_multipart()     # RCVTIMEO 5 s
        router.send_multipart([ident, b"re:"] + body)

    async def main():
        server = asyncio.ensure_future(asyncio.to_thread(serve_one))
        await bounded(dealer.send_multipart([b"ping", b"2"]))
        assert await bounded(dealer.recv_multipart()) == [b"re:", b"ping", b"2"]
        await bounded(server)

        # and the other direction: plain pyzmq PUSH to an asyncio PULL
        pull = asock(zmq.PULL)
        port = pull.bind_to_random_port("tcp://127.0.0.1")
        push = psock(pyzmq.PUSH)
        push.connect(f"tcp://127.0.0.1:{port}")
        waiting = asyncio.ensure_future(pull.recv_multipart())
        push.send_multipart([b"from", b"pyzmq"])
        assert await bounded(waiting) == [b"from", b"pyzmq"]

    asyncio.run(main())
