"""The ZAP handler (RFC 27): decides who may connect to a context's sockets.

A socket doing PLAIN or CURVE (or NULL with a ZAP_DOMAIN) asks, for every
new connection, the REP socket bound at inproc://zeromq.zap.01 in its
context.  A request is the frames

    version ("1.0"), request id, domain, address, identity, mechanism,
    credentials...   (PLAIN: username, password; CURVE: the client's
    32-byte public key; GSSAPI: the principal)

and the answer is [version, request id, status code, status text, user
id, metadata].  This class holds the policy and turns one request into
one reply; it does not read the socket by itself (``ThreadAuthenticator``
and ``AsyncioAuthenticator`` do).

Policy, in the order it is applied (pyzmq's):
1. Addresses: with an allow list only those addresses pass the address
   check; otherwise (deny list) every address but the denied ones does.
   A refused address ends the request with 400.
2. NULL passes unless its address was refused.  PLAIN and CURVE must
   authenticate even from an allowed address.
3. Any other mechanism passes only if its address was explicitly allowed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable
from typing import Any, Optional, Union

import mqcore
from mqcore.error import _check_version
from mqcore.utils import z85

from mqcore.auth.certs import load_certificates

# configure_curve's location meaning "any client key is accepted".
CURVE_ALLOW_ANY = "*"

# The only ZAP version there is.
VERSION = b"1.0"

ZAP_ENDPOINT = "inproc://zeromq.zap.01"

# Frames of a request before the mechanism's credentials begin.
_HEADER_FRAMES = 6

# The credential frames each mechanism must send.
_CREDENTIAL_COUNT = {b"PLAIN": 2, b"CURVE": 1, b"GSSAPI": 1}


class Authenticator:
    """ZAP policy for one context: address lists, PLAIN passwords, CURVE keys.

    Nothing is read by this class: after ``start()``, hand every message
    received on ``zap_socket`` to ``await handle_zap_message(msg)``.  Until
    policies are added, NULL connections are allowed and PLAIN and CURVE
    ones refused.
    """

    context: "mqcore.Context"
    encoding: str
    allow_any: bool
    credentials_providers: dict
    zap_socket: "mqcore.Socket"
    passwords: dict
    certs: dict
    log: Any

    def __init__(
        self,
        context: Optional["mqcore.Context"] = None,
        encoding: str = "utf-8",
        log: Any = None,
    ):
        _check_version((4, 0), "security")
        self.context = context or mqcore.Context.instance()
        self.encoding = encoding
        self.allow_any = False
        self.credentials_providers = {}
        self.zap_socket = None  # type: ignore[assignment]
        self._allowed: set[str] = set()
        self._denied: set[str] = set()
        # domain -> {username: password}
        self.passwords = {}
        # domain -> {Z85 public key: True}
        self.certs = {}
        self.log = log or logging.getLogger("zmq.auth")

    # -- lifetime ---------------------------------------------------------

    def start(self) -> None:
        """Bind the ZAP socket in this context (one handler per context)."""
        self.zap_socket = self.context.socket(mqcore.REP, socket_class=mqcore.Socket)
        self.zap_socket.linger = 1
        self.zap_socket.bind(ZAP_ENDPOINT)
        self.log.debug("Starting")

    def stop(self) -> None:
        """Close the ZAP socket; connections needing ZAP then fail as libzmq says."""
        if self.zap_socket:
            self.zap_socket.close()
        self.zap_socket = None  # type: ignore[assignment]

    # -- policy -----------------------------------------------------------

    def allow(self, *addresses: str) -> None:
        """Let only these IP addresses (and any others allowed) through.

        NULL clients from them are accepted outright; PLAIN and CURVE ones
        still authenticate.  Cannot be mixed with ``deny``.
        """
        if self._denied:
            raise ValueError("Only use allow or deny, not both")
        self.log.debug("Allowing %s", ",".join(addresses))
        self._allowed.update(addresses)

    def deny(self, *addresses: str) -> None:
        """Refuse these IP addresses; all others go on to authenticate.

        Cannot be mixed with ``allow``.
        """
        if self._allowed:
            raise ValueError("Only use a allow or deny, not both")
        self.log.debug("Denying %s", ",".join(addresses))
        self._denied.update(addresses)

    def configure_plain(self, domain: str = "*", passwords: Optional[dict] = None) -> None:
        """Use ``passwords`` ({username: password}) for PLAIN in ``domain``
        ("*" is the domain of requests that name none).  An empty or missing
        dict leaves the domain as it was.
        """
        if passwords:
            self.passwords[domain] = passwords
        self.log.debug("Configure plain: %s", domain)

    def configure_curve(
        self, domain: str = "*", location: Union[str, "os.PathLike[str]"] = "."
    ) -> None:
        """Trust the client keys of the ``*.key`` certificates in ``location``
        for ``domain``, or any key at all if location is ``CURVE_ALLOW_ANY``.

        The directory is read now: call again after changing it.  A directory
        that cannot be read is logged, not raised, as pyzmq does.
        """
        self.log.debug("Configure curve: %s[%s]", domain, location)
        self.allow_any = location == CURVE_ALLOW_ANY
        if self.allow_any:
            return
        try:
            self.certs[domain] = load_certificates(location)
        except Exception as exc:
            self.log.error("Failed to load CURVE certs from %s: %s", location, exc)

    def configure_curve_callback(
        self, domain: str = "*", credentials_provider: Any = None
    ) -> None:
        """Ask ``credentials_provider.callback(domain, z85_key)`` about every
        CURVE client of ``domain``; a true result (or an awaitable resolving
        to one) lets the client in.  Replaces the certificate check.
        """
        self.allow_any = False
        if credentials_provider is None:
            self.log.error("None credentials_provider provided for domain:%s", domain)
            return
        self.credentials_providers[domain] = credentials_provider

    def configure_gssapi(self, domain: str = "*", location: Optional[str] = None) -> None:
        """Nothing to configure: GSSAPI principals are accepted as they come
        (the mechanism itself has already checked them)."""

    def curve_user_id(self, client_public_key: bytes) -> str:
        """The User-Id given to an authenticated CURVE client: its public key
        in Z85.  Override to map keys to names."""
        return z85.encode(client_public_key).decode("ascii")

    # -- one request ------------------------------------------------------

    async def handle_zap_message(self, msg: list) -> None:
        """Answer one ZAP request (a list of frames) on ``zap_socket``."""
        if len(msg) < _HEADER_FRAMES:
            self.log.error("Invalid ZAP message, not enough frames: %r", msg)
            if len(msg) < 2:
                self.log.error("Not enough information to reply")
            else:
                self._send_zap_reply(msg[1], b"400", b"Not enough frames")
            return

        version, request_id, domain_b, address_b, identity, mechanism = msg[:_HEADER_FRAMES]
        credentials = msg[_HEADER_FRAMES:]
        domain = domain_b.decode(self.encoding, "replace")
        address = address_b.decode(self.encoding, "replace")

        if version != VERSION:
            self.log.error("Invalid ZAP version: %r", msg)
            self._send_zap_reply(request_id, b"400", b"Invalid version")
            return
        self.log.debug(
            "version: %r, request_id: %r, domain: %r, address: %r, identity: %r, mechanism: %r",
            version, request_id, domain, address, identity, mechanism,
        )

        allowed, denied, reason = self._check_address(address)
        user_id = "anonymous"
        if not denied:
            expected = _CREDENTIAL_COUNT.get(mechanism)
            if expected is not None and len(credentials) != expected:
                self.log.error("Invalid %s credentials: %r", mechanism.decode(), credentials)
                self._send_zap_reply(request_id, b"400", b"Invalid credentials")
                return
            if mechanism == b"NULL":
                allowed = True
                self.log.debug("ALLOWED (NULL)")
            elif mechanism == b"PLAIN":
                username, password = (c.decode(self.encoding, "replace") for c in credentials)
                user_id = username
                allowed, reason = self._authenticate_plain(domain, username, password)
            elif mechanism == b"CURVE":
                key = credentials[0]
                allowed, reason = await self._authenticate_curve(domain, key)
                if allowed:
                    user_id = self.curve_user_id(key)
            elif mechanism == b"GSSAPI":
                principal = credentials[0]
                user_id = principal.decode("utf8")
                allowed, reason = self._authenticate_gssapi(domain, principal)

        if allowed:
            self._send_zap_reply(request_id, b"200", b"OK", user_id)
        else:
            self._send_zap_reply(request_id, b"400", reason)

    def _check_address(self, address: str) -> tuple[bool, bool, bytes]:
        """(explicitly allowed, refused, reason) for a peer address."""
        if self._allowed:
            if address in self._allowed:
                self.log.debug("PASSED (allowed) address=%s", address)
                return True, False, b"NO ACCESS"
            self.log.debug("DENIED (not allowed) address=%s", address)
            return False, True, b"Address not allowed"
        if self._denied:
            if address in self._denied:
                self.log.debug("DENIED (denied) address=%s", address)
                return False, True, b"Address denied"
            self.log.debug("PASSED (not denied) address=%s", address)
            return True, False, b"NO ACCESS"
        return False, False, b"NO ACCESS"

    def _authenticate_plain(self, domain: str, username: str, password: str) -> tuple[bool, bytes]:
        """Check a PLAIN username and password against ``passwords``."""
        if not self.passwords:
            self.log.debug("DENIED (PLAIN) No passwords defined")
            return False, b"No passwords defined"
        domain = domain or "*"
        users = self.passwords.get(domain)
        if users is None:
            reason = b"Invalid domain"
        elif username not in users:
            reason = b"Invalid username"
        elif users[username] != password:
            reason = b"Invalid password"
        else:
            self.log.debug("ALLOWED (PLAIN) domain=%s username=%s", domain, username)
            return True, b""
        self.log.debug("DENIED %s", reason)
        return False, reason

    async def _authenticate_curve(self, domain: str, client_key: bytes) -> tuple[bool, bytes]:
        """Check a client's public key: any key, a callback, or certificates."""
        if self.allow_any:
            self.log.debug("ALLOWED (CURVE allow any client)")
            return True, b"OK"
        domain = domain or "*"
        key_z85 = z85.encode(client_key)
        if self.credentials_providers:
            provider = self.credentials_providers.get(domain)
            if provider is None:
                return False, b"Unknown domain"
            verdict = provider.callback(domain, key_z85)
            if isinstance(verdict, Awaitable):
                verdict = await verdict
            how = "CURVE auth_callback"
        else:
            trusted = self.certs.get(domain)
            if trusted is None:
                return False, b"Unknown domain"
            verdict = trusted.get(key_z85)
            how = "CURVE"
        self.log.debug(
            "%s (%s) domain=%s client_key=%s",
            "ALLOWED" if verdict else "DENIED", how, domain, key_z85,
        )
        return (True, b"OK") if verdict else (False, b"Unknown key")

    def _authenticate_gssapi(self, domain: str, principal: bytes) -> tuple[bool, bytes]:
        """GSSAPI has authenticated the principal already: accept it."""
        self.log.debug("ALLOWED (GSSAPI) domain=%s principal=%s", domain, principal)
        return True, b"OK"

    def _send_zap_reply(
        self, request_id: bytes, status_code: bytes, status_text: bytes, user_id: Any = "anonymous"
    ) -> None:
        """Send [version, request id, code, text, user id, metadata].

        Only a 200 carries a user id; no metadata is sent.
        """
        if status_code != b"200":
            user_id = b""
        elif isinstance(user_id, str):
            user_id = user_id.encode(self.encoding, "replace")
        self.log.debug("ZAP reply code=%s text=%s", status_code, status_text)
        self.zap_socket.send_multipart([VERSION, request_id, status_code, status_text, user_id, b""])


__all__ = ["Authenticator", "CURVE_ALLOW_ANY"]
