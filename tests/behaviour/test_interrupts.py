"""Blocking calls release the GIL, honour timeouts and let Python's signal
handlers run (so Ctrl-C interrupts them), as pyzmq's do.

A real SIGINT would make pytest stop the whole session, so these tests send
SIGUSR1 to the process with a handler that raises: the same path
(PyErr_CheckSignals after the wait is interrupted) as KeyboardInterrupt."""
import os
import signal
import threading
import time

import pytest

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="POSIX signals")


class Interrupted(Exception):
    pass


@pytest.fixture
def interrupt_soon():
    """interrupt_soon(delay): SIGUSR1 to this process after `delay` s; its
    handler raises Interrupted in the main thread."""
    def handler(signum, frame):
        raise Interrupted()

    old = signal.signal(signal.SIGUSR1, handler)
    timers = []

    def arm(delay=0.2):
        t = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGUSR1))
        t.start()
        timers.append(t)

    yield arm
    for t in timers:
        t.cancel()
    signal.signal(signal.SIGUSR1, old)


def test_signal_interrupts_a_blocked_recv(zmq, sock, endpoint, interrupt_soon):
    pull = sock(zmq.PULL, rcvtimeo=-1)
    endpoint.bind(pull, "tcp")
    interrupt_soon()
    started = time.monotonic()
    with pytest.raises(Interrupted):
        pull.recv()
    assert time.monotonic() - started < 5


def test_signal_interrupts_a_send_blocked_at_hwm(zmq, sock, endpoint, interrupt_soon):
    push = sock(zmq.PUSH, sndhwm=1, sndtimeo=-1)
    push.connect(endpoint.fixed("tcp"))         # nobody there: one message fits
    push.send(b"fits")
    interrupt_soon()
    with pytest.raises(Interrupted):
        push.send(b"blocks")


def test_signal_interrupts_poll(zmq, sock, endpoint, interrupt_soon):
    pull = sock(zmq.PULL)
    endpoint.bind(pull, "inproc")
    poller = zmq.Poller()
    poller.register(pull, zmq.POLLIN)
    interrupt_soon()
    with pytest.raises(Interrupted):
        poller.poll()           # no timeout


def test_socket_poll_can_be_interrupted(zmq, sock, endpoint, interrupt_soon):
    pull = sock(zmq.PULL)
    endpoint.bind(pull, "inproc")
    interrupt_soon()
    with pytest.raises(Interrupted):
        pull.poll()


def test_interrupted_call_leaves_the_socket_usable(zmq, sock, endpoint, interrupt_soon,
                                                   recv_timeout):
    pull = sock(zmq.PULL, rcvtimeo=-1)
    addr = endpoint.bind(pull, "tcp")
    interrupt_soon()
    with pytest.raises(Interrupted):
        pull.recv()
    push = sock(zmq.PUSH)
    push.connect(addr)
    push.send(b"after")
    assert recv_timeout(pull) == b"after"


def test_blocked_recv_lets_other_threads_run(zmq, sock, endpoint):
    """The wait happens without the GIL: a Python thread keeps counting."""
    pull = sock(zmq.PULL, rcvtimeo=500)
    endpoint.bind(pull, "inproc")
    counts = []
    done = threading.Event()

    def count():
        n = 0
        while not done.is_set():
            n += 1
        counts.append(n)

    t = threading.Thread(target=count)
    t.start()
    time.sleep(0.05)
    with pytest.raises(zmq.Again):
        pull.recv()             # 500 ms in a blocking wait
    done.set()
    t.join(5)
    assert counts and counts[0] > 10_000


@pytest.mark.parametrize("timeout_ms", [0, 100])
def test_rcvtimeo_is_honoured(zmq, sock, endpoint, timeout_ms):
    pull = sock(zmq.PULL, rcvtimeo=timeout_ms)
    endpoint.bind(pull, "inproc")
    started = time.monotonic()
    with pytest.raises(zmq.Again):
        pull.recv()
    elapsed = time.monotonic() - started
    assert elapsed >= timeout_ms / 1000 * 0.9
    assert elapsed < timeout_ms / 1000 + 2
