"""Flaky REP server for the Lazy Pirate client: it "crashes" now and then.

The zguide's "lpserver".  It echoes each request back as the reply, except
every ``--drop-every``-th request (counting every request received,
retries included): then it simulates a crash by closing its REP socket
without replying, and a restart by binding a fresh one.  The client's
request is lost with the old socket; only a client that times out and
retries, like ``lpclient.py``, gets past it.

The server runs until it has answered ``--count`` requests (0: no limit)
or receives SIGTERM/SIGINT.

To use pyzmq instead of mqcore, change the one import line below to
``import zmq``.
"""

import argparse
import errno
import signal
import sys
import time

import mqcore as zmq

POLL_MS = 100  # how often the serve loop looks at the stop flag
REBIND_TIMEOUT_S = 5.0


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="tcp://127.0.0.1:5555", help="address to serve on")
    parser.add_argument("--drop-every", type=int, default=3,
                        help="crash on every N-th request received (0: never)")
    parser.add_argument("--work-ms", type=int, default=10, help="simulated work per request")
    parser.add_argument("--count", type=int, default=0,
                        help="exit after answering this many requests (0: no limit)")
    return parser.parse_args(argv)


class StopFlag:
    """Set by SIGTERM/SIGINT, so the serve loop ends and reports cleanly."""

    def __init__(self):
        self.set = False
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)

    def _stop(self, signum, frame):
        self.set = True


def open_server(ctx, addr):
    """A REP socket bound to ``addr``.

    The previous socket's listener is released in the background after
    close(), so a prompt re-bind may briefly find the port still in use.
    """
    server = ctx.socket(zmq.REP)
    server.linger = 0
    deadline = time.monotonic() + REBIND_TIMEOUT_S
    while True:
        try:
            server.bind(addr)
            return server
        except zmq.ZMQError as exc:
            if exc.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                server.close()
                raise
            time.sleep(0.01)


def main(argv=None):
    args = parse_args(argv)
    stop = StopFlag()
    ctx = zmq.Context()
    server = open_server(ctx, args.bind)
    print(f"lpserver: serving on {args.bind}", flush=True)

    received = answered = crashes = 0
    while not stop.set and not (args.count and answered >= args.count):
        if not server.poll(POLL_MS, zmq.POLLIN):
            continue
        request = server.recv()
        received += 1
        if args.drop_every and received % args.drop_every == 0:
            print(f"lpserver: simulating a crash on request {request.decode()!r}", flush=True)
            crashes += 1
            server.close()
            server = open_server(ctx, args.bind)
            print("lpserver: restarted", flush=True)
            continue
        print(f"lpserver: normal request ({request.decode()})", flush=True)
        time.sleep(args.work_ms / 1000)
        server.send(request)
        answered += 1

    server.close()
    ctx.term()
    print(f"lpserver: answered {answered} requests, {crashes} crashes", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
