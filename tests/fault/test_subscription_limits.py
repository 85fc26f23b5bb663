"""Subscriptions of any length and any churn, from the API and from hostile
peers (issue 6, items 1, 4 and 10).

* a topic of hundreds of KB, subscribed and cancelled by a raw ZMTP peer or
  through the API, or held while a socket closes, must not crash anything
  (the subscription trees once recursed once per topic byte);
* subscriptions longer than 64 KiB must go with their pipe and be re-sent
  on reconnect like any other;
* subscribers that leave without unsubscribing must not leave memory
  behind in the publisher.

Anything that crashed the process on the unfixed build runs in a
subprocess, so the suite survives and the test fails on the return code.
Every subprocess script imports the implementation under test
(MQCORE_TEST_IMPL) as ``zmq``, so the tests are checked against libzmq too.
"""

import os
import random
import subprocess
import sys
import textwrap

import pytest

LONG = 400_000          # well past any recursion depth a C stack survives
OVER_64K = 100_000      # past the old 65536-byte walk limit

IMPL = os.environ.get("MQCORE_TEST_IMPL", "mqcore").strip() or "mqcore"
# libzmq 4.3's SUB/XSUB trie recurses per topic byte too: a 400 KB topic
# crashes it (checked with 50 KB topics, where these tests pass on libzmq).
beyond_libzmq = pytest.mark.skipif(IMPL == "zmq", reason="libzmq 4.3 crashes on 400 KB topics in SUB/XSUB")

PRELUDE = '''
import os, socket, struct, sys, time
import {module} as zmq

def topic(n, tag=b"t"):
    """n bytes that start with tag and are not all one repeated byte."""
    body = (tag + bytes(range(256)) * (n // 256 + 1))
    return body[:n]

def recv(s, ms=5000):
    if not s.poll(ms):
        raise AssertionError("nothing received within %d ms" % ms)
    return s.recv_multipart()

def sync(pub, sub, probe, ms=10000):
    """Sends probe until sub gets it (the subscription reached pub)."""
    deadline = time.monotonic() + ms / 1000
    while time.monotonic() < deadline:
        pub.send(probe)
        if sub.poll(20):
            got = sub.recv_multipart()
            if got[0] == probe:
                while sub.poll(50):
                    sub.recv_multipart()
                return
    raise AssertionError("probe %r never arrived" % probe[:20])

def command(name, data=b""):
    body = bytes([len(name)]) + name + data
    if len(body) > 255:
        return b"\\x06" + struct.pack(">Q", len(body)) + body
    return b"\\x04" + bytes([len(body)]) + body

def greeting():
    return (b"\\xff" + b"\\x00" * 7 + b"\\x01" + b"\\x7f" + bytes([3, 1])
            + b"NULL".ljust(20, b"\\x00") + b"\\x00" * 32)

def ready(socket_type):
    k = b"Socket-Type"
    return command(b"READY", bytes([len(k)]) + k + struct.pack(">I", len(socket_type)) + socket_type)

class Raw:
    """A raw ZMTP 3.1 peer on a plain TCP socket."""
    def __init__(self, port, socket_type=b"SUB"):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.s.sendall(greeting())
        self.exact(64)
        self.s.sendall(ready(socket_type))
        flags, body = self.frame()
        assert flags & 0x04 and body[1:6] == b"READY", (flags, body[:20])
    def exact(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise EOFError("peer closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out
    def frame(self):
        flags = self.exact(1)[0]
        size = struct.unpack(">Q", self.exact(8))[0] if flags & 0x02 else self.exact(1)[0]
        return flags, self.exact(size)
    def subscribe(self, t):
        self.s.sendall(command(b"SUBSCRIBE", t))
    def cancel(self, t):
        self.s.sendall(command(b"CANCEL", t))
    def close(self):
        self.s.close()

def port_of(s):
    return int(s.getsockopt(zmq.LAST_ENDPOINT).decode().rsplit(":", 1)[1])

ctx = zmq.Context()
def sock(kind, **opts):
    s = ctx.socket(kind)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, 10000)
    s.setsockopt(zmq.SNDTIMEO, 10000)
    for k, v in opts.items():
        s.setsockopt(getattr(zmq, k.upper()), v)
    return s
'''


