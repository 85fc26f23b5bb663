"""Background devices (mqcore.devices), as pyzmq's zmq.devices.

The module under test follows MQCORE_TEST_IMPL (see conftest); with ``zmq``
these tests check pyzmq's ``zmq.devices``, the reference.

Each device gets its own context (through ``context_factory``) so that a
test can stop it by terminating that context -- the documented way to end
a device -- without touching the process-wide ``Context.instance()``.
Every wait is bounded: sockets have RCVTIMEO, joins have timeouts, and the
teardown's context termination runs in a thread it does not wait on for
ever.
"""

import importlib
import socket
import threading
import time

import pytest

JOIN_TIMEOUT_S = 5.0


@pytest.fixture
def devices(zmq):
    return importlib.import_module(f"{zmq.__name__}.devices")


@pytest.fixture
def device_context(zmq):
    """A context for devices; terminated (bounded) at teardown."""
    context = zmq.Context()
    yield context
    term_bounded(context)


def term_bounded(context, timeout=JOIN_TIMEOUT_S):
    """Terminate ``context`` in a thread; return True if it finished in time."""
    thread = threading.Thread(target=context.term, daemon=True)
    thread.start()
    thread.join(timeout)
    return not thread.is_alive()


@pytest.fixture
def start_device(device_context):
    """``start_device(dev)``: run ``dev`` in the background on its own context."""
    started = []

    def start(dev):
        dev.context_factory = lambda: device_context
        dev.start()
        started.append(dev)
        return dev

    yield start


