"""Shared fixtures for the mqcore test suite.

The implementation under test is chosen with the environment variable
``MQCORE_TEST_IMPL``:

* ``mqcore`` (default): ``import mqcore`` -- the library being built;
* ``zmq``: real pyzmq stands in for mqcore.  This is how the tests themselves
  are validated: every test must pass against pyzmq/libzmq, the reference.

Fixtures
--------
``zmq``        the module under test (mqcore, or pyzmq when MQCORE_TEST_IMPL=zmq)
``pyzmq``      the real pyzmq module, used for interop peers
``ctx``        a context of the module under test (destroyed with linger 0)
``pctx``       a pyzmq context (destroyed with linger 0)
``ref``        the reference libzmq with draft API and PGM (tests/libzmq_ref.py,
               built by tools/build_reference_libzmq.sh when missing)
``refctx``     a context of ``ref`` (terminated, sockets closed at linger 0);
               ``refctx.socket(TYPE)`` has RCVTIMEO = SNDTIMEO = 5000 ms
``sock``       ``sock(TYPE, **opts)``: socket on ``ctx``
``psock``      ``psock(TYPE, **opts)``: socket on ``pctx``
``make_socket``  ``make_socket(context, TYPE, **opts)``: socket on any context
``endpoint``   endpoint factory (see :class:`Endpoints`); can be parametrized
               indirectly with "tcp", "ipc" or "inproc"

Every socket made by a fixture has RCVTIMEO = SNDTIMEO = 5000 ms and
LINGER = 0 (override with keyword options, e.g. ``sock(zmq.PULL, rcvtimeo=200)``)
and is closed at teardown, so a broken implementation makes a test fail
instead of hanging.

Helpers (plain functions, also exposed as fixtures of the same name so test
modules never need to import this file): ``recv_timeout``,
``recv_multipart_timeout``, ``assert_no_message``, ``recv_any``,
``wait_until``, ``bind_retry``, ``free_tcp_port``, ``is_again``,
``drain``.
"""

from __future__ import annotations

import errno as _errno
import importlib
import os
import shutil
import socket as _socket
import tempfile
import time
import uuid

import pytest

IMPL = os.environ.get("MQCORE_TEST_IMPL", "mqcore").strip() or "mqcore"

DEFAULT_TIMEOUT_MS = 5000
DEFAULT_TEST_TIMEOUT_S = 60
SLOW_TEST_TIMEOUT_S = 120


# --------------------------------------------------------------------------
# pytest hooks
# --------------------------------------------------------------------------

def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: heavy test (large messages, many connections)")
    config.addinivalue_line(
        "markers", "interop: talks to real pyzmq/libzmq")


def pytest_report_header(config):
    return f"mqcore tests: MQCORE_TEST_IMPL={IMPL}"


def pytest_collection_modifyitems(config, items):
    """Give every test a pytest-timeout deadline unless it has its own.

    An explicit ``--timeout`` on the command line wins (handy when debugging).
    """
    try:
        cli_timeout = config.getoption("timeout")
    except (ValueError, AttributeError):
        cli_timeout = None
    if cli_timeout is not None:
        return
    for item in items:
        if item.get_closest_marker("timeout") is not None:
            continue
        limit = SLOW_TEST_TIMEOUT_S if item.get_closest_marker("slow") else DEFAULT_TEST_TIMEOUT_S
        item.add_marker(pytest.mark.timeout(limit))


# --------------------------------------------------------------------------
# helpers (module-level functions; also fixtures below)
# --------------------------------------------------------------------------

def is_again(exc: BaseException) -> bool:
    """True if *exc* is a zmq.Again of any implementation (errno EAGAIN)."""
    return getattr(exc, "errno", None) == _errno.EAGAIN


# libzmq option/flag numbers (identical in pyzmq and mqcore).  The helpers
# use the numbers so they work on sockets of either implementation.
_RCVTIMEO = 27
_SNDTIMEO = 28
_LINGER = 17
_LAST_ENDPOINT = 32
_NOBLOCK = 1


class _TempTimeout:
    """Temporarily set RCVTIMEO (or SNDTIMEO) on a socket."""

    def __init__(self, sock, ms, opt=_RCVTIMEO):
        self.sock = sock
        self.ms = int(ms)
        self.opt = opt

    def __enter__(self):
        self.old = self.sock.getsockopt(self.opt)
        self.sock.setsockopt(self.opt, self.ms)
        return self.sock

    def __exit__(self, *exc):
        if not self.sock.closed:
            self.sock.setsockopt(self.opt, self.old)
        return False


def recv_timeout(sock, ms=DEFAULT_TIMEOUT_MS, flags=0, **kw):
    """recv() that fails the test (instead of hanging) after *ms* ms."""
    with _TempTimeout(sock, ms):
        try:
            return sock.recv(flags, **kw)
        except Exception as exc:  # noqa: BLE001 - any implementation's Again
            if is_again(exc):
                pytest.fail(f"no message on {sock!r} within {ms} ms")
            raise


