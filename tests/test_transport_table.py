"""Transports as a table (issue 7): what each row resolves, what it binds,
what LAST_ENDPOINT then says, how ipc files live and die, and the
per-connection options the rows apply (TOS, TCP_MAXRT), read back from the
kernel sockets themselves.

Each transport row (src/transport/<scheme>.pxi) resolves "scheme://address",
listens, accepts, connects and tunes connections; the Python face only looks
the row up by scheme. These tests go through the public API, so they also
run against pyzmq/libzmq (MQCORE_TEST_IMPL=zmq); checks of mqcore's own
choices (the ipc wildcard's directory) say so.

Kernel sockets are found through monitor events, whose value is the fd for
LISTENING, ACCEPTED and CONNECTED (as libzmq), and inspected through a
duplicate of that fd.
"""

from __future__ import annotations

import errno
import os
import socket
import stat

import pytest

from conftest import IMPL, has_ipv6_loopback, last_endpoint
from pattern_helpers import monitor_module

mqcore_only = pytest.mark.skipif(IMPL != "mqcore", reason="mqcore's own choice")

TOS = 57
TCP_MAXRT = 80
IPV6 = 42


def bind_error(sock_, zmq, addr, **opts):
    s = sock_(zmq.PULL, **opts)
    with pytest.raises(zmq.ZMQError) as info:
        s.bind(addr)
    return info.value.errno


def connect_error(sock_, zmq, addr, **opts):
    s = sock_(zmq.PUSH, **opts)
    with pytest.raises(zmq.ZMQError) as info:
        s.connect(addr)
    return info.value.errno


# --------------------------------------------------------------------------
# tcp: resolution and LAST_ENDPOINT
# --------------------------------------------------------------------------

@pytest.mark.parametrize("addr", ["tcp://127.0.0.1:*", "tcp://127.0.0.1:0"])
def test_tcp_wildcard_port_names_the_port_picked(zmq, sock, addr):
    s = sock(zmq.PULL)
    s.bind(addr)
    resolved = last_endpoint(s)
    assert resolved.startswith("tcp://127.0.0.1:")
    port = int(resolved.rsplit(":", 1)[1])
    assert 0 < port < 65536
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass        # really listening there


def test_tcp_any_host_is_every_ipv4_address(zmq, sock):
    s = sock(zmq.PULL)
    s.bind("tcp://*:*")
    resolved = last_endpoint(s)
    assert resolved.startswith("tcp://0.0.0.0:")


@pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback")
def test_tcp_ipv6_literal_in_brackets(zmq, sock, recv_timeout):
    pull = sock(zmq.PULL, ipv6=1)
    pull.bind("tcp://[::1]:*")
    resolved = last_endpoint(pull)
    assert resolved.startswith("tcp://[::1]:")
    push = sock(zmq.PUSH, ipv6=1)
    push.connect(resolved)
    push.send(b"v6")
    assert recv_timeout(pull) == b"v6"


@pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback")
def test_tcp_any_host_with_ipv6_is_dual_stack(zmq, sock):
    s = sock(zmq.PULL, ipv6=1)
    s.bind("tcp://*:*")
    resolved = last_endpoint(s)
    assert resolved.startswith("tcp://[::]:")
    port = int(resolved.rsplit(":", 1)[1])
    for host in ("127.0.0.1", "::1"):
        with socket.create_connection((host, port), timeout=5):
            pass


def test_tcp_connect_by_name(zmq, sock, recv_timeout):
    pull = sock(zmq.PULL)
    pull.bind("tcp://127.0.0.1:*")
    port = last_endpoint(pull).rsplit(":", 1)[1]
    push = sock(zmq.PUSH)
    push.connect(f"tcp://localhost:{port}")
    # A connect keeps the endpoint as given.
    assert last_endpoint(push) == f"tcp://localhost:{port}"
    push.send(b"by name")
    assert recv_timeout(pull) == b"by name"


