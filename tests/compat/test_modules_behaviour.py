"""The pyzmq module paths behave, not just import: log handlers publish,
decorators close what they open, devices forward, ssh helpers give free
ports and fail clearly without a server, the utils helpers work."""

from __future__ import annotations

import logging
import queue
import socket as pysocket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from ._modhelpers import package_env, submodule


def _sub(ctx, zmq, addr: str, topic: bytes = b""):
    sub = ctx.socket(zmq.SUB)
    sub.linger = 0
    sub.rcvtimeo = 5000
    sub.subscribe(topic)
    sub.connect(addr)
    return sub


def _publish_until_received(send, sub, zmq):
    """Send (PUB drops until the SUB's subscription arrives) until one lands."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        send()
        if sub.poll(50, zmq.POLLIN):
            return sub.recv_multipart()
    raise AssertionError("nothing received")


# -- log ---------------------------------------------------------------------


def test_pubhandler_publishes_records_with_topics(zmq, ctx, endpoint):
    handlers = submodule(zmq, "log.handlers")
    pub = ctx.socket(zmq.PUB)
    pub.linger = 0
    addr = endpoint("inproc")
    pub.bind(addr)
    handler = handlers.PUBHandler(pub)
    handler.root_topic = "app"
    logger = logging.getLogger("mqcore-test-pubhandler")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        sub = _sub(ctx, zmq, addr, b"app.WARNING")
        topic, body = _publish_until_received(lambda: logger.warning("db.slow::took %d ms", 12), sub, zmq)
        assert topic == b"app.WARNING.db.slow"
        assert b"took 12 ms" in body and b"WARNING" in body
        sub.close()
        # INFO's default format is the bare message; no subtopic given.
        sub = _sub(ctx, zmq, addr, b"app.INFO")
        topic, body = _publish_until_received(lambda: logger.info("hello"), sub, zmq)
        assert (topic, body) == (b"app.INFO", b"hello\n")
        sub.close()
    finally:
        logger.removeHandler(handler)


def test_pubhandler_binds_an_address_and_topiclogger_adds_topic(zmq, ctx, endpoint):
    handlers = submodule(zmq, "log.handlers")
    addr = endpoint("inproc")
    handler = handlers.PUBHandler(addr, context=ctx)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = handlers.TopicLogger("mqcore-test-topiclogger")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        sub = _sub(ctx, zmq, addr)
        # log(level, topic, msg): pyzmq's per-level TopicLogger methods are
        # all bound to its last one (a closure bug), so only log() is shared.
        send = lambda: logger.log(logging.ERROR, "net", "lost %s", "peer")  # noqa: E731
        topic, body = _publish_until_received(send, sub, zmq)
        assert (topic, body) == (b"ERROR.net", b"lost peer")
        sub.close()
    finally:
        handler.socket.close(linger=0)


def test_log_watcher_module_prints_published_records(zmq, ctx):
    pub = ctx.socket(zmq.PUB)
    pub.linger = 0
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    watcher = subprocess.Popen(
        [sys.executable, "-u", "-m", f"{zmq.__name__}.log", f"tcp://127.0.0.1:{port}"],
        cwd=tempfile.gettempdir(),
        env=package_env(zmq),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in watcher.stdout], daemon=True).start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            pub.send_multipart([b"app.INFO", b"watched\n"])
            try:
                line = lines.get(timeout=0.1)
                break
            except queue.Empty:
                continue
        else:
            raise AssertionError(f"watcher printed nothing; stderr: {watcher.stderr.read()}")
        assert line.rstrip("\n") == "app.INFO | watched"
    finally:
        watcher.kill()
        watcher.wait(timeout=10)


# -- decorators ----------------------------------------------------------------


def test_decorators_open_and_close_context_and_socket(zmq):
    decorators = submodule(zmq, "decorators")
    seen = {}

    @decorators.context()
    @decorators.socket(zmq.PUSH)
    def work(ctx, push):
        seen.update(ctx=ctx, push=push)
        assert push.context is ctx and not push.closed and not ctx.closed
        return push.socket_type

    assert work() == zmq.PUSH
    assert seen["push"].closed and seen["ctx"].closed


def test_decorators_pass_by_name_and_take_the_callers_context(zmq, ctx):
    decorators = submodule(zmq, "decorators")

    @decorators.socket("pull", zmq.PULL)
    def by_name(context, pull=None):
        assert pull.context is context
        return pull

    pull = by_name(ctx)
    assert pull.closed and not ctx.closed
    with pytest.raises(TypeError, match="multiple values"):
        by_name(ctx, pull=1)


# -- devices -------------------------------------------------------------------


def _push_pull_through(zmq, ctx, device, in_addr, out_addr):
    push = ctx.socket(zmq.PUSH)
    pull = ctx.socket(zmq.PULL)
    for sock in (push, pull):
        sock.linger = 0
        sock.rcvtimeo = sock.sndtimeo = 10000
    push.connect(in_addr)
    pull.connect(out_addr)
    push.send(b"through")
    assert pull.recv() == b"through"
    push.close()
    pull.close()


@pytest.mark.parametrize("where", ["basedevice.ThreadDevice", "basedevice.ProcessDevice"])
def test_background_devices_forward(zmq, ctx, where):
    module, name = where.split(".")
    device_class = getattr(submodule(zmq, "devices." + module), name)
    dev = device_class(zmq.STREAMER, zmq.PULL, zmq.PUSH)
    in_port = dev.bind_in_to_random_port("tcp://127.0.0.1")
    out_port = dev.bind_out_to_random_port("tcp://127.0.0.1")
    dev.start()
    _push_pull_through(zmq, ctx, dev, f"tcp://127.0.0.1:{in_port}", f"tcp://127.0.0.1:{out_port}")
    if name == "ProcessDevice":
        dev.launcher.terminate()
        dev.join(10)


def test_thread_monitored_queue_forwards_and_reports(zmq, ctx):
    devices = submodule(zmq, "devices.monitoredqueuedevice")
    dev = devices.ThreadMonitoredQueue(zmq.PULL, zmq.PUSH, zmq.PUB, b"in", b"out")
    in_port = dev.bind_in_to_random_port("tcp://127.0.0.1")
    out_port = dev.bind_out_to_random_port("tcp://127.0.0.1")
    mon_port = dev.bind_mon_to_random_port("tcp://127.0.0.1")
    dev.start()
    mon = _sub(ctx, zmq, f"tcp://127.0.0.1:{mon_port}")
    # Until the monitor's subscription arrives its copies are dropped, so
    # pass messages through until one is reported.
    report = _publish_until_received(
        lambda: _push_pull_through(
            zmq, ctx, dev, f"tcp://127.0.0.1:{in_port}", f"tcp://127.0.0.1:{out_port}"
        ),
        mon,
        zmq,
    )
    assert report == [b"in", b"through"]
    mon.close()


# -- ssh -----------------------------------------------------------------------


def test_select_random_ports_are_distinct_and_free(zmq):
    tunnel = submodule(zmq, "ssh.tunnel")
    ports = tunnel.select_random_ports(3)
    assert len(set(ports)) == 3
    for port in ports:
        with pysocket.socket() as probe:
            probe.bind(("127.0.0.1", port))


def test_tunnel_connection_without_ssh_server_fails_clearly(zmq, ctx):
    # mqcore's own module: pyzmq returns the dead ssh's pid here instead of
    # failing (it reads the exit status before ssh has been reaped).
    import mqcore.ssh.tunnel as tunnel

    nobody = tunnel.select_random_ports(1)[0]  # nothing listens there
    sock = ctx.socket(zmq.REQ)
    sock.linger = 0
    with pytest.raises(RuntimeError, match="failed to start"):
        tunnel.tunnel_connection(
            sock, "tcp://127.0.0.1:5555", f"127.0.0.1:{nobody}", paramiko=False, timeout=5
        )
    sock.close()


def test_paramiko_tunnel_without_paramiko_says_so(zmq, monkeypatch):
    tunnel = submodule(zmq, "ssh.tunnel")
    monkeypatch.setattr(tunnel, "paramiko", None)
    with pytest.raises(ImportError, match="(?i)paramiko"):
        tunnel.paramiko_tunnel(1, 2, "127.0.0.1")


# -- utils, sugar, backend -------------------------------------------------------


def test_garbage_collector_releases_on_pushed_key(zmq):
    garbage = submodule(zmq, "utils.garbage")
    gc = garbage.GarbageCollector()
    released = threading.Event()
    key = gc.store(b"held", released)
    assert gc.refs[key].obj == b"held"
    gc._push_socket.send(struct.pack("Q", key))
    assert released.wait(5)
    assert key not in gc.refs
    gc.stop()


def test_strtypes_and_interop(zmq):
    strtypes = submodule(zmq, "utils.strtypes")
    with pytest.warns(DeprecationWarning):
        assert strtypes.cast_bytes("é") == "é".encode()
    with pytest.warns(DeprecationWarning):
        assert strtypes.cast_unicode(b"x") == "x"
    assert submodule(zmq, "utils.interop").cast_int_addr(7) == 7
    # Off Windows it installs nothing; the block runs as usual.
    ran = []
    with submodule(zmq, "utils.win32").allow_interrupt(lambda: None):
        ran.append(True)
    assert ran == [True]


def test_sugar_and_backend_are_the_same_objects(zmq):
    sugar = submodule(zmq, "sugar")
    assert sugar.socket.Socket is zmq.Socket and sugar.context.Context is zmq.Context
    assert sugar.frame.Frame is zmq.Frame and sugar.poll.Poller is zmq.Poller
    assert sugar.tracker._FINISHED_TRACKER.done
    assert sugar.version.zmq_version_info() == zmq.zmq_version_info()
    backend = submodule(zmq, "backend")
    assert issubclass(zmq.Socket, backend.Socket) and issubclass(zmq.Context, backend.Context)
    with pytest.warns(DeprecationWarning):
        watch = sugar.Stopwatch()
    watch.start()
    assert watch.stop() >= 0


def test_attribute_setter_maps_options_to_set_and_get(zmq):
    attrsettr = submodule(zmq, "sugar.attrsettr")

    class Options(attrsettr.AttributeSetter):
        values: dict

        def __init__(self):
            self.values = {}

        def set(self, opt, value):
            self.values[opt] = value

        def get(self, opt):
            return self.values[opt]

    opts = Options()
    opts.linger = 5
    assert opts.values == {zmq.LINGER: 5} and opts.LINGER == 5
    with pytest.raises(AttributeError):
        opts.no_such_option = 1
