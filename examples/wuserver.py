"""Weather update server: publishes random weather updates on a PUB socket.

The zguide's "wuserver".  Each update is one string,
``"<zipcode> <temperature> <relative humidity>"``, sent to every subscriber
whose topic filter is a prefix of it.  Pair it with ``wuclient.py``.

The server publishes as fast as it can until it has run ``--duration``
seconds, sent ``--count`` updates, or received SIGTERM/SIGINT.  Zipcodes are
drawn from ``--zipcodes`` consecutive values starting at 10000, so that a
client filtering on one zipcode sees its updates often.

To use pyzmq instead of mqcore, change the one import line below to
``import zmq``.
"""

import argparse
import random
import signal
import sys
import time

import mqcore as zmq

FIRST_ZIPCODE = 10000


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="tcp://127.0.0.1:5556",
                        help="address to publish on")
    parser.add_argument("--zipcodes", type=int, default=100,
                        help="how many different zipcodes to publish for")
    parser.add_argument("--duration", type=float, default=0,
                        help="stop after this many seconds (0: run until stopped)")
    parser.add_argument("--count", type=int, default=0,
                        help="stop after this many updates (0: no limit)")
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    return parser.parse_args(argv)


class StopFlag:
    """Set by SIGTERM/SIGINT, so the publish loop can end and report cleanly."""

    def __init__(self):
        self.set = False
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)

    def _stop(self, signum, frame):
        self.set = True


def random_update(rng, zipcodes):
    zipcode = rng.randrange(FIRST_ZIPCODE, FIRST_ZIPCODE + zipcodes)
    temperature = rng.randrange(-80, 135)
    humidity = rng.randrange(10, 60)
    return f"{zipcode:05d} {temperature} {humidity}"


def should_stop(stop, started, sent, args):
    if stop.set:
        return True
    if args.count and sent >= args.count:
        return True
    return bool(args.duration) and time.monotonic() - started >= args.duration


def main(argv=None):
    args = parse_args(argv)
    stop = StopFlag()
    rng = random.Random(args.seed)

    ctx = zmq.Context()
    publisher = ctx.socket(zmq.PUB)
    publisher.linger = 0
    publisher.bind(args.bind)
    print(f"wuserver: publishing on {args.bind}", flush=True)

    sent = 0
    started = time.monotonic()
    while not should_stop(stop, started, sent, args):
        publisher.send_string(random_update(rng, args.zipcodes))
        sent += 1
        if sent % 1000 == 0:
            # Nobody reads faster than this anyway; leave the CPU to them.
            time.sleep(0.001)

    publisher.close()
    ctx.term()
    print(f"wuserver: published {sent} updates", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