@pytest.mark.parametrize("addr", [
    "tcp://127.0.0.1",              # no port
    "tcp://127.0.0.1:",             # empty port
    "tcp://127.0.0.1:notaport",
    "tcp://127.0.0.1:65536",
    # libzmq reads ports with atoi (-1 binds 65535) and takes an empty host
    # for an interface name (ENODEV); mqcore refuses both as malformed.
    pytest.param("tcp://127.0.0.1:-1", marks=mqcore_only),
    pytest.param("tcp://:5555", marks=mqcore_only),
])
def test_tcp_bind_malformed_is_einval(zmq, sock, addr):
    assert bind_error(sock, zmq, addr) == errno.EINVAL


def test_tcp_bind_to_unknown_interface_is_enodev(zmq, sock):
    assert bind_error(sock, zmq, "tcp://no-such-interface-mqcore:*") == errno.ENODEV


@pytest.mark.parametrize("addr", [
    "tcp://127.0.0.1",
    "tcp://127.0.0.1:*",            # a wildcard port is for bind only
    "tcp://127.0.0.1:notaport",
    "tcp://*:5555",                 # so is a wildcard host
    pytest.param("tcp://127.0.0.1:65536", marks=mqcore_only),   # libzmq: atoi, cut to 16 bits
])
def test_tcp_connect_malformed_is_einval(zmq, sock, addr):
    assert connect_error(sock, zmq, addr) == errno.EINVAL


def test_tcp_connect_port_zero_is_einval(zmq, sock):
    if IMPL != "mqcore":
        pytest.skip("libzmq lets a connect to port 0 retry forever")
    assert connect_error(sock, zmq, "tcp://127.0.0.1:0") == errno.EINVAL


@pytest.mark.skipif(IMPL != "mqcore", reason="libzmq's BIND_FAILED event send clobbers errno (EAGAIN)")
def test_tcp_port_in_use_is_eaddrinuse_and_reported(zmq, sock):
    a = sock(zmq.PULL)
    a.bind("tcp://127.0.0.1:*")
    taken = last_endpoint(a)
    b = sock(zmq.PULL)
    mon = b.get_monitor_socket(zmq.EVENT_BIND_FAILED)
    mon.setsockopt(zmq.RCVTIMEO, 5000)
    with pytest.raises(zmq.ZMQError) as info:
        b.bind(taken)
    assert info.value.errno == errno.EADDRINUSE
    msg = monitor_module(zmq).recv_monitor_message(mon)
    assert msg["event"] == zmq.EVENT_BIND_FAILED
    assert msg["value"] == errno.EADDRINUSE


# --------------------------------------------------------------------------
# unknown schemes, malformed endpoints
# --------------------------------------------------------------------------

@pytest.mark.parametrize("addr", ["foo://bar", "udpx://1.2.3.4:5", "TCP://127.0.0.1:5555"])
def test_unknown_scheme_is_eprotonosupport(zmq, sock, addr):
    assert bind_error(sock, zmq, addr) == errno.EPROTONOSUPPORT
    assert connect_error(sock, zmq, addr) == errno.EPROTONOSUPPORT


def test_monitor_needs_an_in_process_endpoint(zmq, sock):
    s = sock(zmq.PUSH)
    for addr in ("tcp://127.0.0.1:5555", "foo://bar"):
        with pytest.raises(zmq.ZMQError) as info:
            s.monitor(addr, zmq.EVENT_ALL)
        assert info.value.errno == errno.EPROTONOSUPPORT


def test_endpoint_without_scheme_is_einval(zmq, sock):
    assert bind_error(sock, zmq, "127.0.0.1:5555") == errno.EINVAL


# --------------------------------------------------------------------------
# inproc
# --------------------------------------------------------------------------

def test_inproc_empty_name_is_einval(zmq, sock):
    assert bind_error(sock, zmq, "inproc://") == errno.EINVAL
    assert connect_error(sock, zmq, "inproc://") == errno.EINVAL


