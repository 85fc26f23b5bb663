"""zmq.green on gevent: blocking calls block only the calling greenlet.

Run for mqcore and pyzmq alike where pyzmq has the behaviour (``impl`` is
the top-level module; ``green`` its green module).  Nothing is
monkey-patched.  "The hub kept running" is proven by a ticker greenlet that
must have advanced while another greenlet was blocked in a socket call: a
call that blocked the whole thread would leave it at zero.
"""

from __future__ import annotations

import importlib
import os
import warnings

import gevent
import gevent.event
import pytest

WAIT_S = 5


@pytest.fixture(params=["mqcore", "zmq"])
def impl(request):
    return importlib.import_module(request.param)


@pytest.fixture
def green(impl):
    return importlib.import_module(f"{impl.__name__}.green")


@pytest.fixture
def gctx(green):
    ctx = green.Context()
    yield ctx
    ctx.destroy(linger=0)


class Ticker:
    """A greenlet counting its turns: proof that the hub was free."""

    def __init__(self):
        self.ticks = 0
        self._greenlet = gevent.spawn(self._run)

    def _run(self):
        while True:
            self.ticks += 1
            gevent.sleep(0.001)

    def stop(self):
        self._greenlet.kill(block=True, timeout=WAIT_S)


def _socket(ctx, kind):
    sock = ctx.socket(kind)
    sock.linger = 0
    return sock


def _tcp_pair(green, ctx, kind_a, kind_b):
    a, b = _socket(ctx, kind_a), _socket(ctx, kind_b)
    port = a.bind_to_random_port("tcp://127.0.0.1")
    b.connect(f"tcp://127.0.0.1:{port}")
    return a, b


def _join(*greenlets):
    done = gevent.joinall(greenlets, timeout=WAIT_S * 2, raise_error=True)
    assert len(done) == len(greenlets), "greenlets did not finish"
    return [g.value for g in greenlets]


def test_green_names(impl, green):
    assert issubclass(green.Context, impl.Context)
    assert issubclass(green.Socket, impl.Socket)
    assert issubclass(green.Poller, impl.Poller)
    assert callable(green.device)
    # Everything else is the plain module's.
    assert green.PUSH == impl.PUSH
    assert green.ZMQError is impl.ZMQError
    assert green.Frame is impl.Frame
    shared = green.Context.instance()
    try:
        assert isinstance(shared, green.Context)
        assert isinstance(shared.socket(impl.PUB), green.Socket)
    finally:
        shared.destroy(linger=0)


def test_ping_pong_greenlets_while_a_third_runs(impl, green, gctx):
    a, b = _tcp_pair(green, gctx, impl.PAIR, impl.PAIR)
    ticker = Ticker()
    rounds = 50

    def ping():
        for i in range(rounds):
            a.send_multipart([b"ping", b"%d" % i])
            assert a.recv() == b"pong %d" % i
        return "ping done"

    def pong():
        for _ in range(rounds):
            kind, number = b.recv_multipart()
            b.send_string(f"pong {number.decode()}")
        return "pong done"

    try:
        # pong starts first and blocks in recv before anything is sent.
        assert _join(gevent.spawn(pong), gevent.spawn(ping)) == ["pong done", "ping done"]
        assert ticker.ticks > 0
    finally:
        ticker.stop()


def test_recv_waits_for_a_later_sender(impl, green, gctx):
    pull, push = _tcp_pair(green, gctx, impl.PULL, impl.PUSH)
    started = gevent.event.Event()

    def receiver():
        started.set()
        return pull.recv()

    def sender():
        started.wait(WAIT_S)
        gevent.sleep(0.01)  # the receiver is asleep in recv by now
        push.send(b"late")

    assert _join(gevent.spawn(receiver), gevent.spawn(sender))[0] == b"late"