@pytest.fixture
def run_script(zmq):
    """``run_script(body, timeout)``: runs body after PRELUDE in a fresh
    interpreter that imports the module under test; asserts it exits 0 and
    printed "ok" last."""
    module = zmq.__name__
    root = os.path.dirname(os.path.dirname(os.path.abspath(zmq.__file__)))

    def run(body, timeout=90):
        code = PRELUDE.format(module=module) + textwrap.dedent(body) + '\nctx.destroy(linger=0)\nprint("ok")\n'
        env = dict(os.environ)
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=timeout, env=env, cwd=root)
        assert r.returncode == 0 and r.stdout.strip().endswith("ok"), \
            f"rc={r.returncode}\nstdout:{r.stdout[-2000:]}\nstderr:{r.stderr[-3000:]}"
        return r.stdout
    return run


# --------------------------------------------------------------------------
# item 1: long topics from a raw peer and through the API
# --------------------------------------------------------------------------

def test_raw_peer_long_subscribe_cancel_on_xpub(run_script):
    """A raw SUB sends SUBSCRIBE then CANCEL for a 400 KB topic; XPUB shows
    both, matches the topic, survives, and keeps serving its other subscriber."""
    run_script(f'''
        xpub = sock(zmq.XPUB)
        xpub.bind("tcp://127.0.0.1:0")
        port = port_of(xpub)
        good = sock(zmq.SUB)
        good.connect("tcp://127.0.0.1:%d" % port)
        good.subscribe(b"good")
        assert recv(xpub) == [b"\\x01good"]
        big = topic({LONG})
        raw = Raw(port)
        for round in range(3):
            raw.subscribe(big)
            got = recv(xpub)
            assert got == [b"\\x01" + big], (len(got[0]), got[0][:10])
            xpub.send(big + b"!payload")           # matches the long subscription
            flags, body = raw.frame()
            assert body == big + b"!payload", len(body)
            xpub.send(big[:-1])                    # one byte short: no match
            xpub.send(b"good" + bytes([round]))
            assert recv(good) == [b"good" + bytes([round])]
            raw.cancel(big)
            assert recv(xpub) == [b"\\x00" + big]
        # and once more, leaving without a CANCEL: the pipe takes it away
        raw.subscribe(big)
        assert recv(xpub) == [b"\\x01" + big]
        raw.close()
        assert recv(xpub) == [b"\\x00" + big]
        xpub.send(big + b"after")
        xpub.send(b"good-end")
        assert recv(good) == [b"good-end"]
        # a newcomer is served too
        late = sock(zmq.SUB)
        late.connect("tcp://127.0.0.1:%d" % port)
        late.subscribe(b"")
        assert recv(xpub) == [b"\\x01"]
        xpub.send(b"late")
        assert recv(late) == [b"late"]
    ''')


@beyond_libzmq
@pytest.mark.parametrize("transport", ["inproc", "tcp"])
def test_api_long_subscribe_unsubscribe_xpub_sub(run_script, transport):
    run_script(f'''
        addr = "inproc://long" if "{transport}" == "inproc" else "tcp://127.0.0.1:0"
        xpub = sock(zmq.XPUB)
        xpub.bind(addr)
        if "{transport}" == "tcp":
            addr = xpub.getsockopt(zmq.LAST_ENDPOINT).decode()
        sub = sock(zmq.SUB)
        sub.connect(addr)
        big = topic({LONG})
        other = topic({LONG}, b"u")
        sub.subscribe(big)
        sub.subscribe(other)
        assert recv(xpub) == [b"\\x01" + big]
        assert recv(xpub) == [b"\\x01" + other]
        xpub.send(big + b"1")
        xpub.send(other[:1000])                 # a prefix of a subscription: no match
        xpub.send(other + b"2")
        assert recv(sub) == [big + b"1"]
        assert recv(sub) == [other + b"2"]
        sub.unsubscribe(big)
        assert recv(xpub) == [b"\\x00" + big]
        xpub.send(big + b"3")
        xpub.send(other + b"4")
        assert recv(sub) == [other + b"4"]
        # close while holding one: the XPUB is told it went
        sub.close()
        assert recv(xpub) == [b"\\x00" + other]
        xpub.send(other + b"5")
    ''')


