"""ZAP authentication (RFC 27) for mqcore sockets, as pyzmq's ``zmq.auth``.

- ``Authenticator`` answers ZAP requests on inproc://zeromq.zap.01 of a
  context; the caller feeds it messages (``handle_zap_message``);
- ``mqcore.auth.thread.ThreadAuthenticator`` runs it in a background thread;
- ``mqcore.auth.asyncio.AsyncioAuthenticator`` runs it as an asyncio task;
- ``mqcore.auth.certs``: CURVE certificate files.
"""

from mqcore.auth.base import CURVE_ALLOW_ANY, Authenticator
from mqcore.auth.certs import create_certificates, load_certificate, load_certificates

__all__ = [
    "Authenticator",
    "CURVE_ALLOW_ANY",
    "create_certificates",
    "load_certificate",
    "load_certificates",
]