def test_send_waits_for_a_peer(impl, green, gctx):
    # A PUSH without any peer cannot send: only this greenlet waits.
    push = _socket(gctx, impl.PUSH)
    port = push.bind_to_random_port("tcp://127.0.0.1")
    ticker = Ticker()

    def sender():
        push.send(b"held")
        return ticker.ticks

    def late_peer():
        gevent.sleep(0.02)
        pull = _socket(gctx, impl.PULL)
        pull.connect(f"tcp://127.0.0.1:{port}")
        return pull.recv()

    try:
        ticks_at_send, received = _join(gevent.spawn(sender), gevent.spawn(late_peer))
        assert received == b"held"
        assert ticks_at_send > 0
    finally:
        ticker.stop()


def test_green_poller_waits_cooperatively(impl, green, gctx):
    a, b = _tcp_pair(green, gctx, impl.PAIR, impl.PAIR)
    poller = green.Poller()
    poller.register(b, impl.POLLIN)
    ticker = Ticker()
    try:
        assert poller.poll(timeout=30) == []
        assert ticker.ticks > 0

        def poll_forever():
            return poller.poll()

        def send_later():
            gevent.sleep(0.01)
            a.send(b"wake")

        ready, _ = _join(gevent.spawn(poll_forever), gevent.spawn(send_later))
        assert ready == [(b, impl.POLLIN)]
        assert b.recv() == b"wake"
        assert b.poll(0) == 0
    finally:
        ticker.stop()


def test_green_poller_with_a_plain_fd(impl, green, gctx):
    rfd, wfd = os.pipe()
    try:
        sock = _socket(gctx, impl.PULL)
        poller = green.Poller()
        poller.register(sock, impl.POLLIN)
        poller.register(rfd, impl.POLLIN)

        def write_later():
            gevent.sleep(0.01)
            os.write(wfd, b"x")

        ready, _ = _join(gevent.spawn(poller.poll, WAIT_S * 1000), gevent.spawn(write_later))
        assert ready == [(rfd, impl.POLLIN)]
    finally:
        os.close(rfd)
        os.close(wfd)


def test_green_device_relays(impl, green, gctx):
    frontend = _socket(gctx, impl.ROUTER)
    backend = _socket(gctx, impl.DEALER)
    front_port = frontend.bind_to_random_port("tcp://127.0.0.1")
    back_port = backend.bind_to_random_port("tcp://127.0.0.1")
    device = gevent.spawn(green.device, impl.QUEUE, frontend, backend)
    client = _socket(gctx, impl.REQ)
    client.connect(f"tcp://127.0.0.1:{front_port}")
    worker = _socket(gctx, impl.REP)
    worker.connect(f"tcp://127.0.0.1:{back_port}")

    def serve():
        for _ in range(3):
            worker.send(worker.recv().upper())

    def ask():
        replies = []
        for word in (b"a", b"bc", b"def"):
            client.send(word)
            replies.append(client.recv())
        return replies

    try:
        _, replies = _join(gevent.spawn(serve), gevent.spawn(ask))
        assert replies == [b"A", b"BC", b"DEF"]
        assert not device.dead
    finally:
        device.kill(block=True, timeout=WAIT_S)


def test_green_eventloop_zmqstream(impl, green, gctx):
    with warnings.catch_warnings():
        # The ioloop module warns that it is deprecated, as pyzmq's does.
        warnings.simplefilter("ignore", DeprecationWarning)
        zmqstream = importlib.import_module(f"{impl.__name__}.green.eventloop.zmqstream")
        ioloop = importlib.import_module(f"{impl.__name__}.green.eventloop.ioloop")
    eventloop = importlib.import_module(f"{impl.__name__}.green.eventloop")
    assert eventloop.IOLoop is ioloop.IOLoop
    a, b = _tcp_pair(green, gctx, impl.PAIR, impl.PAIR)
    loop = ioloop.IOLoop(make_current=False)
    try:
        stream = zmqstream.ZMQStream(b, io_loop=loop)
        got = []

        def on_recv(msg):
            got.append(msg)
            loop.stop()

        stream.on_recv(on_recv)
        a.send(b"to the stream")
        loop.call_later(WAIT_S, loop.stop)
        loop.start()
        assert got == [[b"to the stream"]]
        stream.close()
    finally:
        loop.close(all_fds=False)