def recv_multipart_timeout(sock, ms=DEFAULT_TIMEOUT_MS, flags=0, **kw):
    """recv_multipart() that fails the test after *ms* ms (per frame)."""
    with _TempTimeout(sock, ms):
        try:
            return sock.recv_multipart(flags, **kw)
        except Exception as exc:  # noqa: BLE001
            if is_again(exc):
                pytest.fail(f"no (complete) message on {sock!r} within {ms} ms")
            raise


def assert_no_message(sock, ms=250):
    """Assert that nothing can be received from *sock* within *ms* ms."""
    with _TempTimeout(sock, ms):
        try:
            msg = sock.recv_multipart()
        except Exception as exc:  # noqa: BLE001
            if is_again(exc):
                return
            raise
    pytest.fail(f"unexpected message on {sock!r}: {msg!r:.200}")


def recv_any(socks, timeout=DEFAULT_TIMEOUT_MS / 1000, multipart=False):
    """Receive one message from whichever of *socks* has one first.

    Uses only non-blocking recv (no Poller), so it works with any
    implementation.  Returns ``(index, message)``; fails on timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        for i, s in enumerate(socks):
            try:
                msg = s.recv_multipart(_NOBLOCK) if multipart else s.recv(_NOBLOCK)
            except Exception as exc:  # noqa: BLE001
                if is_again(exc):
                    continue
                raise
            return i, msg
        if time.monotonic() > deadline:
            pytest.fail(f"no message on any of {len(socks)} sockets within {timeout} s")
        time.sleep(0.001)


def drain(sock, ms=100):
    """Receive and return every message that arrives within *ms* ms of the last."""
    out = []
    with _TempTimeout(sock, ms):
        while True:
            try:
                out.append(sock.recv_multipart())
            except Exception as exc:  # noqa: BLE001
                if is_again(exc):
                    return out
                raise


def wait_until(predicate, timeout=5.0, interval=0.005, msg="condition"):
    """Poll *predicate* until it returns a true value; fail after *timeout* s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {msg}")
        time.sleep(interval)


