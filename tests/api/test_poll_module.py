"""Poller and select() (mqcore.poll), as pyzmq's zmq.Poller and zmq.select.

Run against the implementation chosen by MQCORE_TEST_IMPL (see conftest):
with ``zmq`` the same tests check pyzmq, the reference.

Sockets are inproc PAIR/PUSH/PULL pairs and plain ``socket.socketpair()``
ends.  A Poller hands back a zmq socket as the registered object and
anything else by its integer fd, as pyzmq does for ``select.poll``
compatibility.  Every wait has a bound: poll timeouts are finite, and a
poll that may block forever runs in a thread that the test joins with a
timeout.
"""

import socket
import threading
import time

import pytest

SHORT_MS = 100   # a timeout the tests expect to expire
LONG_MS = 5000   # a timeout the tests expect never to reach
# Generous slack on the upper bound of a timed wait: CI machines stall.
MAX_OVERSHOOT_S = 2.0


# --------------------------------------------------------------------------
# fixtures and helpers
# --------------------------------------------------------------------------

@pytest.fixture
def pair(zmq, sock, endpoint):
    """Two connected inproc PAIR sockets."""
    a = sock(zmq.PAIR)
    b = sock(zmq.PAIR)
    addr = endpoint.bind(a, "inproc")
    b.connect(addr)
    return a, b


@pytest.fixture
def push_pull(zmq, sock, endpoint):
    """A PUSH connected to a PULL over inproc."""
    pull = sock(zmq.PULL)
    push = sock(zmq.PUSH)
    push.connect(endpoint.bind(pull, "inproc"))
    return push, pull