@beyond_libzmq
@pytest.mark.parametrize("transport", ["inproc", "tcp"])
def test_api_long_subscription_pub_sub(run_script, transport):
    run_script(f'''
        addr = "inproc://long" if "{transport}" == "inproc" else "tcp://127.0.0.1:0"
        pub = sock(zmq.PUB)
        pub.bind(addr)
        if "{transport}" == "tcp":
            addr = pub.getsockopt(zmq.LAST_ENDPOINT).decode()
        sub = sock(zmq.SUB)
        sub.connect(addr)
        big = topic({LONG})
        sub.subscribe(big)
        sync(pub, sub, big)
        pub.send(big[:-1])
        pub.send(big + b"x")
        assert recv(sub) == [big + b"x"]
        sub.unsubscribe(big)
        sub.subscribe(b"mark")
        sync(pub, sub, b"mark")
        pub.send(big + b"y")
        pub.send(b"mark-end")
        assert recv(sub) == [b"mark-end"]
        sub.subscribe(big)
        sync(pub, sub, big)
    ''')


@beyond_libzmq
def test_close_sockets_holding_long_subscriptions(run_script):
    """SUB, XSUB and XPUB closed (and the context ended) while they hold
    400 KB subscriptions."""
    run_script(f'''
        big = topic({LONG})
        xpub = sock(zmq.XPUB)
        xpub.bind("inproc://hold")
        sub = sock(zmq.SUB)
        xsub = sock(zmq.XSUB)
        sub.connect("inproc://hold")
        xsub.connect("inproc://hold")
        sub.subscribe(big)
        xsub.send(b"\\x01" + big[:-7])
        assert sorted([recv(xpub)[0], recv(xpub)[0]]) == sorted([b"\\x01" + big, b"\\x01" + big[:-7]])
        lone = sock(zmq.SUB)
        lone.subscribe(big)                    # no peer at all
        lone.close()
        sub.close()
        xsub.close()
        xpub.close()
    ''')


@beyond_libzmq
def test_many_long_overlapping_subscriptions(run_script):
    """Long topics that share long prefixes, subscribed and cancelled in
    a shuffled order, still match exactly."""
    run_script(f'''
        import random
        rnd = random.Random(6)
        base = topic({LONG // 2})
        cuts = (1000, len(base) * 35 // 100, len(base) * 3 // 4, len(base) - 1)
        topics = [base[:n] + bytes([c]) for n in cuts for c in (1, 2, 3)]
        xpub = sock(zmq.XPUB)
        xpub.bind("inproc://many")
        sub = sock(zmq.XSUB)
        sub.connect("inproc://many")
        sub.send(b"\\x01end")
        assert recv(xpub) == [b"\\x01end"]
        for t in topics:
            sub.send(b"\\x01" + t)
        got = set()
        for t in topics:
            got.add(recv(xpub)[0][1:])
        assert got == set(topics)
        live = set(topics)
        order = list(topics)
        rnd.shuffle(order)
        for t in order:
            sub.send(b"\\x00" + t)
            assert recv(xpub) == [b"\\x00" + t]
            live.discard(t)
            for probe in topics:
                xpub.send(probe + b"z")
            xpub.send(b"end")
            seen = []
            while True:
                m = recv(sub)[0]
                if m == b"end":
                    break
                seen.append(m[:-1])
            want = [p for p in topics if any((p + b"z").startswith(t) for t in live)]
            assert sorted(seen) == sorted(want), (len(seen), len(want))
    ''', timeout=120)


# --------------------------------------------------------------------------
# item 4: past 64 KiB, on pipe loss and on reconnect
# --------------------------------------------------------------------------

def test_over_64k_subscription_goes_with_its_pipe(run_script):
    run_script(f'''
        big = topic({OVER_64K})
        xpub = sock(zmq.XPUB)
        xpub.bind("tcp://127.0.0.1:0")
        addr = xpub.getsockopt(zmq.LAST_ENDPOINT).decode()
        for round in range(3):
            sub = sock(zmq.SUB)
            sub.connect(addr)
            sub.subscribe(big)
            assert recv(xpub) == [b"\\x01" + big]
            sub.close()
            assert recv(xpub) == [b"\\x00" + big]
            for i in range(20):
                xpub.send(big + b"%d" % i)    # nobody holds it: goes nowhere
    ''')


