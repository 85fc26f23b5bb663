"""Child side of test_alloc_failures: runs one scenario with the k-th
allocation of mqcore's core made to fail, for each k it is given, and
prints one JSON line per k. Run as
    python _alloc_child.py SCENARIO count        -> {"calls": N}
    python _alloc_child.py SCENARIO k1,k2,...    -> {"k": k, ...} per k
Each line is flushed before the next k starts ("start" first), so that the
parent can tell which k a crash or hang belongs to."""
import errno
import json
import os
import sys
import threading

import mqcore as zmq
from mqcore import _core

ARM = {"k": None}
# Also fail the io threads' allocations (sessions, engines, listeners,
# poller): a failure there closes one connection, which comes back.
ALL_THREADS = os.environ.get("MQCORE_ALLOC_ALL_THREADS") == "1"


def faults():
    """The scenario's setup is done: from here on the k-th allocation
    fails. (Some scenarios connect over inproc before it; sc_inproc_connect
    covers inproc connect and bind.)"""
    if ARM["k"] is not None:
        _core._inject_alloc_failure(ARM["k"], 1, ALL_THREADS)
        ARM["k"] = None


T = 1000            # ms: every blocking call has a timeout (a lost message is allowed)
T_AFTER = 5000      # ms: the round trip after the fault must succeed
LOST = errno.EAGAIN  # a message dropped or a connection turned away shows as a timeout


def mk(ctx, kind, timeout=None, **opts):
    s = ctx.socket(kind)
    s.linger = 0
    s.rcvtimeo = s.sndtimeo = timeout or T
    for k, v in opts.items():
        setattr(s, k, v)
    return s


class Sockets:
    """Closes every socket made through it, whatever happens."""

    def __init__(self, ctx, timeout=None):
        self.ctx = ctx
        self.timeout = timeout
        self.all = []

    def __call__(self, kind, **opts):
        s = mk(self.ctx, kind, self.timeout, **opts)
        self.all.append(s)
        return s

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for s in self.all:
            s.close(linger=0)


def tcp_pair(a, b):
    a.bind("tcp://127.0.0.1:*")
    b.connect(a.last_endpoint.decode() if isinstance(a.last_endpoint, bytes) else a.last_endpoint)


def expect_msg(sock, parts):
    got = sock.recv_multipart()
    assert got == parts, f"got {[len(p) for p in got]} parts {got[:2]!r}..., sent {[len(p) for p in parts]}"


def round_trips(a, b, messages):
    for parts in messages:
        a.send_multipart(parts)
        expect_msg(b, parts)


MESSAGES = [[b"hello"], [b"a", b"bb", b"ccc"], [b"x" * 100000], [b"h", b"y" * 70000, b""]]


# ---------------------------------------------------------------- scenarios

def sc_sockets(ctx):
    kinds = [zmq.PAIR, zmq.PUB, zmq.SUB, zmq.REQ, zmq.REP, zmq.DEALER, zmq.ROUTER,
             zmq.PULL, zmq.PUSH, zmq.XPUB, zmq.XSUB, zmq.STREAM]
    kinds += [getattr(zmq, n) for n in ("SERVER", "CLIENT", "RADIO", "DISH", "GATHER",
                                         "SCATTER", "PEER", "CHANNEL") if hasattr(zmq, n)]
    for kind in kinds:
        try:
            mk(ctx, kind).close()
        except zmq.ZMQError as e:
            if e.errno != errno.EINVAL:     # (a draft type this build lacks)
                raise


def sc_inproc(ctx):
    with Sockets(ctx) as s:
        a, b = s(zmq.PAIR), s(zmq.PAIR)
        a.bind("inproc://alloc-pair")
        b.connect("inproc://alloc-pair")
        faults()
        round_trips(a, b, MESSAGES)
        round_trips(b, a, MESSAGES[:2])


def sc_tcp(ctx):
    with Sockets(ctx) as s:
        a, b = s(zmq.PUSH), s(zmq.PULL)
        tcp_pair(b, a)
        try:
            round_trips(a, b, MESSAGES)
        except zmq.Again:
            # A message lost with a connection closed for want of memory:
            # the connection must come back.
            link_recovers(a, b)
            raise


def link_recovers(a, b, seconds=10):
    """a's messages reach b again within `seconds` (anything whole counts)."""
    import time
    deadline = time.monotonic() + seconds
    while True:
        try:
            a.send(b"probe", zmq.DONTWAIT)
        except zmq.ZMQError as e:
            if e.errno not in (errno.EAGAIN, errno.ENOMEM):
                raise
        if b.poll(200):
            got = b.recv_multipart()
            assert got == [b"probe"] or got in MESSAGES, f"a torn message: {[len(p) for p in got]}"
            return
        if time.monotonic() > deadline:
            raise AssertionError("the tcp link never came back")


