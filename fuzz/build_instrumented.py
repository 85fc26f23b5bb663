"""Builds a copy of mqcore whose core is instrumented for libFuzzer, so that
atheris sees coverage and comparisons inside the C code of the engine, not
only in the Python of the targets.

    python fuzz/build_instrumented.py          # -> fuzz/.inst/mqcore
    MQCORE_FUZZ_BUILD=fuzz/.inst python fuzz/fuzz_frames.py ...

Needs clang (Debian: `apt-get install clang`): the extension is compiled with
`-fsanitize=fuzzer-no-link`, whose hooks atheris' own libFuzzer provides at
run time. The copy lives beside the sources, so the ordinary in-place build
and the installed package are left alone.
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, ".inst")


def main():
    clang = shutil.which("clang")
    if clang is None:
        sys.exit("clang not found: apt-get install clang (or fuzz the ordinary build)")
    env = dict(os.environ)
    env["CC"] = clang
    env["LDSHARED"] = clang + " -shared"
    env["CFLAGS"] = "-fsanitize=fuzzer-no-link -g"
    env["LDFLAGS"] = "-fsanitize=fuzzer-no-link"
    subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext",
         "--build-lib", OUT, "--build-temp", os.path.join(HERE, ".inst-tmp")],
        cwd=ROOT, env=env, check=True)
    # The package's Python files beside the instrumented core.
    pkg = os.path.join(OUT, "mqcore")
    for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, "mqcore")):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        rel = os.path.relpath(dirpath, os.path.join(ROOT, "mqcore"))
        os.makedirs(os.path.join(pkg, rel), exist_ok=True)
        for f in filenames:
            if f.endswith(".py") or f == "py.typed":
                shutil.copy2(os.path.join(dirpath, f), os.path.join(pkg, rel, f))
    print("instrumented mqcore in", pkg)


if __name__ == "__main__":
    main()