def reconnect_script(pub_module, sub_module, topic_len):
    """A SUB (sub_module) keeps its subscriptions while its PUB (pub_module)
    restarts on the same port; after the reconnect the long subscription
    and a short one both match again."""
    return f'''
        import {pub_module} as pubmod
        import {sub_module} as submod
        pctx = pubmod.Context()
        sctx = submod.Context()
        def mk(c, mod, kind):
            s = c.socket(kind)
            s.setsockopt(mod.LINGER, 0)
            s.setsockopt(mod.RCVTIMEO, 10000)
            s.setsockopt(mod.SNDTIMEO, 10000)
            return s
        big = topic({topic_len})
        mid = topic(1000, b"m")
        pub = mk(pctx, pubmod, pubmod.PUB)
        pub.bind("tcp://127.0.0.1:0")
        port = int(pub.getsockopt(pubmod.LAST_ENDPOINT).decode().rsplit(":", 1)[1])
        sub = mk(sctx, submod, submod.SUB)
        sub.setsockopt(submod.RECONNECT_IVL, 50)
        sub.connect("tcp://127.0.0.1:%d" % port)
        sub.subscribe(big)
        sub.subscribe(mid)
        sub.subscribe(b"short")
        sync(pub, sub, big)
        sync(pub, sub, b"short")
        for restart in range(2):
            pub.close()
            time.sleep(0.2)
            pub = mk(pctx, pubmod, pubmod.PUB)
            deadline = time.monotonic() + 10
            while True:
                try:
                    pub.bind("tcp://127.0.0.1:%d" % port)
                    break
                except pubmod.ZMQError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            sync(pub, sub, b"short")            # reconnected, subscriptions re-sent
            pub.send(b"shor")
            pub.send(big + b"!")
            pub.send(mid + b"?")
            pub.send(b"short-end")
            assert recv(sub) == [big + b"!"]
            assert recv(sub) == [mid + b"?"]
            assert recv(sub) == [b"short-end"]
        pub.close()
        sub.close()
        pctx.destroy(linger=0)
        sctx.destroy(linger=0)
    '''


@pytest.mark.parametrize("topic_len", [OVER_64K, pytest.param(LONG, marks=beyond_libzmq)])
def test_long_subscription_survives_publisher_restart(run_script, zmq, topic_len):
    run_script(reconnect_script(zmq.__name__, zmq.__name__, topic_len), timeout=120)


@pytest.mark.interop
@pytest.mark.parametrize("direction,topic_len", [
    ("sub_under_test", OVER_64K),
    pytest.param("sub_under_test", LONG, marks=beyond_libzmq),  # libzmq's PUB copes, its SUB does not
    ("pub_under_test", OVER_64K)])
def test_long_subscription_reconnect_with_libzmq(run_script, zmq, direction, topic_len):
    """The implementation under test on one side, pyzmq (libzmq) on the other."""
    pub_module, sub_module = ("zmq", zmq.__name__) if direction == "sub_under_test" else (zmq.__name__, "zmq")
    run_script(reconnect_script(pub_module, sub_module, topic_len), timeout=120)


@pytest.mark.interop
def test_libzmq_sub_long_subscription_cancel_and_leave(run_script, zmq):
    """libzmq's SUB sends a 100 KB SUBSCRIBE and CANCEL to our XPUB, then
    subscribes again and leaves (libzmq's own SUB does not survive 400 KB)."""
    run_script(f'''
        import zmq as pz
        pctx = pz.Context()
        xpub = sock(zmq.XPUB)
        xpub.bind("tcp://127.0.0.1:0")
        addr = xpub.getsockopt(zmq.LAST_ENDPOINT).decode()
        big = topic({OVER_64K})
        psub = pctx.socket(pz.SUB)
        psub.setsockopt(pz.LINGER, 0)
        psub.connect(addr)
        psub.subscribe(big)
        assert recv(xpub) == [b"\\x01" + big]
        xpub.send(big + b"x")
        assert recv(psub) == [big + b"x"]
        psub.unsubscribe(big)
        assert recv(xpub) == [b"\\x00" + big]
        psub.subscribe(big)
        assert recv(xpub) == [b"\\x01" + big]
        psub.close()
        assert recv(xpub) == [b"\\x00" + big]
        pctx.destroy(linger=0)
    ''')