def test_inproc_last_endpoint_and_unbind(zmq, sock, recv_timeout, endpoint):
    name = endpoint.fixed("inproc")
    pull = sock(zmq.PULL)
    pull.bind(name)
    assert last_endpoint(pull) == name
    push = sock(zmq.PUSH)
    push.connect(name)
    assert last_endpoint(push) == name
    push.send(b"x")
    assert recv_timeout(pull) == b"x"
    push.disconnect(name)
    with pytest.raises(zmq.ZMQError) as info:
        push.disconnect(name)
    assert info.value.errno == errno.ENOENT
    pull.unbind(name)
    other = sock(zmq.PULL)
    other.bind(name)        # the name is free again


@pytest.mark.skipif(IMPL != "mqcore", reason="libzmq's unbind and disconnect are one call")
def test_unbind_is_for_binds_and_disconnect_for_connects(zmq, sock, endpoint):
    s = sock(zmq.PAIR)
    name = endpoint.fixed("inproc")
    s.bind(name)
    with pytest.raises(zmq.ZMQError) as info:
        s.disconnect(name)
    assert info.value.errno == errno.ENOENT
    s.unbind(name)


# --------------------------------------------------------------------------
# ipc: resolution, LAST_ENDPOINT and the socket file's lifecycle
# --------------------------------------------------------------------------

# libzmq 4.3 removes only the files of ipc://* binds, and later, from its io
# thread; mqcore removes every file it made, at once, from the closing thread.

@mqcore_only
def test_ipc_bind_makes_a_socket_file_and_unbind_removes_it(zmq, sock, endpoint):
    path = endpoint.ipc_path()
    s = sock(zmq.PULL)
    s.bind("ipc://" + path)
    assert last_endpoint(s) == "ipc://" + path
    assert stat.S_ISSOCK(os.stat(path).st_mode)
    s.unbind("ipc://" + path)
    assert not os.path.exists(path)


@mqcore_only
def test_ipc_close_removes_the_file(zmq, ctx, endpoint):
    path = endpoint.ipc_path()
    s = ctx.socket(zmq.PULL)
    s.bind("ipc://" + path)
    s.close(linger=0)
    assert not os.path.exists(path)


def test_ipc_stale_file_is_replaced(zmq, sock, endpoint):
    path = endpoint.ipc_path()
    with open(path, "w") as f:
        f.write("left by an earlier run")
    s = sock(zmq.PULL)
    s.bind("ipc://" + path)
    assert stat.S_ISSOCK(os.stat(path).st_mode)


def test_ipc_file_of_a_later_bind_is_left_alone(zmq, ctx, sock, endpoint):
    # The first socket's file was replaced by a second bind of the same
    # path; closing the first must not remove the second's file.
    path = endpoint.ipc_path()
    first = ctx.socket(zmq.PULL)
    first.bind("ipc://" + path)
    second = sock(zmq.PULL)
    second.bind("ipc://" + path)
    inode = os.stat(path).st_ino
    first.close(linger=0)
    assert os.stat(path).st_ino == inode


def test_ipc_wildcard_binds_a_fresh_path(zmq, sock, recv_timeout):
    pull = sock(zmq.PULL)
    pull.bind("ipc://*")
    resolved = last_endpoint(pull)
    path = resolved[len("ipc://"):]
    assert stat.S_ISSOCK(os.stat(path).st_mode)
    other = sock(zmq.PULL)
    other.bind("ipc://*")
    assert last_endpoint(other) != resolved
    push = sock(zmq.PUSH)
    push.connect(resolved)
    push.send(b"w")
    assert recv_timeout(pull) == b"w"
    pull.unbind(resolved)


