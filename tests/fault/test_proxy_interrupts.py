"""proxy() keeps the message in hand when a blocking send is interrupted.

A send the proxy makes to a slow consumer blocks. The thread-safe socket
types wake every 100 ms so that Python can run signal handlers, and a signal
interrupts the others; neither may cost a frame. A handler that returns
lets the proxy go on where it was; one that raises (Ctrl-C) ends the proxy
with its exception, and the message in hand is then delivered whole or not
at all, so a restarted proxy (and the consumer) still see whole messages.

The proxy runs in the main thread here, where Python runs signal handlers;
the producer and the slow consumer are threads. Every wait has a timeout.
"""

import os
import signal
import threading
import time

import pytest

IMPL = os.environ.get("MQCORE_TEST_IMPL", "mqcore").strip() or "mqcore"

pytestmark = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="POSIX signals")
mqcore_only = pytest.mark.skipif(IMPL != "mqcore", reason="mqcore behaviour (libzmq drops the frame in hand)")


class Interrupted(Exception):
    pass


class Consumer(threading.Thread):
    """Reads `count` messages slowly (pausing as `pause(i)` says), then
    stops the proxy with TERMINATE on its control socket."""

    def __init__(self, zmq, ctx, sock, control_addr, count, pause, multipart=True, last=None):
        super().__init__(daemon=True)
        self.zmq = zmq
        self.ctx = ctx
        self.sock = sock
        self.control_addr = control_addr
        self.count = count
        self.pause = pause
        self.multipart = multipart
        self.last = last            # the producer's last index: stop after it
        self.got = []
        self.error = None

    def run(self):
        zmq = self.zmq
        sock = self.sock
        control = self.ctx.socket(zmq.PAIR)
        control.linger = 0
        try:
            control.connect(self.control_addr)
            for i in range(self.count):
                delay = self.pause(i)
                if delay:
                    time.sleep(delay)
                msg = sock.recv_multipart() if self.multipart else [sock.recv()]
                self.got.append(msg)
                if self.last is not None and msg[0] == b"%d" % self.last:
                    break
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            control.send(b"TERMINATE")
            control.close()


def run_in_main_thread(zmq, front, back, control):
    """proxy_steerable in this thread, where signal handlers run (the
    test's watchdog ends it if it overruns)."""
    return zmq.proxy_steerable(front, back, None, control)


def whole(msgs, frames):
    """The indexes of the messages, checking each has its frames intact."""
    out = []
    for msg in msgs:
        assert len(msg) == frames, msg
        i = int(msg[0])
        assert msg[1:] == [b"body-%d" % i] * (frames - 2) + [b"end-%d" % i], msg
        out.append(i)
    return out


def multipart(i, frames):
    return [b"%d" % i] + [b"body-%d" % i] * (frames - 2) + [b"end-%d" % i]


@pytest.fixture
def watchdog(ctx):
    """Terminates the test's context if the test overruns, which ends a
    proxy (and every blocked call) stuck in this thread."""
    timers = []

    def arm(seconds):
        t = threading.Timer(seconds, lambda: threading.Thread(target=ctx.destroy, kwargs={"linger": 0},
                                                              daemon=True).start())
        t.start()
        timers.append(t)

    yield arm
    for t in timers:
        t.cancel()


@pytest.fixture
def itimer():
    """itimer(interval): SIGALRM every `interval` s with a handler that
    returns (counts); returns the counter. Stopped at teardown."""
    hits = [0]

    def handler(signum, frame):
        hits[0] += 1

    old = signal.signal(signal.SIGALRM, handler)

    def start(interval):
        signal.setitimer(signal.ITIMER_REAL, interval, interval)
        return hits

    yield start
    signal.setitimer(signal.ITIMER_REAL, 0, 0)
    signal.signal(signal.SIGALRM, old)


def pipeline(zmq, ctx, name, front_type, back_type, app_type, worker_type, hwm):
    """app -> [front | proxy | back] -> worker, all inproc on one context."""
    front = ctx.socket(front_type)
    back = ctx.socket(back_type)
    control = ctx.socket(zmq.PAIR)
    app = ctx.socket(app_type)
    worker = ctx.socket(worker_type)
    for s in (front, back, control, app, worker):
        s.linger = 0
    back.sndhwm = hwm
    worker.rcvhwm = hwm
    worker.rcvtimeo = 3000
    app.sndtimeo = 10_000
    front.bind(f"inproc://{name}-front")
    worker.bind(f"inproc://{name}-worker")
    control.bind(f"inproc://{name}-control")
    app.connect(f"inproc://{name}-front")
    back.connect(f"inproc://{name}-worker")
    return front, back, control, app, worker


