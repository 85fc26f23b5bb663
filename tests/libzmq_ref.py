"""The reference peer for the draft-type and multicast tests: libzmq 4.3.4
built with its draft API, OpenPGM and libsodium by
tools/build_reference_libzmq.sh, reached through ctypes.

pyzmq's wheels have neither the draft API nor PGM, and a second pyzmq built
against this library would shadow the first, so the tests talk to the C API
directly. The wrapper is deliberately small and close to the C calls:

    ref = libzmq_ref.load()            # builds the library when missing
    ctx = ref.Context()
    s = ctx.socket(libzmq_ref.DISH)
    s.setsockopt(libzmq_ref.RCVTIMEO, 5000)
    s.bind("udp://127.0.0.1:5555"); s.join(b"weather")
    msg = s.recv()                     # a Message: .data .group .routing_id .more
    ctx.term()

Errors raise RefError(errno, text). Contexts are terminated with every
socket closed at linger 0 by ``Context.term``.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import os
import pathlib
import subprocess
import sys
import threading

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD_SCRIPT = ROOT / "tools" / "build_reference_libzmq.sh"
DEFAULT_PREFIX = pathlib.Path.home() / ".cache" / "mqcore" / "libzmq-4.3.4-draft-pgm"

# Socket types (zmq.h; the draft ones from its draft section).
PAIR, PUB, SUB, REQ, REP, DEALER, ROUTER, PULL, PUSH, XPUB, XSUB, STREAM = range(12)
SERVER, CLIENT, RADIO, DISH, GATHER, SCATTER, DGRAM, PEER, CHANNEL = range(12, 21)

# Options used by the tests (zmq.h values).
AFFINITY, ROUTING_ID, SUBSCRIBE, UNSUBSCRIBE, RATE, RECOVERY_IVL = 4, 5, 6, 7, 8, 9
SNDBUF, RCVBUF, RCVMORE, FD, EVENTS, TYPE, LINGER = 11, 12, 13, 14, 15, 16, 17
RECONNECT_IVL, BACKLOG, RECONNECT_IVL_MAX, MAXMSGSIZE, SNDHWM, RCVHWM = 18, 19, 21, 22, 23, 24
MULTICAST_HOPS, RCVTIMEO, SNDTIMEO, LAST_ENDPOINT, IMMEDIATE = 25, 27, 28, 32, 39
IPV6 = 42
MULTICAST_MAXTPDU = 84
INT64_OPTIONS = {AFFINITY, MAXMSGSIZE}
BYTES_OPTIONS = {ROUTING_ID, SUBSCRIBE, UNSUBSCRIBE, LAST_ENDPOINT}

DONTWAIT, SNDMORE = 1, 2
POLLIN, POLLOUT = 1, 2

_lock = threading.Lock()
_lib = None


class RefError(OSError):
    """An error reported by the reference libzmq."""


def prefix() -> pathlib.Path:
    return pathlib.Path(os.environ.get("MQCORE_REFERENCE_LIBZMQ") or DEFAULT_PREFIX)


def library_path() -> pathlib.Path:
    return prefix() / "lib" / "libzmq.so"


def build() -> None:
    """Builds the reference into prefix() unless a finished build is there
    (the script needs root for apt-get; CI runs it before the tests)."""
    if (prefix() / ".complete").exists():
        return
    done = subprocess.run(["bash", str(BUILD_SCRIPT), str(prefix())],
                          capture_output=True, text=True, timeout=1200)
    if done.returncode != 0:
        raise RuntimeError("building the reference libzmq failed:\n"
                           + done.stdout[-2000:] + done.stderr[-4000:])


def load():
    """This module with its library loaded (built first when missing)."""
    global _lib
    with _lock:
        if _lib is None:
            build()
            _lib = _bind(ctypes.CDLL(str(library_path())))
    return sys.modules[__name__]


class _Msg(ctypes.Structure):
    _fields_ = [("opaque", ctypes.c_ubyte * 64)]


def _bind(lib):
    c_int, c_void_p, c_char_p, c_size_t = ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t
    P = ctypes.POINTER(_Msg)
    sigs = {
        "zmq_ctx_new": ([], c_void_p),
        "zmq_ctx_term": ([c_void_p], c_int),
        "zmq_socket": ([c_void_p, c_int], c_void_p),
        "zmq_close": ([c_void_p], c_int),
        "zmq_bind": ([c_void_p, c_char_p], c_int),
        "zmq_connect": ([c_void_p, c_char_p], c_int),
        "zmq_connect_peer": ([c_void_p, c_char_p], ctypes.c_uint32),
        "zmq_unbind": ([c_void_p, c_char_p], c_int),
        "zmq_disconnect": ([c_void_p, c_char_p], c_int),
        "zmq_setsockopt": ([c_void_p, c_int, c_void_p, c_size_t], c_int),
        "zmq_getsockopt": ([c_void_p, c_int, c_void_p, ctypes.POINTER(c_size_t)], c_int),
        "zmq_join": ([c_void_p, c_char_p], c_int),
        "zmq_leave": ([c_void_p, c_char_p], c_int),
        "zmq_msg_init": ([P], c_int),
        "zmq_msg_init_size": ([P, c_size_t], c_int),
        "zmq_msg_data": ([P], c_void_p),
        "zmq_msg_size": ([P], c_size_t),
        "zmq_msg_more": ([P], c_int),
        "zmq_msg_close": ([P], c_int),
        "zmq_msg_send": ([P, c_void_p, c_int], c_int),
        "zmq_msg_recv": ([P, c_void_p, c_int], c_int),
        "zmq_msg_set_group": ([P, c_char_p], c_int),
        "zmq_msg_group": ([P], c_char_p),
        "zmq_msg_set_routing_id": ([P, ctypes.c_uint32], c_int),
        "zmq_msg_routing_id": ([P], ctypes.c_uint32),
        "zmq_errno": ([], c_int),
        "zmq_strerror": ([c_int], c_char_p),
        "zmq_has": ([c_char_p], c_int),
        "zmq_version": ([ctypes.POINTER(c_int)] * 3, None),
    }
    sigs.update(_monitor_sigs())
    for name, (args, res) in sigs.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, res
    return lib


def _check(rc, fail=-1):
    if rc == fail:
        n = _lib.zmq_errno()
        raise RefError(n, _lib.zmq_strerror(n).decode())
    return rc


class Message:
    """One received part: its bytes and the draft properties libzmq gave it."""

    __slots__ = ("data", "group", "routing_id", "more")

    def __init__(self, data, group, routing_id, more):
        self.data, self.group, self.routing_id, self.more = data, group, routing_id, more

    def __repr__(self):
        return f"Message({self.data[:32]!r}, group={self.group!r}, routing_id={self.routing_id}, more={self.more})"


class Socket:
    def __init__(self, ctx, handle):
        self.context, self.handle = ctx, handle

    def close(self, linger=0):
        if self.handle:
            self.setsockopt(LINGER, linger)
            _check(_lib.zmq_close(self.handle))
            self.handle = None
            self.context._sockets.discard(self)

    def bind(self, endpoint):
        _check(_lib.zmq_bind(self.handle, endpoint.encode()))

    def connect(self, endpoint):
        _check(_lib.zmq_connect(self.handle, endpoint.encode()))

    def monitor(self, endpoint, events=0xFFFF):
        """zmq_socket_monitor: events published on a PAIR bound at endpoint
        (inproc, this context); read them with read_event from a PAIR
        connected there. events: a mask of the version-1 events (ALL is
        0xFFFF; libzmq refuses higher bits with EINVAL)."""
        _check(_lib.zmq_socket_monitor(self.handle, endpoint.encode(), events))

    def connect_peer(self, endpoint) -> int:
        """PEER's connect: the routing id of the new peer."""
        return _check(_lib.zmq_connect_peer(self.handle, endpoint.encode()), 0)

    def unbind(self, endpoint):
        _check(_lib.zmq_unbind(self.handle, endpoint.encode()))

    def disconnect(self, endpoint):
        _check(_lib.zmq_disconnect(self.handle, endpoint.encode()))

    def join(self, group):
        _check(_lib.zmq_join(self.handle, _bytes(group)))

    def leave(self, group):
        _check(_lib.zmq_leave(self.handle, _bytes(group)))

    def setsockopt(self, option, value):
        if option in BYTES_OPTIONS:
            buf = _bytes(value)
            _check(_lib.zmq_setsockopt(self.handle, option, buf, len(buf)))
        else:
            v = (ctypes.c_int64 if option in INT64_OPTIONS else ctypes.c_int)(value)
            _check(_lib.zmq_setsockopt(self.handle, option, ctypes.byref(v), ctypes.sizeof(v)))

    def getsockopt(self, option):
        if option in BYTES_OPTIONS:
            buf = ctypes.create_string_buffer(512)
            size = ctypes.c_size_t(512)
            _check(_lib.zmq_getsockopt(self.handle, option, buf, ctypes.byref(size)))
            return buf.raw[:size.value]
        v = (ctypes.c_int64 if option in INT64_OPTIONS else ctypes.c_int)()
        size = ctypes.c_size_t(ctypes.sizeof(v))
        _check(_lib.zmq_getsockopt(self.handle, option, ctypes.byref(v), ctypes.byref(size)))
        return v.value

    @property
    def last_endpoint(self) -> str:
        return self.getsockopt(LAST_ENDPOINT).rstrip(b"\0").decode()

    def send(self, data, flags=0, group=None, routing_id=None):
        data = bytes(data)
        msg = _Msg()
        _check(_lib.zmq_msg_init_size(ctypes.byref(msg), len(data)))
        try:
            if data:
                ctypes.memmove(_lib.zmq_msg_data(ctypes.byref(msg)), data, len(data))
            if group is not None:
                _check(_lib.zmq_msg_set_group(ctypes.byref(msg), _bytes(group)))
            if routing_id is not None:
                _check(_lib.zmq_msg_set_routing_id(ctypes.byref(msg), routing_id))
            _check(_lib.zmq_msg_send(ctypes.byref(msg), self.handle, flags))
        except BaseException:
            _lib.zmq_msg_close(ctypes.byref(msg))
            raise

    def send_multipart(self, parts, flags=0):
        for i, part in enumerate(parts):
            self.send(part, flags | (SNDMORE if i < len(parts) - 1 else 0))

    def recv(self, flags=0) -> Message:
        msg = _Msg()
        _lib.zmq_msg_init(ctypes.byref(msg))
        try:
            _check(_lib.zmq_msg_recv(ctypes.byref(msg), self.handle, flags))
            size = _lib.zmq_msg_size(ctypes.byref(msg))
            data = ctypes.string_at(_lib.zmq_msg_data(ctypes.byref(msg)), size) if size else b""
            return Message(data, _lib.zmq_msg_group(ctypes.byref(msg)),
                           _lib.zmq_msg_routing_id(ctypes.byref(msg)),
                           bool(_lib.zmq_msg_more(ctypes.byref(msg))))
        finally:
            _lib.zmq_msg_close(ctypes.byref(msg))

    def recv_bytes(self, flags=0) -> bytes:
        return self.recv(flags).data

    def recv_multipart(self, flags=0) -> list:
        parts = [self.recv(flags)]
        while parts[-1].more:
            parts.append(self.recv(flags))
        return [p.data for p in parts]


