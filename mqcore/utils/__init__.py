"""Helpers that pyzmq programs import from ``zmq.utils``.

- ``monitor``: decode the events a socket monitor sends;
- ``z85``: the Z85 text encoding of binary data (ZeroMQ RFC 32);
- ``jsonapi``: JSON to and from UTF-8 bytes.

- ``strtypes``, ``interop``, ``garbage``, ``win32``: pyzmq's smaller helpers.

``jsonapi`` and ``z85`` are loaded here so that ``zmq.utils.z85`` works as
an attribute after ``import zmq``, as it does with pyzmq (whose top level
loads them); the others are imported as submodules.
"""

from mqcore.utils import interop, jsonapi, z85  # noqa: F401
