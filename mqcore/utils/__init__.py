"""Helpers that pyzmq programs import from ``zmq.utils``.

- ``monitor``: decode the events a socket monitor sends;
- ``z85``: the Z85 text encoding of binary data (ZeroMQ RFC 32);
- ``jsonapi``: JSON to and from UTF-8 bytes.

Nothing is imported here, as in pyzmq: ``import mqcore.utils.monitor``.
"""
