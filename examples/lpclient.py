"""Lazy Pirate client: reliable request-reply over REQ by timing out and retrying.

The zguide's "lpclient".  A REQ socket must get a reply before it may send
again, so when a reply does not come in time the client cannot just resend:
it closes the socket (dropping the lost request), opens a new one and sends
the request again -- up to ``--retries`` times before declaring the server
offline.  Each reply must echo the request's sequence number.

The wait for a reply uses a Poller with a timeout (``--wait poller``, the
zguide's way) or the socket's RCVTIMEO option (``--wait rcvtimeo``).

Pair it with ``lpserver.py``, which drops some requests on purpose.

To use pyzmq instead of mqcore, change the one import line below to
``import zmq``.
"""

import argparse
import sys

import mqcore as zmq


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connect", default="tcp://127.0.0.1:5555",
                        help="address of the server")
    parser.add_argument("--count", type=int, default=10, help="requests to send")
    parser.add_argument("--timeout", type=int, default=2500,
                        help="ms to wait for a reply before retrying")
    parser.add_argument("--retries", type=int, default=3,
                        help="attempts per request before giving up")
    parser.add_argument("--wait", choices=("poller", "rcvtimeo"), default="poller",
                        help="how to wait for a reply with a timeout")
    return parser.parse_args(argv)


class Connection:
    """A REQ socket to the server that can be thrown away and reopened."""

    def __init__(self, ctx, addr, timeout_ms, wait):
        self.ctx = ctx
        self.addr = addr
        self.timeout_ms = timeout_ms
        self.wait = wait
        self.sock = None
        self.open()

    def open(self):
        self.sock = self.ctx.socket(zmq.REQ)
        # Closing must not wait for the unanswered request to be delivered.
        self.sock.linger = 0
        if self.wait == "rcvtimeo":
            self.sock.rcvtimeo = self.timeout_ms
        self.sock.connect(self.addr)

    def reopen(self):
        self.sock.close()
        self.open()

    def close(self):
        self.sock.close()

    def request(self, payload):
        """Send ``payload``; return the reply, or None if none came in time."""
        self.sock.send(payload)
        if self.wait == "rcvtimeo":
            try:
                return self.sock.recv()
            except zmq.Again:
                return None
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        if not poller.poll(self.timeout_ms):
            return None
        return self.sock.recv()


def request_with_retries(conn, sequence, retries):
    """Get a correct reply for request ``sequence``; return (ok, retries used)."""
    payload = str(sequence).encode()
    for attempt in range(retries):
        reply = conn.request(payload)
        if reply == payload:
            print(f"I: server replied OK ({reply.decode()})", flush=True)
            return True, attempt
        if reply is not None:
            print(f"E: malformed reply from server: {reply!r}", flush=True)
        else:
            print("W: no response from server", flush=True)
        # Either way the socket is unusable for a resend: start afresh.
        conn.reopen()
        if attempt + 1 < retries:
            print(f"I: reconnecting to server, resending ({sequence})", flush=True)
    return False, retries


def main(argv=None):
    args = parse_args(argv)
    ctx = zmq.Context()
    conn = Connection(ctx, args.connect, args.timeout, args.wait)
    print(f"lpclient: connecting to {args.connect}, waiting with {args.wait}", flush=True)

    answered = retried = 0
    for sequence in range(1, args.count + 1):
        ok, used = request_with_retries(conn, sequence, args.retries)
        retried += used
        if not ok:
            print("E: server seems to be offline, abandoning", flush=True)
            break
        answered += 1

    conn.close()
    ctx.term()
    print(f"lpclient: {answered}/{args.count} replies, {retried} retries", flush=True)
    return 0 if answered == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
