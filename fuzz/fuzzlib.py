"""What every target shares: loading the core (the instrumented copy when
MQCORE_FUZZ_BUILD names one), chunking a stream at input-chosen points,
and running a target under atheris or over a corpus."""
import glob
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

ROOT = os.path.dirname(HERE)

# Which mqcore: the copy MQCORE_FUZZ_BUILD names (build_instrumented.py),
# else the source tree's if it was built in place, else the installed one.
_build = os.environ.get("MQCORE_FUZZ_BUILD")
if _build:
    sys.path.insert(0, os.path.abspath(_build))
elif glob.glob(os.path.join(ROOT, "mqcore", "_core*.so")):
    sys.path.insert(0, ROOT)

if _build and os.path.basename(sys.argv[0]).startswith("fuzz_"):
    # An instrumented core's coverage hooks come from a preloaded libFuzzer
    # (build_instrumented.py makes it); atheris then uses that one too.
    with open(os.path.join(os.path.abspath(_build), "preload")) as _f:
        _preload = ":".join(_f.read().split())
    if os.environ.get("LD_PRELOAD") != _preload:
        env = dict(os.environ, LD_PRELOAD=_preload)
        # Under ASan: Python's own allocations are not leaks, and a huge
        # frame size must fail as malloc does (ENOMEM), not abort.
        # Bodies over 64 MiB are refused too: ASan writes the shadow of a
        # whole block when it hands it out, which is slow for a gigabyte
        # a peer merely declared.
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0:allocator_may_return_null=1:"
                                       "verify_asan_link_order=0:max_allocation_size_mb=64")
        os.execve(sys.executable, [sys.executable] + sys.argv, env)

try:
    import atheris
except ImportError:     # corpus replay (tests) works without it
    atheris = None

from mqcore import _core        # noqa: E402
from mqcore.error import ZMQError  # noqa: E402

CORE_FILE = _core.__file__

# Chunk sizes a split byte picks from: single bytes, around a short header,
# around the greeting, and the whole rest at once (0).
_SIZES = (1, 1, 2, 3, 5, 8, 9, 10, 11, 12, 31, 32, 33, 63, 64, 65, 255, 256, 0)


def chunks(stream, ctl):
    """Cuts `stream` into pieces; the split byte `ctl` chooses where, so the
    fuzzer explores splits as it mutates that byte (0: all at once)."""
    if ctl == 0 or not stream:
        return [bytes(stream)] if stream else []
    rng = random.Random(ctl)
    out = []
    pos = 0
    while pos < len(stream):
        n = rng.choice(_SIZES) or len(stream) - pos
        out.append(bytes(stream[pos:pos + n]))
        pos += n
    return out


def corpus_files(target):
    """Every file of fuzz/corpus/<target>/ and its regressions/ folder."""
    root = os.path.join(HERE, "corpus", target)
    out = []
    for dirpath, _dirs, files in os.walk(root):
        for f in sorted(files):
            out.append(os.path.join(dirpath, f))
    return sorted(out)


def replay(test_one_input, target):
    """Runs a target over its whole corpus in this process; returns the
    number of inputs."""
    files = corpus_files(target)
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        try:
            test_one_input(data)
        except BaseException as e:
            raise AssertionError(f"{target}: {os.path.relpath(path, HERE)} fails: {e!r}") from e
    return len(files)


def main(test_one_input, target):
    """`python fuzz/fuzz_<target>.py [libFuzzer flags] [corpus dirs]`;
    `--replay` runs the corpus once without atheris."""
    if "--replay" in sys.argv:
        print(f"{target}: {replay(test_one_input, target)} inputs ok ({CORE_FILE})")
        return
    if atheris is None:
        sys.exit("atheris is not installed: pip install atheris")
    print(f"fuzzing {target} on {CORE_FILE}", file=sys.stderr)
    argv = list(sys.argv)
    if _build and not any(a.startswith("-malloc_limit_mb") for a in argv):
        # A peer may declare any frame size when MAXMSGSIZE is unset, and
        # the core then reserves it (virtual memory, as libzmq does); with
        # the preloaded libFuzzer watching malloc that is no finding.
        argv.insert(1, "-malloc_limit_mb=1048576")
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


ASAN = "asan" in os.environ.get("LD_PRELOAD", "")

