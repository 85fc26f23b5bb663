"""proxy() whose socket is closed from another thread stops with ENOTSOCK,
as every other call on a closed socket does (libzmq marks a closed socket
invalid: ENOTSOCK), not with ETERM, which means the context ended. Thread-
safe sockets (CLIENT/SERVER) that other threads use while the proxy runs
are only touched under their lock.

Closing a socket that another thread is using is undefined in libzmq (it
may assert), so these are mqcore's own guarantees."""
import errno
import os
import threading
import time

import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("MQCORE_TEST_IMPL", "mqcore") != "mqcore",
    reason="closing a socket in use by another thread is undefined in libzmq")


def run_proxy_in_thread(zmq, front, back):
    out = {}

    def run():
        try:
            zmq.proxy(front, back)
            out["rc"] = None
        except zmq.ZMQError as e:
            out["errno"] = e.errno
        except Exception as e:      # noqa: BLE001 - reported below
            out["other"] = repr(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


@pytest.mark.parametrize("which", ["front", "back"])
@pytest.mark.parametrize("kinds", [("PULL", "PUSH"), ("SERVER", "CLIENT")])
def test_proxy_socket_closed_elsewhere_is_enotsock(zmq, ctx, which, kinds):
    if not hasattr(zmq, kinds[0]):
        pytest.skip("draft types")
    front = ctx.socket(getattr(zmq, kinds[0]))
    back = ctx.socket(getattr(zmq, kinds[1]))
    front.bind("inproc://pc-front")
    back.bind("inproc://pc-back")
    t, out = run_proxy_in_thread(zmq, front, back)
    time.sleep(0.2)                     # the proxy is waiting
    (front if which == "front" else back).close(linger=0)
    t.join(10)
    assert not t.is_alive(), "proxy did not stop"
    assert out == {"errno": errno.ENOTSOCK}, out
    (back if which == "front" else front).close(linger=0)


def test_proxy_thread_safe_sockets_shared_with_other_threads(zmq, ctx):
    """A CLIENT the proxy forwards from is also polled and sent on by other
    threads; everything still arrives whole, and nothing crashes."""
    if not hasattr(zmq, "SERVER"):
        pytest.skip("draft types")
    front = ctx.socket(zmq.SERVER)              # the proxy reads it
    back = ctx.socket(zmq.CLIENT)               # the proxy writes it ...
    back.linger = 0
    front.linger = 0
    front.bind("inproc://pts-front")
    back.bind("inproc://pts-back")
    sink = ctx.socket(zmq.SERVER)
    sink.linger = 0
    sink.rcvtimeo = 5000
    # the proxy's back CLIENT is bound; the sink connects as SERVER? no:
    # a CLIENT talks to a SERVER, so the sink is a SERVER that connects.
    sink.connect("inproc://pts-back")
    clients = []
    for i in range(3):
        c = ctx.socket(zmq.CLIENT)
        c.linger = 0
        c.sndtimeo = 5000
        c.connect("inproc://pts-front")
        clients.append(c)
    t, out = run_proxy_in_thread(zmq, front, back)
    stop = threading.Event()
    n_each = 300

    def pound_back():
        # ... and other threads poll and send on it at the same time.
        while not stop.is_set():
            back.poll(1, zmq.POLLOUT)
            back.getsockopt(zmq.EVENTS)

    def produce(c, i):
        for j in range(n_each):
            c.send(b"%d:%d" % (i, j))

    pounders = [threading.Thread(target=pound_back, daemon=True) for _ in range(2)]
    producers = [threading.Thread(target=produce, args=(c, i), daemon=True) for i, c in enumerate(clients)]
    for th in pounders + producers:
        th.start()
    got = 0
    try:
        while got < n_each * len(clients):
            data = sink.recv()
            i, j = data.split(b":")
            got += 1
    finally:
        stop.set()
        for th in pounders + producers:
            th.join(10)
        front.close(linger=0)
        t.join(10)
        back.close(linger=0)
        sink.close(linger=0)
        for c in clients:
            c.close(linger=0)
    assert got == n_each * len(clients)
    assert not t.is_alive()
    assert out == {"errno": errno.ENOTSOCK}, out
