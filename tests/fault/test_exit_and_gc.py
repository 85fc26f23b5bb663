"""Programs that end without tidying up: dropped sockets and contexts, the
garbage collector, threads that return without close(), interpreter exit.

Each case runs as a subprocess with a deadline, so a hang fails the test
instead of hanging the suite, and the subprocess's stderr must be clean (no
"Exception ignored in ..." from a finaliser).  The script imports the
implementation under test as ``zmq``; running the suite with
MQCORE_TEST_IMPL=zmq runs the same scripts on pyzmq, the reference.  Cases
where pyzmq itself hangs or behaves otherwise are mqcore-only.
"""

import importlib.util
import os
import signal
import subprocess
import tempfile
import sys
import textwrap
from pathlib import Path

import pytest

IMPL = os.environ.get("MQCORE_TEST_IMPL", "mqcore").strip() or "mqcore"
RUN_TIMEOUT_S = 20

mqcore_only = pytest.mark.skipif(
    IMPL != "mqcore", reason="pyzmq hangs or differs here; mqcore's own behaviour")
linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="counts threads in /proc")

PRELUDE = """\
import gc, os, socket, sys, threading, time
import {module} as zmq

def nthreads():
    return len(os.listdir("/proc/self/task"))

def port_refuses(port):
    probe = socket.socket()
    probe.settimeout(2)
    try:
        probe.connect(("127.0.0.1", port))
    except ConnectionRefusedError:
        return True
    finally:
        probe.close()
    return False

def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
"""


# Not the checkout: `python -c` puts the working directory first on
# sys.path, and the source tree's mqcore/ has no compiled core.
NEUTRAL_DIR = tempfile.gettempdir()


