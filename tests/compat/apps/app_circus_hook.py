"""A circus hook run inside circusd: writes down which zmq circusd uses."""

import sys


def report_zmq(watcher, arbiter, hook_name, **kwargs):
    with open(watcher.env["ZMQ_REPORT"], "w") as out:
        out.write(sys.modules["zmq"].__name__)
    return True