def sc_many(ctx):
    # Enough messages to need new pipe chunks (256 slots each).
    with Sockets(ctx) as s:
        a, b = s(zmq.PAIR), s(zmq.PAIR)
        a.bind("inproc://alloc-many")
        b.connect("inproc://alloc-many")
        faults()
        sent = 0
        for i in range(600):
            try:
                a.send_multipart([b"%d" % i, b"m"])
                sent += 1
            except zmq.ZMQError as e:
                if e.errno != errno.ENOMEM:
                    raise
                ENOMEMS.append(e.errno)
        for _ in range(sent):
            got = b.recv_multipart()
            assert len(got) == 2 and got[1] == b"m", got


def sc_pubsub(ctx):
    with Sockets(ctx) as s:
        pub, sub = s(zmq.PUB), s(zmq.SUB)
        tcp_pair(pub, sub)
        sub.setsockopt(zmq.SUBSCRIBE, b"t")
        poller = zmq.Poller()
        poller.register(sub, zmq.POLLIN)
        for _ in range(30):
            pub.send_multipart([b"topic", b"body"])
            if poller.poll(50):
                break
        else:
            raise zmq.Again()
        expect_msg(sub, [b"topic", b"body"])


def sc_xpub_welcome(ctx):
    with Sockets(ctx) as s:
        xpub = s(zmq.XPUB)
        xpub.setsockopt(zmq.XPUB_WELCOME_MSG, b"welcome")
        xpub.setsockopt(zmq.XPUB_VERBOSE, 1)
        xpub.bind("inproc://alloc-xpub")
        sub = s(zmq.SUB)
        sub.connect("inproc://alloc-xpub")
        faults()
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        assert xpub.recv() == b"\x01"
        assert sub.recv() == b"welcome"
        xpub.send_multipart([b"x", b"y"])
        expect_msg(sub, [b"x", b"y"])


def sc_xpub_manual(ctx):
    with Sockets(ctx) as s:
        xpub = s(zmq.XPUB, xpub_manual=1)
        xpub.bind("inproc://alloc-xpubm")
        sub = s(zmq.SUB)
        sub.connect("inproc://alloc-xpubm")
        faults()
        sub.setsockopt(zmq.SUBSCRIBE, b"a")
        assert xpub.recv() == b"\x01a"
        xpub.setsockopt(zmq.SUBSCRIBE, b"a")
        xpub.send(b"ab")
        assert sub.recv() == b"ab"


LONG_ID = b"D" * 40     # a routing id too long to live inline in a frame


def sc_router(ctx):
    with Sockets(ctx) as s:
        router = s(zmq.ROUTER, router_mandatory=1)
        dealer = s(zmq.DEALER, routing_id=LONG_ID)
        tcp_pair(router, dealer)
        dealer.send_multipart([b"", b"ping"])
        expect_msg(router, [LONG_ID, b"", b"ping"])
        router.send_multipart([LONG_ID, b"", b"pong", b"z" * 50000])
        expect_msg(dealer, [b"", b"pong", b"z" * 50000])
        router2 = s(zmq.ROUTER)
        router2.setsockopt(zmq.CONNECT_ROUTING_ID, b"R")
        router3 = s(zmq.ROUTER, routing_id=b"B")
        tcp_pair(router3, router2)
        for _ in range(60):
            try:
                router2.send_multipart([b"R", b"hi"], flags=zmq.DONTWAIT)
                break
            except zmq.ZMQError as e:
                if e.errno != errno.EHOSTUNREACH:
                    raise
                router2.poll(20)
        got = router3.recv_multipart()
        assert got[1:] == [b"hi"], got


def sc_stream(ctx):
    import socket as pysock
    with Sockets(ctx) as s:
        st = s(zmq.STREAM)
        st.bind("tcp://127.0.0.1:*")
        ep = st.last_endpoint.decode() if isinstance(st.last_endpoint, bytes) else st.last_endpoint
        host, port = ep[len("tcp://"):].rsplit(":", 1)
        with pysock.create_connection((host, int(port)), timeout=5) as raw:
            rid, empty = st.recv_multipart()            # the connect notice
            assert empty == b"", empty
            raw.sendall(b"raw-bytes")
            got = st.recv_multipart()
            assert got[0] == rid and got[1] == b"raw-bytes", got
            st.send_multipart([rid, b"reply"])
            assert raw.recv(100) == b"reply"


