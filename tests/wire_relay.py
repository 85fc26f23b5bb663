"""A TCP relay that records both directions of one connection between two
real peers (the wire tests look at the bytes that crossed)."""

from __future__ import annotations

import socket
import threading


class Recorder:
    """Relays one TCP connection to 127.0.0.1:target and records what each
    side sent: ``up`` (connecting side to target) and ``down``."""

    def __init__(self, target_port: int):
        self.target = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(5)
        self.port = self.listener.getsockname()[1]
        self.up = bytearray()
        self.down = bytearray()
        self.socks: list[socket.socket] = []
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self):
        try:
            a, _ = self.listener.accept()
        except OSError:
            return
        b = socket.create_connection(("127.0.0.1", self.target), timeout=5)
        self.socks += [a, b]
        for src, dst, log in ((a, b, self.up), (b, a, self.down)):
            t = threading.Thread(target=self._pump, args=(src, dst, log), daemon=True)
            t.start()
            self.threads.append(t)

    @staticmethod
    def _pump(src, dst, log):
        src.settimeout(None)
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                log += data
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        for s in self.socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.listener.close()
        for t in self.threads:
            t.join(5)
        for s in self.socks:
            s.close()
