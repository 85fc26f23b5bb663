"""Resource limits: a process out of descriptors, thousands of connections,
peers announcing frames no one can hold.  Each must give a clear error (a
monitor event, a closed connection) while the rest keeps working.

The server under test runs in a child process (it could crash, and its
RLIMIT_NOFILE is lowered or raised there), driven over stdin/stdout; the
clients are raw TCP sockets of this process (its own descriptors do not
count against the child's limit) and a well-behaved pyzmq peer.
"""

import errno
import os
import socket
import struct
import time

import pytest

from .procs import IMPL, IMPORT_IMPL, needs_proc, proc_cpu_seconds, proc_rss_bytes
from .zmtp import closed_by_peer, frame, greeting, read_exact, read_frame, ready

pytestmark = needs_proc

# A server of the implementation under test: binds one socket, counts what
# it gets, and answers commands on stdin:
#   stats -> "stats fds=N accept_failed=N received=N"
#   quit  -> closes everything and exits 0
# PULL prints "got <body>" for bodies starting with "show:"; ROUTER answers
# every [id, body] with [id, "re:" + body].
SERVER = IMPORT_IMPL + r"""
import resource, sys
kind, addr, nofile = sys.argv[1], sys.argv[2], int(sys.argv[3])
opts = dict(a.split("=") for a in sys.argv[4:])
if nofile:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, max(hard, nofile)))
ctx = zmq.Context()
s = ctx.socket(getattr(zmq, kind))
s.linger = 0
for name, value in opts.items():
    s.setsockopt(getattr(zmq, name.upper()), int(value))
mon = s.get_monitor_socket(zmq.EVENT_ACCEPT_FAILED)
s.bind(addr)
print("endpoint", s.getsockopt(zmq.LAST_ENDPOINT).decode(), flush=True)
poller = zmq.Poller()
poller.register(s, zmq.POLLIN)
poller.register(mon, zmq.POLLIN)
poller.register(sys.stdin.fileno(), zmq.POLLIN)
accept_failed = received = 0
while True:
    ready = dict(poller.poll(1000))
    if mon in ready:
        while mon.poll(0):
            event = mon.recv_multipart()[0]
            accept_failed += 1
            if accept_failed == 1:
                print("accept-failed", int.from_bytes(event[2:6], "little"), flush=True)
    if s in ready:
        while s.poll(0):
            if kind == "ROUTER":
                rid, body = s.recv_multipart()
                s.send_multipart([rid, b"re:" + body])
            else:
                body = s.recv()
                if body.startswith(b"show:"):
                    print("got", body[5:].decode(), flush=True)
            received += 1
    if sys.stdin.fileno() in ready:
        line = sys.stdin.readline().strip()
        if line == "stats":
            fds = len(os.listdir("/proc/self/fd"))
            print(f"stats fds={fds} accept_failed={accept_failed} received={received}", flush=True)
        elif line in ("quit", ""):
            break
mon.close()
s.close()
ctx.term()
print("bye", flush=True)
"""


def start_server(procs, kind, addr="tcp://127.0.0.1:*", nofile=0, **opts):
    p = procs.start(SERVER, [kind, addr, nofile] + [f"{k}={v}" for k, v in opts.items()],
                    reads_stdin=True)
    p.endpoint = p.expect("endpoint", 20).split()[1]
    return p


def stats(server):
    server.send("stats")
    return dict(kv.split("=") for kv in server.expect("stats").split()[1:])


def stop(server):
    server.send("quit")
    server.expect("bye", 20)
    assert server.wait(10) == 0, server.stderr()


def tcp_hostport(endpoint):
    host, port = endpoint[len("tcp://"):].rsplit(":", 1)
    return host, int(port)


# --------------------------------------------------------------------------
# out of descriptors
# --------------------------------------------------------------------------

