"""Request-reply broker: REQ clients -> ROUTER/DEALER proxy -> REP workers.

The zguide's "rrbroker" pattern, in one process: a broker thread runs
``zmq.proxy`` between a ROUTER (facing the clients) and a DEALER (facing
the workers); client threads send requests on REQ sockets and worker
threads answer on REP sockets.  Clients never learn which worker answered:
the broker spreads requests over the workers and routes each reply back.

Shutdown is the classic one: once every client is done, the main thread
terminates the context, which makes the blocked proxy and worker calls
raise ContextTerminated so their threads close their sockets and return.

Run ``python rrbroker.py --count 5`` for a brief run.  To use pyzmq
instead of mqcore, change the one import line below to ``import zmq``.
"""

import argparse
import sys
import threading

import mqcore as zmq

REPLY_TIMEOUT_MS = 10_000  # a client gives up on a reply after this long


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=3, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="worker threads")
    parser.add_argument("--count", type=int, default=10, help="requests per client")
    parser.add_argument("--frontend", default="tcp://127.0.0.1:*",
                        help="address the broker binds for clients")
    parser.add_argument("--backend", default="tcp://127.0.0.1:*",
                        help="address the broker binds for workers")
    return parser.parse_args(argv)


def bind_endpoint(sock, addr):
    """Bind and return the address peers connect to (a "*" port resolved)."""
    sock.bind(addr)
    return sock.getsockopt_string(zmq.LAST_ENDPOINT)


def run_broker(frontend, backend):
    """Shuttle messages between clients and workers until the context ends."""
    try:
        zmq.proxy(frontend, backend)
    except zmq.ContextTerminated:
        pass
    finally:
        frontend.close()
        backend.close()


def run_worker(ctx, name, backend_addr, handled):
    """Answer requests until the context is terminated; count them in ``handled``."""
    sock = ctx.socket(zmq.REP)
    sock.linger = 0
    sock.connect(backend_addr)
    handled[name] = 0
    try:
        while True:
            request = sock.recv_string()
            sock.send_string(f"{request} -> {name}")
            handled[name] += 1
    except zmq.ContextTerminated:
        pass
    finally:
        sock.close()


def run_client(ctx, name, frontend_addr, count, results):
    """Send ``count`` requests one at a time; record how many good replies came."""
    ok = 0
    with ctx.socket(zmq.REQ) as sock:
        sock.linger = 0
        sock.rcvtimeo = REPLY_TIMEOUT_MS
        sock.connect(frontend_addr)
        for number in range(count):
            request = f"{name} request {number}"
            sock.send_string(request)
            try:
                reply = sock.recv_string()
            except zmq.Again:
                print(f"{name}: no reply to {request!r}, giving up", flush=True)
                break
            if reply.startswith(request + " -> "):
                ok += 1
            else:
                print(f"{name}: wrong reply {reply!r} to {request!r}", flush=True)
    results[name] = ok
    print(f"{name}: {ok}/{count} replies", flush=True)


def start_thread(target, *args):
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


def main(argv=None):
    args = parse_args(argv)
    ctx = zmq.Context()

    frontend = ctx.socket(zmq.ROUTER)
    backend = ctx.socket(zmq.DEALER)
    for sock in (frontend, backend):
        sock.linger = 0
    frontend_addr = bind_endpoint(frontend, args.frontend)
    backend_addr = bind_endpoint(backend, args.backend)
    print(f"broker: clients -> {frontend_addr}, workers -> {backend_addr}", flush=True)
    # The broker thread owns the two sockets from here on.
    broker = start_thread(run_broker, frontend, backend)

    handled, results = {}, {}
    workers = [start_thread(run_worker, ctx, f"worker-{i}", backend_addr, handled)
               for i in range(args.workers)]
    clients = [start_thread(run_client, ctx, f"client-{i}", frontend_addr,
                            args.count, results)
               for i in range(args.clients)]
    for thread in clients:
        thread.join()

    # Every client socket is closed: ending the context stops broker and workers.
    ctx.term()
    for thread in [broker, *workers]:
        thread.join()

    for name in sorted(handled):
        print(f"{name}: handled {handled[name]} requests", flush=True)
    expected = args.clients * args.count
    replies = sum(results.values())
    print(f"rrbroker: {replies}/{expected} replies", flush=True)
    return 0 if replies == expected else 1


if __name__ == "__main__":
    sys.exit(main())
