"""ThreadAuthenticator and AsyncioAuthenticator serving ZAP requests by themselves."""

from __future__ import annotations

import asyncio
import importlib
import warnings

import pytest

from ._zap import auth_module, request, status, zap_client


def roundtrip(req, frames):
    req.send_multipart(frames)
    return req.recv_multipart()


@pytest.fixture
def thread_auth(zmq, ctx):
    authenticator = auth_module(zmq, "thread").ThreadAuthenticator(ctx)
    yield authenticator
    authenticator.stop()


def test_thread_start_serve_stop(zmq, ctx, thread_auth):
    assert not thread_auth.is_alive()
    thread_auth.start()
    assert thread_auth.is_alive()
    req = zap_client(zmq, ctx)
    try:
        assert status(roundtrip(req, request())) == (b"200", b"OK", b"anonymous")
    finally:
        req.close()
    thread_auth.stop()
    assert not thread_auth.is_alive()
    assert thread_auth.zap_socket is None and thread_auth.thread is None
    thread_auth.stop()  # stopping twice is harmless


def test_thread_picks_up_configuration_while_running(zmq, ctx, thread_auth):
    thread_auth.start()
    req = zap_client(zmq, ctx)
    try:
        plain = request(b"PLAIN", [b"admin", b"secret"])
        assert status(roundtrip(req, plain))[:2] == (b"400", b"No passwords defined")
        thread_auth.configure_plain("*", {"admin": "secret"})
        assert status(roundtrip(req, plain)) == (b"200", b"OK", b"admin")
        thread_auth.deny("127.0.0.1")
        assert status(roundtrip(req, plain))[:2] == (b"400", b"Address denied")
    finally:
        req.close()


def test_thread_answers_unknown_pipe_command_with_error(zmq, thread_auth):
    thread_auth.start()
    thread_auth.pipe.rcvtimeo = 5000
    thread_auth.pipe.send(b"NONSENSE")
    assert thread_auth.pipe.recv() == b"ERROR"
    assert thread_auth.is_alive()


def test_thread_runs_async_credentials_callback(zmq, ctx, thread_auth):
    class Provider:
        async def callback(self, domain, key):
            await asyncio.sleep(0)
            return True

    thread_auth.configure_curve_callback("*", Provider())
    thread_auth.start()
    req = zap_client(zmq, ctx)
    try:
        assert status(roundtrip(req, request(b"CURVE", [b"k" * 32])))[0] == b"200"
    finally:
        req.close()


def test_thread_zap_endpoint_is_freed_by_stop(zmq, ctx, thread_auth):
    thread_auth.start()
    thread_auth.stop()
    again = auth_module(zmq, "thread").ThreadAuthenticator(ctx)
    again.start()
    try:
        assert again.is_alive()
    finally:
        again.stop()


def test_asyncio_authenticator_serves_in_loop(zmq, ctx):
    aio = importlib.import_module(f"{zmq.__name__}.asyncio")
    AsyncioAuthenticator = auth_module(zmq, "asyncio").AsyncioAuthenticator

    async def main():
        authenticator = AsyncioAuthenticator(ctx)
        authenticator.start()
        authenticator.configure_plain("*", {"admin": "secret"})
        req = ctx.socket(zmq.REQ, socket_class=aio.Socket)
        req.linger = 0
        req.connect("inproc://zeromq.zap.01")
        try:
            replies = []
            for password in (b"secret", b"nope"):
                await req.send_multipart(request(b"PLAIN", [b"admin", password]))
                replies.append(await asyncio.wait_for(req.recv_multipart(), 5))
            return replies
        finally:
            req.close()
            authenticator.stop()
            await asyncio.sleep(0)  # let the cancelled task finish

    good, bad = asyncio.run(asyncio.wait_for(main(), 20))
    assert status(good) == (b"200", b"OK", b"admin")
    assert status(bad) == (b"400", b"Invalid password", b"")


def test_asyncio_authenticator_loop_argument_is_deprecated(zmq, ctx):
    AsyncioAuthenticator = auth_module(zmq, "asyncio").AsyncioAuthenticator
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        AsyncioAuthenticator(ctx, loop=object())
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