def bind_retry(sock, addr, timeout=5.0):
    """bind(), retrying while the address is still in use.

    libzmq closes listeners asynchronously, so re-binding an address right
    after closing the previous binder can briefly give EADDRINUSE.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            sock.bind(addr)
            return
        except Exception as exc:  # noqa: BLE001
            if getattr(exc, "errno", None) != _errno.EADDRINUSE or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def free_tcp_port(host="127.0.0.1", family=_socket.AF_INET) -> int:
    """A currently free TCP port on the loopback interface."""
    with _socket.socket(family, _socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def last_endpoint(sock) -> str:
    value = sock.getsockopt(_LAST_ENDPOINT)
    if isinstance(value, bytes):
        value = value.decode()
    return value.rstrip("\x00")


def has_ipv6_loopback() -> bool:
    if not _socket.has_ipv6:
        return False
    try:
        with _socket.socket(_socket.AF_INET6, _socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


# --------------------------------------------------------------------------
# endpoints
# --------------------------------------------------------------------------

class Endpoints:
    """Endpoint factory.

    ``endpoint("tcp")``   -> a *bind* address (``tcp://127.0.0.1:*``)
    ``endpoint.fixed(t)`` -> a concrete address that can be connected to
                             before anything is bound (free tcp port, ipc
                             path, inproc name)
    ``endpoint.bind(sock, t)`` -> binds *sock* and returns the address peers
                             connect to (LAST_ENDPOINT for tcp)

    When the fixture is parametrized indirectly
    (``@pytest.mark.parametrize("endpoint", ["tcp", "ipc"], indirect=True)``)
    the transport argument may be omitted; ``endpoint.transport`` tells which.
    """

    TRANSPORTS = ("tcp", "ipc", "inproc")

    def __init__(self, tmp_path, transport=None):
        self.transport = transport
        self._n = 0
        self._tmpdir = None
        self._own_tmpdir = False
        self._tmp_path = tmp_path

    # -- internals
    def _ipc_dir(self):
        if self._tmpdir is None:
            base = str(self._tmp_path)
            if base.startswith("/tmp/") and len(base) <= 70:
                self._tmpdir = base
            else:
                self._tmpdir = tempfile.mkdtemp(prefix="mqt-", dir="/tmp")
                self._own_tmpdir = True
        return self._tmpdir

    def _pick(self, transport):
        t = transport or self.transport
        if t is None:
            raise ValueError("no transport given and endpoint fixture not parametrized")
        if t not in self.TRANSPORTS:
            raise ValueError(f"unknown transport {t!r}")
        return t

    def _next(self):
        self._n += 1
        return self._n

    def cleanup(self):
        if self._own_tmpdir and self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    # -- API
    def ipc_path(self):
        path = os.path.join(self._ipc_dir(), f"s{self._next()}.ipc")
        assert len(path) < 100, path
        return path

    def __call__(self, transport=None) -> str:
        t = self._pick(transport)
        if t == "tcp":
            return "tcp://127.0.0.1:*"
        return self.fixed(t)

    def fixed(self, transport=None) -> str:
        t = self._pick(transport)
        if t == "tcp":
            return f"tcp://127.0.0.1:{free_tcp_port()}"
        if t == "ipc":
            return "ipc://" + self.ipc_path()
        return f"inproc://mqt-{uuid.uuid4().hex[:16]}-{self._next()}"

    def bind(self, sock, transport=None) -> str:
        t = self._pick(transport)
        addr = self(t)
        sock.bind(addr)
        if t == "tcp":
            return last_endpoint(sock)
        return addr


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def zmq():
    """The module under test."""
    if IMPL == "zmq":
        import zmq as mod
        return mod
    if IMPL != "mqcore":
        pytest.fail(f"unknown MQCORE_TEST_IMPL={IMPL!r} (use 'mqcore' or 'zmq')")
    try:
        return importlib.import_module("mqcore")
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"cannot import mqcore ({exc!r}); build it first "
                    "or run with MQCORE_TEST_IMPL=zmq", pytrace=False)


@pytest.fixture(scope="session")
def pyzmq():
    """The real pyzmq module (interop peer / reference)."""
    import zmq as mod
    return mod


@pytest.fixture(scope="session")
def ref():
    """The reference libzmq (draft API, PGM, CURVE) through ctypes."""
    import libzmq_ref
    return libzmq_ref.load()


@pytest.fixture
def refctx(ref):
    c = ref.Context()
    yield c
    c.term()


@pytest.fixture
def ctx(zmq):
    c = zmq.Context()
    yield c
    c.destroy(linger=0)


@pytest.fixture
def pctx(pyzmq):
    c = pyzmq.Context()
    yield c
    c.destroy(linger=0)


def _configure(mod, s, opts):
    settings = {"rcvtimeo": DEFAULT_TIMEOUT_MS, "sndtimeo": DEFAULT_TIMEOUT_MS, "linger": 0}
    settings.update({k.lower(): v for k, v in opts.items()})
    for name, value in settings.items():
        s.setsockopt(getattr(mod, name.upper()), value)
    return s


@pytest.fixture
def make_socket(zmq, pyzmq):
    """``make_socket(context, TYPE, **opts)`` -> configured, auto-closed socket."""
    made = []

    def factory(context, socket_type, **opts):
        mod = pyzmq if isinstance(context, pyzmq.Context) else zmq
        s = context.socket(socket_type)
        made.append(s)
        return _configure(mod, s, opts)

    yield factory
    for s in reversed(made):
        try:
            if not s.closed:
                s.setsockopt(_LINGER, 0)
                s.close()
        except Exception:  # noqa: BLE001 - context may already be gone
            pass


@pytest.fixture
def sock(ctx, make_socket):
    """``sock(TYPE, **opts)``: socket of the module under test on ``ctx``."""
    return lambda socket_type, **opts: make_socket(ctx, socket_type, **opts)


@pytest.fixture
def psock(pctx, make_socket):
    """``psock(TYPE, **opts)``: real pyzmq socket on ``pctx``."""
    return lambda socket_type, **opts: make_socket(pctx, socket_type, **opts)


@pytest.fixture
def endpoint(request, tmp_path):
    transport = getattr(request, "param", None)
    ep = Endpoints(tmp_path, transport)
    yield ep
    ep.cleanup()


# helpers as fixtures, so test modules do not import conftest
@pytest.fixture(name="recv_timeout")
def _recv_timeout_fixture():
    return recv_timeout


@pytest.fixture(name="recv_multipart_timeout")
def _recv_multipart_timeout_fixture():
    return recv_multipart_timeout


@pytest.fixture(name="assert_no_message")
def _assert_no_message_fixture():
    return assert_no_message


@pytest.fixture(name="recv_any")
def _recv_any_fixture():
    return recv_any


@pytest.fixture(name="wait_until")
def _wait_until_fixture():
    return wait_until


@pytest.fixture(name="bind_retry")
def _bind_retry_fixture():
    return bind_retry


@pytest.fixture(name="drain")
def _drain_fixture():
    return drain


@pytest.fixture(name="is_again")
def _is_again_fixture():
    return is_again


@pytest.fixture(name="free_tcp_port")
def _free_tcp_port_fixture():
    return free_tcp_port


@pytest.fixture(name="last_endpoint")
def _last_endpoint_fixture():
    return last_endpoint


@pytest.fixture(name="has_ipv6_loopback")
def _has_ipv6_loopback_fixture():
    return has_ipv6_loopback
