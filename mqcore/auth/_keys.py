"""Where auth gets CURVE key pairs from.

``mqcore.curve_keypair`` is the real source.  A build without CURVE raises
ENOTSUP there (as libzmq without libsodium does); certificates are plain
files and need no CURVE engine, so in that case the keys come straight
from libsodium through PyNaCl, Z85-encoded the way curve_keypair returns
them.  Once the core has CURVE the fallback is never reached.
"""

from __future__ import annotations

import mqcore
from mqcore.error import ZMQError
from mqcore.utils import z85


def _sodium():
    try:
        import nacl.bindings
    except ImportError as exc:  # no CURVE core and no PyNaCl: nothing to use
        raise ZMQError(mqcore.ENOTSUP, "CURVE keys need libsodium (PyNaCl)") from exc
    return nacl.bindings


def keypair() -> tuple[bytes, bytes]:
    """A new (public, secret) CURVE pair, each as 40 Z85 bytes."""
    try:
        return mqcore.curve_keypair()
    except ZMQError as exc:
        if exc.errno != mqcore.ENOTSUP:
            raise
    public, secret = _sodium().crypto_box_keypair()
    return z85.encode(public), z85.encode(secret)


def public_of(secret_z85: bytes) -> bytes:
    """The Z85 public key that belongs to a Z85 secret key."""
    try:
        return mqcore.curve_public(secret_z85)
    except ZMQError as exc:
        if exc.errno != mqcore.ENOTSUP:
            raise
    secret = z85.decode(secret_z85)
    if len(secret) != 32:
        raise ValueError("a CURVE secret key is 32 bytes (40 Z85 characters)")
    return z85.encode(_sodium().crypto_scalarmult_base(secret))
