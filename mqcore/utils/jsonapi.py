"""JSON to and from UTF-8 bytes, as pyzmq's ``zmq.utils.jsonapi``.

Messages are bytes, so the JSON helpers encode on the way out and accept
bytes (or str) on the way in.  Keyword arguments go to the standard
library's ``json.dumps``/``json.loads``.
"""

from __future__ import annotations

import json
from typing import Any

# Kept for programs that reach for the JSON module through here.
jsonmod = json


def dumps(o: Any, **kwargs: Any) -> bytes:
    """Serialise ``o`` to JSON, encoded as UTF-8 bytes."""
    return json.dumps(o, **kwargs).encode("utf-8")


def loads(s: bytes | bytearray | str, **kwargs: Any) -> Any:
    """Deserialise JSON given as UTF-8 bytes or as str."""
    if isinstance(s, (bytes, bytearray)):
        s = s.decode("utf-8")
    return json.loads(s, **kwargs)


__all__ = ["dumps", "loads"]