@mqcore_only
def test_ipc_wildcard_dir_is_private_and_goes_with_the_socket(zmq, sock, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    s = sock(zmq.PULL)
    s.bind("ipc://*")
    path = last_endpoint(s)[len("ipc://"):]
    assert os.path.isabs(path)
    directory = os.path.dirname(path)
    assert os.path.dirname(directory) == str(tmp_path)
    assert os.path.basename(directory).startswith("mqcore-")
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    s.unbind("ipc://" + path)
    assert not os.path.exists(path)
    assert not os.path.exists(directory)


def test_ipc_wildcard_is_known_by_its_resolved_name_only(zmq, sock):
    s = sock(zmq.PULL)
    s.bind("ipc://*")
    with pytest.raises(zmq.ZMQError) as info:
        s.unbind("ipc://*")
    assert info.value.errno == errno.ENOENT
    s.unbind(last_endpoint(s))


def test_ipc_path_too_long_is_enametoolong(zmq, sock, tmp_path):
    addr = "ipc://" + str(tmp_path / ("x" * 200))
    assert bind_error(sock, zmq, addr) == errno.ENAMETOOLONG
    assert connect_error(sock, zmq, addr) == errno.ENAMETOOLONG


@pytest.mark.skipif(not os.path.exists("/proc/net/unix"), reason="abstract names are Linux's")
def test_ipc_abstract_name_has_no_file(zmq, sock, recv_timeout, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = f"ipc://@mqcore-test-{os.getpid()}-{id(tmp_path)}"
    pull = sock(zmq.PULL)
    pull.bind(name)
    assert last_endpoint(pull) == name
    assert os.listdir(tmp_path) == []
    push = sock(zmq.PUSH)
    push.connect(name)
    push.send(b"abstract")
    assert recv_timeout(pull) == b"abstract"
    pull.unbind(name)


def test_ipc_missing_directory_fails_the_bind(zmq, sock, tmp_path):
    assert bind_error(sock, zmq, f"ipc://{tmp_path}/no/such/dir/s") == errno.ENOENT


# --------------------------------------------------------------------------
# TOS and TCP_MAXRT, read back from the kernel sockets
# --------------------------------------------------------------------------

def watch(zmq, s, events):
    mon = s.get_monitor_socket(events)
    mon.setsockopt(zmq.RCVTIMEO, 5000)
    mon.setsockopt(zmq.LINGER, 0)
    return mon


def wait_event(zmq, mon, event):
    """The value of the next `event` (others are skipped)."""
    recv = monitor_module(zmq).recv_monitor_message
    while True:
        msg = recv(mon)
        if msg["event"] == event:
            return msg["value"]


def fd_of_event(zmq, mon, event):
    """A duplicate (a Python socket) of the fd that `event` names, taken at
    once so that it stays the same kernel socket while it is inspected."""
    return socket.socket(fileno=os.dup(wait_event(zmq, mon, event)))


# A connection is tuned after ACCEPTED / CONNECTED, before its handshake:
# its options are read once the handshake is done.
def tuned_connection(zmq, mon, event):
    """The fd of the next `event` (ACCEPTED or CONNECTED), returned once
    that connection's handshake succeeded."""
    conn = fd_of_event(zmq, mon, event)
    wait_event(zmq, mon, zmq.EVENT_HANDSHAKE_SUCCEEDED)
    return conn


def ip_tos(s):
    if s.family == socket.AF_INET6:
        return s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS)
    return s.getsockopt(socket.IPPROTO_IP, socket.IP_TOS)


def user_timeout(s):
    return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT)


HOSTS = [pytest.param("127.0.0.1", id="ipv4"),
         pytest.param("[::1]", id="ipv6", marks=pytest.mark.skipif(
             not has_ipv6_loopback(), reason="no IPv6 loopback"))]

TOS_VALUE = 0x28        # low two (ECN) bits clear: the kernel keeps those for itself


@pytest.mark.parametrize("host", HOSTS)
def test_tos_on_listener_and_accepted_connection(zmq, sock, host):
    pull = sock(zmq.PULL, ipv6=1)
    pull.setsockopt(TOS, TOS_VALUE)
    mon = watch(zmq, pull, zmq.EVENT_LISTENING | zmq.EVENT_ACCEPTED | zmq.EVENT_HANDSHAKE_SUCCEEDED)
    pull.bind(f"tcp://{host}:*")
    with fd_of_event(zmq, mon, zmq.EVENT_LISTENING) as listening:
        assert ip_tos(listening) == TOS_VALUE
    push = sock(zmq.PUSH, ipv6=1)
    push.connect(last_endpoint(pull))
    with tuned_connection(zmq, mon, zmq.EVENT_ACCEPTED) as accepted:
        assert ip_tos(accepted) == TOS_VALUE