def _monitor_sigs():
    return {"zmq_socket_monitor": ([ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int], ctypes.c_int)}


def read_event(pair) -> tuple:
    """One monitor event from a PAIR connected to a monitor endpoint:
    (event, value, endpoint), as libzmq 4.x lays it out (u16 event and u32
    value in the first frame, the endpoint in the second)."""
    first, address = pair.recv_multipart()
    event = int.from_bytes(first[:2], sys.byteorder)
    value = int.from_bytes(first[2:6], sys.byteorder)
    return event, value, address.decode()


class Context:
    def __init__(self):
        self.handle = _check(_lib.zmq_ctx_new(), None)
        self._sockets = set()

    def socket(self, kind, rcvtimeo=5000, sndtimeo=5000) -> Socket:
        """A socket with timeouts set, so a test fails instead of hanging."""
        s = Socket(self, _check(_lib.zmq_socket(self.handle, kind), None))
        self._sockets.add(s)
        s.setsockopt(RCVTIMEO, rcvtimeo)
        s.setsockopt(SNDTIMEO, sndtimeo)
        return s

    def term(self):
        for s in list(self._sockets):
            s.close()
        if self.handle:
            _check(_lib.zmq_ctx_term(self.handle))
            self.handle = None


def has(capability) -> bool:
    return bool(_lib.zmq_has(_bytes(capability)))


def version() -> tuple:
    parts = [ctypes.c_int() for _ in range(3)]
    _lib.zmq_version(*(ctypes.byref(p) for p in parts))
    return tuple(p.value for p in parts)


def is_again(exc) -> bool:
    return isinstance(exc, RefError) and exc.errno == _errno.EAGAIN


def _bytes(value) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value)