def hog_connections(endpoint, n):
    """n plain stream connections that never say a word."""
    out = []
    for _ in range(n):
        if endpoint.startswith("tcp://"):
            out.append(socket.create_connection(tcp_hostport(endpoint), timeout=5))
        else:
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.settimeout(5)
            c.connect(endpoint[len("ipc://"):])
            out.append(c)
    return out


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_listener_out_of_descriptors_backs_off_and_recovers(procs, pyzmq, pctx, endpoint,
                                                            transport):
    """RLIMIT_NOFILE 64 and 90 clients: accept() fails with EMFILE.  The
    server reports ACCEPT_FAILED (value EMFILE), keeps serving its connected
    peer, does not spin on the listener (libzmq 4.3 does: checked for mqcore
    only), and accepts the waiting peers once descriptors are free."""
    if transport == "ipc" and IMPL == "zmq":
        pytest.skip("libzmq 4.3.5 aborts here: its ipc accept() asserts errno is not EMFILE "
                    "(ipc_listener.cpp:297)")
    addr = "tcp://127.0.0.1:*" if transport == "tcp" else endpoint.fixed("ipc")
    server = start_server(procs, "PULL", addr, nofile=64)
    fds_idle = int(stats(server)["fds"])
    good = pctx.socket(pyzmq.PUSH)
    good.linger = 0
    good.sndtimeo = 5000
    good.connect(server.endpoint)
    good.send(b"show:before")
    assert server.expect("got") == "got before"

    hogs = hog_connections(server.endpoint, 90)
    try:
        assert server.expect("accept-failed", 10) == f"accept-failed {errno.EMFILE}"
        late = pctx.socket(pyzmq.PUSH)     # waits in the backlog
        late.linger = 0
        late.sndtimeo = 5000
        late.connect(server.endpoint)
        late.send(b"show:late")

        good.send(b"show:during")
        assert server.expect("got") == "got during", "the connected peer was not served"

        cpu0, t0 = proc_cpu_seconds(server.pid), time.monotonic()
        time.sleep(2.0)
        cpu = proc_cpu_seconds(server.pid) - cpu0
        wall = time.monotonic() - t0
        assert server.alive()
        if IMPL == "mqcore":
            assert cpu < 0.25 * wall, f"server burnt {cpu:.2f} s CPU in {wall:.2f} s out of fds"
    finally:
        for h in hogs:
            h.close()
    assert server.expect("got", 10) == "got late", "the waiting peer was never accepted"
    # And new ones are accepted at once.
    fresh = pctx.socket(pyzmq.PUSH)
    fresh.linger = 0
    fresh.connect(server.endpoint)
    fresh.send(b"show:fresh")
    assert server.expect("got", 10) == "got fresh"
    deadline = time.monotonic() + 10
    while int(stats(server)["fds"]) > fds_idle + 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert int(stats(server)["fds"]) <= fds_idle + 3, "descriptors of the hogs kept"
    stop(server)


def test_close_while_out_of_descriptors(procs):
    """Closing the socket (and the context) while its listener is backing
    off an EMFILE ends cleanly."""
    server = start_server(procs, "PULL", nofile=64)
    hogs = hog_connections(server.endpoint, 90)
    try:
        server.expect("accept-failed", 10)
        time.sleep(0.25)
        stop(server)
    finally:
        for h in hogs:
            h.close()


# Connects with every descriptor taken, then frees them.
CONNECT_WITHOUT_FDS = IMPORT_IMPL + r"""
import resource, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
ctx = zmq.Context()
push = ctx.socket(zmq.PUSH)
push.linger = 5000
# Start the io threads while descriptors are free (libzmq does so with the
# first socket; a connect that cannot start them fails with EMFILE).
warm = ctx.socket(zmq.PULL)
warm.bind("tcp://127.0.0.1:*")
hogs = []
try:
    while True:
        hogs.append(os.open("/dev/null", os.O_RDONLY))
except OSError as exc:
    print("exhausted", exc.errno, flush=True)
push.connect(sys.argv[1])
push.send(b"queued while out of fds")
time.sleep(1.0)
for fd in hogs:
    os.close(fd)
print("freed", flush=True)
push.send(b"after")
push.close()
warm.close(linger=0)
ctx.term()
print("bye", flush=True)
"""