if atheris is not None:
    # The model's branches mirror the engine's: with an uninstrumented core
    # its coverage is what guides the fuzzer through the protocol's states.
    with atheris.instrument_imports(include=["zmtp_model"]):
        import zmtp_model as model
else:
    import zmtp_model as model

if ASAN:
    model.UNCERTAIN_SIZE = 63 << 20     # under max_allocation_size_mb, less the header and rounding

SOCKET_TYPES = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 19, 20)
MAXMSGSIZES = (-1, -1, -1, 0, 1, 5, 255, 256, 300, 4096)
RCVHWMS = (1000, 1000, 1, 2, 3, 0)


class Config:
    """An engine setup chosen by two input bytes: the socket type, then
    MAXMSGSIZE, RCVHWM and whether the session has a routing id of its own."""

    def __init__(self, b0, b1):
        self.socket_type = SOCKET_TYPES[b0 % len(SOCKET_TYPES)]
        self.maxmsgsize = MAXMSGSIZES[b1 % len(MAXMSGSIZES)]
        self.rcvhwm = RCVHWMS[(b1 // len(MAXMSGSIZES)) % len(RCVHWMS)]
        self.routing_id = b"rid" if (b1 // 60) % 2 else b""

    def __repr__(self):
        return (f"Config(type={self.socket_type}, maxmsgsize={self.maxmsgsize}, "
                f"rcvhwm={self.rcvhwm}, routing_id={self.routing_id!r})")


def config_bytes(socket_type, maxmsgsize=-1, rcvhwm=1000, routing_id=b""):
    """The two config bytes that choose this setup."""
    b0 = SOCKET_TYPES.index(socket_type)
    for b1 in range(256):
        c = Config(b0, b1)
        if (c.maxmsgsize, c.rcvhwm, c.routing_id) == (maxmsgsize, rcvhwm, routing_id):
            return bytes([b0, b1])
    raise ValueError((socket_type, maxmsgsize, rcvhwm, routing_id))


# What the socket sends while the peer pauses its reads, chosen by a byte:
# nothing, one body far larger than the socket buffer (it is written from
# its own memory, a piece at a time), a multipart message, many mid-sized.
_BIG = bytes(range(256)) * 2048        # 512 KiB: several socket buffers


def outgoing(b):
    return (None,
            [(0, _BIG)],
            [(1, b"head"), (1, b""), (0, _BIG[:20000])],
            [(0, _BIG[i:i + 9000]) for i in range(10)])[b % 4]


def run_engine(cfg, pieces, send=None):
    """Feeds the pieces to a real session set up as `cfg`, the remote peer
    staying connected; with `send`, the socket sends those frames as soon
    as the session is active, the peer reading nothing until the end.
    Returns the engine (to be closed by the caller) and what was sent."""
    e = _core._Engine(cfg.socket_type, maxmsgsize=cfg.maxmsgsize,
                      rcvhwm=cfg.rcvhwm, routing_id=cfg.routing_id)
    sent = []
    if send:
        e.peer_reads = False
    for p in pieces:
        if not e.feed(p):
            break
        if send and not sent and e.active:
            e.send(send)
            sent = send
    e.peer_reads = True
    e.pump()
    return e, sent


def check_output(e, expect, sent, ctx, state):
    """With traffic of its own the session's bytes are frames: all it sent
    (a prefix if it died), whole, with only answers (PONG) between them,
    each one the model expects, in order (a PONG may be left out: none is
    sent while a large body is half written)."""
    out = bytes(e.output)
    head = handshake_output(expect)
    assert out.startswith(head), ctx + f" engine output {out[:200]!r}"
    frames_out, err = model.decode_frames(out[len(head):])
    want_frames, _ = model.decode_frames(expect.output[len(head):])
    assert err is None, ctx + f" the session's output does not decode: {out[:300]!r}"
    data = [(f, b) for f, b in frames_out if not f & model.MSG_COMMAND]
    cmds = [b for f, b in frames_out if f & model.MSG_COMMAND]
    pongs = [b for f, b in want_frames]
    want = [(model.MSG_MORE if f & 1 else 0, b) for f, b in sent]
    if state == "dead":
        assert data == want[:len(data)], ctx + f" sent frames {[(f, len(b)) for f, b in data]}"
    else:
        assert data == want, ctx + f" sent frames {[(f, len(b)) for f, b in data]}"
    it = iter(pongs)
    assert all(c in it for c in cmds), ctx + f" answers {cmds[:5]!r} not within {pongs[:5]!r}"


def handshake_output(expect):
    """The greeting and READY the model's output starts with (the socket
    sends only once the handshake is done, so they are complete)."""
    ready_len = 2 + expect.output[65]       # READY always has a short header
    return expect.output[:64 + ready_len]


def check_engine(cfg, stream, ctl, send=None):
    """The engine, fed `stream` in pieces chosen by `ctl`, does what the
    model says: same frames to the socket, same bytes to the peer, same
    end state; then a hang-up ends the session cleanly. `send`: frames the
    socket sends meanwhile (see run_engine, check_output)."""
    expect = model.session(cfg.socket_type, stream, cfg.maxmsgsize, cfg.routing_id)
    if cfg.socket_type == model.STREAM:
        send = None
    e, sent = run_engine(cfg, chunks(stream, ctl), send)
    try:
        frames = e.frames
        if cfg.socket_type == model.STREAM:
            frames = model.join_raw(frames)
        state = "dead" if not e.alive else ("active" if e.active else "handshake")
        ctx = f"{cfg} stream={bytes(stream)[:300]!r} ctl={ctl}\n model: {expect}\n"
        if expect.uncertain and state == "dead":
            # A size malloc could not reserve: refused (ENOMEM) before the
            # frames behind it, which is as right as waiting for its body.
            assert e.protocol_error, ctx + "died without a protocol error"
            assert frames == expect.frames[:len(frames)], ctx + f" engine frames {frames[:8]!r}"
        else:
            assert state == expect.state, ctx + f" engine state {state}"
            assert frames == expect.frames, ctx + f" engine frames {frames[:8]!r}"
            if state == "dead":
                assert e.protocol_error == expect.protocol_error, ctx + " protocol error flag"
        out = bytes(e.output)
        if sent:
            check_output(e, expect, sent, ctx, state)
        elif state == "dead" and expect.state != "handshake":
            # Answers queued in the read that also brought the bad bytes go
            # down with the connection: what was written is a prefix.
            assert expect.output.startswith(out), ctx + f" engine output {out[:200]!r}"
        else:
            assert out == expect.output, ctx + f" engine output {out[:200]!r}"
        if e.alive:
            e.hang_up()
            assert not e.alive, ctx + "the session outlived its peer"
            assert not e.protocol_error, ctx + "a hang-up counted as a protocol error"
        if e.attached:
            assert e.pipe_ended, ctx + "the pipe was not ended with the session"
    finally:
        e.close()
    return expect


# ---------------------------------------------------------------- PLAIN, CURVE

def engine_state(e):
    return "dead" if not e.alive else ("active" if e.active else "handshake")


def check_mech_outcome(e, expect, head, ctx, traffic_output=True):
    """A PLAIN or CURVE session against the model's outcome: same state,
    same frames (none before the handshake is done), a protocol error
    exactly when the model says; its output starts with the handshake
    commands `head` (None: not checked) and, if `traffic_output`, goes on
    with the model's answers (a prefix of them if it died). Then a
    hang-up ends it cleanly."""
    state = engine_state(e)
    ctx = f"{ctx}\n model: {expect}\n engine: state={state} frames={e.frames[:8]!r}\n"
    if expect.uncertain and state == "dead":
        assert e.protocol_error, ctx + "died without a protocol error"
        assert e.frames == expect.frames[:len(e.frames)], ctx + "frames"
    else:
        assert state == expect.state, ctx + "state"
        assert e.frames == expect.frames, ctx + "frames"
        if state == "dead":
            assert e.protocol_error == expect.protocol_error, ctx + "protocol error flag"
    out = bytes(e.output)
    if head is not None:
        if state == "dead":
            assert head.startswith(out[:len(head)]), ctx + f"output {out[:300]!r}"
        else:
            assert out.startswith(head), ctx + f"output {out[:300]!r}"
        if traffic_output:
            tail = out[len(head):]
            if state == "dead":
                assert expect.output.startswith(tail), ctx + f"output tail {tail[:200]!r}"
            else:
                assert tail == expect.output, ctx + f"output tail {tail[:200]!r}"
    if e.alive:
        e.hang_up()
        assert not e.alive, ctx + "the session outlived its peer"
        assert not e.protocol_error, ctx + "a hang-up counted as a protocol error"
    if e.attached:
        assert e.pipe_ended, ctx + "the pipe was not ended with the session"