def close_all(*socks):
    for s in socks:
        if not s.closed:
            s.close()


def produce(app, messages, send):
    def run():
        for m in messages:
            send(app, m)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


@mqcore_only
@pytest.mark.parametrize("types", [("SERVER", "CLIENT", "CLIENT", "SERVER"),
                                   ("GATHER", "SCATTER", "SCATTER", "GATHER")])
def test_thread_safe_types_lose_nothing_when_sends_block_past_100ms(zmq, ctx, watchdog, types):
    # The thread-safe types' blocking send returns every 100 ms to let
    # Python run handlers: each of those wake-ups must keep the message.
    front_t, back_t, app_t, worker_t = (getattr(zmq, t) for t in types)
    front, back, control, app, worker = pipeline(zmq, ctx, "ts-" + types[0], front_t, back_t,
                                                 app_t, worker_t, hwm=2)
    count = 120
    consumer = Consumer(zmq, ctx, worker, f"inproc://ts-{types[0]}-control", count,
                        pause=lambda i: 0.25 if i % 40 == 0 else 0, multipart=False)
    watchdog(40)
    producer = produce(app, [b"%d" % i for i in range(count)], lambda s, m: s.send(m))
    consumer.start()
    try:
        run_in_main_thread(zmq, front, back, control)
    finally:
        consumer.join(20)
        producer.join(5)
        close_all(front, back, control, app, worker)
    assert consumer.error is None, consumer.error
    assert [int(m[0]) for m in consumer.got] == list(range(count))


@mqcore_only
def test_signal_during_blocking_send_keeps_multipart_messages_whole(zmq, ctx, watchdog, itimer):
    # A signal whose handler returns, over and over, while the proxy's send
    # to a slow consumer blocks: every message arrives, whole, in order.
    front, back, control, app, worker = pipeline(zmq, ctx, "sig", zmq.PULL, zmq.PUSH,
                                                 zmq.PUSH, zmq.PULL, hwm=1)
    count, frames = 150, 4
    consumer = Consumer(zmq, ctx, worker, "inproc://sig-control", count,
                        pause=lambda i: 0.002 if i % 3 == 0 else 0)
    watchdog(40)
    producer = produce(app, [multipart(i, frames) for i in range(count)],
                       lambda s, m: s.send_multipart(m))
    consumer.start()
    hits = itimer(0.0005)
    try:
        run_in_main_thread(zmq, front, back, control)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        consumer.join(20)
        producer.join(5)
        close_all(front, back, control, app, worker)
    assert consumer.error is None, consumer.error
    assert hits[0] > 0
    assert whole(consumer.got, frames) == list(range(count))


@mqcore_only
def test_ctrl_c_during_blocking_send_keeps_framing_for_a_restart(zmq, ctx, watchdog):
    # A handler that raises ends the proxy with its exception. The message
    # in hand goes whole or not at all: a restarted proxy goes on with whole
    # messages, and at most that one is missing.
    front, back, control, app, worker = pipeline(zmq, ctx, "kbd", zmq.PULL, zmq.PUSH,
                                                 zmq.PUSH, zmq.PULL, hwm=1)
    count, frames = 60, 3
    consumer = Consumer(zmq, ctx, worker, "inproc://kbd-control", count,
                        pause=lambda i: 0.6 if i == 5 else 0, last=count - 1)

    def handler(signum, frame):
        raise Interrupted()

    old = signal.signal(signal.SIGUSR1, handler)
    watchdog(40)
    producer = produce(app, [multipart(i, frames) for i in range(count)],
                       lambda s, m: s.send_multipart(m))
    consumer.start()
    # The consumer stalls 0.6 s after 5 messages: the proxy's send blocks.
    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGUSR1)).start()
    try:
        with pytest.raises(Interrupted):
            run_in_main_thread(zmq, front, back, control)
        run_in_main_thread(zmq, front, back, control)
    finally:
        signal.signal(signal.SIGUSR1, old)
        consumer.join(20)
        producer.join(5)
        close_all(front, back, control, app, worker)
    assert consumer.error is None, consumer.error
    got = whole(consumer.got, frames)
    assert got == sorted(got)
    assert got[-1] == count - 1
    assert len(got) >= count - 1
