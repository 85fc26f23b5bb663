"""CURVE certificate files, in the layout pyzmq and czmq use.

A certificate is a small text file: ``#`` comment lines (a banner), then a
``metadata`` section of ``    key = value`` lines, then a ``curve``
section holding ``public-key = "<Z85>"`` and, in the secret half only,
``secret-key = "<Z85>"``.  ``create_certificates`` writes the pair
``<name>.key`` (public) and ``<name>.key_secret``; a directory of ``*.key``
files is the set of clients an Authenticator's ``configure_curve`` trusts.
"""

from __future__ import annotations

import datetime
import glob
import os
from typing import Optional, Union

from mqcore.auth._keys import keypair

_PathLike = Union[str, "os.PathLike[str]"]

_SECRET_BANNER = (
    "#   ****  Generated on {0} by pyzmq  ****\n"
    "#   ZeroMQ CURVE **Secret** Certificate\n"
    "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n"
    "\n"
)

_PUBLIC_BANNER = (
    "#   ****  Generated on {0} by pyzmq  ****\n"
    "#   ZeroMQ CURVE Public Certificate\n"
    "#   Exchange securely, or use a secure mechanism to verify the contents\n"
    "#   of this file after exchange. Store public certificates in your home\n"
    "#   directory, in the .curve subdirectory.\n"
    "\n"
)


def _text(value: Union[str, bytes], encoding: str = "utf-8") -> str:
    return value.decode(encoding) if isinstance(value, bytes) else value


def _certificate_text(
    banner: str,
    public_key: Union[str, bytes],
    secret_key: Optional[Union[str, bytes]] = None,
    metadata: Optional[dict] = None,
) -> str:
    lines = [banner, "metadata\n"]
    for key, value in (metadata or {}).items():
        lines.append(f"    {_text(key)} = {_text(value)}\n")
    lines.append("curve\n")
    lines.append(f'    public-key = "{_text(public_key)}"\n')
    if secret_key:
        lines.append(f'    secret-key = "{_text(secret_key)}"\n')
    return "".join(lines)


def create_certificates(
    key_dir: _PathLike, name: str, metadata: Optional[dict] = None
) -> tuple[str, str]:
    """Make a new key pair and write it as ``name.key`` / ``name.key_secret``
    in ``key_dir``; return the two paths (public first).

    ``metadata`` (str or bytes keys and values) goes into the secret file
    only, as pyzmq does.
    """
    public_key, secret_key = keypair()
    base = os.path.join(key_dir, name)
    public_path, secret_path = f"{base}.key", f"{base}.key_secret"
    now = datetime.datetime.now()
    with open(public_path, "w", encoding="utf8") as f:
        f.write(_certificate_text(_PUBLIC_BANNER.format(now), public_key))
    with open(secret_path, "w", encoding="utf8") as f:
        f.write(
            _certificate_text(
                _SECRET_BANNER.format(now), public_key, secret_key, metadata
            )
        )
    return public_path, secret_path


def _quoted_value(line: bytes) -> bytes:
    """The value of a ``name = "value"`` line, quotes and blanks removed."""
    return line.split(b"=", 1)[1].strip(b" \t'\"")


def load_certificate(filename: _PathLike) -> tuple[bytes, Optional[bytes]]:
    """(public key, secret key) from a certificate file, as Z85 bytes.

    The secret key is None for a public certificate.  A missing file raises
    OSError, a file without a public key ValueError.
    """
    if not os.path.exists(filename):
        raise OSError(f"Invalid certificate file: {filename}")
    public_key = secret_key = None
    with open(filename, "rb") as f:
        for raw in f:
            line = raw.strip()
            if line.startswith(b"public-key"):
                public_key = _quoted_value(line)
            elif line.startswith(b"secret-key"):
                secret_key = _quoted_value(line)
            if public_key and secret_key:
                break
    if public_key is None:
        raise ValueError(f"No public key found in {filename}")
    return public_key, secret_key


def load_certificates(directory: _PathLike = ".") -> dict[bytes, bool]:
    """``{public key: True}`` for every ``*.key`` file in ``directory``.

    Only ``*.key`` files are read, so secret halves kept alongside are
    never trusted as clients.  A missing directory raises OSError.
    """
    if not os.path.isdir(directory):
        raise OSError(f"Invalid certificate directory: {directory}")
    trusted = {}
    for path in glob.glob(os.path.join(directory, "*.key")):
        public_key, _ = load_certificate(path)
        if public_key:
            trusted[public_key] = True
    return trusted


__all__ = ["create_certificates", "load_certificate", "load_certificates"]
