"""A peer that stops reading but keeps talking must not make the engine
write past its out buffer.

The engine's own commands (our heartbeat PING, the PONGs it owes) were
appended to the out buffer on every write attempt, with no check for room:
a peer that never reads, while it sends PINGs (which also keep the
heartbeat timeout from firing), grew the pending bytes by a PING and PONGs
per HEARTBEAT_IVL, past the end of the buffer, into the heap (the pipe
behind it: messages were lost and the connection stalled, or the process
died). Run in a child process: on a broken build it corrupts memory.
"""

import os
import subprocess
import tempfile
import sys
import textwrap

import pytest

from .procs import IMPL, child_env

pytestmark = pytest.mark.skipif(IMPL != "mqcore", reason="engine internals of mqcore")

CHILD = textwrap.dedent(r'''
    import socket, struct, sys, time
    sys.path.insert(0, sys.argv[1])     # tests/fault, for zmtp.py
    import mqcore as zmq
    from zmtp import greeting, command, ready

    N = 20000
    BODY = b"x" * 100
    ctx = zmq.Context()
    s = ctx.socket(zmq.PUSH)
    s.setsockopt(zmq.HEARTBEAT_IVL, 1)
    s.setsockopt(zmq.HEARTBEAT_TIMEOUT, 600000)
    s.setsockopt(zmq.SNDBUF, 4096)
    s.setsockopt(zmq.SNDHWM, N + 10)
    s.setsockopt(zmq.SNDTIMEO, 5000)
    s.setsockopt(zmq.LINGER, 0)
    port = s.bind_to_random_port("tcp://127.0.0.1")
    r = socket.create_connection(("127.0.0.1", port), timeout=10)
    r.sendall(greeting() + ready(b"PULL"))
    for i in range(N):
        s.send(BODY)
    # The socket's buffers are full: keep sending PINGs, read nothing.
    ping = command(b"PING", b"\x00\x00" + b"c" * 16)
    t0 = time.time()
    while time.time() - t0 < 3:
        r.sendall(ping)
        time.sleep(0.001)
    # Now read everything: every message, well framed, nothing else.
    r.settimeout(20)
    buf = bytearray()
    pos = 64
    got = 0
    bad = 0
    while got < N:
        d = r.recv(1 << 20)
        if not d:
            break
        buf += d
        while pos + 2 <= len(buf):
            f = buf[pos]
            if f & 2:
                if pos + 9 > len(buf):
                    break
                size, h = struct.unpack(">Q", buf[pos + 1:pos + 9])[0], 9
            else:
                size, h = buf[pos + 1], 2
            if pos + h + size > len(buf):
                break
            body = bytes(buf[pos + h:pos + h + size])
            pos += h + size
            if f & 4:
                if body[1:1 + body[0]] not in (b"READY", b"PING", b"PONG"):
                    bad += 1
            elif body == BODY:
                got += 1
            else:
                bad += 1
    print("got", got, "bad", bad, flush=True)
    s.close(0)
    ctx.term()
''')


def test_peer_that_pings_but_never_reads_cannot_overflow_the_out_buffer():
    # The mqcore under test, from outside the checkout (python -c puts the
    # working directory first on sys.path).
    here = os.path.dirname(os.path.abspath(__file__))
    p = subprocess.run([sys.executable, "-c", CHILD, here], capture_output=True, text=True, timeout=60,
                       env=child_env(), cwd=tempfile.gettempdir())
    assert p.returncode == 0, p.stderr[-2000:]
    assert "got 20000 bad 0" in p.stdout, p.stdout + p.stderr[-2000:]
