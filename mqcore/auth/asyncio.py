"""The ZAP handler as an asyncio task: ``AsyncioAuthenticator``.

``start()`` must be called with an event loop running (or current): it
binds the ZAP socket and schedules a task that waits on it through an
``mqcore.asyncio.Poller`` and answers each request.  ``stop()`` cancels
the task and closes the socket.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any, Optional

import mqcore
from mqcore.asyncio import Poller
from mqcore.auth.base import Authenticator


class AsyncioAuthenticator(Authenticator):
    """An Authenticator served by a task on the current asyncio loop."""

    def __init__(
        self,
        context: Optional["mqcore.Context"] = None,
        loop: Any = None,
        encoding: str = "utf-8",
        log: Any = None,
    ):
        super().__init__(context, encoding, log)
        if loop is not None:
            warnings.warn(
                f"{type(self).__name__}(loop) is deprecated and ignored",
                DeprecationWarning,
                stacklevel=2,
            )
        self.__poller: Optional[Poller] = None
        self.__task: Any = None

    async def __serve(self) -> None:
        while self.__poller is not None:
            ready = dict(await self.__poller.poll())
            if self.zap_socket in ready:
                await self.handle_zap_message(self.zap_socket.recv_multipart())

    def start(self) -> None:
        """Bind the ZAP socket and start serving it on the event loop."""
        super().start()
        self.__poller = Poller()
        self.__poller.register(self.zap_socket, mqcore.POLLIN)
        self.__task = asyncio.ensure_future(self.__serve())

    def stop(self) -> None:
        """Cancel the serving task and close the ZAP socket."""
        if self.__task:
            self.__task.cancel()
        if self.__poller:
            self.__poller.unregister(self.zap_socket)
            self.__poller = None
        super().stop()


__all__ = ["AsyncioAuthenticator"]
