"""circus (tornado): circusd watches two processes; a CircusClient lists
them, adds one and quits the daemon, while a SUB socket hears the daemon's
events -- all over ipc.

Prints one line: this process's zmq, circusd's zmq (its hook writes it
down), whether every incr succeeded, counted and listed its process, the
event topic heard, the quit reply's status and circusd's exit code.
"""

import os
import subprocess
import sys
import tempfile
import time

import zmq
from circus.client import CircusClient

TIMEOUT_S = 20

CONFIG = """\
[circus]
endpoint = {ctl}
pubsub_endpoint = {pub}
statsd = False
check_delay = 1

[watcher:sleeper]
cmd = {python} -c "import time; time.sleep(60)"
numprocesses = 2
graceful_timeout = 5
hooks.after_start = app_circus_hook.report_zmq

[env:sleeper]
ZMQ_REPORT = {report}
"""


def wait_started(client):
    """Until circusd answers and runs both processes."""
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        try:
            if len(client.send_message("list", name="sleeper").get("pids", [])) == 2:
                return
        except Exception:  # not listening yet: CallError on its timeout
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("circusd did not start its watcher")
        time.sleep(0.1)


def main():
    tmp = tempfile.mkdtemp()
    ctl, pub = f"ipc://{tmp}/control", f"ipc://{tmp}/events"
    report = os.path.join(tmp, "zmq-report")
    config = os.path.join(tmp, "circus.ini")
    with open(config, "w") as out:
        out.write(CONFIG.format(ctl=ctl, pub=pub, python=sys.executable, report=report))
    # circusd inherits PYTHONPATH (and so the switch, and the hook module).
    daemon = subprocess.Popen([sys.executable, "-m", "circus.circusd", config])
    try:
        client = CircusClient(endpoint=ctl, timeout=5)
        wait_started(client)
        events = zmq.Context.instance().socket(zmq.SUB)
        events.linger = 0
        events.rcvtimeo = TIMEOUT_S * 1000
        events.connect(pub)
        events.subscribe(b"watcher.sleeper.spawn")
        # The subscription reaches circusd some time after connecting: add
        # a process at a time until its spawn event is heard.  waiting=True:
        # the reply comes once done (circusd refuses other arbiter commands,
        # like quit, while one is running).
        incrs = []
        poller = zmq.Poller()
        poller.register(events, zmq.POLLIN)
        deadline = time.monotonic() + TIMEOUT_S
        while not poller.poll(0 if not incrs else 200):
            if time.monotonic() > deadline:
                raise TimeoutError("no spawn event")
            incrs.append(client.send_message("incr", name="sleeper", waiting=True)["status"])
        topic = events.recv_multipart()[0].decode()
        events.close()
        count = client.send_message("numprocesses", name="sleeper")["numprocesses"]
        pids = client.send_message("list", name="sleeper")["pids"]
        quit_status = client.send_message("quit", waiting=True)["status"]
        client.stop()
        returncode = daemon.wait(TIMEOUT_S)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait(TIMEOUT_S)
    with open(report) as inp:
        daemon_zmq = inp.read()
    print(zmq.__name__, daemon_zmq, set(incrs) == {"ok"}, count == 2 + len(incrs),
          len(pids) == count, topic, quit_status, returncode)


if __name__ == "__main__":
    main()
