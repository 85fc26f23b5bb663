"""Decoding socket-monitor events, as pyzmq's ``zmq.utils.monitor``.

A monitor (``Socket.get_monitor_socket()``) reports each event as a
two-frame message on a PAIR socket:

1. six bytes: the event id (u16) then the event value (u32), in the
   machine's native byte order and with no padding -- libzmq writes the two
   integers with memcpy;
2. the endpoint the event concerns, as bytes.

The value depends on the event: a file descriptor, an errno, a reconnect
interval in ms, or a protocol-error code.
"""

from __future__ import annotations

import struct
from typing import Any, TypedDict

from mqcore.constants import Event

# Native byte order ("="), standard sizes, no alignment padding.
_EVENT_HEADER = struct.Struct("=HI")


class MonitorMessage(TypedDict):
    """One decoded monitor event."""

    event: Event
    value: int
    endpoint: bytes


def _as_bytes(frame: Any) -> bytes:
    """A frame's content: recv_multipart gives bytes, or Frames with copy=False."""
    if isinstance(frame, bytes):
        return frame
    return bytes(memoryview(frame))


def parse_monitor_message(msg: list) -> MonitorMessage:
    """Decode the two frames of a monitor event into a dict.

    Returns ``{'event': Event, 'value': int, 'endpoint': bytes}``.  Raises
    RuntimeError (pyzmq's choice) when the frames are not a monitor event.
    """
    if len(msg) != 2:
        raise RuntimeError(f"Invalid event message format: {msg!r}")
    header = _as_bytes(msg[0])
    if len(header) != _EVENT_HEADER.size:
        raise RuntimeError(f"Invalid event message format: {msg!r}")
    event_id, value = _EVENT_HEADER.unpack(header)
    return {
        "event": Event(event_id),
        "value": value,
        "endpoint": _as_bytes(msg[1]),
    }


def recv_monitor_message(socket: Any, flags: int = 0) -> MonitorMessage:
    """Receive one event from a monitor socket and decode it.

    ``socket`` is the PAIR socket from ``get_monitor_socket()``; ``flags``
    are recv flags (NOBLOCK raises Again when no event is waiting).
    """
    received = socket.recv_multipart(flags)
    # An asyncio socket's recv_multipart gives a Future: its _deserialize
    # hook makes this an awaitable of the event, as in pyzmq.
    deserialize = getattr(socket, "_deserialize", None)
    if deserialize is None:
        return parse_monitor_message(received)
    return deserialize(received, parse_monitor_message)


__all__ = ["parse_monitor_message", "recv_monitor_message"]
