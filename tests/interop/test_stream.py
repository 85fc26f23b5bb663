"""STREAM interop: the implementation under test against a plain TCP socket
(as server and as client) and against real pyzmq's STREAM, each side binding.

STREAM speaks no ZMTP: recv gives ``[routing id][bytes of one read]``, send
takes ``[routing id][bytes]``, an empty data frame closes that connection,
and with STREAM_NOTIFY (default on) a connect or disconnect shows up as
``[routing id][""]``.  Byte streams have no boundaries, so receivers here
collect until the expected length.
"""

import socket

import pytest

from pattern_helpers import recv_poking, recv_raw_bytes, recv_stream_bytes, wait_raw_closed

pytestmark = pytest.mark.interop

STREAM = 11


@pytest.fixture
def raw_listener():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(5)
    yield srv
    srv.close()


def test_bound_stream_serves_raw_tcp_client(zmq, sock, endpoint, recv_multipart_timeout):
    server = sock(zmq.STREAM)
    host, port = endpoint.bind(server, "tcp").rsplit(":", 1)
    with socket.create_connection(("127.0.0.1", int(port)), timeout=5) as client:
        ident, empty = recv_multipart_timeout(server)
        assert empty == b""
        client.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert recv_stream_bytes(server, ident, 18) == \
            b"GET / HTTP/1.0\r\n\r\n"
        server.send_multipart([ident, b"HTTP/1.0 200 OK\r\n\r\nhi"])
        assert recv_raw_bytes(client, 21) == b"HTTP/1.0 200 OK\r\n\r\nhi"
        server.send_multipart([ident, b""])  # an empty frame closes the connection
        wait_raw_closed(client, server)


def test_connecting_stream_talks_to_raw_tcp_server(zmq, sock, raw_listener,
                                                   recv_multipart_timeout):
    client = sock(zmq.STREAM)
    client.connect("tcp://127.0.0.1:%d" % raw_listener.getsockname()[1])
    conn, _ = raw_listener.accept()
    with conn:
        conn.settimeout(5)
        ident, empty = recv_multipart_timeout(client)
        assert empty == b""
        client.send_multipart([ident, b"ping"])
        assert recv_raw_bytes(conn, 4) == b"ping"
        conn.sendall(b"pong")
        assert recv_stream_bytes(client, ident, 4) == b"pong"
    assert recv_multipart_timeout(client) == [ident, b""]  # disconnect notification


@pytest.mark.parametrize("binder", ["mq", "py"])
def test_stream_to_pyzmq_stream(zmq, pyzmq, sock, psock, endpoint, binder,
                                recv_multipart_timeout):
    mq, py = sock(zmq.STREAM), psock(pyzmq.STREAM)
    server, client = (mq, py) if binder == "mq" else (py, mq)
    client.connect(endpoint.bind(server, "tcp"))
    client_id, empty = recv_multipart_timeout(client)
    assert empty == b""
    server_id, empty = recv_multipart_timeout(server)
    assert empty == b""
    payload = bytes(range(256)) * 64
    client.send_multipart([client_id, payload])
    assert recv_stream_bytes(server, server_id, len(payload)) == payload
    server.send_multipart([server_id, b"reply"])
    assert recv_stream_bytes(client, client_id, 5) == b"reply"
    server.send_multipart([server_id, b""])
    assert recv_poking(client, [server]) == [client_id, b""]
