"""Weather update client: subscribes to one zipcode and averages its temperature.

The zguide's "wuclient".  The SUB socket's topic filter keeps only the
updates whose text starts with the chosen zipcode; the filtering happens
on the publisher's side, so other zipcodes never cross the wire.  Pair it
with ``wuserver.py``.

``--count`` updates are collected (``--verbose`` prints each), then the
average temperature is printed.  A ``--timeout`` without updates ends the
client with exit status 1 instead of waiting forever.

To use pyzmq instead of mqcore, change the one import line below to
``import zmq``.
"""

import argparse
import sys

import mqcore as zmq


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connect", default="tcp://127.0.0.1:5556",
                        help="address of the weather server")
    parser.add_argument("--zipcode", default="10001", help="zipcode to follow")
    parser.add_argument("--count", type=int, default=5, help="updates to collect")
    parser.add_argument("--timeout", type=int, default=10_000,
                        help="ms to wait for one update before giving up")
    parser.add_argument("--verbose", action="store_true", help="print every update")
    return parser.parse_args(argv)


def collect_temperatures(subscriber, count, verbose):
    """Receive ``count`` updates; return their temperatures (fewer on timeout)."""
    temperatures = []
    while len(temperatures) < count:
        try:
            update = subscriber.recv_string()
        except zmq.Again:
            break
        if verbose:
            print(f"update: {update}", flush=True)
        _zipcode, temperature, _humidity = update.split()
        temperatures.append(int(temperature))
    return temperatures


def main(argv=None):
    args = parse_args(argv)
    ctx = zmq.Context()
    subscriber = ctx.socket(zmq.SUB)
    subscriber.linger = 0
    subscriber.rcvtimeo = args.timeout
    subscriber.connect(args.connect)
    # The trailing space ends the zipcode: "1000" must not match "10001 ...".
    subscriber.setsockopt_string(zmq.SUBSCRIBE, args.zipcode + " ")
    print(f"wuclient: collecting updates for zipcode {args.zipcode} from {args.connect}",
          flush=True)

    temperatures = collect_temperatures(subscriber, args.count, args.verbose)
    subscriber.close()
    ctx.term()

    if len(temperatures) < args.count:
        print(f"wuclient: only {len(temperatures)}/{args.count} updates "
              f"before a {args.timeout} ms silence", flush=True)
        return 1
    average = sum(temperatures) / len(temperatures)
    print(f"Average temperature for zipcode '{args.zipcode}' was {average:.0f}F "
          f"({len(temperatures)} updates)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
