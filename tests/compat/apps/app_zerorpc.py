"""zerorpc (gevent): a server and a client over loopback tcp -- calls, a
remote error, a streamed answer and a heartbeat-checked session.

Prints one line: zmq's name, the sum computed remotely, the remote error's
name, how many items the stream gave and the last one.
"""

import gevent
import zerorpc
import zmq

TIMEOUT_S = 20


class Calculator:
    def add(self, a, b):
        return a + b

    def fail(self):
        raise ValueError("refused")

    @zerorpc.stream
    def count(self, n):
        return iter(range(n))


def main():
    server = zerorpc.Server(Calculator(), heartbeat=1)
    server.bind("tcp://127.0.0.1:0")
    endpoint = server._events._socket.getsockopt(zmq.LAST_ENDPOINT).decode()
    running = gevent.spawn(server.run)
    client = zerorpc.Client(timeout=TIMEOUT_S, heartbeat=1)
    client.connect(endpoint)
    try:
        with gevent.Timeout(TIMEOUT_S):
            total = client.add(40, 2)
            try:
                client.fail()
                error = "none"
            except zerorpc.RemoteError as exc:
                error = exc.name
            streamed = list(client.count(100))
    finally:
        client.close()
        server.stop()
        running.join(TIMEOUT_S)
        server.close()
    print(zmq.__name__, total, error, len(streamed), streamed[-1])


if __name__ == "__main__":
    main()