def sc_multipart(ctx):
    """Messages whose every frame needs memory: one that fails part-way is
    taken back whole; the reader only ever sees whole messages."""
    with Sockets(ctx) as s:
        push, pull = s(zmq.PUSH), s(zmq.PULL)
        pull.bind("inproc://alloc-mp")
        push.connect("inproc://alloc-mp")
        pub, sub = s(zmq.PUB), s(zmq.SUB)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        pub.bind("inproc://alloc-mp-pub")
        sub.connect("inproc://alloc-mp-pub")
        router, dealer = s(zmq.ROUTER), s(zmq.DEALER, routing_id=b"dd")
        router.bind("inproc://alloc-mp-r")
        dealer.connect("inproc://alloc-mp-r")
        dealer.send(b"hi")
        assert router.recv_multipart() == [b"dd", b"hi"]
        sub.poll(100)
        faults()
        pairs = [(push, pull, []), (pub, sub, []), (router, dealer, [b"dd"])]
        for snd, rcv, head in pairs:
            sent = []
            for i in range(4):
                msg = [b"%d" % i + b"a" * 40, b"b" * 40000, b"c" * 40]
                try:
                    snd.send_multipart(head + msg)
                    sent.append(msg)
                except zmq.ZMQError as e:
                    if e.errno != errno.ENOMEM:
                        raise
                    ENOMEMS.append(e.errno)
            for msg in sent:
                try:
                    got = rcv.recv_multipart()
                except zmq.ZMQError as e:
                    if e.errno != errno.ENOMEM:
                        raise
                    ENOMEMS.append(e.errno)
                    continue
                assert got in sent, f"a message never sent: {[len(p) for p in got]}"


def sc_reqrep(ctx):
    with Sockets(ctx) as s:
        rep, req = s(zmq.REP), s(zmq.REQ)
        tcp_pair(rep, req)
        for i in range(3):
            req.send_multipart([b"q%d" % i, b"more"])
            expect_msg(rep, [b"q%d" % i, b"more"])
            rep.send(b"a%d" % i)
            expect_msg(req, [b"a%d" % i])
        rep2, req2 = s(zmq.REP), s(zmq.REQ)
        tcp_pair(rep2, req2)
        req2.send(b"q")
        expect_msg(rep2, [b"q"])
        rep2.send(b"a")
        expect_msg(req2, [b"a"])


def sc_draft(ctx):
    if not hasattr(zmq, "SERVER"):
        return
    with Sockets(ctx) as s:
        server, client = s(zmq.SERVER), s(zmq.CLIENT)
        tcp_pair(server, client)
        client.send(b"hello")
        f = server.recv(copy=False)
        assert f.bytes == b"hello"
        rid = f.routing_id
        _send_to(server, rid, b"world")
        assert client.recv() == b"world"
        server2, client2 = s(zmq.SERVER), s(zmq.CLIENT)
        tcp_pair(server2, client2)
        client2.send(b"x")
        f = server2.recv(copy=False)
        _send_to(server2, f.routing_id, b"y")
        assert client2.recv() == b"y"


def _send_to(server, rid, data):
    fr = zmq.Frame(data)
    fr.routing_id = rid
    server.send(fr, copy=False)


def sc_proxy(ctx):
    with Sockets(ctx) as s:
        front, back = s(zmq.PULL), s(zmq.PUSH)
        front.bind("inproc://alloc-front")
        back.bind("inproc://alloc-back")
        ctrl_in, ctrl = s(zmq.PAIR), s(zmq.PAIR)
        ctrl_in.bind("inproc://alloc-ctrl")
        ctrl.connect("inproc://alloc-ctrl")
        src, dst = s(zmq.PUSH), s(zmq.PULL)
        src.connect("inproc://alloc-front")
        dst.connect("inproc://alloc-back")
        for sock in (front, back, ctrl_in, src, dst):
            sock.poll(0)        # the binders take their pipes in before the faults
        faults()
        errors = []

        def run():
            _core._alloc_join_scope()
            try:
                zmq.proxy_steerable(front, back, None, ctrl_in)
            except zmq.ZMQError as e:
                errors.append(e.errno)

        t = threading.Thread(target=run, daemon=True)
        t.start()
        try:
            for i in range(5):
                msg = [b"p%d" % i, b"q" * (60000 if i % 2 else 1)]
                src.send_multipart(msg)
                expect_msg(dst, msg)
        finally:
            ctrl.send(b"TERMINATE")
            t.join(10)
            assert not t.is_alive(), "proxy did not stop"
        for e in errors:
            if e != errno.ENOMEM:
                raise zmq.ZMQError(e)
            ENOMEMS.append(e)


def sc_close_term(ctx):
    # A context of its own, ended under the fault, after traffic.
    c2 = zmq.Context()
    try:
        with Sockets(c2) as s:
            for kind_a, kind_b in ((zmq.PUSH, zmq.PULL), (zmq.DEALER, zmq.ROUTER)):
                a, b = s(kind_a), s(kind_b)
                tcp_pair(b, a)
                a.send(b"m")
    finally:
        c2.term()


