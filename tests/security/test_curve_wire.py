"""CURVE on the wire, through a TCP relay between the two sides: the
plaintext never appears, the handshake is RFC 26's (greeting mechanism
"CURVE", a 200-byte HELLO), and a MESSAGE replayed or altered on the way
is refused (the connection is closed, nothing of it is delivered). Each
check runs with our side as client and as server against libzmq (pyzmq)."""
import socket
import threading

import pytest

pytestmark = pytest.mark.interop

PUSH, PULL = 8, 7
SECRET = b"attack at dawn, bring the red folder"


class FrameRelay:
    """Relays one TCP connection; client->server traffic is cut into ZMTP
    frames after the greeting and passed through `edit(index, frame) ->
    bytes` (index counts the client's frames from 0)."""

    def __init__(self, target_port, edit=None):
        self.target = target_port
        self.edit = edit or (lambda i, f: f)
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.port = self.lsock.getsockname()[1]
        self.lsock.settimeout(0.05)     # so that the accept thread sees close()
        self.up = bytearray()
        self.down = bytearray()
        self.socks = []
        self.closed = False
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self):
        while not self.closed:
            try:
                a, _ = self.lsock.accept()
                break
            except socket.timeout:
                continue
            except OSError:
                return
        else:
            return
        a.settimeout(None)
        b = socket.create_connection(("127.0.0.1", self.target))
        self.socks += [a, b]
        for args in ((self._pump_frames, (a, b)), (self._pump, (b, a, self.down))):
            t = threading.Thread(target=args[0], args=args[1], daemon=True)
            t.start()
            self.threads.append(t)

    @staticmethod
    def _close(*socks):
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _pump(self, src, dst, log):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                log += data
                dst.sendall(data)
        except OSError:
            pass
        self._close(src, dst)

    def _pump_frames(self, src, dst):
        buf = bytearray()
        greeting = 0
        index = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self.up += data
                buf += data
                if greeting < 64:
                    # Passed on at once: libzmq sends its greeting in parts
                    # and waits for the peer's between them.
                    take = min(64 - greeting, len(buf))
                    dst.sendall(bytes(buf[:take]))
                    del buf[:take]
                    greeting += take
                    if greeting < 64:
                        continue
                while len(buf) >= 2:
                    flags = buf[0]
                    if flags & 2:
                        if len(buf) < 9:
                            break
                        size, head = int.from_bytes(buf[1:9], "big"), 9
                    else:
                        size, head = buf[1], 2
                    if len(buf) < head + size:
                        break
                    frame = bytes(buf[:head + size])
                    del buf[:head + size]
                    dst.sendall(self.edit(index, frame))
                    index += 1
        except OSError:
            pass
        self._close(src, dst)

    def close(self):
        """Ends every connection and thread of the relay."""
        self.closed = True
        self._close(*self.socks)
        for t in self.threads:
            t.join(2)
        for sock in self.socks + [self.lsock]:
            sock.close()


@pytest.fixture
def curve_pair(zmq, pyzmq, ctx, pctx, make_socket):
    relays = []

    def make(server_lib, edit=None):
        (sp, ss), (cp, cs) = pyzmq.curve_keypair(), pyzmq.curve_keypair()
        sctx, cctx = (ctx, pctx) if server_lib == "ours" else (pctx, ctx)
        server = make_socket(sctx, PULL, curve_server=1, curve_secretkey=ss, curve_publickey=sp)
        client = make_socket(cctx, PUSH, curve_serverkey=sp, curve_publickey=cp, curve_secretkey=cs)
        server.bind("tcp://127.0.0.1:0")
        port = int(server.getsockopt(pyzmq.LAST_ENDPOINT).decode().rsplit(":", 1)[1])
        relay = FrameRelay(port, edit)
        relays.append(relay)
        client.connect(f"tcp://127.0.0.1:{relay.port}")
        return client, server, relay

    yield make
    for r in relays:
        r.close()


SIDES = ("ours", "libzmq")


@pytest.mark.parametrize("server_lib", SIDES)
def test_plaintext_never_on_the_wire(curve_pair, server_lib, recv_multipart_timeout, wait_until):
    client, server, relay = curve_pair(server_lib)
    client.send_multipart([SECRET, SECRET * 1000])
    server_reply = recv_multipart_timeout(server)
    assert server_reply == [SECRET, SECRET * 1000]
    # Both greetings name CURVE; the client's first command is a 200-byte HELLO.
    wait_until(lambda: len(relay.down) >= 64)
    assert relay.up[12:17] == b"CURVE" and relay.down[12:17] == b"CURVE"
    assert relay.up[64:72] == bytes([0x04, 200]) + b"\x05HELLO"
    assert relay.down[64:66] == bytes([0x04, 168])         # WELCOME
    assert relay.down[66:74] == b"\x07WELCOME"
    assert SECRET[:12] not in relay.up and SECRET[:12] not in relay.down
    assert b"Socket-Type" not in relay.up and b"Socket-Type" not in relay.down
    assert b"\x07MESSAGE" in relay.up


def _nth_message(n, action):
    """An edit that applies action to the client's n-th MESSAGE frame (the
    client's frames 0 and 1 are HELLO and INITIATE)."""
    def edit(index, frame):
        return action(frame) if index == 2 + n else frame
    return edit


@pytest.mark.parametrize("server_lib", SIDES)
def test_replayed_message_is_refused(curve_pair, server_lib, recv_multipart_timeout,
                                     assert_no_message):
    client, server, relay = curve_pair(server_lib, _nth_message(0, lambda f: f + f))
    client.send(b"once")
    client.send(b"after")
    assert recv_multipart_timeout(server) == [b"once"]
    # The copy has the same nonce: the server closes the connection
    # rather than deliver it again (or anything after it).
    assert_no_message(server, 500)


@pytest.mark.parametrize("server_lib", SIDES)
def test_altered_message_is_refused(curve_pair, server_lib, recv_multipart_timeout,
                                    assert_no_message):
    def flip_last_byte(frame):
        return frame[:-1] + bytes([frame[-1] ^ 1])
    client, server, relay = curve_pair(server_lib, _nth_message(1, flip_last_byte))
    client.send(b"first")
    client.send(b"tampered")
    client.send(b"third")
    assert recv_multipart_timeout(server) == [b"first"]
    assert_no_message(server, 500)


@pytest.mark.parametrize("server_lib", SIDES)
def test_reordered_messages_are_refused(curve_pair, server_lib, recv_multipart_timeout,
                                        assert_no_message):
    """Frames 0 and 1 swapped on the way: the later nonce arrives first and
    is accepted; the earlier one then fails the order check."""
    held = []

    def swap(index, frame):
        if index == 2:
            held.append(frame)
            return b""
        if index == 3:
            return frame + held[0]
        return frame
    client, server, relay = curve_pair(server_lib, swap)
    client.send(b"m0")
    client.send(b"m1")
    client.send(b"m2")
    assert recv_multipart_timeout(server) == [b"m1"]
    assert_no_message(server, 500)