@pytest.mark.parametrize("host", HOSTS)
def test_tos_on_connection(zmq, sock, host):
    pull = sock(zmq.PULL, ipv6=1)
    pull.bind(f"tcp://{host}:*")
    push = sock(zmq.PUSH, ipv6=1)
    push.setsockopt(TOS, TOS_VALUE)
    mon = watch(zmq, push, zmq.EVENT_CONNECTED | zmq.EVENT_HANDSHAKE_SUCCEEDED)
    push.connect(last_endpoint(pull))
    with tuned_connection(zmq, mon, zmq.EVENT_CONNECTED) as conn:
        assert ip_tos(conn) == TOS_VALUE


def test_no_tos_leaves_the_default(zmq, sock):
    pull = sock(zmq.PULL)
    mon = watch(zmq, pull, zmq.EVENT_ACCEPTED | zmq.EVENT_HANDSHAKE_SUCCEEDED)
    pull.bind("tcp://127.0.0.1:*")
    push = sock(zmq.PUSH)
    push.connect(last_endpoint(pull))
    with tuned_connection(zmq, mon, zmq.EVENT_ACCEPTED) as accepted:
        assert ip_tos(accepted) == 0


needs_user_timeout = pytest.mark.skipif(not hasattr(socket, "TCP_USER_TIMEOUT"),
                                        reason="no TCP_USER_TIMEOUT")


@needs_user_timeout
def test_tcp_maxrt_is_the_user_timeout_on_both_sides(zmq, sock):
    pull = sock(zmq.PULL)
    pull.setsockopt(TCP_MAXRT, 1234)
    bind_mon = watch(zmq, pull, zmq.EVENT_ACCEPTED | zmq.EVENT_HANDSHAKE_SUCCEEDED)
    pull.bind("tcp://127.0.0.1:*")
    push = sock(zmq.PUSH)
    push.setsockopt(TCP_MAXRT, 4321)
    conn_mon = watch(zmq, push, zmq.EVENT_CONNECTED | zmq.EVENT_HANDSHAKE_SUCCEEDED)
    push.connect(last_endpoint(pull))
    with tuned_connection(zmq, conn_mon, zmq.EVENT_CONNECTED) as conn:
        assert user_timeout(conn) == 4321
    with tuned_connection(zmq, bind_mon, zmq.EVENT_ACCEPTED) as accepted:
        assert user_timeout(accepted) == 1234


@needs_user_timeout
def test_tcp_maxrt_zero_leaves_the_default(zmq, sock):
    pull = sock(zmq.PULL)
    pull.bind("tcp://127.0.0.1:*")
    push = sock(zmq.PUSH)
    mon = watch(zmq, push, zmq.EVENT_CONNECTED | zmq.EVENT_HANDSHAKE_SUCCEEDED)
    push.connect(last_endpoint(pull))
    with tuned_connection(zmq, mon, zmq.EVENT_CONNECTED) as conn:
        assert user_timeout(conn) == 0


@needs_user_timeout
def test_tcp_maxrt_is_not_applied_to_ipc(zmq, sock, endpoint):
    pull = sock(zmq.PULL)
    pull.setsockopt(TCP_MAXRT, 1234)
    mon = watch(zmq, pull, zmq.EVENT_ACCEPTED | zmq.EVENT_HANDSHAKE_SUCCEEDED)
    addr = "ipc://" + endpoint.ipc_path()
    pull.bind(addr)
    push = sock(zmq.PUSH)
    push.connect(addr)
    with tuned_connection(zmq, mon, zmq.EVENT_ACCEPTED) as accepted:
        assert accepted.family == socket.AF_UNIX