def subprocess_env():
    """The environment for a script: the mqcore these tests import."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("PYTHONDEVMODE", None)
    env.pop("PYTHONWARNINGS", None)
    spec = importlib.util.find_spec("mqcore")
    if spec is not None and spec.origin:
        parent = str(Path(spec.origin).parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (parent, env.get("PYTHONPATH")) if p)
    return env


def run_script(body, timeout=RUN_TIMEOUT_S):
    """Runs PRELUDE + body; returns (returncode, stdout, stderr). A script
    still running at the deadline is killed and the test fails."""
    module = "zmq" if IMPL == "zmq" else "mqcore"
    code = PRELUDE.format(module=module) + textwrap.dedent(body)
    proc = subprocess.Popen(
        [sys.executable, "-W", "ignore::ResourceWarning", "-c", code], env=subprocess_env(), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        cwd=NEUTRAL_DIR)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"script hung (killed after {timeout} s)\nstdout:\n{out}\nstderr:\n{err}")
    return proc.returncode, out, err


def assert_clean_run(body, expected_lines, timeout=RUN_TIMEOUT_S):
    rc, out, err = run_script(body, timeout)
    assert rc == 0, f"exit status {rc}\nstdout:\n{out}\nstderr:\n{err}"
    assert out.split() == expected_lines, f"stdout:\n{out}\nstderr:\n{err}"
    assert err == "", f"stderr not clean:\n{err}"


# --------------------------------------------------------------------------
# 12, 18: a context and its sockets collected by the garbage collector
# --------------------------------------------------------------------------

@linux_only
def test_socket_and_context_dropped_together_release_port_and_threads():
    assert_clean_run("""
        before = nthreads()
        ctx = zmq.Context()
        s = ctx.socket(zmq.PULL)
        port = s.bind_to_random_port("tcp://127.0.0.1")
        del s, ctx
        gc.collect()
        print(wait_for(lambda: port_refuses(port)))
        print(wait_for(lambda: nthreads() == before))
    """, ["True", "True"])


@mqcore_only
@linux_only
@pytest.mark.parametrize("address", ["tcp", "inproc", "ipc"])
def test_context_and_socket_in_a_cycle_release_port_and_threads(address, tmp_path):
    # pyzmq hangs here: its Context.__del__ may run first and term() waits
    # for the socket that is garbage too.
    assert_clean_run(f"""
        before = nthreads()
        ctx = zmq.Context()
        s = ctx.socket(zmq.PUB)
        port = s.bind_to_random_port("tcp://127.0.0.1")
        if {address!r} == "inproc":
            s.bind("inproc://cycle")
            peer = ctx.socket(zmq.SUB)
            peer.connect("inproc://cycle")
        elif {address!r} == "ipc":
            s.bind("ipc://{tmp_path}/sock")
        box = [ctx, s]
        box.append(box)
        if {address!r} == "inproc":
            box.append(peer)
            del peer
        del s, ctx, box
        gc.collect()
        print(wait_for(lambda: port_refuses(port)))
        print(wait_for(lambda: nthreads() == before))
    """, ["True", "True"])


@mqcore_only
@linux_only
def test_context_subclass_holding_its_socket_in_a_cycle():
    # ctx -> socket through the context's own attribute, socket -> ctx.
    assert_clean_run("""
        class Ctx(zmq.Context):
            pass
        before = nthreads()
        ctx = Ctx()
        s = ctx.socket(zmq.REP)
        port = s.bind_to_random_port("tcp://127.0.0.1")
        ctx.__dict__["keep"] = s
        del s, ctx
        gc.collect()
        print(wait_for(lambda: port_refuses(port)))
        print(wait_for(lambda: nthreads() == before))
    """, ["True", "True"])


def test_context_whose_constructor_raised_is_collected_quietly():
    assert_clean_run("""
        for bad in (dict(io_threads=-1), dict(io_threads="bad")):
            try:
                zmq.Context(**bad)
            except Exception:
                print("raised")
        gc.collect()
    """, ["raised", "raised"])


# --------------------------------------------------------------------------
# 15: an inproc-bound socket dropped without close()
# --------------------------------------------------------------------------

def test_inproc_bound_socket_dropped_without_close_lets_term_return():
    assert_clean_run("""
        ctx = zmq.Context()
        s = ctx.socket(zmq.PULL)
        s.bind("inproc://dropped")
        del s
        gc.collect()
        ctx.term()
        print("terminated")
    """, ["terminated"])


def test_inproc_name_is_free_again_after_its_socket_is_collected():
    assert_clean_run("""
        ctx = zmq.Context()
        s = ctx.socket(zmq.PULL)
        s.bind("inproc://again")
        del s
        gc.collect()
        s = ctx.socket(zmq.PULL)
        def bound():
            # libzmq frees the name a moment after the close, in its reaper.
            try:
                s.bind("inproc://again")
            except zmq.ZMQError:
                return False
            return True
        print(wait_for(bound))
        s.close()
        ctx.term()
        print("terminated")
    """, ["True", "terminated"])


# --------------------------------------------------------------------------
# 16: a thread woken by term() returns without close()
# --------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["tcp", "inproc"])
def test_thread_woken_by_term_returns_without_close(transport):
    assert_clean_run(f"""
        ctx = zmq.Context()
        ready = threading.Event()
        def worker():
            s = ctx.socket(zmq.PULL)
            if {transport!r} == "tcp":
                s.bind("tcp://127.0.0.1:*")
            else:
                s.bind("inproc://woken")
            ready.set()
            try:
                s.recv()
            except zmq.ContextTerminated:
                print("woken")
        t = threading.Thread(target=worker)
        t.start()
        ready.wait(5)
        time.sleep(0.2)
        ctx.term()
        print("terminated")
        t.join()
    """, ["woken", "terminated"])


def test_threads_woken_by_term_in_poll_return_without_close():
    assert_clean_run("""
        ctx = zmq.Context()
        started = threading.Barrier(4)
        def worker(n):
            s = ctx.socket(zmq.SUB)
            s.connect(f"inproc://pub{n}")
            poller = zmq.Poller()
            poller.register(s, zmq.POLLIN)
            started.wait(5)
            try:
                poller.poll()
            except zmq.ContextTerminated:
                pass
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
        for t in threads:
            t.start()
        started.wait(5)
        time.sleep(0.2)
        ctx.term()
        for t in threads:
            t.join()
        print("terminated")
    """, ["terminated"])


# --------------------------------------------------------------------------
# 17: interpreter exit with unsent messages and the default LINGER
# --------------------------------------------------------------------------

def test_exit_with_unsent_message_on_unclosed_socket():
    # pyzmq never terminates a context at interpreter exit: the process ends
    # promptly and unsent messages are dropped.
    assert_clean_run("""
        ctx = zmq.Context()
        s = ctx.socket(zmq.PUSH)
        s.connect("tcp://127.0.0.1:9")
        s.send(b"never delivered")
        print("exiting")
    """, ["exiting"])


def test_exit_with_unsent_message_on_closed_socket_of_shared_context():
    assert_clean_run("""
        ctx = zmq.Context.instance()
        s = ctx.socket(zmq.PUSH)
        s.connect("tcp://127.0.0.1:9")
        s.send(b"never delivered")
        s.close()
        print("exiting")
    """, ["exiting"])


def test_exit_with_unsent_messages_on_many_sockets_and_threads():
    assert_clean_run("""
        ctx = zmq.Context()
        keep = []
        def worker():
            s = ctx.socket(zmq.DEALER)
            s.connect("tcp://127.0.0.1:9")
            s.send(b"never delivered")
            keep.append(s)
        threads = [threading.Thread(target=worker) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        pub = ctx.socket(zmq.PUB)
        pub.bind("tcp://127.0.0.1:*")
        pub.send(b"nobody listens")
        print("exiting")
    """, ["exiting"])


def test_explicit_term_with_linger_still_waits_for_linger():
    # What exit does not wait for, term() still does (up to LINGER).
    assert_clean_run("""
        ctx = zmq.Context()
        s = ctx.socket(zmq.PUSH)
        s.linger = 300
        s.connect("tcp://127.0.0.1:9")
        s.send(b"never delivered")
        s.close()
        t0 = time.monotonic()
        ctx.term()
        print(time.monotonic() - t0 >= 0.25)
    """, ["True"])


# --------------------------------------------------------------------------
# 19: the FD of a reader whose inproc peer attaches
# --------------------------------------------------------------------------

def test_monitor_pair_connected_first_fd_signals_when_monitor_attaches():
    assert_clean_run("""
        import select
        ctx = zmq.Context()
        mon = ctx.socket(zmq.PAIR)
        mon.connect("inproc://monitor.first")
        fd = mon.getsockopt(zmq.FD)
        s = ctx.socket(zmq.PUSH)
        s.monitor("inproc://monitor.first", zmq.EVENT_ALL)
        s.bind("tcp://127.0.0.1:*")
        print(bool(select.select([fd], [], [], 5)[0]))
        print(bool(mon.getsockopt(zmq.EVENTS) & zmq.POLLIN))
        ctx.destroy(linger=0)
    """, ["True", "True"])


def test_connector_fd_signals_when_inproc_binder_attaches():
    assert_clean_run("""
        import select
        ctx = zmq.Context()
        pull = ctx.socket(zmq.PULL)
        pull.connect("inproc://late.binder")
        fd = pull.getsockopt(zmq.FD)
        push = ctx.socket(zmq.PUSH)
        push.bind("inproc://late.binder")
        push.send(b"x")
        print(bool(select.select([fd], [], [], 5)[0]))
        print(pull.recv(zmq.NOBLOCK).decode())
        ctx.destroy(linger=0)
    """, ["True", "x"])


@mqcore_only
def test_binder_fd_signals_when_it_takes_a_pipe_with_queued_messages():
    # libzmq attaches such a pipe silently; an event loop watching the
    # binder's FD would then never learn of the messages.
    assert_clean_run("""
        import select
        ctx = zmq.Context()
        push = ctx.socket(zmq.PUSH)
        push.connect("inproc://early.connector")
        push.send(b"queued")
        pull = ctx.socket(zmq.PULL)
        fd = pull.getsockopt(zmq.FD)
        pull.bind("inproc://early.connector")
        print(bool(select.select([fd], [], [], 5)[0]))
        print(pull.recv(zmq.NOBLOCK).decode())
        ctx.destroy(linger=0)
    """, ["True", "queued"])


def test_asyncio_monitor_pair_connected_before_monitor_sees_events():
    assert_clean_run("""
        import asyncio, importlib
        aio = importlib.import_module(zmq.__name__ + ".asyncio")
        async def main():
            ctx = aio.Context()
            mon = ctx.socket(zmq.PAIR)
            mon.connect("inproc://monitor.aio")
            loop = asyncio.get_running_loop()
            woke = loop.create_future()
            # A plain FD watcher, as an event loop integration has it.
            loop.add_reader(mon.getsockopt(zmq.FD), lambda: woke.done() or woke.set_result(1))
            s = ctx.socket(zmq.PUSH)
            s.monitor("inproc://monitor.aio", zmq.EVENT_LISTENING)
            s.bind("tcp://127.0.0.1:*")
            try:
                await asyncio.wait_for(woke, 5)
                print("woke")
            except asyncio.TimeoutError:
                print("no-wake")
            loop.remove_reader(mon.getsockopt(zmq.FD))
            frames = await asyncio.wait_for(mon.recv_multipart(), 5)
            print(frames[1].decode().startswith("tcp://"))
            ctx.destroy(linger=0)
        asyncio.run(main())
    """, ["woke", "True"])


def test_connector_that_read_before_the_bind_gets_the_binders_messages():
    # The connector found nothing and slept; the binder's first write (its
    # routing id) must still lead to a wake-up, or later messages wait forever.
    assert_clean_run("""
        ctx = zmq.Context()
        pull = ctx.socket(zmq.PULL)
        pull.rcvtimeo = 5000
        pull.connect("inproc://slept")
        try:
            pull.recv(zmq.NOBLOCK)
        except zmq.Again:
            print("empty")
        push = ctx.socket(zmq.PUSH)
        push.bind("inproc://slept")
        push.send(b"hello")
        print(pull.recv().decode())
        ctx.destroy(linger=0)
    """, ["empty", "hello"])


def test_router_connector_can_route_to_a_binder_that_came_later():
    assert_clean_run("""
        ctx = zmq.Context()
        router = ctx.socket(zmq.ROUTER)
        router.rcvtimeo = 5000
        router.router_mandatory = 1
        router.connect("inproc://late.dealer")
        dealer = ctx.socket(zmq.DEALER)
        dealer.rcvtimeo = 5000
        dealer.routing_id = b"D"
        dealer.bind("inproc://late.dealer")
        def sent():
            try:
                router.send_multipart([b"D", b"to dealer"])
            except zmq.ZMQError:
                return False
            return True
        print(wait_for(sent))
        print(dealer.recv().decode())
        ctx.destroy(linger=0)
    """, ["True", "to", "dealer"])


# --------------------------------------------------------------------------
# well-known short programs that used to hang at the end
# --------------------------------------------------------------------------

def test_zguide_mtrelay_threads_return_without_close():
    # zguide's mtrelay: each step's thread returns without closing its
    # sockets (two are bound to inproc names); term() must still return.
    assert_clean_run("""
        def step1(context):
            sender = context.socket(zmq.PAIR)
            sender.connect("inproc://step2")
            sender.send(b"")

        def step2(context):
            receiver = context.socket(zmq.PAIR)
            receiver.bind("inproc://step2")
            thread = threading.Thread(target=step1, args=(context,))
            thread.start()
            receiver.recv()
            sender = context.socket(zmq.PAIR)
            sender.connect("inproc://step3")
            sender.send(b"")

        context = zmq.Context.instance()
        receiver = context.socket(zmq.PAIR)
        receiver.bind("inproc://step3")
        thread = threading.Thread(target=step2, args=(context,))
        thread.start()
        receiver.recv()
        print("relayed")
        receiver.close()
        context.term()
        print("terminated")
    """, ["relayed", "terminated"])


def test_proxy_thread_returns_without_close_after_term():
    assert_clean_run("""
        ctx = zmq.Context()
        def device():
            front = ctx.socket(zmq.ROUTER)
            front.bind("inproc://front")
            back = ctx.socket(zmq.DEALER)
            back.bind("inproc://back")
            try:
                zmq.proxy(front, back)
            except zmq.ContextTerminated:
                pass
        t = threading.Thread(target=device)
        t.start()
        client = ctx.socket(zmq.REQ)
        client.rcvtimeo = 5000
        client.connect("inproc://front")
        worker = ctx.socket(zmq.REP)
        worker.rcvtimeo = 5000
        worker.connect("inproc://back")
        client.send(b"hi")
        worker.send(worker.recv() + b"!")
        print(client.recv().decode())
        client.close()
        worker.close()
        ctx.term()
        t.join()
        print("terminated")
    """, ["hi!", "terminated"])


def test_exit_with_monitor_attached_and_unsent_message():
    assert_clean_run("""
        ctx = zmq.Context()
        s = ctx.socket(zmq.DEALER)
        monitor = s.get_monitor_socket()
        s.connect("tcp://127.0.0.1:9")
        s.send(b"never delivered")
        print("exiting")
    """, ["exiting"])


@mqcore_only
@pytest.mark.parametrize("finish", ["received", "timed-out"])
def test_asyncio_socket_dropped_without_close_lets_term_return(finish):
    # pyzmq hangs here: its event loop keeps every socket it ever watched.
    assert_clean_run(f"""
        import asyncio, importlib
        aio = importlib.import_module(zmq.__name__ + ".asyncio")
        async def use(ctx):
            a = ctx.socket(zmq.PAIR)
            a.bind("inproc://aio.dropped")
            b = ctx.socket(zmq.PAIR)
            b.connect("inproc://aio.dropped")
            pending = asyncio.ensure_future(b.recv())
            await asyncio.sleep(0.05)
            if {finish!r} == "received":
                await a.send(b"x")
                print((await pending).decode())
            else:
                try:
                    await asyncio.wait_for(pending, 0.1)
                except asyncio.TimeoutError:
                    print("x")
        async def main():
            ctx = aio.Context()
            await use(ctx)
            gc.collect()
            ctx.term()
            print("terminated")
        asyncio.run(main())
    """, ["x", "terminated"])


# --------------------------------------------------------------------------
# a forked child that ends the context it inherited
# --------------------------------------------------------------------------

posix_only = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


@posix_only
@pytest.mark.parametrize("child_ends", ["term", "term-with-socket-open", "gc"])
def test_forked_child_ending_inherited_context_leaves_parent_working(child_ends, tmp_path):
    # The child shares the parent's pollers and ipc files: ending its copy
    # of the context must neither hang the parent's term() nor take the
    # parent's endpoints away.
    assert_clean_run(f"""
        import warnings
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads
        ctx = zmq.Context()
        pull = ctx.socket(zmq.PULL)
        pull.rcvtimeo = 5000
        port = pull.bind_to_random_port("tcp://127.0.0.1")
        pull.bind("ipc://{tmp_path}/parent")
        pid = os.fork()
        if pid == 0:
            if {child_ends!r} == "term":
                pull.close(linger=0)
                ctx.term()
            elif {child_ends!r} == "term-with-socket-open":
                ctx.term()      # as pyzmq: returns at once in a forked child
                del pull
                gc.collect()
            else:
                del pull, ctx
                gc.collect()
            os._exit(0)
        os.waitpid(pid, 0)
        peer_ctx = zmq.Context()
        for endpoint in (f"tcp://127.0.0.1:{{port}}", "ipc://{tmp_path}/parent"):
            push = peer_ctx.socket(zmq.PUSH)
            push.connect(endpoint)
            push.send(endpoint[:3].encode())
            print(pull.recv().decode())
            push.close(linger=0)
        peer_ctx.term()
        pull.close()
        ctx.term()
        print("terminated")
    """, ["tcp", "ipc", "terminated"])


@mqcore_only
def test_exit_with_sockets_kept_by_a_module_torn_down_late(tmp_path):
    # Kept by a module imported before mqcore, the context and sockets are
    # finalised after mqcore's own module globals were cleared; closing
    # them then must not need those globals. (pyzmq hangs here.)
    assert_clean_run(f"""
        ctx = zmq.Context()
        a = ctx.socket(zmq.PAIR)
        a.bind("inproc://late")
        b = ctx.socket(zmq.PAIR)
        b.connect("inproc://late")
        a.send(b"unread")
        pending = ctx.socket(zmq.PULL)
        pending.connect("inproc://never.bound")
        t = ctx.socket(zmq.PUSH)
        t.bind("tcp://127.0.0.1:*")
        t.bind("ipc://{tmp_path}/late")
        t.connect("tcp://127.0.0.1:9")
        t.send(b"never delivered")
        monitor = t.get_monitor_socket()
        os._kept_until_late = [ctx, a, b, pending, t, monitor]
        print("exiting")
    """, ["exiting"])


def test_zguide_mtserver_workers_return_without_close_after_term():
    # zguide's mtserver: REP workers on inproc behind a ROUTER/DEALER proxy;
    # term() wakes them and they return without closing their sockets.
    assert_clean_run("""
        def worker_routine(url, context):
            socket = context.socket(zmq.REP)
            socket.connect(url)
            while True:
                try:
                    socket.recv()
                except zmq.ContextTerminated:
                    return
                socket.send(b"World")

        def device(clients, workers):
            try:
                zmq.proxy(clients, workers)
            except zmq.ContextTerminated:
                pass

        context = zmq.Context.instance()
        clients = context.socket(zmq.ROUTER)
        port = clients.bind_to_random_port("tcp://127.0.0.1")
        workers = context.socket(zmq.DEALER)
        workers.bind("inproc://workers")
        threads = [threading.Thread(target=worker_routine, args=("inproc://workers", context))
                   for _ in range(3)]
        threads.append(threading.Thread(target=device, args=(clients, workers)))
        for t in threads:
            t.start()
        del clients, workers
        client = context.socket(zmq.REQ)
        client.rcvtimeo = 5000
        client.connect(f"tcp://127.0.0.1:{port}")
        for _ in range(3):
            client.send(b"Hello")
            print(client.recv().decode())
        client.close()
        context.term()
        for t in threads:
            t.join()
        print("terminated")
    """, ["World", "World", "World", "terminated"])


# --------------------------------------------------------------------------
# Ctrl-C during a term() that waits
# --------------------------------------------------------------------------

posix_signals = pytest.mark.skipif(not hasattr(os, "kill") or sys.platform == "win32",
                                   reason="POSIX signals")


@posix_signals
def test_ctrl_c_interrupts_term_waiting_for_linger_and_term_can_go_on():
    # The interrupt must come out of the wait, long before the linger ends
    # (not when term() returns), and a second term() finishes the job.
    assert_clean_run("""
        import signal
        ctx = zmq.Context()
        s = ctx.socket(zmq.PUSH)
        s.linger = 4000
        s.connect("tcp://127.0.0.1:9")
        s.send(b"never delivered")
        s.close()
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        started = time.monotonic()
        try:
            ctx.term()
        except KeyboardInterrupt:
            print("interrupted", time.monotonic() - started < 2.0)
        ctx.term()
        print("terminated")
    """, ["interrupted", "True", "terminated"])


@posix_signals
def test_ctrl_c_interrupts_term_waiting_for_an_open_socket():
    assert_clean_run("""
        import signal
        ctx = zmq.Context()
        s = ctx.socket(zmq.PULL)
        s.bind("tcp://127.0.0.1:*")
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        try:
            ctx.term()
        except KeyboardInterrupt:
            print("interrupted")
        s.close()
        ctx.term()
        print("terminated")
    """, ["interrupted", "terminated"])


@mqcore_only
def test_term_from_two_threads_returns_in_both_when_the_socket_closes():
    # libzmq hangs the second caller; mqcore lets it wait for the first.
    assert_clean_run("""
        ctx = zmq.Context()
        s = ctx.socket(zmq.PULL)
        s.bind("tcp://127.0.0.1:*")
        done = []
        threads = [threading.Thread(target=lambda: (ctx.term(), done.append(1)))
                   for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        s.close()
        for t in threads:
            t.join(10)
        print(len(done), ctx.closed)
    """, ["2", "True"])


@posix_signals
def test_ctrl_c_interrupts_a_collected_context_waiting_for_linger():
    # As pyzmq: the interrupt ends the wait of the collected context (and is
    # reported as ignored, a finaliser cannot raise); the program goes on.
    rc, out, err = run_script("""
        import signal
        def main():
            ctx = zmq.Context()
            s = ctx.socket(zmq.PUSH)
            s.connect("tcp://127.0.0.1:9")
            s.send(b"never delivered")
        threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
        main()
        print("main-returned")
    """)
    assert rc == 0, f"exit status {rc}\\nstdout:\\n{out}\\nstderr:\\n{err}"
    assert out.split() == ["main-returned"], f"stdout:\\n{out}\\nstderr:\\n{err}"
    assert "KeyboardInterrupt" in err


@pytest.mark.parametrize("ending", ["exit", "gc", "close"])
def test_asyncio_socket_with_pending_recv_outliving_its_loop(ending):
    # Collected (or closed) after asyncio.run() returned, with a recv still
    # queued: its loop is closed, so nothing may be scheduled on it.
    assert_clean_run(f"""
        import asyncio, importlib
        aio = importlib.import_module(zmq.__name__ + ".asyncio")
        kept = []
        async def main():
            ctx = aio.Context()
            s = ctx.socket(zmq.PULL)
            s.bind("tcp://127.0.0.1:*")
            s.recv()
            await asyncio.sleep(0.05)
            kept.append(s)
        asyncio.run(main())
        if {ending!r} == "gc":
            kept.clear()
            gc.collect()
        elif {ending!r} == "close":
            kept[0].close()
        print("done")
    """, ["done"])


@posix_only
def test_forked_children_dropping_sockets_while_parent_io_threads_are_busy():
    # An io thread of the parent may hold a lock at the moment of the fork;
    # a child closing its inherited sockets must not wait for it (as
    # pyzmq, the child only marks them closed). A race: without the fix a
    # run hangs in about one try out of three.
    assert_clean_run("""
        import warnings
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads
        ctx = zmq.Context()
        pull = ctx.socket(zmq.PULL)
        port = pull.bind_to_random_port("tcp://127.0.0.1")
        push = ctx.socket(zmq.PUSH)
        push.connect(f"tcp://127.0.0.1:{port}")
        stop = threading.Event()
        def traffic():
            while not stop.is_set():
                push.send(b"x" * 100)
                while pull.poll(0):
                    pull.recv()
        t = threading.Thread(target=traffic)
        t.start()
        for _ in range(100):
            # Forked right after a bind, while the io thread takes it up.
            fresh = ctx.socket(zmq.PULL)
            fresh.bind("tcp://127.0.0.1:*")
            pid = os.fork()
            if pid == 0:
                del pull, push, fresh
                gc.collect()
                ctx.term()
                os._exit(0)
            os.waitpid(pid, 0)
            fresh.close()
        stop.set()
        t.join()
        push.close(linger=0)
        pull.close()
        ctx.term()
        print("terminated")
    """, ["terminated"])
