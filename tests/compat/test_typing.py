"""Type checkers see mqcore as they see pyzmq: py.typed and stubs are
shipped, the constants are declared, the generic classes take arguments,
and ``mypy --strict`` passes over a small program (which, with
MQCORE_TEST_IMPL=zmq, is checked against pyzmq the same way)."""

import ast
import os
import subprocess
import sys
import tempfile
import textwrap

import mqcore

PACKAGE_DIR = os.path.dirname(mqcore.__file__)

PROGRAM = '''
import asyncio

import {mod} as zmq
import {mod}.asyncio as zaio


def sync_roundtrip() -> bytes:
    ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    push = ctx.socket(zmq.PUSH)
    pull = ctx.socket(zmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push.connect(f"tcp://127.0.0.1:{{port}}")
    push.send(b"hello")
    pull.setsockopt(zmq.RCVTIMEO, 5000)
    data: bytes = pull.recv()
    frame = zmq.Frame(b"x", track=True)
    assert frame.tracker is not None
    buf = bytearray(8)
    n: int = pull.recv_into(buf, flags=zmq.NOBLOCK) if pull.poll(0) else 0
    shadow: zmq.Socket[bytes] = zmq.Socket.shadow(push.underlying)
    assert shadow.underlying == push.underlying
    push.close(linger=0)
    pull.close(linger=0)
    ctx.term()
    return data + bytes(n)


async def async_roundtrip() -> None:
    ctx = zaio.Context()
    sock = ctx.socket(zmq.PAIR)
    sock.close(linger=0)
    ctx.term()


if __name__ == "__main__":
    print(sync_roundtrip())
    asyncio.run(async_roundtrip())
'''


def test_package_ships_py_typed_and_stubs():
    for name in ("py.typed", "_core.pyi", "constants.pyi"):
        assert os.path.isfile(os.path.join(PACKAGE_DIR, name)), name


def test_constants_stub_declares_every_constant():
    with open(os.path.join(PACKAGE_DIR, "constants.pyi")) as f:
        tree = ast.parse(f.read())
    declared = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            declared.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            declared.add(node.target.id)
        elif isinstance(node, ast.Assign):
            declared.update(t.id for t in node.targets if isinstance(t, ast.Name))
    missing = set(mqcore.constants.__all__) - declared
    # Out of date: run tools/gen_constants_stub.py.
    assert not missing, sorted(missing)[:10]


def test_mypy_strict_over_an_example(zmq):
    package_parent = os.path.dirname(os.path.dirname(zmq.__file__))
    env = dict(os.environ)
    if os.path.basename(package_parent) not in ("site-packages", "dist-packages"):
        # An in-place checkout: show mypy where the package is.
        env["MYPYPATH"] = package_parent
    with tempfile.TemporaryDirectory() as tmp:
        program = os.path.join(tmp, "prog.py")
        with open(program, "w") as f:
            f.write(textwrap.dedent(PROGRAM.format(mod=zmq.__name__)))
        result = subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
             "--no-incremental", "--python-executable", sys.executable, program],
            cwd=tmp, env=env, capture_output=True, text=True, timeout=240,
        )
    assert result.returncode == 0, result.stdout + result.stderr
