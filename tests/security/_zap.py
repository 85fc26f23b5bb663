"""Shared helpers for the security tests: build ZAP requests, drive a
handler, read a handshake's outcome from a monitor."""

from __future__ import annotations

import asyncio
import importlib

import mqcore
from mqcore.utils.monitor import recv_monitor_message

ZAP_ENDPOINT = "inproc://zeromq.zap.01"
TIMEOUT_MS = 5000


def auth_module(zmq, name=""):
    """``<impl>.auth`` (or ``<impl>.auth.<name>``) for the module under test."""
    return importlib.import_module(f"{zmq.__name__}.auth" + (f".{name}" if name else ""))


def z85(zmq):
    """``<impl>.utils.z85``."""
    return importlib.import_module(f"{zmq.__name__}.utils.z85")


def request(mechanism=b"NULL", credentials=(), domain=b"", address=b"127.0.0.1",
            request_id=b"7", version=b"1.0", identity=b""):
    """The frames a ZAP client sends (RFC 27)."""
    return [version, request_id, domain, address, identity, mechanism, *credentials]


def zap_client(zmq, ctx):
    """A REQ socket talking to the context's ZAP handler, with timeouts."""
    req = ctx.socket(zmq.REQ)
    req.linger = 0
    req.rcvtimeo = req.sndtimeo = TIMEOUT_MS
    req.connect(ZAP_ENDPOINT)
    return req


def answer_one(authenticator):
    """Let ``authenticator`` (started, not threaded) answer one waiting request."""
    authenticator.zap_socket.rcvtimeo = TIMEOUT_MS
    msg = authenticator.zap_socket.recv_multipart()
    asyncio.run(authenticator.handle_zap_message(msg))


def ask(authenticator, req, frames):
    """Send ``frames`` on ``req``, let the handler answer, return the reply."""
    req.send_multipart(frames)
    answer_one(authenticator)
    return req.recv_multipart()


def status(reply):
    """(status code, status text, user id) of a ZAP reply."""
    return reply[2], reply[3], reply[4]


def handshake_outcome(mon):
    """The first handshake outcome (succeeded or one of the failures) an
    mqcore monitor socket reports."""
    import mqcore
    from mqcore.utils.monitor import recv_monitor_message
    outcomes = (mqcore.EVENT_HANDSHAKE_SUCCEEDED, mqcore.EVENT_HANDSHAKE_FAILED_AUTH,
                mqcore.EVENT_HANDSHAKE_FAILED_PROTOCOL, mqcore.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
    while True:
        ev = recv_monitor_message(mon)
        if ev["event"] in outcomes:
            return ev