@pytest.fixture
def fd_pair():
    """A connected pair of plain (non-zmq) sockets."""
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def timed(call):
    """``call()``'s result and how long it took, in seconds."""
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def in_thread(call, timeout_s=LONG_MS / 1000):
    """Start ``call()`` in a thread; return a function that joins it.

    The joiner waits up to ``timeout_s`` and returns the call's result,
    failing the test if the call is still blocked.
    """
    box = {}

    def target():
        try:
            box["result"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()

    def join():
        thread.join(timeout_s)
        if thread.is_alive():
            pytest.fail(f"call still blocked after {timeout_s} s")
        if "error" in box:
            raise box["error"]
        return box["result"]

    return join


# --------------------------------------------------------------------------
# the names
# --------------------------------------------------------------------------

def test_poller_and_select_are_top_level(zmq):
    assert callable(zmq.Poller)
    assert callable(zmq.select)


def test_poll_module_exports(zmq):
    import importlib

    module = importlib.import_module(
        "zmq.sugar.poll" if zmq.__name__ == "zmq" else "mqcore.poll")
    assert module.Poller is zmq.Poller
    assert module.select is zmq.select


# --------------------------------------------------------------------------
# registration bookkeeping
# --------------------------------------------------------------------------

def test_new_poller_is_empty(zmq):
    poller = zmq.Poller()
    assert poller.sockets == []
    assert poller.poll(0) == []


def test_register_defaults_to_pollin_and_pollout(zmq, pair):
    a, _ = pair
    poller = zmq.Poller()
    poller.register(a)
    assert poller.sockets == [(a, zmq.POLLIN | zmq.POLLOUT)]
    assert a in poller


def test_register_keeps_registration_order(zmq, pair, fd_pair):
    a, b = pair
    r, _ = fd_pair
    poller = zmq.Poller()
    poller.register(a, zmq.POLLIN)
    poller.register(r, zmq.POLLIN)
    poller.register(b, zmq.POLLOUT)
    assert [item for item, _ in poller.sockets] == [a, r, b]


def test_register_again_replaces_flags_in_place(zmq, pair):
    a, b = pair
    poller = zmq.Poller()
    poller.register(a, zmq.POLLIN)
    poller.register(b, zmq.POLLIN)
    poller.register(a, zmq.POLLOUT)
    assert poller.sockets == [(a, zmq.POLLOUT), (b, zmq.POLLIN)]


def test_modify_changes_flags(zmq, pair):
    a, _ = pair
    poller = zmq.Poller()
    poller.register(a, zmq.POLLIN)
    poller.modify(a, zmq.POLLOUT)
    assert poller.sockets == [(a, zmq.POLLOUT)]


def test_register_with_zero_flags_unregisters(zmq, pair):
    a, b = pair
    poller = zmq.Poller()
    poller.register(a, zmq.POLLIN)
    poller.register(b, zmq.POLLIN)
    poller.register(a, 0)
    assert a not in poller
    assert poller.sockets == [(b, zmq.POLLIN)]


def test_register_with_zero_flags_ignores_unknown_item(zmq, pair):
    a, _ = pair
    poller = zmq.Poller()
    poller.register(a, 0)
    assert a not in poller
    assert poller.sockets == []


def test_unregister_removes_only_that_item(zmq, pair, fd_pair):
    a, b = pair
    r, _ = fd_pair
    poller = zmq.Poller()
    for item in (a, r, b):
        poller.register(item, zmq.POLLIN)
    poller.unregister(r)
    assert [item for item, _ in poller.sockets] == [a, b]
    # The items after the removed one must still be found by their new index.
    poller.modify(b, zmq.POLLOUT)
    poller.unregister(a)
    assert poller.sockets == [(b, zmq.POLLOUT)]


def test_poll_rejects_item_that_is_not_pollable(zmq):
    poller = zmq.Poller()
    poller.register("not a socket", zmq.POLLIN)  # accepted here, as in pyzmq
    with pytest.raises(TypeError):
        poller.poll(0)


def test_select_rejects_item_that_is_not_pollable(zmq):
    with pytest.raises(TypeError):
        zmq.select([object()], [], [], 0)


def test_unregister_unknown_item_raises_keyerror(zmq, pair):
    a, _ = pair
    poller = zmq.Poller()
    with pytest.raises(KeyError):
        poller.unregister(a)


# --------------------------------------------------------------------------
# poll(): what is reported
# --------------------------------------------------------------------------

def test_connected_pair_is_writable_not_readable(zmq, pair):
    a, _ = pair
    poller = zmq.Poller()
    poller.register(a, zmq.POLLIN | zmq.POLLOUT)
    assert poller.poll(LONG_MS) == [(a, zmq.POLLOUT)]


def test_message_makes_socket_readable(zmq, pair):
    a, b = pair
    poller = zmq.Poller()
    poller.register(b, zmq.POLLIN)
    a.send(b"ping")
    events = dict(poller.poll(LONG_MS))
    assert events == {b: zmq.POLLIN}
    # The key is the registered object itself, usable as a socket.
    assert next(iter(events)).recv(zmq.NOBLOCK) == b"ping"


def test_poll_is_level_triggered(zmq, pair):
    """An unread message is reported by every poll, not just the first."""
    a, b = pair
    poller = zmq.Poller()
    poller.register(b, zmq.POLLIN)
    a.send(b"x")
    assert poller.poll(LONG_MS) == [(b, zmq.POLLIN)]
    assert poller.poll(0) == [(b, zmq.POLLIN)]
    b.recv(zmq.NOBLOCK)
    assert poller.poll(0) == []


def test_only_requested_events_are_reported(zmq, pair):
    a, b = pair
    poller = zmq.Poller()
    poller.register(b, zmq.POLLOUT)
    a.send(b"x")
    # b is readable too, but only POLLOUT was asked for.
    assert poller.poll(LONG_MS) == [(b, zmq.POLLOUT)]


def test_modify_takes_effect_on_next_poll(zmq, pair):
    a, _ = pair
    poller = zmq.Poller()
    poller.register(a, zmq.POLLOUT)
    assert poller.poll(LONG_MS) == [(a, zmq.POLLOUT)]
    poller.modify(a, zmq.POLLIN)
    assert poller.poll(0) == []


def test_unregistered_socket_is_not_reported(zmq, pair):
    a, b = pair
    poller = zmq.Poller()
    poller.register(a, zmq.POLLOUT)
    poller.register(b, zmq.POLLOUT)
    poller.unregister(a)
    assert poller.poll(LONG_MS) == [(b, zmq.POLLOUT)]


def test_push_pull_readiness(zmq, push_pull):
    push, pull = push_pull
    poller = zmq.Poller()
    poller.register(push, zmq.POLLIN | zmq.POLLOUT)
    poller.register(pull, zmq.POLLIN | zmq.POLLOUT)
    # PUSH can only send and PULL only receive: neither reports the other event.
    assert poller.poll(LONG_MS) == [(push, zmq.POLLOUT)]
    push.send(b"job")
    assert dict(poller.poll(LONG_MS)) == {push: zmq.POLLOUT, pull: zmq.POLLIN}


def test_several_ready_sockets_are_all_reported(zmq, sock, endpoint):
    pulls = [sock(zmq.PULL) for _ in range(3)]
    pushes = []
    for pull in pulls:
        push = sock(zmq.PUSH)
        push.connect(endpoint.bind(pull, "inproc"))
        pushes.append(push)
    poller = zmq.Poller()
    for pull in pulls:
        poller.register(pull, zmq.POLLIN)
    pushes[0].send(b"a")
    pushes[2].send(b"c")
    deadline = time.monotonic() + LONG_MS / 1000
    ready = {}
    while len(ready) < 2 and time.monotonic() < deadline:
        ready = dict(poller.poll(LONG_MS))
    assert ready == {pulls[0]: zmq.POLLIN, pulls[2]: zmq.POLLIN}


# --------------------------------------------------------------------------
# poll(): plain file descriptors
# --------------------------------------------------------------------------

def test_fd_object_is_polled_and_reported_by_fd(zmq, fd_pair):
    r, w = fd_pair
    poller = zmq.Poller()
    poller.register(r, zmq.POLLIN)
    assert poller.poll(SHORT_MS) == []
    w.send(b"x")
    assert poller.poll(LONG_MS) == [(r.fileno(), zmq.POLLIN)]


def test_integer_fd_is_polled_and_returned_as_int(zmq, fd_pair):
    r, w = fd_pair
    poller = zmq.Poller()
    poller.register(r.fileno(), zmq.POLLIN)
    w.send(b"x")
    assert poller.poll(LONG_MS) == [(r.fileno(), zmq.POLLIN)]


def test_fd_writable(zmq, fd_pair):
    _, w = fd_pair
    poller = zmq.Poller()
    poller.register(w, zmq.POLLOUT)
    assert poller.poll(LONG_MS) == [(w.fileno(), zmq.POLLOUT)]


def test_sockets_and_fds_together(zmq, pair, fd_pair):
    a, b = pair
    r, w = fd_pair
    poller = zmq.Poller()
    poller.register(b, zmq.POLLIN)
    poller.register(r, zmq.POLLIN)
    a.send(b"zmq")
    w.send(b"fd")
    deadline = time.monotonic() + LONG_MS / 1000
    ready = {}
    while len(ready) < 2 and time.monotonic() < deadline:
        ready = dict(poller.poll(LONG_MS))
    assert ready == {b: zmq.POLLIN, r.fileno(): zmq.POLLIN}


# --------------------------------------------------------------------------
# poll(): timeouts
# --------------------------------------------------------------------------

def test_poll_timeout_is_honoured(zmq, pair):
    _, b = pair
    poller = zmq.Poller()
    poller.register(b, zmq.POLLIN)
    result, elapsed = timed(lambda: poller.poll(SHORT_MS))
    assert result == []
    assert SHORT_MS / 1000 * 0.9 <= elapsed < SHORT_MS / 1000 + MAX_OVERSHOOT_S


def test_poll_timeout_on_fd_is_honoured(zmq, fd_pair):
    r, _ = fd_pair
    poller = zmq.Poller()
    poller.register(r, zmq.POLLIN)
    result, elapsed = timed(lambda: poller.poll(SHORT_MS))
    assert result == []
    assert SHORT_MS / 1000 * 0.9 <= elapsed < SHORT_MS / 1000 + MAX_OVERSHOOT_S


def test_poll_zero_returns_at_once(zmq, pair):
    _, b = pair
    poller = zmq.Poller()
    poller.register(b, zmq.POLLIN)
    result, elapsed = timed(lambda: poller.poll(0))
    assert result == []
    assert elapsed < MAX_OVERSHOOT_S


def test_poll_accepts_float_timeout(zmq, pair):
    _, b = pair
    poller = zmq.Poller()
    poller.register(b, zmq.POLLIN)
    result, elapsed = timed(lambda: poller.poll(float(SHORT_MS)))
    assert result == []
    assert elapsed >= SHORT_MS / 1000 * 0.9


def test_ready_event_ends_wait_early(zmq, pair):
    a, b = pair
    poller = zmq.Poller()
    poller.register(b, zmq.POLLIN)
    sender = threading.Timer(0.05, a.send, args=(b"late",))
    sender.start()
    try:
        result, elapsed = timed(lambda: poller.poll(LONG_MS))
    finally:
        sender.join(LONG_MS / 1000)
    assert result == [(b, zmq.POLLIN)]
    assert elapsed < LONG_MS / 1000


@pytest.mark.parametrize("forever", [None, -1])
def test_no_timeout_waits_until_ready(zmq, pair, forever):
    a, b = pair
    poller = zmq.Poller()
    poller.register(b, zmq.POLLIN)
    join = in_thread(lambda: poller.poll(forever))
    time.sleep(SHORT_MS / 1000)
    a.send(b"wake")
    assert join() == [(b, zmq.POLLIN)]


@pytest.mark.parametrize("forever", [None, -1])
def test_no_timeout_on_fd_waits_until_ready(zmq, fd_pair, forever):
    r, w = fd_pair
    poller = zmq.Poller()
    poller.register(r, zmq.POLLIN)
    join = in_thread(lambda: poller.poll(forever))
    time.sleep(SHORT_MS / 1000)
    w.send(b"wake")
    assert join() == [(r.fileno(), zmq.POLLIN)]


# --------------------------------------------------------------------------
# select()
# --------------------------------------------------------------------------

def test_select_reports_readable_and_writable(zmq, pair):
    a, b = pair
    a.send(b"x")
    deadline = time.monotonic() + LONG_MS / 1000
    readable = []
    while not readable and time.monotonic() < deadline:
        readable, writable, errored = zmq.select([b], [a, b], [], LONG_MS / 1000)
    assert readable == [b]
    assert set(writable) == {a, b}
    assert errored == []


def test_select_returns_three_empty_lists_on_timeout(zmq, pair):
    _, b = pair
    result, elapsed = timed(lambda: zmq.select([b], [], [], SHORT_MS / 1000))
    assert tuple(result) == ([], [], [])
    assert SHORT_MS / 1000 * 0.9 <= elapsed < SHORT_MS / 1000 + MAX_OVERSHOOT_S


def test_select_timeout_is_in_seconds(zmq, fd_pair):
    r, _ = fd_pair
    # 0.2 s; read as milliseconds it would return almost at once.
    result, elapsed = timed(lambda: zmq.select([r], [], [], 0.2))
    assert tuple(result) == ([], [], [])
    assert elapsed >= 0.18


def test_select_over_fds(zmq, fd_pair):
    r, w = fd_pair
    w.send(b"x")
    readable, writable, errored = zmq.select([r], [w], [], LONG_MS / 1000)
    assert readable == [r.fileno()]
    assert writable == [w.fileno()]
    assert errored == []


def test_select_over_integer_fds(zmq, fd_pair):
    r, w = fd_pair
    w.send(b"x")
    readable, writable, _ = zmq.select([r.fileno()], [w.fileno()], [], LONG_MS / 1000)
    assert readable == [r.fileno()]
    assert writable == [w.fileno()]


def test_select_mixes_sockets_and_fds(zmq, pair, fd_pair):
    a, b = pair
    r, w = fd_pair
    w.send(b"x")
    readable, writable, _ = zmq.select([r, b], [a], [], LONG_MS / 1000)
    assert readable == [r.fileno()]
    assert writable == [a]


def test_select_without_timeout_waits_until_ready(zmq, pair):
    a, b = pair
    join = in_thread(lambda: zmq.select([b], [], []))
    time.sleep(SHORT_MS / 1000)
    a.send(b"wake")
    readable, writable, errored = join()
    assert (readable, writable, errored) == ([b], [], [])