# --------------------------------------------------------------------------
# item 10: subscribers that leave without unsubscribing
# --------------------------------------------------------------------------

def test_subscribers_leaving_free_their_subscriptions(run_script):
    """300 subscribers with distinct 1 KB topics come and go, four times;
    the publisher's memory must not grow by what they subscribed (the old
    trie kept ~37 MiB per round)."""
    out = run_script('''
        def rss():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        xpub = sock(zmq.XPUB)
        xpub.bind("inproc://churn")
        sizes = []
        for round in range(4):
            subs = []
            for i in range(300):
                s = sock(zmq.SUB)
                s.connect("inproc://churn")
                s.subscribe(topic(1024, b"%d-%d-" % (round, i)))
                subs.append(s)
            for i in range(300):
                assert recv(xpub)[0][:1] == b"\\x01"
            for s in subs:
                s.close()
            for i in range(300):
                assert recv(xpub)[0][:1] == b"\\x00"
            sizes.append(rss())
        grown = sizes[-1] - sizes[0]
        print("rss", sizes, "grown", grown)
        assert grown < 20 * 2**20, sizes
    ''', timeout=120)
    print(out)
    assert "grown" in out


def test_randomised_churn_matches_a_model(run_script):
    """XSUB and SUB subscribers churn overlapping topics over a small
    alphabet (so nodes split and merge); every message goes exactly where a
    prefix model says."""
    run_script('''
        import random
        rnd = random.Random(10)
        xpub = sock(zmq.XPUB)
        xpub.setsockopt(zmq.XPUB_VERBOSER, 1)
        xpub.bind("inproc://model")
        subs, model = [], []
        def change(s, add, t):
            if s.socket_type == zmq.SUB:
                (s.subscribe if add else s.unsubscribe)(t)
            else:
                s.send((b"\\x01" if add else b"\\x00") + t)
        for i in range(4):
            s = sock(zmq.XSUB if i % 2 else zmq.SUB)
            s.connect("inproc://model")
            change(s, True, b"\\xfe")         # the end marker reaches everyone
            assert recv(xpub) == [b"\\x01\\xfe"]
            subs.append(s)
            model.append({b"\\xfe": 1})
        def word():
            return bytes(rnd.choice(b"ab") for _ in range(rnd.randrange(0, 7)))
        for step in range(600):
            i = rnd.randrange(len(subs))
            s, held = subs[i], model[i]
            t = word()
            if held.get(t) and rnd.random() < 0.6:
                held[t] -= 1
                change(s, False, t)
                if held[t] == 0:         # only the last cancel goes upstream
                    assert recv(xpub) == [b"\\x00" + t]
            else:
                held[t] = held.get(t, 0) + 1
                change(s, True, t)
                assert recv(xpub) == [b"\\x01" + t]   # verboser: every one shows
            if step % 50 == 49:
                # one leaves without cancelling: verboser shows all it held
                i = rnd.randrange(len(subs))
                kind = subs[i].socket_type
                held = set(t for t, c in model[i].items() if c > 0)
                subs[i].close()
                assert set(recv(xpub)[0] for _ in held) == set(b"\\x00" + t for t in held)
                subs[i] = sock(kind)
                subs[i].connect("inproc://model")
                change(subs[i], True, b"\\xfe")
                assert recv(xpub) == [b"\\x01\\xfe"]
                model[i] = {b"\\xfe": 1}
            if step % 10 == 9:
                msgs = [word() + b"." for _ in range(12)]
                for m in msgs:
                    xpub.send(b"\\xff" + m)  # matched by the empty topic only
                    xpub.send(m)
                xpub.send(b"\\xfe")
                for j, s in enumerate(subs):
                    got = []
                    while True:
                        m = recv(s)[0]
                        if m == b"\\xfe":
                            break
                        got.append(m)
                    live = [t for t, c in model[j].items() if c > 0]
                    want = [x for m in msgs for x in (b"\\xff" + m, m)
                            if any(x.startswith(t) for t in live)]
                    assert got == want, (step, j, live, got, want)
    ''', timeout=120)


