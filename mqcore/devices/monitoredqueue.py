"""monitored_queue: a two-way queue that reports its traffic
(pyzmq's ``zmq.devices.monitoredqueue``)."""

from __future__ import annotations

from mqcore.constants import SocketType
from mqcore.poll import POLLIN, Poller
from mqcore.socket import Socket


def _relay(
    source: Socket, target: Socket, monitor: Socket, prefix: bytes, swap_ids: bool
) -> None:
    """Move one whole message from ``source`` to ``target``; copy it to ``monitor``.

    Between two ROUTERs the first two frames are the sender's and the
    receiver's routing ids; swapping them makes the target ROUTER route to
    the receiver and tells the receiver who sent it.
    """
    frames = source.recv_multipart()
    if swap_ids:
        frames[:2] = frames[1::-1]
    target.send_multipart(frames)
    monitor.send_multipart([prefix, *frames])


def monitored_queue(
    in_socket: Socket,
    out_socket: Socket,
    mon_socket: Socket,
    in_prefix: bytes = b"in",
    out_prefix: bytes = b"out",
) -> None:
    """Forward messages both ways between two sockets; report each on a third.

    Every message from ``in_socket`` goes to ``out_socket`` and vice versa.
    ``mon_socket`` receives a copy of each, with ``in_prefix`` or
    ``out_prefix`` as an extra first frame telling the direction.  Unlike
    ``proxy``, both sides may be ROUTER sockets.

    Runs until a socket fails; context termination ends it with
    ContextTerminated, as it ends ``proxy``.
    """
    swap_ids = (
        in_socket.socket_type == SocketType.ROUTER
        and out_socket.socket_type == SocketType.ROUTER
    )
    poller = Poller()
    poller.register(in_socket, POLLIN)
    poller.register(out_socket, POLLIN)
    while True:
        ready = dict(poller.poll())
        if in_socket in ready:
            _relay(in_socket, out_socket, mon_socket, in_prefix, swap_ids)
        if out_socket in ready:
            _relay(out_socket, in_socket, mon_socket, out_prefix, swap_ids)


__all__ = ["monitored_queue"]