# ----------------------------------------------------------------------
# Where mqcore goes beyond pyzmq's green sockets (pyzmq ignores the TIMEO
# options in zmq.green and allows only one waiting greenlet per direction).
# ----------------------------------------------------------------------

def test_rcvtimeo_raises_again_without_blocking_the_hub():
    import mqcore
    import mqcore.green

    ctx = mqcore.green.Context()
    try:
        sock = _socket(ctx, mqcore.PULL)
        sock.bind("tcp://127.0.0.1:0")
        sock.rcvtimeo = 50
        ticker = Ticker()
        try:
            with pytest.raises(mqcore.Again):
                sock.recv()
            assert ticker.ticks > 0
            push = _socket(ctx, mqcore.PUSH)  # no peer: it can never send
            for timeout in (0, 20):
                push.sndtimeo = timeout
                with pytest.raises(mqcore.Again):
                    push.send(b"nobody")
        finally:
            ticker.stop()
    finally:
        ctx.destroy(linger=0)


def test_several_greenlets_recv_on_one_socket():
    import mqcore
    import mqcore.green

    ctx = mqcore.green.Context()
    try:
        pull, push = _tcp_pair(mqcore.green, ctx, mqcore.PULL, mqcore.PUSH)
        receivers = [gevent.spawn(pull.recv) for _ in range(3)]
        gevent.sleep(0.01)  # all three wait now

        def send_all():
            for word in (b"x", b"y", b"z"):
                push.send(word)

        _join(gevent.spawn(send_all), *receivers)
        assert sorted(g.value for g in receivers) == [b"x", b"y", b"z"]
    finally:
        ctx.destroy(linger=0)


def test_poller_wakes_although_another_greenlet_drained_the_fd(impl, green, gctx):
    # A poller sleeps on a socket; then, with no hub turn in between, two
    # messages arrive (inproc: the sends signal the FD at once) and this
    # greenlet receives the first, which drains the FD.  The second message
    # is still there, so the poller must wake: the change it slept for was
    # consumed behind its back.  (pyzmq's green Poller gets there by
    # re-polling every 1.33 s; mqcore's green sockets pass the change on.)
    pull, push = _socket(gctx, impl.PULL), _socket(gctx, impl.PUSH)
    pull.bind("inproc://drained")
    push.connect("inproc://drained")
    poller = green.Poller()
    poller.register(pull, impl.POLLIN)
    # No timeout: a poll that only re-checks at its deadline must not pass.
    watcher = gevent.spawn(poller.poll)
    try:
        gevent.sleep(0)  # the watcher is asleep in poll now
        push.send(b"1")
        push.send(b"2")
        assert pull.recv(impl.NOBLOCK) == b"1"
        _join(watcher)
        assert watcher.value == [(pull, impl.POLLIN)]
    finally:
        watcher.kill(block=True, timeout=WAIT_S)
    assert pull.recv(impl.NOBLOCK) == b"2"


def test_close_wakes_a_waiting_greenlet_with_an_error(impl, green, gctx):
    pull = _socket(gctx, impl.PULL)
    pull.bind("tcp://127.0.0.1:0")
    waiting = gevent.spawn(pull.recv)
    gevent.sleep(0.01)  # asleep in recv now
    pull.close()
    done = gevent.joinall([waiting], timeout=WAIT_S)
    assert done == [waiting]
    assert isinstance(waiting.exception, impl.ZMQError)
    assert waiting.exception.errno == impl.ENOTSOCK


def test_gevent_timeout_interrupts_recv_and_loses_nothing(impl, green, gctx):
    pull, push = _tcp_pair(green, gctx, impl.PULL, impl.PUSH)
    with pytest.raises(gevent.Timeout):
        with gevent.Timeout(0.02):
            pull.recv()
    push.send(b"after the timeout")
    receiver = gevent.spawn(pull.recv)
    assert _join(receiver) == [b"after the timeout"]