def tcp_addrs(count):
    """``count`` distinct free loopback addresses.

    The probing sockets stay open until all are picked: asking one at a
    time, the OS may hand out the same just-released port twice.
    """
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [f"tcp://127.0.0.1:{probe.getsockname()[1]}" for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def wire_three_way(dev, sock, peer_types, start):
    """Binds dev's in, out and monitor sides to fresh tcp addresses, starts
    it with `start`, and connects one peer of each of peer_types to them."""
    addrs = tcp_addrs(3)
    for bind, addr in zip((dev.bind_in, dev.bind_out, dev.bind_mon), addrs):
        bind(addr)
    start(dev)
    peers = []
    for socket_type, addr in zip(peer_types, addrs):
        peer = sock(socket_type)
        peer.connect(addr)
        peers.append(peer)
    return peers


def send_until_received(sender, receiver, msg, timeout=JOIN_TIMEOUT_S):
    """Send ``msg`` repeatedly until ``receiver`` gets one (PUB/SUB slow joiner)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sender.send_multipart(msg)
        if receiver.poll(100):
            return receiver.recv_multipart()
    pytest.fail(f"{msg!r} never arrived within {timeout} s")


# --------------------------------------------------------------------------
# construction and queued configuration
# --------------------------------------------------------------------------

EXPECTED_NAMES = [
    "Device", "ThreadDevice", "ProcessDevice",
    "Proxy", "ThreadProxy", "ProcessProxy",
    "ProxySteerable", "ThreadProxySteerable", "ProcessProxySteerable",
    "monitored_queue", "MonitoredQueue", "ThreadMonitoredQueue", "ProcessMonitoredQueue",
]


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_module_exports(devices, name):
    assert name in devices.__all__
    assert hasattr(devices, name)


def test_device_needs_socket_types(zmq, devices):
    with pytest.raises(TypeError):
        devices.Device(zmq.QUEUE, None, zmq.PUSH)
    with pytest.raises(TypeError):
        devices.Device(zmq.QUEUE, zmq.PULL, None)


def test_device_defaults(zmq, devices):
    dev = devices.ThreadDevice(zmq.QUEUE, zmq.PULL, zmq.PUSH)
    assert dev.device_type == zmq.QUEUE
    assert (dev.in_type, dev.out_type) == (zmq.PULL, zmq.PUSH)
    assert dev.daemon is True
    assert dev.done is False


def test_configuration_is_queued_until_start(zmq, devices, sock):
    """bind_in only records the address: nothing is bound before start()."""
    (addr,) = tcp_addrs(1)
    dev = devices.ThreadDevice(zmq.QUEUE, zmq.PULL, zmq.PUSH)
    dev.bind_in(addr)
    dev.setsockopt_in(zmq.LINGER, 0)
    other = sock(zmq.PULL)
    other.bind(addr)  # would raise EADDRINUSE had the device bound it


def test_bind_to_random_port_reserves_distinct_ports(zmq, devices):
    dev = devices.ThreadProxy(zmq.PULL, zmq.PUSH, zmq.PUB)
    ports = [dev.bind_in_to_random_port("tcp://127.0.0.1"),
             dev.bind_out_to_random_port("tcp://127.0.0.1"),
             dev.bind_mon_to_random_port("tcp://127.0.0.1")]
    assert all(isinstance(port, int) and 0 < port < 65536 for port in ports)
    assert len(set(ports)) == 3


def test_bind_to_random_port_honours_range(zmq, devices):
    dev = devices.ThreadDevice(zmq.QUEUE, zmq.PULL, zmq.PUSH)
    port = dev.bind_in_to_random_port("tcp://127.0.0.1", min_port=50000, max_port=50100)
    assert 50000 <= port < 50100


# --------------------------------------------------------------------------
# devices running proxy / proxy_steerable
# --------------------------------------------------------------------------

def test_thread_device_streams_messages(zmq, devices, start_device, sock,
                                        recv_multipart_timeout):
    addr_in, addr_out = tcp_addrs(2)
    dev = devices.ThreadDevice(zmq.STREAMER, zmq.PULL, zmq.PUSH)
    dev.bind_in(addr_in)
    dev.bind_out(addr_out)
    start_device(dev)
    producer = sock(zmq.PUSH)
    producer.connect(addr_in)
    consumer = sock(zmq.PULL)
    consumer.connect(addr_out)
    for n in range(5):
        producer.send_multipart([b"part", str(n).encode()])
    got = [recv_multipart_timeout(consumer) for _ in range(5)]
    assert got == [[b"part", str(n).encode()] for n in range(5)]


def test_thread_device_forwards_subscriptions(zmq, devices, start_device, sock):
    """FORWARDER: SUB in (subscribed to all), PUB out."""
    addr_in, addr_out = tcp_addrs(2)
    dev = devices.ThreadDevice(zmq.FORWARDER, zmq.SUB, zmq.PUB)
    dev.setsockopt_in(zmq.SUBSCRIBE, b"")
    dev.bind_in(addr_in)
    dev.bind_out(addr_out)
    start_device(dev)
    publisher = sock(zmq.PUB)
    publisher.connect(addr_in)
    subscriber = sock(zmq.SUB)
    subscriber.setsockopt(zmq.SUBSCRIBE, b"news")
    subscriber.connect(addr_out)
    assert send_until_received(publisher, subscriber, [b"news", b"item"]) == [b"news", b"item"]


def test_device_stops_when_its_context_is_terminated(zmq, devices, sock,
                                                     device_context, recv_multipart_timeout):
    addr_in, addr_out = tcp_addrs(2)
    dev = devices.ThreadDevice(zmq.QUEUE, zmq.PULL, zmq.PUSH)
    dev.bind_in(addr_in)
    dev.bind_out(addr_out)
    dev.context_factory = lambda: device_context
    dev.start()
    producer = sock(zmq.PUSH)
    producer.connect(addr_in)
    consumer = sock(zmq.PULL)
    consumer.connect(addr_out)
    producer.send(b"running")
    assert recv_multipart_timeout(consumer) == [b"running"]  # in its proxy loop now
    assert term_bounded(device_context), "context.term() blocked: device did not stop"
    dev.join(JOIN_TIMEOUT_S)
    assert dev.done


def test_thread_proxy_copies_to_monitor(zmq, devices, start_device, sock,
                                        recv_multipart_timeout):
    dev = devices.ThreadProxy(zmq.PULL, zmq.PUSH, zmq.PUSH)
    producer, consumer, monitor = wire_three_way(dev, sock, (zmq.PUSH, zmq.PULL, zmq.PULL),
                                                 start_device)
    producer.send_multipart([b"a", b"b"])
    assert recv_multipart_timeout(consumer) == [b"a", b"b"]
    assert recv_multipart_timeout(monitor) == [b"a", b"b"]


def test_thread_proxy_steerable_terminates_on_command(zmq, devices, start_device, sock,
                                                      recv_multipart_timeout):
    addr_in, addr_out, addr_mon, addr_ctrl = tcp_addrs(4)
    dev = devices.ThreadProxySteerable(zmq.PULL, zmq.PUSH, zmq.PUB, zmq.PAIR)
    dev.bind_in(addr_in)
    dev.bind_out(addr_out)
    dev.bind_mon(addr_mon)
    dev.bind_ctrl(addr_ctrl)
    start_device(dev)
    producer = sock(zmq.PUSH)
    producer.connect(addr_in)
    consumer = sock(zmq.PULL)
    consumer.connect(addr_out)
    control = sock(zmq.PAIR)
    control.connect(addr_ctrl)
    producer.send(b"through")
    assert recv_multipart_timeout(consumer) == [b"through"]
    control.send(b"TERMINATE")
    dev.join(JOIN_TIMEOUT_S)
    assert dev.done, "TERMINATE did not stop the steerable proxy"


# --------------------------------------------------------------------------
# monitored_queue (pure Python over Poller in mqcore)
# --------------------------------------------------------------------------

def test_monitored_queue_prefixes_each_direction(zmq, devices, start_device, sock,
                                                 recv_multipart_timeout):
    dev = devices.ThreadMonitoredQueue(zmq.PAIR, zmq.PAIR, zmq.PUSH, b"IN", b"OUT")
    left, right, monitor = wire_three_way(dev, sock, (zmq.PAIR, zmq.PAIR, zmq.PULL),
                                          start_device)

    left.send_multipart([b"to", b"right"])
    assert recv_multipart_timeout(right) == [b"to", b"right"]
    assert recv_multipart_timeout(monitor) == [b"IN", b"to", b"right"]
    right.send_multipart([b"to", b"left"])
    assert recv_multipart_timeout(left) == [b"to", b"left"]
    assert recv_multipart_timeout(monitor) == [b"OUT", b"to", b"left"]


def test_monitored_queue_default_prefixes(zmq, devices, start_device, sock,
                                          recv_multipart_timeout):
    dev = devices.ThreadMonitoredQueue(zmq.PULL, zmq.PUSH, zmq.PUSH)
    producer, consumer, monitor = wire_three_way(dev, sock, (zmq.PUSH, zmq.PULL, zmq.PULL),
                                                 start_device)
    producer.send(b"x")
    assert recv_multipart_timeout(consumer) == [b"x"]
    assert recv_multipart_timeout(monitor) == [b"in", b"x"]


def test_monitored_queue_routes_between_two_routers(zmq, devices, start_device, sock,
                                                    recv_multipart_timeout,
                                                    wait_until):
    """ROUTER on both sides: the routing ids are swapped on the way through."""
    addr_in, addr_out, addr_mon = tcp_addrs(3)
    dev = devices.ThreadMonitoredQueue(zmq.ROUTER, zmq.ROUTER, zmq.PUSH)
    dev.bind_in(addr_in)
    dev.bind_out(addr_out)
    dev.bind_mon(addr_mon)
    start_device(dev)
    alice = sock(zmq.DEALER, identity=b"alice")
    alice.connect(addr_in)
    bob = sock(zmq.DEALER, identity=b"bob")
    bob.connect(addr_out)
    monitor = sock(zmq.PULL)
    monitor.connect(addr_mon)

    # A ROUTER drops messages for peers it has not met: bob introduces
    # himself through the out side first ("out" direction: to alice).
    def bob_reaches_alice():
        bob.send_multipart([b"alice", b"hi alice"])
        return alice.poll(100)

    wait_until(bob_reaches_alice, timeout=5, msg="bob's message to reach alice")
    assert recv_multipart_timeout(alice) == [b"bob", b"hi alice"]
    alice.send_multipart([b"bob", b"hi bob"])
    assert recv_multipart_timeout(bob) == [b"alice", b"hi bob"]
    # bob may have sent more than once before alice was known; every try
    # was reported.  Read the reports up to alice's one.
    seen = [recv_multipart_timeout(monitor)]
    while seen[-1][0] != b"in":
        seen.append(recv_multipart_timeout(monitor))
    assert seen[-1] == [b"in", b"bob", b"alice", b"hi bob"]
    assert seen[:-1] and all(
        report == [b"out", b"alice", b"bob", b"hi alice"] for report in seen[:-1])


def test_monitored_queue_stops_when_its_context_is_terminated(
        zmq, devices, sock, device_context, recv_multipart_timeout):
    addr_in, addr_out, addr_mon = tcp_addrs(3)
    dev = devices.ThreadMonitoredQueue(zmq.PULL, zmq.PUSH, zmq.PUSH)
    dev.bind_in(addr_in)
    dev.bind_out(addr_out)
    dev.bind_mon(addr_mon)
    dev.context_factory = lambda: device_context
    dev.start()
    producer = sock(zmq.PUSH)
    producer.connect(addr_in)
    consumer = sock(zmq.PULL)
    consumer.connect(addr_out)
    # A PUSH monitor with no peer would block the queue in send, not in poll.
    monitor = sock(zmq.PULL)
    monitor.connect(addr_mon)
    producer.send(b"running")
    assert recv_multipart_timeout(consumer) == [b"running"]
    assert recv_multipart_timeout(monitor) == [b"in", b"running"]  # polling now
    assert term_bounded(device_context), "context.term() blocked: queue did not stop"
    dev.join(JOIN_TIMEOUT_S)
    assert dev.done


def test_process_monitored_queue(zmq, devices, sock, recv_multipart_timeout):
    addr_in, addr_out, addr_mon = tcp_addrs(3)
    dev = devices.ProcessMonitoredQueue(zmq.PULL, zmq.PUSH, zmq.PUSH)
    dev.bind_in(addr_in)
    dev.bind_out(addr_out)
    dev.bind_mon(addr_mon)
    dev.start()
    try:
        producer = sock(zmq.PUSH)
        producer.connect(addr_in)
        consumer = sock(zmq.PULL)
        consumer.connect(addr_out)
        monitor = sock(zmq.PULL)
        monitor.connect(addr_mon)
        producer.send(b"across processes")
        assert recv_multipart_timeout(consumer) == [b"across processes"]
        assert recv_multipart_timeout(monitor) == [b"in", b"across processes"]
    finally:
        dev.launcher.terminate()
        dev.join(JOIN_TIMEOUT_S)
    assert not dev.launcher.is_alive()