def test_connect_out_of_descriptors_retries(procs, pyzmq, pctx):
    """A connect made while no descriptor is free is retried, and the
    queued message goes out once descriptors are back."""
    pull = pctx.socket(pyzmq.PULL)
    pull.linger = 0
    pull.rcvtimeo = 10000
    pull.bind("tcp://127.0.0.1:*")
    child = procs.start(CONNECT_WITHOUT_FDS, [pull.getsockopt(pyzmq.LAST_ENDPOINT).decode()])
    assert child.expect("exhausted", 20) == f"exhausted {errno.EMFILE}"
    child.expect("freed", 20)
    assert pull.recv() == b"queued while out of fds"
    assert pull.recv() == b"after"
    child.expect("bye", 20)
    assert child.wait(10) == 0, child.stderr()


# --------------------------------------------------------------------------
# thousands of connections
# --------------------------------------------------------------------------

N_CLIENTS = 2000


def test_thousands_of_connections(procs, pyzmq, pctx):
    """2,000 raw ZMTP clients to one ROUTER: every one completes the
    handshake and gets its answer; once they are gone, the server's
    descriptors are back and it serves a newcomer."""
    # A backlog for them all: with the default 100, connects would wait for
    # SYN retransmits, which tests the kernel, not the server.
    server = start_server(procs, "ROUTER", nofile=N_CLIENTS + 500, backlog=N_CLIENTS)
    host, port = tcp_hostport(server.endpoint)
    fds_idle = int(stats(server)["fds"])
    rss_idle = proc_rss_bytes(server.pid)
    clients = []
    try:
        t0 = time.monotonic()
        for i in range(N_CLIENTS):
            c = socket.create_connection((host, port), timeout=10)
            c.sendall(greeting())
            clients.append(c)
        t1 = time.monotonic()
        # As libzmq clients do, READY only once the server's greeting is in
        # (libzmq 4.3 as a server fails a handshake whose greeting, READY and
        # first message all arrive before it read the greeting).
        for i, c in enumerate(clients):
            g = read_exact(c, 64)
            assert g[:1] == b"\xff" and g[10] == 3, g
            c.sendall(ready(b"DEALER") + frame(b"client-%d" % i))
        for i, c in enumerate(clients):
            flags, body = read_frame(c)
            assert flags & 0x04 and body.startswith(b"\x05READY"), (flags, body[:20])
            flags, body = read_frame(c)
            assert body == b"re:client-%d" % i
        t2 = time.monotonic()
        st = stats(server)
        assert int(st["received"]) == N_CLIENTS
        rss_busy = proc_rss_bytes(server.pid)
    finally:
        for c in clients:
            c.close()
    deadline = time.monotonic() + 20
    while int(stats(server)["fds"]) > fds_idle and time.monotonic() < deadline:
        time.sleep(0.1)
    assert int(stats(server)["fds"]) <= fds_idle, "descriptors of closed connections kept"
    newcomer = pctx.socket(pyzmq.DEALER)
    newcomer.linger = 0
    newcomer.rcvtimeo = 5000
    newcomer.connect(server.endpoint)
    newcomer.send(b"late")
    assert newcomer.recv() == b"re:late"
    newcomer.close()
    print(f"connect {t1 - t0:.1f} s, exchange {t2 - t1:.1f} s, "
          f"server RSS idle {rss_idle >> 20} MiB, with {N_CLIENTS} connections {rss_busy >> 20} MiB")
    stop(server)


# --------------------------------------------------------------------------
# frames no one can hold
# --------------------------------------------------------------------------

