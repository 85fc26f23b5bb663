"""Z85, ZeroMQ's printable encoding of binary data (RFC 32).

Every 4 bytes, read as a big-endian u32, become 5 characters: the number's
base-85 digits, most significant first, drawn from an alphabet that avoids
quotes and backslashes so the text can sit in source code and config files.
CURVE keys (32 bytes) are commonly written this way, as 40 characters.

``encode`` needs a multiple of 4 bytes and ``decode`` a multiple of 5
characters; anything else, or a character outside the alphabet, raises
ValueError.
"""

from __future__ import annotations

import struct
from typing import Union

_Binary = Union[bytes, bytearray, memoryview]

Z85CHARS = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"

# Character code -> digit value; -1 for bytes outside the alphabet, so a
# lookup never needs a dict or a try block.
_DIGIT_OF = [-1] * 256
for _value, _char in enumerate(Z85CHARS):
    _DIGIT_OF[_char] = _value
del _value, _char

_GROUP_MAX = 0xFFFFFFFF


def _words(data: _Binary) -> tuple[int, ...]:
    """The big-endian u32 groups of ``data`` (a multiple of 4 bytes)."""
    return struct.unpack(f">{len(data) // 4}I", data)


def _digits_of(word: int) -> bytes:
    """The 5 characters encoding one u32, most significant digit first."""
    out = bytearray(5)
    for position in range(4, -1, -1):
        word, digit = divmod(word, 85)
        out[position] = Z85CHARS[digit]
    return bytes(out)


def encode(rawbytes: _Binary) -> bytes:
    """Encode bytes (length a multiple of 4) as Z85 text, returned as bytes."""
    if len(rawbytes) % 4:
        raise ValueError(f"length must be multiple of 4, not {len(rawbytes)}")
    return b"".join(_digits_of(word) for word in _words(rawbytes))


def _group_value(group: bytes) -> int:
    """The u32 that 5 Z85 characters stand for."""
    value = 0
    for char in group:
        digit = _DIGIT_OF[char]
        if digit < 0:
            raise ValueError(f"invalid Z85 character {chr(char)!r}")
        value = value * 85 + digit
    if value > _GROUP_MAX:
        # 85**5 exceeds 2**32: some 5-character groups encode nothing.
        raise ValueError(f"Z85 group {group.decode('ascii')!r} exceeds 32 bits")
    return value


def _as_ascii(z85bytes: str | _Binary) -> bytes:
    if isinstance(z85bytes, str):
        try:
            return z85bytes.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError("string argument should contain only ASCII characters") from None
    return bytes(z85bytes)


def decode(z85bytes: str | _Binary) -> bytes:
    """Decode Z85 text (str or bytes, length a multiple of 5) to bytes."""
    text = _as_ascii(z85bytes)
    if len(text) % 5:
        raise ValueError(f"Z85 length must be multiple of 5, not {len(text)}")
    values = [_group_value(text[start:start + 5]) for start in range(0, len(text), 5)]
    return struct.pack(f">{len(values)}I", *values)


__all__ = ["encode", "decode", "Z85CHARS"]
