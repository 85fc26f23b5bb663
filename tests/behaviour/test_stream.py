"""STREAM semantics (raw TCP, no ZMTP; libzmq 4.3 behaviour; see SOCKETS.md
"STREAM (11)"), checked against plain TCP sockets.

* recv gives ``[routing id][data]``; send takes ``[routing id][data]``;
* routing ids are 5 bytes ``0x00`` + u32, or CONNECT_ROUTING_ID on connect;
* STREAM_NOTIFY (default 1) reports connects and disconnects as ``[id][""]``;
* an empty data frame closes the connection; an unknown id is EHOSTUNREACH.
"""

import socket

import pytest

from pattern_helpers import raises_errno, recv_raw_bytes, recv_stream_bytes, wait_raw_closed


@pytest.fixture
def server(zmq, sock, endpoint):
    """A bound STREAM socket and a factory of plain TCP clients connected to it."""
    stream = sock(zmq.STREAM)
    port = int(endpoint.bind(stream, "tcp").rsplit(":", 1)[1])
    clients = []

    def connect():
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        clients.append(c)
        return c

    yield stream, connect
    for c in clients:
        c.close()


@pytest.fixture
def raw_listener():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(5)
    yield srv
    srv.close()


def test_connect_notification_carries_made_up_id(server, recv_multipart_timeout):
    """STREAM_NOTIFY=1: "on connect ... the app gets [id][empty]"; "Id: 5 bytes 0x00 + u32 BE
    counter"."""
    stream, connect = server
    connect()
    ident, empty = recv_multipart_timeout(stream)
    assert empty == b""
    assert len(ident) == 5 and ident[0] == 0


def test_recv_gives_id_and_raw_bytes(server, recv_multipart_timeout):
    """"recv always gives 2 frames: [routing id][data]"."""
    stream, connect = server
    client = connect()
    ident, _ = recv_multipart_timeout(stream)
    client.sendall(b"\x00\xffraw bytes, no framing")
    assert recv_stream_bytes(stream, ident, 23) == b"\x00\xffraw bytes, no framing"


def test_send_writes_raw_bytes_to_that_connection(server, recv_multipart_timeout):
    """"send: [id (MORE)][data]"."""
    stream, connect = server
    first, second = connect(), connect()
    ids = [recv_multipart_timeout(stream)[0] for _ in range(2)]
    first.sendall(b"1")
    ident_of_first = recv_multipart_timeout(stream)[0]
    ident_of_second = (set(ids) - {ident_of_first}).pop()
    stream.send_multipart([ident_of_second, b"to-second"])
    stream.send_multipart([ident_of_first, b"to-first"])
    assert recv_raw_bytes(first, 8) == b"to-first"
    assert recv_raw_bytes(second, 9) == b"to-second"


def test_more_flag_on_data_frame_is_ignored(zmq, server, recv_multipart_timeout):
    """"The MORE flag on the data frame is ignored (each pair is one write)"."""
    stream, connect = server
    client = connect()
    ident, _ = recv_multipart_timeout(stream)
    stream.send(ident, zmq.SNDMORE)
    stream.send(b"abc", zmq.SNDMORE)
    stream.send(ident, zmq.SNDMORE)
    stream.send(b"def")
    assert recv_raw_bytes(client, 6) == b"abcdef"


def test_empty_data_frame_closes_connection(server, recv_multipart_timeout):
    """"An empty data frame closes that connection"."""
    stream, connect = server
    client = connect()
    ident, _ = recv_multipart_timeout(stream)
    stream.send_multipart([ident, b"bye"])
    assert recv_raw_bytes(client, 3) == b"bye"
    stream.send_multipart([ident, b""])
    wait_raw_closed(client, stream)


def test_peer_close_gives_disconnect_notification(server, recv_multipart_timeout):
    """STREAM_NOTIFY=1: "on connect and on disconnect the app gets [id][empty]"."""
    stream, connect = server
    client = connect()
    ident, _ = recv_multipart_timeout(stream)
    client.sendall(b"last words")
    assert recv_stream_bytes(stream, ident, 10) == b"last words"
    client.close()
    assert recv_multipart_timeout(stream) == [ident, b""]


def test_stream_notify_off_gives_data_only(zmq, sock, endpoint, recv_multipart_timeout,
                                           assert_no_message):
    stream = sock(zmq.STREAM, stream_notify=0)
    port = int(endpoint.bind(stream, "tcp").rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(b"x")
        ident, data = recv_multipart_timeout(stream)
        assert (len(ident), data) == (5, b"x")
    assert_no_message(stream, 100)


def test_unknown_id_is_ehostunreach(zmq, server):
    """"Unknown id: EHOSTUNREACH"."""
    stream, _ = server
    raises_errno(lambda: stream.send_multipart([b"\x00nope", b"x"]), zmq.EHOSTUNREACH)


def test_connect_routing_id_names_outgoing_connection(zmq, sock, raw_listener,
                                                      recv_multipart_timeout):
    """STREAM: "Id: ... or ZMQ_CONNECT_ROUTING_ID for outgoing connections"."""
    stream = sock(zmq.STREAM, connect_routing_id=b"upstream")
    stream.connect("tcp://127.0.0.1:%d" % raw_listener.getsockname()[1])
    conn, _ = raw_listener.accept()
    with conn:
        conn.settimeout(5)
        assert recv_multipart_timeout(stream) == [b"upstream", b""]
        stream.send_multipart([b"upstream", b"GET"])
        assert recv_raw_bytes(conn, 3) == b"GET"
        conn.sendall(b"200")
        assert recv_stream_bytes(stream, b"upstream", 3) == b"200"