@pytest.mark.parametrize("size", [2 ** 62, 8 << 30], ids=["2^62", "8GiB"])
def test_huge_frame_announced_without_maxmsgsize(procs, pyzmq, pctx, size):
    """No MAXMSGSIZE, and a peer announces a frame of *size* and sends a
    little of it.  The server must survive, not commit memory for the
    announcement (a 2^62 frame closes the connection: no one can hold it),
    and keep serving its other peers, new ones too, also once the
    announcer gives up."""
    server = start_server(procs, "PULL")
    host, port = tcp_hostport(server.endpoint)
    good = pctx.socket(pyzmq.PUSH)
    good.linger = 0
    good.sndtimeo = 5000
    good.connect(server.endpoint)
    good.send(b"show:before")
    assert server.expect("got") == "got before"
    rss0 = proc_rss_bytes(server.pid)

    announcers = []
    for _ in range(4):
        raw = socket.create_connection((host, port), timeout=5)
        raw.sendall(greeting() + ready(b"PUSH"))
        read_exact(raw, 64)
        read_frame(raw)
        header = b"\x02" + struct.pack(">Q", size)
        try:
            raw.sendall(header + os.urandom(64 << 10))
        except (BrokenPipeError, ConnectionResetError):
            pass
        announcers.append(raw)
    time.sleep(0.3)
    assert server.alive(), f"server died: {server.stderr()}"
    if size >= 2 ** 62:
        for raw in announcers:
            assert closed_by_peer(raw, 5), "a 2^62-byte frame was not refused"
    grown = proc_rss_bytes(server.pid) - rss0
    assert grown < 256 << 20, f"RSS grew by {grown >> 20} MiB for {len(announcers)} announcements"

    good.send(b"show:during")
    assert server.expect("got") == "got during"
    for raw in announcers:
        raw.close()
    fresh = pctx.socket(pyzmq.PUSH)
    fresh.linger = 0
    fresh.connect(server.endpoint)
    fresh.send(b"show:after")
    assert server.expect("got") == "got after"
    stop(server)


# 1,000 DEALER sockets of one context, each with its own connection.
MANY_SOCKETS = IMPORT_IMPL + r"""
import resource, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4096), max(hard, 4096)))
n = int(sys.argv[2])
import time
ctx = zmq.Context()
warm = ctx.socket(zmq.DEALER)           # io threads start with the first socket or connect
warm.connect(sys.argv[1])
warm.close(linger=0)
time.sleep(0.2)
fds0 = len(os.listdir("/proc/self/fd"))
socks = []
for i in range(n):
    s = ctx.socket(zmq.DEALER)
    s.linger = 0
    s.rcvtimeo = 10000
    s.connect(sys.argv[1])
    s.send(b"%d" % i)
    socks.append(s)
for i, s in enumerate(socks):
    assert s.recv() == b"re:%d" % i, i
print("fds", len(os.listdir("/proc/self/fd")) - fds0, flush=True)
for s in socks:
    s.close()
deadline = time.monotonic() + 10
while len(os.listdir("/proc/self/fd")) > fds0 and time.monotonic() < deadline:
    time.sleep(0.05)
print("left", len(os.listdir("/proc/self/fd")) - fds0, flush=True)
ctx.term()
print("bye", flush=True)
"""


def test_a_thousand_sockets_in_one_process(procs):
    """1,000 connecting sockets of one context to one ROUTER: all exchange
    a message, and closing them gives every descriptor back."""
    n = 1000
    server = start_server(procs, "ROUTER", nofile=4096, backlog=n)
    child = procs.start(MANY_SOCKETS, [server.endpoint, n])
    used = int(child.expect("fds", 60).split()[1])
    assert used >= n                     # a connection each, at least
    assert child.expect("left", 30) == "left 0", "descriptors kept after close"
    child.expect("bye", 20)
    assert child.wait(10) == 0, child.stderr()
    assert int(stats(server)["received"]) == n
    stop(server)
