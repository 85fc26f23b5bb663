"""Local port forwarding over a paramiko Transport (``zmq.ssh.forward``).

``forward_tunnel(local_port, remote_host, remote_port, transport)`` serves
127.0.0.1:local_port and relays every connection through an ssh
"direct-tcpip" channel to remote_host:remote_port as the server sees it.
Used by ``tunnel.paramiko_tunnel``; needs paramiko's Transport.
"""

from __future__ import annotations

import logging
import select
import socketserver
from typing import Any

logger = logging.getLogger("ssh")


class ForwardServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Handler(socketserver.BaseRequestHandler):
    """Relays one local connection through a new ssh channel."""

    chain_host: str
    chain_port: int
    ssh_transport: Any

    def handle(self) -> None:
        try:
            chan = self.ssh_transport.open_channel(
                "direct-tcpip",
                (self.chain_host, self.chain_port),
                self.request.getpeername(),
            )
        except Exception as exc:
            logger.debug("Incoming request to %s:%d failed: %r",
                         self.chain_host, self.chain_port, exc)
            return
        if chan is None:
            logger.debug("Incoming request to %s:%d was rejected by the SSH server.",
                         self.chain_host, self.chain_port)
            return
        try:
            self._relay(chan)
        finally:
            chan.close()
            self.request.close()

    def _relay(self, chan: Any) -> None:
        # Copy whichever side has data until one side closes.
        while True:
            readable, _, _ = select.select([self.request, chan], [], [])
            if self.request in readable:
                data = self.request.recv(1024)
                if not data:
                    return
                chan.send(data)
            if chan in readable:
                data = chan.recv(1024)
                if not data:
                    return
                self.request.send(data)


def forward_tunnel(local_port: int, remote_host: str, remote_port: int, transport: Any) -> None:
    """Serve local_port forever, forwarding to remote_host:remote_port."""

    class SubHandler(Handler):
        chain_host = remote_host
        chain_port = remote_port
        ssh_transport = transport

    ForwardServer(("127.0.0.1", local_port), SubHandler).serve_forever()


__all__ = ["forward_tunnel"]