@pytest.mark.parametrize("mode", ["plain", "verboser", "manual"])
def test_cancels_shown_when_a_subscriber_leaves(run_script, mode):
    """As libzmq: a leaving pipe's prefixes that nobody else holds; with
    XPUB_VERBOSER all it held; with XPUB_MANUAL all the user put it on."""
    run_script(f'''
        mode = "{mode}"
        xpub = sock(zmq.XPUB)
        if mode == "verboser":
            xpub.setsockopt(zmq.XPUB_VERBOSER, 1)
        if mode == "manual":
            xpub.setsockopt(zmq.XPUB_MANUAL, 1)
        xpub.bind("inproc://leave")
        a, b = sock(zmq.SUB), sock(zmq.SUB)
        for s in (a, b):
            s.connect("inproc://leave")
        def both(s, topics, shown=True):
            for t in topics:
                s.subscribe(t)
                if not shown:
                    continue
                got = recv(xpub)
                if mode == "manual":
                    assert got == [b"\\x01" + t], got
                    xpub.setsockopt(zmq.SUBSCRIBE, t)
        both(a, [b"shared"])
        both(b, [b"shared"], shown=mode != "plain")
        xpub.send(b"shared")
        assert recv(b) == [b"shared"]
        both(a, [b"mine", b"mine2" * 30000])
        a.close()
        got = set()
        while xpub.poll(300):
            got.add(xpub.recv())
        want = {{b"\\x00mine", b"\\x00" + b"mine2" * 30000}}
        if mode != "plain":
            want.add(b"\\x00shared")
        assert got == want, sorted(g[:10] for g in got)
        xpub.send(b"shared!")
        assert recv(b) == [b"shared!"]
    ''')


@beyond_libzmq
def test_nested_prefixes_of_a_long_topic(run_script):
    """Hundreds of subscriptions, each a prefix of the next and of a 400 KB
    one: a new publisher gets them all re-sent, a message reaches the
    subscriber once, and leaving cancels every one."""
    run_script(f'''
        big = topic({LONG})
        cuts = list(range(1, 3000, 7)) + list(range(3000, {LONG}, 9973)) + [{LONG}]
        first = sock(zmq.XPUB)
        first.bind("inproc://first")
        sub = sock(zmq.SUB)
        sub.connect("inproc://first")
        for n in cuts:
            sub.subscribe(big[:n])
        assert [recv(first)[0] for _ in cuts] == [b"\\x01" + big[:n] for n in cuts]
        second = sock(zmq.XPUB)
        second.bind("inproc://second")
        sub.connect("inproc://second")       # every subscription is re-sent
        assert sorted(recv(second)[0] for _ in cuts) == sorted(b"\\x01" + big[:n] for n in cuts)
        second.send(big + b"!")
        second.send(big[:2500] + b"?")
        second.send(b"\\x00")
        assert recv(sub) == [big + b"!"]
        assert recv(sub) == [big[:2500] + b"?"]
        assert not sub.poll(200)
        sub.close()
        for x in (first, second):
            assert sorted(recv(x)[0] for _ in cuts) == sorted(b"\\x00" + big[:n] for n in cuts)
    ''', timeout=120)


@beyond_libzmq
def test_long_subscription_costs_about_its_length(run_script):
    """Two 400 KB subscriptions held by an XSUB and its XPUB cost a few MB,
    not ~125 B per topic byte on each side (the old trie: ~200 MB)."""
    out = run_script(f'''
        def rss():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        xpub = sock(zmq.XPUB)
        xpub.bind("inproc://cost")
        xsub = sock(zmq.XSUB)
        xsub.connect("inproc://cost")
        warm = topic({LONG}, b"w")
        xsub.send(b"\\x01" + warm)              # pools and buffers warmed up
        assert recv(xpub) == [b"\\x01" + warm]
        before = rss()
        for tag in (b"x", b"y"):
            xsub.send(b"\\x01" + topic({LONG}, tag))
            assert recv(xpub)[0][:2] == b"\\x01" + tag
        grown = rss() - before
        print("grown", grown)
        assert grown < 24 * 2**20, grown
    ''')
    print(out)
