"""``python -m mqcore run script.py [args...]`` (or ``run -m module [args...]``):
run a pyzmq program on mqcore without editing it.

The switch (``mqcore.install(children=True)``) is turned on first, so the
program's ``import zmq`` and its child Python processes' get mqcore; then
the script runs as ``__main__`` with ``sys.argv`` as if started directly.
"""

from __future__ import annotations

import os
import runpy
import sys

import mqcore

USAGE = "usage: python -m mqcore run script.py [args...] | run -m module [args...]"


def _run(argv: list[str]) -> None:
    mqcore.install(children=True)
    if argv[0] == "-m":
        if len(argv) < 2:
            sys.exit(USAGE)
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return
    script = argv[0]
    sys.argv = list(argv)
    # As ``python script.py`` does: the script's directory comes first.
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2 or argv[0] != "run":
        sys.exit(USAGE)
    _run(argv[1:])


if __name__ == "__main__":
    main()
