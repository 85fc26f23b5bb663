"""Parallel pipeline: a ventilator, several workers and a sink (PUSH/PULL).

The zguide's "taskvent / taskwork2 / tasksink2", in one program:

- the ventilator PUSHes tasks (a workload in ms) to the workers, which
  share them round-robin;
- each worker PULLs a task, "works" (sleeps), and PUSHes a result to the sink;
- the sink PULLs every result, then PUBlishes KILL on a control socket,
  which every worker watches (with a Poller, next to its task socket).

Workers run as threads (default) or as separate processes (``--processes``).
Each worker first reports READY to the sink, so that the ventilator starts
once all workers are up, and answers KILL with BYE, so that the sink can
repeat KILL until every worker has heard it: a PUB drops messages for a
subscriber whose subscription has not arrived yet.

Run ``python pipeline.py --tasks 20`` for a brief run.  To use pyzmq instead
of mqcore, change the one import line below to ``import zmq``.
"""

import argparse
import multiprocessing
import random
import sys
import threading
import time

import mqcore as zmq

STEP_TIMEOUT_MS = 10_000  # longest wait for any single expected message
KILL_REPEAT_MS = 100


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100, help="tasks to distribute")
    parser.add_argument("--workers", type=int, default=3, help="worker count")
    parser.add_argument("--processes", action="store_true",
                        help="run workers as processes instead of threads")
    parser.add_argument("--max-work-ms", type=int, default=10,
                        help="largest simulated workload of one task")
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------
# worker
# ---------------------------------------------------------------------------

def worker_loop(receiver, controller, sender, name):
    """Process tasks until KILL arrives; return how many were processed."""
    poller = zmq.Poller()
    poller.register(receiver, zmq.POLLIN)
    poller.register(controller, zmq.POLLIN)
    processed = 0
    while True:
        ready = dict(poller.poll())
        if receiver in ready:
            number, workload_ms = receiver.recv_string().split()
            time.sleep(int(workload_ms) / 1000)
            sender.send_string(f"DONE {name} {number}")
            processed += 1
        if controller in ready:
            controller.recv()  # the only control message is KILL
            return processed


def run_worker(name, endpoints, ctx=None):
    """A worker: connect to ventilator, sink and controller, then loop.

    Threads share the program's context; a process passes ``ctx=None`` and
    makes its own.
    """
    own_ctx = ctx is None
    if own_ctx:
        ctx = zmq.Context()
    vent_addr, sink_addr, control_addr = endpoints
    receiver = ctx.socket(zmq.PULL)
    sender = ctx.socket(zmq.PUSH)
    controller = ctx.socket(zmq.SUB)
    for sock in (receiver, sender, controller):
        sock.linger = 0
    receiver.connect(vent_addr)
    sender.connect(sink_addr)
    controller.connect(control_addr)
    controller.setsockopt(zmq.SUBSCRIBE, b"")

    sender.send_string(f"READY {name}")
    processed = worker_loop(receiver, controller, sender, name)
    print(f"{name}: processed {processed} tasks", flush=True)
    sender.send_string(f"BYE {name}")

    for sock in (receiver, sender, controller):
        sock.close()
    if own_ctx:
        ctx.term()


def start_workers(count, endpoints, ctx, use_processes):
    """Start the workers; return objects with a join(timeout) method."""
    workers = []
    for number in range(count):
        name = f"worker-{number}"
        if use_processes:
            # spawn, not fork: a forked child must not inherit the parent's
            # context and its I/O threads.
            spawner = multiprocessing.get_context("spawn")
            worker = spawner.Process(target=run_worker, args=(name, endpoints), daemon=True)
        else:
            worker = threading.Thread(target=run_worker, args=(name, endpoints, ctx),
                                      daemon=True)
        worker.start()
        workers.append(worker)
    return workers


# ---------------------------------------------------------------------------
# ventilator and sink (the main program)
# ---------------------------------------------------------------------------

def bind_endpoint(sock):
    """Bind to a free loopback port; return the address to connect to."""
    sock.bind("tcp://127.0.0.1:*")
    return sock.getsockopt_string(zmq.LAST_ENDPOINT)


def expect(sink, kind):
    """The next message on the sink, split into words; it must be ``kind``."""
    words = sink.recv_string().split()
    if words[0] != kind:
        raise RuntimeError(f"sink expected {kind}, got {' '.join(words)!r}")
    return words


def wait_for_ready(sink, count):
    for _ in range(count):
        expect(sink, "READY")


def send_tasks(ventilator, count, max_work_ms, rng):
    """Push ``count`` tasks; return the total workload in ms."""
    total_ms = 0
    for number in range(count):
        workload = rng.randint(1, max_work_ms)
        total_ms += workload
        ventilator.send_string(f"{number} {workload}")
    return total_ms


def collect_results(sink, count):
    """Receive ``count`` results; return {worker name: tasks done}."""
    per_worker = {}
    for _ in range(count):
        _done, name, _number = expect(sink, "DONE")
        per_worker[name] = per_worker.get(name, 0) + 1
    return per_worker


def stop_workers(control, sink, count):
    """Publish KILL until ``count`` workers said BYE."""
    sink.rcvtimeo = KILL_REPEAT_MS
    deadline = time.monotonic() + STEP_TIMEOUT_MS / 1000
    byes = 0
    while byes < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {byes}/{count} workers stopped")
        control.send(b"KILL")
        try:
            expect(sink, "BYE")
            byes += 1
        except zmq.Again:
            pass


def main(argv=None):
    args = parse_args(argv)
    rng = random.Random(args.seed)
    ctx = zmq.Context()
    ventilator = ctx.socket(zmq.PUSH)
    sink = ctx.socket(zmq.PULL)
    control = ctx.socket(zmq.PUB)
    for sock in (ventilator, sink, control):
        sock.linger = 0
    sink.rcvtimeo = STEP_TIMEOUT_MS
    ventilator.sndtimeo = STEP_TIMEOUT_MS
    endpoints = (bind_endpoint(ventilator), bind_endpoint(sink), bind_endpoint(control))

    kind = "processes" if args.processes else "threads"
    print(f"pipeline: {args.tasks} tasks, {args.workers} workers ({kind})", flush=True)
    workers = start_workers(args.workers, endpoints, ctx, args.processes)
    wait_for_ready(sink, args.workers)

    started = time.monotonic()
    total_ms = send_tasks(ventilator, args.tasks, args.max_work_ms, rng)
    per_worker = collect_results(sink, args.tasks)
    elapsed_ms = (time.monotonic() - started) * 1000
    stop_workers(control, sink, args.workers)
    for worker in workers:
        worker.join(STEP_TIMEOUT_MS / 1000)

    for name in sorted(per_worker):
        print(f"sink: {per_worker[name]} results from {name}", flush=True)
    done = sum(per_worker.values())
    print(f"sink: {done}/{args.tasks} results in {elapsed_ms:.0f} ms "
          f"({total_ms} ms of work)", flush=True)
    for sock in (ventilator, sink, control):
        sock.close()
    ctx.term()
    return 0 if done == args.tasks else 1


if __name__ == "__main__":
    sys.exit(main())
