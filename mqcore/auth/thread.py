"""The ZAP handler in a background thread: ``ThreadAuthenticator``.

The thread owns the ZAP socket while it runs and polls it together with
one end of an inproc PAIR "pipe"; the other end stays with the
authenticator, which sends ``TERMINATE`` down it to stop the thread.
Policy (allow, configure_plain, ...) is plain attributes of the
authenticator, read by the thread on each request, so configuring needs
no command.  Handlers are coroutines (a credentials callback may be
async), so the thread keeps a private event loop to run them.
"""

from __future__ import annotations

import asyncio
from threading import Event, Thread
from typing import Any, Optional

import mqcore
from mqcore.auth.base import Authenticator

_TERMINATE = b"TERMINATE"

# How long start() waits for the thread to be polling.
_START_TIMEOUT_S = 10


class AuthenticationThread(Thread):
    """Serves ``authenticator``'s ZAP socket until ``TERMINATE`` comes on ``pipe``."""

    def __init__(self, authenticator: Authenticator, pipe: "mqcore.Socket") -> None:
        super().__init__(daemon=True)
        self.authenticator = authenticator
        self.log = authenticator.log
        self.pipe = pipe
        self.started = Event()

    def run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            self._serve(loop)
        finally:
            self.pipe.close()
            self.pipe = None  # type: ignore[assignment]
            loop.close()

    def _serve(self, loop: asyncio.AbstractEventLoop) -> None:
        zap = self.authenticator.zap_socket
        poller = mqcore.Poller()
        poller.register(self.pipe, mqcore.POLLIN)
        poller.register(zap, mqcore.POLLIN)
        self.started.set()
        while True:
            ready = dict(poller.poll())
            if self.pipe in ready and self._handle_pipe_message(self.pipe.recv_multipart()):
                return
            if zap in ready:
                loop.run_until_complete(
                    self.authenticator.handle_zap_message(zap.recv_multipart())
                )

    def _handle_pipe_message(self, msg: list) -> bool:
        """Act on a command from the API side; True means stop."""
        command = msg[0]
        self.log.debug("auth received API command %r", command)
        if command == _TERMINATE:
            return True
        self.log.error("Invalid auth command from API: %r", command)
        self.pipe.send(b"ERROR")
        return False


class ThreadAuthenticator(Authenticator):
    """An Authenticator that answers ZAP requests in its own thread."""

    pipe: "mqcore.Socket"
    pipe_endpoint: str = ""
    thread: AuthenticationThread

    def __init__(
        self,
        context: Optional["mqcore.Context"] = None,
        encoding: str = "utf-8",
        log: Any = None,
    ):
        super().__init__(context=context, encoding=encoding, log=log)
        self.pipe = None  # type: ignore[assignment]
        self.pipe_endpoint = f"inproc://{id(self)}.inproc"
        self.thread = None  # type: ignore[assignment]

    def start(self) -> None:
        """Bind the ZAP socket and start serving it in a new thread."""
        super().start()
        self.pipe = self._pair_socket()
        self.pipe.bind(self.pipe_endpoint)
        thread_end = self._pair_socket()
        thread_end.connect(self.pipe_endpoint)
        self.thread = AuthenticationThread(authenticator=self, pipe=thread_end)
        self.thread.start()
        if not self.thread.started.wait(timeout=_START_TIMEOUT_S):
            raise RuntimeError("Authenticator thread failed to start")

    def _pair_socket(self) -> "mqcore.Socket":
        sock = self.context.socket(mqcore.PAIR, socket_class=mqcore.Socket)
        sock.linger = 1
        return sock

    def stop(self) -> None:
        """Stop the thread (waiting for it) and close the ZAP socket."""
        if self.pipe:
            self.pipe.send(_TERMINATE)
            if self.is_alive():
                self.thread.join()
            self.thread = None  # type: ignore[assignment]
            self.pipe.close()
            self.pipe = None  # type: ignore[assignment]
        super().stop()

    def is_alive(self) -> bool:
        """True while the ZAP thread runs."""
        return bool(self.thread and self.thread.is_alive())

    def __del__(self) -> None:
        self.stop()


__all__ = ["ThreadAuthenticator"]