def sc_inproc_connect(ctx):
    with Sockets(ctx) as s:
        a, b, c = s(zmq.ROUTER), s(zmq.DEALER, routing_id=b"d"), s(zmq.DEALER)
        c.connect("inproc://alloc-ic")     # before the bind
        a.bind("inproc://alloc-ic")
        b.connect("inproc://alloc-ic")
        b.send(b"x")
        expect_msg(a, [b"d", b"x"])


def sc_monitor(ctx):
    """Events come whole (two frames) or not at all."""
    with Sockets(ctx) as s:
        a, b = s(zmq.PULL), s(zmq.PUSH)
        a.monitor("inproc://alloc-mon", zmq.EVENT_ALL)
        mon = s(zmq.PAIR)
        mon.connect("inproc://alloc-mon")
        tcp_pair(a, b)
        round_trips(b, a, [[b"m"]])
        b.close(linger=0)
        while mon.poll(200):
            ev = mon.recv_multipart()
            assert len(ev) == 2 and len(ev[0]) == 6, f"a torn event: {ev!r}"


def sc_highfd(ctx):
    """Descriptors past the poll() backend's fd map (run with
    MQCORE_POLLER=poll): registering them needs memory. A listener or
    connection the poller could not take must try again, not sit silent:
    the link comes up within seconds unless bind/connect said ENOMEM."""
    import time
    with Sockets(ctx) as s:
        s(zmq.PULL).bind("tcp://127.0.0.1:*")      # the io thread runs, its fds low
        fds = [os.open(os.devnull, os.O_RDONLY) for _ in range(100)]
        try:
            faults()
            a, b = s(zmq.PUSH), s(zmq.PULL)
            try:
                tcp_pair(b, a)
            except zmq.ZMQError as e:
                if e.errno != errno.ENOMEM:
                    raise
                ENOMEMS.append(e.errno)
                return
            deadline = time.monotonic() + 10
            while True:
                try:
                    a.send(b"probe", zmq.DONTWAIT)
                except zmq.ZMQError as e:
                    if e.errno not in (errno.EAGAIN, errno.ENOMEM):
                        raise
                if b.poll(200):
                    assert b.recv() == b"probe"
                    break
                if time.monotonic() > deadline:
                    raise AssertionError("the tcp link never came up")
        finally:
            for fd in fds:
                os.close(fd)


SCENARIOS = {n[3:]: f for n, f in globals().items() if n.startswith("sc_")}
ENOMEMS = []
WITH_SETUP = {"inproc", "many", "multipart", "xpub_welcome", "xpub_manual", "proxy", "highfd"}   # they call faults()


def fresh_round_trip(ctx):
    """After the fault: the same context does a new inproc and tcp round trip."""
    with Sockets(ctx, T_AFTER) as s:
        a, b = s(zmq.PAIR), s(zmq.PAIR)
        a.bind("inproc://alloc-after")
        b.connect("inproc://alloc-after")
        round_trips(a, b, [[b"after"], [b"1", b"2"]])
        c, d = s(zmq.DEALER), s(zmq.ROUTER)
        tcp_pair(d, c)
        c.send_multipart([b"after", b"tcp"])
        got = d.recv_multipart()
        assert got[1:] == [b"after", b"tcp"], got


def run_one(name, k):
    """Returns (errors seen, allocations that failed)."""
    errs = []
    ENOMEMS.clear()
    ctx = zmq.Context()
    try:
        ARM["k"] = k
        try:
            if name not in WITH_SETUP:
                faults()
            SCENARIOS[name](ctx)
        except zmq.ZMQError as e:
            errs.append(e.errno)
        finally:
            faults()        # (for a scenario that never called it: all counted)
            calls, failed = _core._alloc_calls()
            _core._inject_alloc_failure(-1)
        errs += ENOMEMS
        fresh_round_trip(ctx)
    finally:
        ctx.destroy(linger=0)
    return errs, calls, failed


def main():
    name, what = sys.argv[1], sys.argv[2]
    if what == "count":
        errs, calls, failed = run_one(name, 0)
        print(json.dumps({"calls": calls, "errors": errs}), flush=True)
        return
    for k in [int(x) for x in what.split(",")]:
        print(json.dumps({"start": k}), flush=True)
        try:
            errs, calls, failed = run_one(name, k)
            print(json.dumps({"k": k, "errors": errs, "failed": failed}), flush=True)
        except BaseException as e:      # noqa: BLE001 - reported to the parent
            print(json.dumps({"k": k, "exception": f"{type(e).__name__}: {e}"}), flush=True)


if __name__ == "__main__":
    main()
